/**
 * Pure helpers of the Monitors section, the detector page and the drift panels of run pages: the
 * numbers and words they show, the chart series drawn from the intervals and distributions, which
 * monitors newly alert, and the backfill dialog's dates. No DOM here, so it is unit-tested alone.
 */
import type {
  DriftFeature,
  FeatureDistribution,
  IntervalResult,
  IntervalSummary,
  MonitorSummary
} from './api';

/** The run types of drift checks: a check (run, backfill, scheduled) and one of its intervals. */
export const DRIFT_CHECK_RUN_TYPE = 'mlws.datadrift';
export const DRIFT_INTERVAL_RUN_TYPE = 'mlws.datadrift.interval';
export const DRIFT_RUN_TYPES: ReadonlySet<string> = new Set([
  DRIFT_CHECK_RUN_TYPE,
  DRIFT_INTERVAL_RUN_TYPE
]);

/** The experiment that holds a detector's checks (contract §3). */
export function driftExperiment(name: string): string {
  return `${name}-drift`;
}

/**
 * A number the API sent as a metric value (non-finite ones come as the strings NaN, Infinity,
 * -Infinity) when it is finite, else null.
 */
export function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A drift magnitude (0..100) to one decimal (`34.2`, `0.0`); `–` for none. */
export function formatMagnitude(magnitude: unknown): string {
  const value = finite(magnitude);
  return value === null ? '–' : value.toFixed(1);
}

/** A detector's threshold (a coefficient, 0..1) on the magnitude's scale (0..100). */
export function thresholdMagnitude(driftThreshold: number): number {
  // Rounded so that 0.35 shows as 35, not 35.00000000000001.
  return Math.round(driftThreshold * 100 * 1e6) / 1e6;
}

/** The UTC date of an ISO 8601 time (`2026-11-02T00:00:00+00:00` → `2026-11-02`). */
export function isoDate(iso: string): string {
  const time = new Date(iso);
  return Number.isNaN(time.getTime())
    ? iso.slice(0, 10)
    : time.toISOString().slice(0, 10);
}

/** An interval as its check run is named: `<start date> – <end date>`. */
export function intervalLabel(interval: {
  start_date: string;
  end_date: string;
}): string {
  return `${isoDate(interval.start_date)} – ${isoDate(interval.end_date)}`;
}

/** An interval's magnitude when its check ended with one, else null. */
export function magnitudeOf(interval: IntervalSummary): number | null {
  return finite(interval.magnitude);
}

/**
 * The latest completed interval with a magnitude: the one a detector's alert is about (its
 * `last` may be a later interval still running, or one that failed); null for none.
 */
export function latestCompleted<T extends IntervalSummary>(
  intervals: readonly T[]
): T | null {
  const done = intervals
    .filter(i => i.status === 'Completed' && magnitudeOf(i) !== null)
    .sort((a, b) => Date.parse(a.start_date) - Date.parse(b.start_date));
  return done.length ? done[done.length - 1] : null;
}

/** The magnitude chart's data: a point per checked interval, the failed ones apart. */
export interface IMagnitudeSeries {
  /** Interval starts (ISO) and magnitudes of the intervals with a magnitude. */
  x: string[];
  y: number[];
  runIds: string[];
  labels: string[];
  /** Intervals whose check failed (or has no magnitude yet): start, run id, why. */
  failed: { x: string[]; runIds: string[]; labels: string[] };
  /** The threshold on the magnitude's scale. */
  threshold: number;
}

export function magnitudeSeries(
  intervals: readonly IntervalSummary[],
  driftThreshold: number
): IMagnitudeSeries {
  const series: IMagnitudeSeries = {
    x: [],
    y: [],
    runIds: [],
    labels: [],
    failed: { x: [], runIds: [], labels: [] },
    threshold: thresholdMagnitude(driftThreshold)
  };
  const ordered = [...intervals].sort(
    (a, b) => Date.parse(a.start_date) - Date.parse(b.start_date)
  );
  for (const interval of ordered) {
    const label = intervalLabel(interval);
    const magnitude = magnitudeOf(interval);
    if (magnitude !== null) {
      series.x.push(interval.start_date);
      series.y.push(magnitude);
      series.runIds.push(interval.run_id);
      series.labels.push(label);
    } else {
      series.failed.x.push(interval.start_date);
      series.failed.runIds.push(interval.run_id);
      series.failed.labels.push(
        `${label}: ${interval.status}${interval.error ? ` – ${interval.error}` : ''}`
      );
    }
  }
  return series;
}

/**
 * The magnitude chart's x range: the first to the last interval start, padded by half an interval
 * each side, so that one interval (an interval's own run page) is not drawn on a millisecond axis.
 */
export function magnitudeRange(
  intervals: readonly IntervalSummary[]
): [string, string] | null {
  const starts = intervals.map(i => Date.parse(i.start_date));
  const lengths = intervals.map(
    i => Date.parse(i.end_date) - Date.parse(i.start_date)
  );
  if (
    !intervals.length ||
    [...starts, ...lengths].some(value => Number.isNaN(value))
  ) {
    return null;
  }
  const pad = Math.max(...lengths) / 2;
  return [
    new Date(Math.min(...starts) - pad).toISOString(),
    new Date(Math.max(...starts) + pad).toISOString()
  ];
}

/**
 * The interval the panels show: the one the user picked when it is still there, else the latest
 * with a magnitude, else the latest; null for none.
 */
