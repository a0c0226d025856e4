import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages, IRunPageSections } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { ComputeSection } from './section';

/** The sidebar's Compute section. */
export const computeSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:compute-section',
  description:
    "The Compute section of the ML Workspace sidebar (a Dask target's workers).",
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    pages.addSection(new ComputeSection(pages.context));
  }
};

/** The "Dask dashboard" link of the run page of a run on a Dask target. */
export const daskDashboardPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:dask-dashboard-link',
  description:
    'A link to the Dask dashboard on the run page of a run on a Dask target.',
  autoStart: true,
  requires: [IRunPageSections],
  activate: (_app, sections: IRunPageSections) => {
    sections.add({
      id: 'dask-dashboard',
      rank: 10,
      create: async (_runId, context) => {
        const { DaskDashboardLink } = await import('./dashboard');
        return new DaskDashboardLink(context);
      }
    });
  }
};
