import { requestAPI } from '../request';

/*
 * REST types of monitors (issue 20, contract §4). Interim: written from the contract until the
 * `monitors` paths land in jupyter_mlws/server/openapi.yaml, then taken from the generated schema.
 */

/** The per-feature measures of an interval (every name of the contract's MEASURE_NAMES). */
export type DriftMeasures = Record<string, number | null>;

/** One interval's check: the latest check of that interval. */
export type IntervalSummary = {
  run_id: string;
  parent_run_id: string | null;
  start_date: string;
  end_date: string;
  status: string;
  magnitude: number | null;
  datadrift_coefficient: number | null;
  drift_detected: boolean | null;
  error: string | null;
};

/** One feature's drift in an interval. */
export type FeatureResult = {
  name: string;
  kind: string;
  contribution: number;
  drifted: boolean;
  method: string;
  measures: DriftMeasures;
  null_count: number;
  unseen_category_count: number;
};

/** An interval's check with its features, sorted by contribution, largest first. */
export type IntervalResult = IntervalSummary & { features: FeatureResult[] };

/** A detector as the Monitors section lists it. */
export type MonitorSummary = {
  name: string;
  baseline: string;
  target: string;
  service: string | null;
  frequency: string;
  drift_threshold: number;
  latency: number;
  feature_count: number;
  schedule_enabled: boolean;
  created_time: number;
  last: IntervalSummary | null;
  alert: boolean;
};

/** A check of a detector (a run, a backfill or a scheduled check). */
export type MonitorRun = {
  run_id: string;
  status: string;
  created_time: number;
  interval_count: number;
};

/** A detector with its intervals (oldest first) and its recent checks (newest first). */
export type MonitorDetail = MonitorSummary & {
  features: string[];
  alert_config: { email_addresses: string[]; webhook_url: string | null };
  intervals: IntervalResult[];
  runs: MonitorRun[];
};

/** `GET monitors`. */
export type MonitorList = {
  monitors: MonitorSummary[];
};

/** A numeric feature's histogram: fractions per bin of `edges`. */
export type NumericDistribution = {
  kind: 'numeric';
  edges: number[];
  baseline: number[];
  target: number[];
};

/** A categorical feature's shares per category (the top ones, then "(other)"). */
export type CategoricalDistribution = {
  kind: 'categorical';
  categories: string[];
  baseline: number[];
  target: number[];
};

export type FeatureDistribution = NumericDistribution | CategoricalDistribution;

/** A drift run: a check (its intervals) or one interval (with its distributions). */
export type DriftRunView = {
  detector: string;
  run_id: string;
  kind: 'check' | 'interval';
  status: string;
  intervals: IntervalResult[];
  distributions: Record<string, FeatureDistribution> | null;
};

/** The reply of a backfill or a run: the new check's run id. */
export type MonitorRunStarted = {
  run_id: string;
};

function monitorPath(name: string, rest = ''): string {
  return `monitors/${encodeURIComponent(name)}${rest}`;
}

/** Every detector with its last interval and alert state. */
export function listMonitors(): Promise<MonitorList> {
  return requestAPI<MonitorList>('monitors');
}

/** One detector with its intervals and recent checks. */
export function getMonitor(name: string): Promise<MonitorDetail> {
  return requestAPI<MonitorDetail>(monitorPath(name));
}

/** Check every interval that starts in [start, end) (ISO 8601); the new check's run id. */
export function backfillMonitor(
  name: string,
  startDate: string,
  endDate: string
): Promise<MonitorRunStarted> {
  return requestAPI<MonitorRunStarted>(monitorPath(name, '/backfill'), {
    method: 'POST',
    body: JSON.stringify({ start_date: startDate, end_date: endDate }),
    headers: { 'Content-Type': 'application/json' }
  });
}

/** A drift run's intervals (and, for one interval, its distributions). */
export function getDriftRun(runId: string): Promise<DriftRunView> {
  return requestAPI<DriftRunView>(`runs/${encodeURIComponent(runId)}/drift`);
}
