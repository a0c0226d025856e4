import type { TranslationBundle } from '@jupyterlab/translation';

import type { IWorkspaceEvent } from '../events';

/**
 * Pure helpers of the Datasets section and page: the window of rows a virtualised table draws,
 * how a dataset's size is said, and which change events a dataset page follows. No DOM here
 * (unit-tested in `format.test.ts`).
 */

/** Rows drawn above and below the visible ones, so that scrolling shows no blank band. */
export const OVERSCAN_ROWS = 8;

/** The rows a virtualised table draws: `start` (inclusive) to `end` (exclusive). */
export interface IRowWindow {
  start: number;
  end: number;
}

/**
 * The rows of a table of `total` rows, each `rowHeight` pixels high, that a viewport of `height`
 * pixels scrolled to `scrollTop` shows, widened by `overscan` rows on each side and clamped to the
 * table. Bad geometry (a zero or negative row height, a hidden viewport) draws a first screenful at
 * most, never every row.
 */
export function visibleRows(
  scrollTop: number,
  height: number,
  rowHeight: number,
  total: number,
  overscan: number = OVERSCAN_ROWS
): IRowWindow {
  const count = Math.max(0, Math.floor(total));
  if (count === 0) {
    return { start: 0, end: 0 };
  }
  const row = rowHeight > 0 && Number.isFinite(rowHeight) ? rowHeight : 20;
  const top = Number.isFinite(scrollTop) ? Math.max(0, scrollTop) : 0;
  const view = Number.isFinite(height) ? Math.max(0, height) : 0;
  const first = Math.min(count - 1, Math.floor(top / row));
  const last = Math.ceil((top + view) / row);
  const pad = Math.max(0, Math.floor(overscan));
  const start = Math.max(0, first - pad);
  const end = Math.min(count, Math.max(last, first + 1) + pad);
  return { start, end };
}

/** A count with thousands separators (`1,234,567`), locale-independent so tests and users agree. */
export function formatCount(value: number): string {
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** What a dataset holds, for the sidebar: `1,234 rows` (tabular) or `12 files`. */
export function rowsOrFiles(
  dataset: { kind: string; rows: number | null; file_count: number },
  trans?: TranslationBundle
): string {
  const tabular = dataset.kind === 'tabular' && dataset.rows !== null;
  const n = tabular ? (dataset.rows as number) : dataset.file_count;
  const text = formatCount(n);
  if (trans) {
    return tabular
      ? trans._n('%1 row', '%1 rows', n, text)
      : trans._n('%1 file', '%1 files', n, text);
  }
  const unit = tabular ? 'row' : 'file';
  return `${text} ${unit}${n === 1 ? '' : 's'}`;
}

/** A cell of the preview table: null as an empty cell, objects as JSON, the rest as text. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** A model of the lineage (`name:version`) split into its name and version (the name may hold `:`). */
export function splitModelId(id: string): { name: string; version: string } {
  const at = id.lastIndexOf(':');
  if (at <= 0) {
    return { name: id, version: '' };
  }
  return { name: id.slice(0, at), version: id.slice(at + 1) };
}

/**
 * Whether a change event should make the page of dataset `name` read it again: a new version of
 * it (`dataset.version.created`), or new lineage — a model registered (with this dataset?), a job
 * submitted (its inputs are recorded with it) or ended (`terminal` holds the final statuses).
 */
export function datasetPageFollows(
  event: IWorkspaceEvent,
  name: string,
  terminal: ReadonlySet<string>
): boolean {
  switch (event.kind) {
    case 'dataset.version.created':
      return event.data.name === name;
    case 'model.version.created':
    case 'run.created':
      return true;
    case 'run.status':
      return terminal.has(String(event.data.status));
    default:
      return false;
  }
}
