import type { components } from '../api/schema';
import { requestAPI } from '../request';

/** REST types of pipeline runs, generated from jupyter_mlws/server/openapi.yaml. */
export type PipelineRun = components['schemas']['PipelineRun'];
export type PipelineRunPage = components['schemas']['PipelineRunPage'];
export type PipelineRunDetail = components['schemas']['PipelineRunDetail'];
export type PipelineNode = components['schemas']['PipelineNode'];
export type PipelineEdge = components['schemas']['PipelineEdge'];
export type StepReuse = components['schemas']['StepReuse'];

/** Recent pipeline runs, newest first. */
export function listPipelineRuns(pageSize = 20): Promise<PipelineRunPage> {
  return requestAPI<PipelineRunPage>(`pipeline-runs?page_size=${pageSize}`);
}

/** A pipeline run with its step graph (each step's live status and reuse). */
export function getPipelineRun(runId: string): Promise<PipelineRunDetail> {
  return requestAPI<PipelineRunDetail>(
    `pipeline-runs/${encodeURIComponent(runId)}`
  );
}
