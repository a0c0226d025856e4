import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { components } from './api/schema';

/** REST types, generated from jupyter_mlws/server/openapi.yaml (never written by hand). */
export type Experiment = components['schemas']['Experiment'];
export type ExperimentPage = components['schemas']['ExperimentPage'];
export type Model = components['schemas']['Model'];
export type ModelPage = components['schemas']['ModelPage'];
export type Activity = components['schemas']['Activity'];
export type ActivityPage = components['schemas']['ActivityPage'];
export type WorkspaceInfo = components['schemas']['Workspace'];
export type Run = components['schemas']['Run'];
export type RunDetail = components['schemas']['RunDetail'];
export type EnvironmentPage = components['schemas']['EnvironmentPage'];
export type SubmissionRequest = components['schemas']['SubmissionRequest'];
export type RunPage = components['schemas']['RunPage'];
export type RunError = components['schemas']['RunError'];
export type FileEntry = components['schemas']['FileEntry'];
export type FileEntryPage = components['schemas']['FileEntryPage'];
export type LogChunk = components['schemas']['LogChunk'];
export type MetricSeries = components['schemas']['MetricSeries'];
export type ScalarMetricSeries = components['schemas']['ScalarMetricSeries'];
export type RecordMetricSeries = components['schemas']['RecordMetricSeries'];
export type Point = components['schemas']['Point'];
export type ModelDetail = components['schemas']['ModelDetail'];
export type ModelVersionDetail = components['schemas']['ModelVersionDetail'];
export type ModelRegistrationRequest =
  components['schemas']['ModelRegistrationRequest'];
export type DatasetSummary = components['schemas']['DatasetSummary'];
export type DatasetPage = components['schemas']['DatasetPage'];
export type DatasetDetail = components['schemas']['DatasetDetail'];
export type DatasetVersionDetail =
  components['schemas']['DatasetVersionDetail'];
export type DatasetPreview = components['schemas']['DatasetPreview'];
export type DatasetColumn = components['schemas']['DatasetColumn'];
export type RunInputDataset = components['schemas']['RunInputDataset'];

/** Statuses after which a run never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  'Completed',
  'Failed',
  'Canceled'
]);

/** Query parameters of a run search (the names the REST API takes). */
export interface IRunQuery {
  filter?: string;
  order_by?: string;
  page_size?: number;
  page_token?: string | null;
}

/** Base path of the jupyter-mlws REST API on the Jupyter server. */
export const API_PREFIX = 'mlws/api/v1';

/** The error body every jupyter-mlws route answers with. */
type ErrorBody = { error?: { type?: string; message?: string } };

/**
 * Call the jupyter-mlws REST API.
 *
 * @param endPoint path below /mlws/api/v1, e.g. 'experiments'
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_PREFIX, endPoint);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  if (!response.ok) {
    throw responseError(response, text);
  }
  return (text.length > 0 ? JSON.parse(text) : null) as T;
}

/**
 * The error of a failed request, with the server's message when it answered with our JSON error
 * body, else the status and the start of what came back (a proxy's HTML page, say).
 */
function responseError(
  response: Response,
  text: string
): ServerConnection.ResponseError {
  let message = `${response.status} ${response.statusText}: ${text.slice(0, 200)}`;
  try {
    message = (JSON.parse(text) as ErrorBody).error?.message ?? message;
  } catch {
    // not JSON: keep the status line and the text
  }
  return new ServerConnection.ResponseError(response, message);
}

export function listExperiments(): Promise<ExperimentPage> {
  return requestAPI<ExperimentPage>('experiments');
}

export function listRuns(
  experiment: string,
  query: IRunQuery = {}
): Promise<RunPage> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') {
      params.set(key, String(value));
    }
  }
  const path = `experiments/${encodeURIComponent(experiment)}/runs`;
  const search = params.toString();
  return requestAPI<RunPage>(search ? `${path}?${search}` : path);
}

export function getWorkspace(): Promise<WorkspaceInfo> {
  return requestAPI<WorkspaceInfo>('workspace');
}

export function listEnvironments(): Promise<EnvironmentPage> {
  return requestAPI<EnvironmentPage>('environments');
}

export function getRun(runId: string): Promise<RunDetail> {
  return requestAPI<RunDetail>(`runs/${encodeURIComponent(runId)}`);
}

