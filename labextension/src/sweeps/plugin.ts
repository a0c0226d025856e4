import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { IRunPageSections } from '../tokens';

/**
 * The Sweep section of run pages: shown for sweeps (runs of type `hyperdrive`), hidden for any
 * other run. Its code comes with the first run page opened, plotly with its first chart.
 */
export const sweepSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:sweep-section',
  description:
    "The Sweep section of a sweep's run page (trials, parallel coordinates, early termination).",
  autoStart: true,
  requires: [IRunPageSections],
  activate: (_app, sections: IRunPageSections) => {
    sections.add({
      id: 'sweep',
      rank: 100,
      create: async (runId, context) => {
        const { SweepSection } = await import('./section');
        return new SweepSection(runId, context);
      }
    });
  }
};