export function chooseInterval(
  intervals: readonly IntervalSummary[],
  previous: string | null
): string | null {
  if (previous && intervals.some(i => i.run_id === previous)) {
    return previous;
  }
  const ordered = [...intervals].sort(
    (a, b) => Date.parse(a.start_date) - Date.parse(b.start_date)
  );
  const checked = ordered.filter(i => magnitudeOf(i) !== null);
  const pick = checked.length ? checked : ordered;
  return pick.length ? pick[pick.length - 1].run_id : null;
}

/** The contribution chart's data: features by contribution, largest first, in percent. */
export interface IContributionBars {
  names: string[];
  percents: number[];
  drifted: boolean[];
}

export function contributionBars(
  interval: IntervalResult,
  limit = 20
): IContributionBars {
  const share = (feature: DriftFeature) => finite(feature.contribution) ?? 0;
  const features = [...interval.features]
    .sort((a, b) => share(b) - share(a))
    .slice(0, limit);
  return {
    names: features.map(f => f.name),
    percents: features.map(f => Math.round(share(f) * 1000) / 10),
    drifted: features.map(f => f.drifted)
  };
}

/**
 * The feature the distribution overlay shows: the one the user picked when the interval has it,
 * else the largest contributor (the interval's features come sorted by contribution).
 */
export function chooseFeature(
  features: readonly string[],
  previous: string | null
): string | null {
  if (previous && features.includes(previous)) {
    return previous;
  }
  return features.length ? features[0] : null;
}

/** The overlay's bars: x (bin centres or categories), widths for numeric bins, percents per side. */
export interface IDistributionBars {
  kind: 'numeric' | 'categorical';
  x: (number | string)[];
  width: number[] | null;
  baseline: number[];
  target: number[];
}

export function distributionBars(dist: FeatureDistribution): IDistributionBars {
  // Fractions in percent; a non-finite one (never expected) as no bar.
  const percent = (values: readonly unknown[]) =>
    values.map(v => Math.round((finite(v) ?? 0) * 100000) / 1000);
  if (dist.kind === 'numeric') {
    const edges = (dist.edges ?? []).map(edge => finite(edge) ?? NaN);
    const bins = Math.max(0, edges.length - 1);
    const x: number[] = [];
    const width: number[] = [];
    for (let i = 0; i < bins; i++) {
      x.push((edges[i] + edges[i + 1]) / 2);
      width.push(edges[i + 1] - edges[i]);
    }
    return {
      kind: 'numeric',
      x,
      width,
      baseline: percent(dist.baseline.slice(0, bins)),
      target: percent(dist.target.slice(0, bins))
    };
  }
  return {
    kind: 'categorical',
    x: [...(dist.categories ?? [])],
    width: null,
    baseline: percent(dist.baseline),
    target: percent(dist.target)
  };
}

/** What the Monitors section remembers between reads: each monitor's alert state. */
export type AlertStates = ReadonlyMap<string, boolean>;

/**
 * The monitors whose alert turned on since the last read, and the states to remember. On the
 * first read (`previous` null) nothing is new: an alert already raised when Lab opened is shown
 * by its badge, not announced again on every reload. A monitor first seen after that counts as
 * not alerting before.
 */
export function newAlerts(
  previous: AlertStates | null,
  monitors: readonly MonitorSummary[]
): { raised: MonitorSummary[]; states: AlertStates } {
  const states = new Map(monitors.map(m => [m.name, m.alert] as const));
  if (previous === null) {
    return { raised: [], states };
  }
  const raised = monitors.filter(m => m.alert && !previous.get(m.name));
  return { raised, states };
}

/**
 * Whether a change event concerns a detector: the detector made, changed or deleted (`drift.*`),
 * its checks' runs, or an alert's activity.
 */
export function isDriftEvent(
  event: { kind: string; data: Record<string, unknown> },
  name: string
): boolean {
  if (event.kind === 'activity.updated') {
    return true;
  }
  if (event.kind.startsWith('drift.')) {
    return event.data.name === name;
  }
  return (
    event.kind.startsWith('run.') &&
    event.data.experiment === driftExperiment(name)
  );
}

/** A date input's value (`YYYY-MM-DD`) as the start of that day in UTC, ISO 8601. */
export function utcDayISO(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return null;
  }
  const time = new Date(`${value}T00:00:00Z`);
  if (
    Number.isNaN(time.getTime()) ||
    time.toISOString().slice(0, 10) !== value
  ) {
    return null;
  }
  return `${value}T00:00:00+00:00`;
}

/** A `YYYY-MM-DD` UTC date `days` before `now`. */
export function daysBefore(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The backfill dialog's dates as the request takes them, or what is wrong with them: both dates,
 * the start before the end (the backfill checks each interval starting in [start, end)).
 */
export function backfillDates(
  start: string,
  end: string,
  __: (text: string, ...args: unknown[]) => string
): { start_date: string; end_date: string } | { error: string } {
  const startDate = utcDayISO(start.trim());
  const endDate = utcDayISO(end.trim());
  if (!startDate || !endDate) {
    return {
      error: __('Give the start and end as dates (YYYY-MM-DD).')
    };
  }
  if (Date.parse(startDate) >= Date.parse(endDate)) {
    return { error: __('The start date must come before the end date.') };
  }
  return { start_date: startDate, end_date: endDate };
}
