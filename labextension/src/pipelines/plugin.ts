import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
import { OPEN_PIPELINE_RUN_COMMAND, PIPELINE_RUN_KIND } from './open';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { PipelinesSection } from './section';

/** Pipeline-run pages: `mlws:open-pipeline-run {runId}` shows a run's graph; they reopen after a reload. */
export const pipelineRunPagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:pipeline-run-page',
  description:
    'The pipeline-run page of the ML Workspace (the step graph, live, with reuse).',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    const trans = pages.context.trans;
    pages.addPage({
      kind: PIPELINE_RUN_KIND,
      command: OPEN_PIPELINE_RUN_COMMAND,
      label: trans.__('Open Pipeline Run'),
      argsSchema: {
        type: 'object',
        properties: { runId: { type: 'string' } },
        required: ['runId']
      },
      key: args => {
        if (typeof args.runId !== 'string' || !args.runId) {
          throw new Error(
            trans.__('%1 needs a runId', OPEN_PIPELINE_RUN_COMMAND)
          );
        }
        return args.runId;
      },
      create: async (args, context) => {
        // The page and the layout library come when a pipeline run is first opened.
        const { PipelineRunPage } = await import('./page');
        return new PipelineRunPage(String(args.runId), context);
      },
      args: page => ({ runId: page.runId })
    });
  }
};

/** The sidebar's Pipelines section (published pipelines, schedules, recent pipeline runs). */
export const pipelinesSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:pipelines-section',
  description: 'The Pipelines section of the ML Workspace sidebar.',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    pages.addSection(new PipelinesSection(pages.context));
  }
};
