/**
 * Pure reading of a compute target's description (unit-tested in `format.test.ts`): a Dask
 * cluster's workers and dashboard, or why the cluster could not be read.
 */

/** A worker as the REST API describes it (`DaskWorker`). */
export interface IWorkerLike {
  address: string;
  name: string;
  nthreads: number;
  memory_limit: number | null;
  executing: number;
}

/** What a target's `cluster` says, sorted out: its workers, its dashboard, or an error. */
export interface IClusterView {
  workers: IWorkerLike[];
  dashboard: string | null;
  error: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The cluster of a target detail (`{type, config, cluster}`); `null` for a target that describes
 * no cluster. The dashboard is the cluster's, else the target's `dashboard_url` setting (a
 * scheduler that is down still has its configured dashboard).
 */
export function clusterView(target: {
  config: Record<string, unknown>;
  cluster?: unknown;
}): IClusterView | null {
  const cluster = target.cluster;
  const configured =
    typeof target.config.dashboard_url === 'string'
      ? target.config.dashboard_url
      : null;
  if (!isRecord(cluster)) {
    return configured
      ? { workers: [], dashboard: configured, error: null }
      : null;
  }
  if (typeof cluster.error === 'string') {
    return { workers: [], dashboard: configured, error: cluster.error };
  }
  const workers = Array.isArray(cluster.workers)
    ? (cluster.workers as IWorkerLike[])
    : [];
  const dashboard =
    typeof cluster.dashboard === 'string' && cluster.dashboard
      ? cluster.dashboard
      : configured;
  return { workers, dashboard, error: null };
}

/** Bytes as a short size (1 GiB, 512 MiB); an empty string when unknown. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return '';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 || value >= 10 ? value.toFixed(0) : value.toFixed(1);
  return `${text.replace(/\.0$/, '')} ${units[unit]}`;
}

/** One line of a worker: name (or address), threads, memory and what it executes now. */
export function workerCells(worker: IWorkerLike): string[] {
  return [
    worker.name || worker.address,
    worker.address,
    String(worker.nthreads),
    formatBytes(worker.memory_limit),
    String(worker.executing)
  ];
}
