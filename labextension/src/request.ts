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
  const data = text.length > 0 ? JSON.parse(text) : null;
  if (!response.ok) {
    const message = (data as ErrorBody | null)?.error?.message ?? text;
    throw new ServerConnection.ResponseError(response, message);
  }
  return data as T;
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

/** The URL of the server-sent events stream (with the token when the server uses one). */
export function eventsURL(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const url = URLExt.join(settings.baseUrl, API_PREFIX, 'events');
  return settings.token
    ? `${url}?token=${encodeURIComponent(settings.token)}`
    : url;
}
