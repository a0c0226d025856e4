/**
 * Pure helpers of the Endpoints section and the endpoint page: the words and numbers they show,
 * and the chart series drawn from the telemetry route's buckets.
 */
import type { TelemetryBucket, Webservice } from './api';

/** The body the Test box starts with: v1's usual scoring request shape. */
export const SAMPLE_BODY = '{\n  "data": [[1, 2, 3, 4]]\n}';

/** The telemetry window the page's charts show, and its bucket width. */
export const WINDOW_S = 600;
export const BUCKET_S = 10;

/** A duration in milliseconds, short (`3.2 ms`, `41 ms`, `1.25 s`); `–` for none. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '–';
  }
  if (ms >= 1000) {
    return `${(ms / 1000).toFixed(2)} s`;
  }
  return ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

/** A rate in 0..1 as a percentage (`0%`, `12.5%`). */
export function formatPercent(rate: number): string {
  const percent = rate * 100;
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)}%`;
}

/** Requests per second, short (`0.05/s`, `12/s`). */
export function formatRps(rps: number): string {
  if (rps >= 10) {
    return `${Math.round(rps)}/s`;
  }
  return `${rps >= 1 ? rps.toFixed(1) : rps.toFixed(2)}/s`;
}

/** A service's row tooltip: state (and why, when it is not healthy), URI and models. */
export function serviceTitle(
  service: Webservice,
  __: (text: string, ...args: unknown[]) => string
): string {
  return [
    __('%1 (%2): %3', service.name, service.compute_type, service.state),
    service.error ?? '',
    __('Scoring URI: %1', service.scoring_uri ?? __('none yet')),
    __('Models: %1', service.models.join(', ')),
    __('Click to open its page')
  ]
    .filter(line => line)
    .join('\n');
}

/** The x and y values of the charts, one point per bucket (quiet buckets: no latency point). */
export interface ITelemetrySeries {
  time: string[];
  count: number[];
  errors: number[];
  errorRate: (number | null)[];
  rps: number[];
  p50: (number | null)[];
  p99: (number | null)[];
}

export function telemetrySeries(
  buckets: readonly TelemetryBucket[],
  bucketS: number
): ITelemetrySeries {
  return {
    time: buckets.map(b => b.time),
    count: buckets.map(b => b.count),
    errors: buckets.map(b => b.errors),
    errorRate: buckets.map(b => (b.count ? (b.errors / b.count) * 100 : null)),
    rps: buckets.map(b => b.count / bucketS),
    p50: buckets.map(b => b.p50_ms ?? null),
    p99: buckets.map(b => b.p99_ms ?? null)
  };
}

/** Pretty-print a JSON text (as the service sent it, when it is not JSON). */
export function prettyJSON(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Whether an event is about web services (the section and the page refresh on these). */
export function isWebserviceEvent(kind: string): boolean {
  return kind.startsWith('webservice.');
}
