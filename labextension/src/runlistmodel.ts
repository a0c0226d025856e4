/**
 * The data side of the virtualised run list: which rows to draw for a scroll position, when to
 * fetch the next page, and how cells read. No DOM here, so it is unit-tested on its own.
 */

export interface IRange {
  /** First row index to draw (inclusive). */
  start: number;
  /** Last row index to draw (exclusive). */
  end: number;
}

/** Rows to draw for a viewport: the visible ones plus `overscan` on each side, within `count`. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 10
): IRange {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  return {
    start: Math.max(0, first - overscan),
    end: Math.min(count, first + shown + overscan)
  };
}

/** Fetch the next page when the drawn rows come within `margin` rows of the loaded end. */
export function needsMore(
  rangeEnd: number,
  loaded: number,
  hasMore: boolean,
  margin = 50
): boolean {
  return hasMore && rangeEnd + margin >= loaded;
}

/** A duration as people read it: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  if (seconds < 3600) {
    const minutes = Math.floor(seconds / 60);
    const rest = Math.floor(seconds % 60);
    return `${minutes} min ${String(rest).padStart(2, '0')} s`;
  }
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${hours} h ${String(minutes).padStart(2, '0')} min`;
}

/**
 * A start time short enough for a narrow column: the time of day for today, month and day this
 * year, else the date (the cell's tooltip has the full time).
 */
export function formatStart(when: Date, now: Date, locale?: string): string {
  if (when.toDateString() === now.toDateString()) {
    return when.toLocaleTimeString(locale, {
      hour: '2-digit',
      minute: '2-digit'
    });
  }
  if (when.getFullYear() === now.getFullYear()) {
    return when.toLocaleDateString(locale, { month: 'short', day: 'numeric' });
  }
  return when.toLocaleDateString(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric'
  });
}

/**
 * A metric value in a cell: `digits` significant digits without trailing zeros (0.9, 0.1235,
 * 120000, 1.5e-7), the non-finite specials spelled out.
 */
export function formatMetric(value: unknown, digits = 4): string {
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? String(value)
      : String(Number(value.toPrecision(digits)));
  }
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') {
    return String(value);
  }
  return value === null || value === undefined ? '' : String(value);
}

/** The metric names of a page of runs, in first-seen order (the key-metric choices). */
export function metricNames(
  runs: ReadonlyArray<{ metrics: Record<string, unknown> }>
): string[] {
  const names: string[] = [];
  for (const run of runs) {
    for (const name of Object.keys(run.metrics)) {
      if (!names.includes(name)) {
        names.push(name);
      }
    }
  }
  return names;
}
