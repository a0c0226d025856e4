import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
import { OPEN_RUN_COMMAND, RUN_KIND } from './open';

/** Run pages: `mlws:open-run {runId}` shows a run; they reopen after a reload. */
export const runPagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:run-page',
  description:
    'The run page of the ML Workspace (metrics, details, files, log).',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    const trans = pages.context.trans;
    pages.addPage({
      kind: RUN_KIND,
      command: OPEN_RUN_COMMAND,
      label: trans.__('Open Run'),
      argsSchema: {
        type: 'object',
        properties: { runId: { type: 'string' } },
        required: ['runId']
      },
      key: args => {
        if (typeof args.runId !== 'string' || !args.runId) {
          throw new Error(trans.__('%1 needs a runId', OPEN_RUN_COMMAND));
        }
        return args.runId;
      },
      create: async (args, context) => {
        // The page (and plotly, which it loads on its first chart) come when a run is first opened.
        const { RunPage } = await import('./page');
        return new RunPage(String(args.runId), context);
      },
      args: page => ({ runId: page.runId })
    });
  }
};
