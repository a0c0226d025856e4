import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { ActivitiesSection } from './section';

/** The sidebar's Activities section. */
export const activitiesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:activities-section',
  description: 'The Activities section of the ML Workspace sidebar.',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    pages.addSection(new ActivitiesSection(pages.context));
  }
};
