import type { components } from '../api/schema';
import { requestAPI } from '../request';

/** REST types of compute targets, generated from jupyter_mlws/server/openapi.yaml. */
export type ComputeTarget = components['schemas']['ComputeTarget'];
export type ComputeTargetPage = components['schemas']['ComputeTargetPage'];
export type ComputeTargetDetail = components['schemas']['ComputeTargetDetail'];
export type DaskCluster = components['schemas']['DaskCluster'];
export type DaskWorker = components['schemas']['DaskWorker'];

/** The target type of a Dask cluster (issue 19). */
export const DASK_TYPE = 'dask';

/** The compute targets of the workspace (`local` included). */
export function listComputes(): Promise<ComputeTargetPage> {
  return requestAPI<ComputeTargetPage>('computes');
}

/** One target with what its backend describes (a Dask target's scheduler, dashboard and workers). */
export function getCompute(name: string): Promise<ComputeTargetDetail> {
  return requestAPI<ComputeTargetDetail>(
    `computes/${encodeURIComponent(name)}`
  );
}
