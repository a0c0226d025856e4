import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
import { COMPARE_COMMAND, COMPARE_KIND } from './open';

/** The runs named in a compare command's arguments. */
function runIdsOf(args: { runIds?: unknown }): string[] {
  return Array.isArray(args.runIds) ? args.runIds.map(String) : [];
}

/** Compare pages: `mlws:compare-runs {runIds}` shows two or more runs side by side. */
export const comparePagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:compare-page',
  description:
    'The run comparison of the ML Workspace (overlaid metrics, parameters, a side-by-side table).',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    const trans = pages.context.trans;
    pages.addPage({
      kind: COMPARE_KIND,
      command: COMPARE_COMMAND,
      label: trans.__('Compare Runs'),
      argsSchema: {
        type: 'object',
        properties: { runIds: { type: 'array', items: { type: 'string' } } },
        required: ['runIds']
      },
      key: args => {
        const runIds = runIdsOf(args);
        if (runIds.length < 2) {
          throw new Error(
            trans.__('%1 needs two or more runIds', COMPARE_COMMAND)
          );
        }
        return runIds.join(',');
      },
      create: async (args, context) => {
        const { ComparePage } = await import('./page');
        return new ComparePage(runIdsOf(args), context);
      },
      args: page => ({ runIds: page.runIds })
    });
  }
};
