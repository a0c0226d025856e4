import type { IPageContext } from '../tokens';

/** The page kind of a pipeline run's graph (pages `mlws-pipeline-run-<run id>`). */
export const PIPELINE_RUN_KIND = 'pipeline-run';

/** Opens a pipeline run's graph page. */
export const OPEN_PIPELINE_RUN_COMMAND = 'mlws:open-pipeline-run';

/** The run type of a pipeline run (Azure ML v1's name). */
export const PIPELINE_RUN_TYPE = 'azureml.PipelineRun';

/** The `azureml.runsource` property of a pipeline's step run. */
export const STEP_RUN_SOURCE = 'azureml.StepRun';

/** Show a pipeline run's graph page (the run page and the sidebar link here). */
export function openPipelineRun(context: IPageContext, runId: string): void {
  void context.open(PIPELINE_RUN_KIND, { runId });
}
