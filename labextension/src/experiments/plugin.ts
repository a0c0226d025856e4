import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
import { SHOW_RUNS_COMMAND } from './open';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { ExperimentsSection, RunsSection } from './section';

/** The sidebar's Experiments and, below them, the runs of the chosen experiment. */
export const experimentsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:experiments-section',
  description:
    'The Experiments and Runs sections of the ML Workspace sidebar (filter, sort, compare).',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    const trans = pages.context.trans;
    const runs = new RunsSection(pages.context);
    const experiments = new ExperimentsSection(pages.context, runs);
    pages.addSection(experiments);
    pages.addSection(runs);
    app.commands.addCommand(SHOW_RUNS_COMMAND, {
      label: trans.__('Show the Runs of an Experiment'),
      describedBy: {
        args: {
          type: 'object',
          properties: { experiment: { type: 'string' } },
          required: ['experiment']
        }
      },
      execute: args => {
        if (typeof args.experiment !== 'string' || !args.experiment) {
          throw new Error(
            trans.__('%1 needs an experiment', SHOW_RUNS_COMMAND)
          );
        }
        experiments.openRuns(args.experiment);
        pages.showSidebar();
      }
    });
  }
};
