import {
  IRouter,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages, IRunPageSections } from '../tokens';
import {
  OPEN_RUN_COMMAND,
  ROUTE_RUN_COMMAND,
  RUN_KIND,
  RUN_ROUTE_PATTERN,
  openRun,
  runIdFromSearch,
  withoutRunQuery
} from './open';
import { RunPageSections } from './sections';

/**
 * Run pages: `mlws:open-run {runId}` shows a run; they reopen after a reload. A URL
 * `<lab>/lab?mlws-run=<run id>` (`run.get_portal_url()` in Python) opens that run's page. Other
 * features add sections to run pages through the `IRunPageSections` token it provides.
 */
export const runPagePlugin: JupyterFrontEndPlugin<IRunPageSections> = {
  id: 'jupyter-mlws:run-page',
  description:
    'The run page of the ML Workspace (metrics, details, files, log).',
  autoStart: true,
  requires: [IMlwsPages],
  optional: [IRouter],
  provides: IRunPageSections,
  activate: (
    app: JupyterFrontEnd,
    pages: IMlwsPages,
    router: IRouter | null
  ): IRunPageSections => {
    const trans = pages.context.trans;
    const sections = new RunPageSections();
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
        const runId = String(args.runId);
        const [{ RunPage }, parts] = await Promise.all([
          import('./page'),
          Promise.all(sections.factories.map(f => f.create(runId, context)))
        ]);
        return new RunPage(runId, context, parts);
      },
      args: page => ({ runId: page.runId })
    });

    if (!router) {
      return sections;
    }
    app.commands.addCommand(ROUTE_RUN_COMMAND, {
      label: trans.__('Open the Run Named in the URL'),
      describedBy: {
        args: {
          type: 'object',
          properties: { search: { type: 'string' } }
        }
      },
      execute: args => {
        const runId = runIdFromSearch(String(args.search ?? ''));
        if (!runId) {
          return;
        }
        // After the layout is restored, so that the restored layout does not cover the page; not
        // awaited here, so that routing (which restoring may wait on) is not held up.
        void app.restored.then(() => {
          openRun(pages.context, runId);
          window.history.replaceState(
            window.history.state,
            '',
            withoutRunQuery(window.location.href)
          );
        });
      }
    });
    router.register({ command: ROUTE_RUN_COMMAND, pattern: RUN_ROUTE_PATTERN });
    return sections;
  }
};
