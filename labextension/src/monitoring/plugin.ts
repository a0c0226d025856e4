import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages, IRunPageSections } from '../tokens';
import { MONITOR_KIND, OPEN_MONITOR_COMMAND } from './open';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { MonitorsSection } from './section';

/** Data drift detector pages: `mlws:open-monitor {name}`; they reopen after a reload. */
export const monitorPagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:monitor-page',
  description:
    'The data drift detector page of the ML Workspace (magnitude over time, contributions, distributions, backfill).',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    const trans = pages.context.trans;
    pages.addPage({
      kind: MONITOR_KIND,
      command: OPEN_MONITOR_COMMAND,
      label: trans.__('Open Monitor'),
      argsSchema: {
        type: 'object',
        properties: { name: { type: 'string' } },
        required: ['name']
      },
      key: args => {
        if (typeof args.name !== 'string' || !args.name) {
          throw new Error(trans.__('%1 needs a name', OPEN_MONITOR_COMMAND));
        }
        return args.name;
      },
      create: async (args, context) => {
        // The page (and plotly, with its first chart) comes when a detector is first opened.
        const { MonitorPage } = await import('./page');
        return new MonitorPage(String(args.name), context);
      },
      args: page => ({ name: page.monitorName })
    });
  }
};

/** The sidebar's Monitors section (data drift detectors, their last magnitude and alerts). */
export const monitorsSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:monitors-section',
  description: 'The Monitors section of the ML Workspace sidebar.',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    pages.addSection(new MonitorsSection(pages.context));
  }
};

/**
 * The Data drift section of run pages: shown for drift checks and their intervals, hidden for any
 * other run. Its code comes with the first run page opened, plotly with its first chart.
 */
export const driftRunSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:drift-run-section',
  description:
    "The Data drift section of a drift check's run page (magnitude, contributions, distributions).",
  autoStart: true,
  requires: [IRunPageSections],
  activate: (_app, sections: IRunPageSections) => {
    sections.add({
      id: 'drift',
      rank: 120,
      create: async (runId, context) => {
        const { DriftRunSection } = await import('./runsection');
        return new DriftRunSection(runId, context);
      }
    });
  }
};
