import type { components } from '../api/schema';
import { requestAPI } from '../request';

/** REST types of data-drift monitors, generated from jupyter_mlws/server/openapi.yaml. */
export type MonitorSummary = components['schemas']['MonitorSummary'];
export type MonitorList = components['schemas']['MonitorList'];
export type MonitorDetail = components['schemas']['MonitorDetail'];
export type IntervalSummary = components['schemas']['DriftIntervalSummary'];
export type IntervalResult = components['schemas']['DriftIntervalResult'];
export type DriftFeature = components['schemas']['DriftFeature'];
export type DriftRunView = components['schemas']['DriftRunView'];
export type FeatureDistribution = components['schemas']['DriftDistribution'];
export type DriftCheckReply = components['schemas']['DriftCheckReply'];
export type MonitorBackfillRequest =
  components['schemas']['MonitorBackfillRequest'];

function monitorPath(name: string, rest = ''): string {
  return `monitors/${encodeURIComponent(name)}${rest}`;
}

/** Every detector with its last checked interval and whether it alerts. */
export function listMonitors(): Promise<MonitorList> {
  return requestAPI<MonitorList>('monitors');
}

/** One detector with its intervals (oldest first) and recent checks (newest first). */
export function getMonitor(name: string): Promise<MonitorDetail> {
  return requestAPI<MonitorDetail>(monitorPath(name));
}

/** Check every interval that starts in [start_date, end_date); the new check's run id. */
export function backfillMonitor(
  name: string,
  request: MonitorBackfillRequest
): Promise<DriftCheckReply> {
  return requestAPI<DriftCheckReply>(monitorPath(name, '/backfill'), {
    method: 'POST',
    body: JSON.stringify(request),
    headers: { 'Content-Type': 'application/json' }
  });
}

/** A drift run's intervals (and, for one interval's run, its distributions). */
export function getDriftRun(runId: string): Promise<DriftRunView> {
  return requestAPI<DriftRunView>(`runs/${encodeURIComponent(runId)}/drift`);
}