export function submit(request: SubmissionRequest): Promise<RunDetail> {
  return requestAPI<RunDetail>('submissions', {
    method: 'POST',
    body: JSON.stringify(request)
  });
}

export function listModels(): Promise<ModelPage> {
  return requestAPI<ModelPage>('models?latest=true');
}

export function listActivities(): Promise<ActivityPage> {
  return requestAPI<ActivityPage>('activities?page_size=20');
}

export function getRunMetrics(
  runId: string,
  name: string,
  maxPoints: number
): Promise<MetricSeries> {
  const query = new URLSearchParams({ name, max_points: String(maxPoints) });
  return requestAPI<MetricSeries>(
    `runs/${encodeURIComponent(runId)}/metrics?${query}`
  );
}

export function listRunFiles(runId: string): Promise<FileEntryPage> {
  return requestAPI<FileEntryPage>(`runs/${encodeURIComponent(runId)}/files`);
}

export function readRunLog(
  runId: string,
  offset: number,
  name: string
): Promise<LogChunk> {
  const query = new URLSearchParams({ name, offset: String(offset) });
  return requestAPI<LogChunk>(
    `runs/${encodeURIComponent(runId)}/logs?${query}`
  );
}

export function cancelRun(runId: string): Promise<Run> {
  return requestAPI<Run>(`runs/${encodeURIComponent(runId)}/cancel`, {
    method: 'POST'
  });
}

export function getModel(name: string): Promise<ModelDetail> {
  return requestAPI<ModelDetail>(`models/${encodeURIComponent(name)}`);
}

export function getModelVersion(
  name: string,
  version: number
): Promise<ModelVersionDetail> {
  return requestAPI<ModelVersionDetail>(
    `models/${encodeURIComponent(name)}/versions/${version}`
  );
}

export function registerModel(
  name: string,
  request: ModelRegistrationRequest
): Promise<ModelVersionDetail> {
  return requestAPI<ModelVersionDetail>(
    `models/${encodeURIComponent(name)}/versions`,
    { method: 'POST', body: JSON.stringify(request) }
  );
}

export function listDatasets(): Promise<DatasetPage> {
  return requestAPI<DatasetPage>('datasets');
}

export function getDataset(name: string): Promise<DatasetDetail> {
  return requestAPI<DatasetDetail>(`datasets/${encodeURIComponent(name)}`);
}

/** One version of a dataset (`latest` or a number): schema, manifest summary, lineage. */
export function getDatasetVersion(
  name: string,
  version: number | 'latest'
): Promise<DatasetVersionDetail> {
  return requestAPI<DatasetVersionDetail>(
    `datasets/${encodeURIComponent(name)}/versions/${version}`
  );
}

/** The first `rows` rows (1..1000) of a dataset version. */
export function previewDataset(
  name: string,
  version: number | 'latest',
  rows: number
): Promise<DatasetPreview> {
  return requestAPI<DatasetPreview>(
    `datasets/${encodeURIComponent(name)}/versions/${version}/preview?rows=${rows}`
  );
}

/** A relative file path in a URL: each segment encoded, the slashes kept. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * A URL the browser fetches by itself (a download link, an image, the events stream). The browser
 * sends the session's cookie there, as for JupyterLab's own downloads, so no token goes into a URL
 * that could be copied or logged.
 */
export function linkURL(
  endPoint: string,
  query: Record<string, string> = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const url = URLExt.join(settings.baseUrl, API_PREFIX, endPoint);
  const search = new URLSearchParams(query).toString();
  return search ? `${url}?${search}` : url;
}

export function runFilePath(runId: string, path: string): string {
  return `runs/${encodeURIComponent(runId)}/files/${encodePath(path)}`;
}

export function modelFilePath(
  name: string,
  version: number,
  path: string
): string {
  return `models/${encodeURIComponent(name)}/versions/${version}/files/${encodePath(path)}`;
}

/** Fetch a file's bytes with the session's credentials (for previews). */
export async function fetchFile(
  endPoint: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Response> {
  const url = URLExt.join(settings.baseUrl, API_PREFIX, endPoint);
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (!response.ok) {
    throw responseError(response, await response.text());
  }
  return response;
}

/** The URL of the server-sent events stream. */
export function eventsURL(): string {
  return linkURL('events');
}
