import { formatMetric } from './runlistmodel';

/**
 * The data side of the run and compare pages: metric points as chart coordinates, the rows of a
 * comparison table, the axes of a parallel-coordinates chart. No DOM and no plotting library here,
 * so it is unit-tested on its own.
 */

/** What the x axis of a metric chart counts. */
export type XAxis = 'step' | 'time';

/** The most points a run page's chart asks for; the server down-samples longer series (min/max per bucket). */
export const MAX_POINTS = 1000;

/** A metric point as the REST API sends it (value may be 'NaN', 'Infinity' or '-Infinity'). */
export interface IPointLike {
  step: number | null;
  value: number | string;
  timestamp: string;
}

/** A metric value as a number a chart can draw; the non-finite specials become gaps (null). */
export function chartValue(value: unknown): number | null {
  return typeof value === 'number' && isFinite(value) ? value : null;
}

/**
 * The x and y arrays of one series. On the step axis a point logged without a step takes its
 * position in the series (as the SDK numbers them); on the time axis x is the ISO timestamp.
 */
export function seriesXY(
  points: ReadonlyArray<IPointLike>,
  axis: XAxis
): { x: Array<number | string>; y: Array<number | null> } {
  const x: Array<number | string> = [];
  const y: Array<number | null> = [];
  points.forEach((point, index) => {
    x.push(axis === 'time' ? point.timestamp : (point.step ?? index));
    y.push(chartValue(point.value));
  });
  return { x, y };
}

/** One row of the comparison table: a param, metric or tag across the compared runs. */
export interface ICompareRow {
  section: 'params' | 'metrics' | 'tags';
  key: string;
  /** One cell per run, '' where the run has no value. */
  values: string[];
  /** True when not every run has the same value (the table highlights these). */
  differs: boolean;
}

/** The runs' fields the comparison reads. */
export interface ICompared {
  params: Record<string, string>;
  metrics: Record<string, unknown>;
  tags: Record<string, string>;
}

function keysInOrder(maps: ReadonlyArray<Record<string, unknown>>): string[] {
  const keys: string[] = [];
  for (const map of maps) {
    for (const key of Object.keys(map)) {
      if (!keys.includes(key)) {
        keys.push(key);
      }
    }
  }
  return keys;
}

function cell(value: unknown): string {
  return formatMetric(value, 6);
}

/** The comparison table: params, then metrics (latest values), then tags, each marked if it differs. */
export function compareRows(runs: ReadonlyArray<ICompared>): ICompareRow[] {
  const rows: ICompareRow[] = [];
  for (const section of ['params', 'metrics', 'tags'] as const) {
    const maps = runs.map(run => run[section] as Record<string, unknown>);
    for (const key of keysInOrder(maps)) {
      const values = maps.map(map => cell(map[key]));
      rows.push({
        section,
        key,
        values,
        differs: values.some(value => value !== values[0])
      });
    }
  }
  return rows;
}

/** One axis of a parallel-coordinates chart. */
export interface IDimension {
  label: string;
  values: number[];
  /** For a categorical axis: where each category sits, and its text. */
  tickvals?: number[];
  ticktext?: string[];
}

function numeric(text: string): boolean {
  return text.trim() !== '' && isFinite(Number(text));
}

/**
 * Params against a metric: one axis per param (numeric when every run's value is a number, else
 * categorical, with the missing value as its own category) and the metric's latest value last.
 * Runs without a finite value of the metric are left out: they cannot be placed on its axis.
 */
export function parallelDimensions(
  runs: ReadonlyArray<ICompared>,
  metric: string
): { dimensions: IDimension[]; included: number[] } {
  const included: number[] = [];
  runs.forEach((run, index) => {
    if (chartValue(run.metrics[metric]) !== null) {
      included.push(index);
    }
  });
  const chosen = included.map(index => runs[index]);
  const dimensions: IDimension[] = [];
  for (const key of keysInOrder(chosen.map(run => run.params))) {
    const texts = chosen.map(run => run.params[key] ?? '');
    if (texts.every(numeric)) {
      dimensions.push({ label: key, values: texts.map(Number) });
    } else {
      const categories = [...new Set(texts)].sort();
      dimensions.push({
        label: key,
        values: texts.map(text => categories.indexOf(text)),
        tickvals: categories.map((_, index) => index),
        ticktext: categories.map(text => text || '(none)')
      });
    }
  }
  dimensions.push({
    label: metric,
    values: chosen.map(run => chartValue(run.metrics[metric]) as number)
  });
  return { dimensions, included };
}

/** The names of the scalar series of several runs, in first-seen order. */
export function scalarSeriesNames(
  runs: ReadonlyArray<{
    series: ReadonlyArray<{ name: string; kind: string }>;
  }>
): string[] {
  const names: string[] = [];
  for (const run of runs) {
    for (const series of run.series) {
      if (series.kind === 'scalar' && !names.includes(series.name)) {
        names.push(series.name);
      }
    }
  }
  return names;
}

/** A byte count as people read it. */
export function formatBytes(size: number): string {
  if (size < 1024) {
    return `${size} B`;
  }
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** How a run file is previewed, from its name. */
export type PreviewKind = 'image' | 'notebook' | 'text';

const IMAGE = /\.(png|jpe?g|gif|svg|webp|bmp)$/i;

export function previewKind(path: string): PreviewKind {
  if (IMAGE.test(path)) {
    return 'image';
  }
  return /\.ipynb$/i.test(path) ? 'notebook' : 'text';
}

/** A model name proposed for a run file: its base name without extension, as a valid name. */
export function suggestedModelName(path: string): string {
  const base = path.split('/').filter(Boolean).pop() ?? 'model';
  const stem = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  const name = stem
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|-+$/g, '');
  return name || 'model';
}

/** `a=1, b=2` as a tag map; a piece without `key=` is an error naming it. */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const piece of text.split(',')) {
    const item = piece.trim();
    if (!item) {
      continue;
    }
    const at = item.indexOf('=');
    if (at < 1) {
      throw new Error(`tag "${item}" needs the form key=value`);
    }
    tags[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return tags;
}
