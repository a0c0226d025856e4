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

/** REST types of published pipelines, pipeline endpoints and schedules. */
export type PublishedPipeline = components['schemas']['PublishedPipeline'];
export type PublishedPipelinePage =
  components['schemas']['PublishedPipelinePage'];
export type PipelineEndpoint = components['schemas']['PipelineEndpoint'];
export type PipelineEndpointPage =
  components['schemas']['PipelineEndpointPage'];
export type Schedule = components['schemas']['Schedule'];
export type SchedulePage = components['schemas']['SchedulePage'];

/** Every published pipeline, the disabled ones too. */
export function listPublishedPipelines(): Promise<PublishedPipelinePage> {
  return requestAPI<PublishedPipelinePage>('pipelines?active_only=false');
}

/** Every pipeline endpoint, the disabled ones too. */
export function listPipelineEndpoints(): Promise<PipelineEndpointPage> {
  return requestAPI<PipelineEndpointPage>(
    'pipeline-endpoints?active_only=false'
  );
}

/** Every schedule, the disabled ones too, each with its next fire time. */
export function listSchedules(): Promise<SchedulePage> {
  return requestAPI<SchedulePage>('schedules?active_only=false');
}
