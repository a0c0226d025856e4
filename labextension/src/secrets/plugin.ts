import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { SecretsSection } from './section';

/** The sidebar's Secrets section (names, never values; add and delete). */
export const secretsSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:secrets-section',
  description:
    "The Secrets section of the ML Workspace sidebar: the vault's names, add and delete.",
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    pages.addSection(new SecretsSection(pages.context));
  }
};
