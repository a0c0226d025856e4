import { describe, expect, it } from 'vitest';

import type { IWorkspaceEvent } from '../events';
import {
  datasetPageFollows,
  formatCell,
  formatCount,
  rowsOrFiles,
  splitModelId,
  visibleRows
} from './format';

describe('visibleRows', () => {
  it('draws the visible rows plus the overscan, at the top', () => {
    expect(visibleRows(0, 200, 20, 1000, 5)).toEqual({ start: 0, end: 15 });
  });

  it('follows the scroll position', () => {
    // Rows 500..509 are visible; 5 more each side.
    expect(visibleRows(500 * 20, 200, 20, 1000, 5)).toEqual({
      start: 495,
      end: 515
    });
  });

  it('counts a partly visible row', () => {
    expect(visibleRows(10, 200, 20, 1000, 0)).toEqual({ start: 0, end: 11 });
  });

  it('clamps to the end of the table', () => {
    expect(visibleRows(999 * 20, 200, 20, 1000, 5)).toEqual({
      start: 994,
      end: 1000
    });
    // Scrolled past the end (the table shrank): the last rows, never an empty window.
    expect(visibleRows(10_000_000, 200, 20, 1000, 2)).toEqual({
      start: 997,
      end: 1000
    });
  });

  it('draws only a window of a 1,000-row table', () => {
    const { start, end } = visibleRows(4321, 400, 24, 1000);
    expect(end - start).toBeLessThan(40);
    expect(start).toBeLessThanOrEqual(Math.floor(4321 / 24));
    expect(end).toBeGreaterThanOrEqual(Math.ceil((4321 + 400) / 24));
  });

  it('draws nothing for an empty table', () => {
    expect(visibleRows(0, 200, 20, 0)).toEqual({ start: 0, end: 0 });
  });

  it('survives bad geometry without drawing every row', () => {
    for (const [top, height, row] of [
      [NaN, 200, 20],
      [-50, 200, 20],
      [0, NaN, 20],
      [0, 0, 20],
      [0, 200, 0],
      [0, 200, -3],
      [0, 200, Infinity]
    ]) {
      const { start, end } = visibleRows(top, height, row, 1000, 2);
      expect(start).toBe(0);
      expect(end).toBeGreaterThan(0);
      expect(end).toBeLessThan(30);
    }
  });
});

describe('formatting', () => {
  it('separates thousands', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1000)).toBe('1,000');
    expect(formatCount(1234567)).toBe('1,234,567');
  });

  it('says rows for tabular datasets and files otherwise', () => {
    expect(rowsOrFiles({ kind: 'tabular', rows: 1500, file_count: 3 })).toBe(
      '1,500 rows'
    );
    expect(rowsOrFiles({ kind: 'tabular', rows: 1, file_count: 1 })).toBe(
      '1 row'
    );
    // Rows not known: the files.
    expect(rowsOrFiles({ kind: 'tabular', rows: null, file_count: 3 })).toBe(
      '3 files'
    );
    expect(rowsOrFiles({ kind: 'file', rows: null, file_count: 1 })).toBe(
      '1 file'
    );
  });

  it('shows cells as text', () => {
    expect(formatCell(null)).toBe('');
    expect(formatCell(1.5)).toBe('1.5');
    expect(formatCell(false)).toBe('false');
    expect(formatCell('2024-01-01T00:00:00')).toBe('2024-01-01T00:00:00');
    expect(formatCell({ a: [1] })).toBe('{"a":[1]}');
  });

  it('splits a lineage model id at its last colon', () => {
    expect(splitModelId('clf:3')).toEqual({ name: 'clf', version: '3' });
    expect(splitModelId('a:b:12')).toEqual({ name: 'a:b', version: '12' });
    expect(splitModelId('odd')).toEqual({ name: 'odd', version: '' });
  });
});

describe('datasetPageFollows', () => {
  const terminal = new Set(['Completed', 'Failed', 'Canceled']);
  const event = (
    kind: IWorkspaceEvent['kind'],
    data: Record<string, unknown>
  ): IWorkspaceEvent => ({ kind, data });

  it('follows new versions of its own dataset only', () => {
    const created = (name: string) =>
      event('dataset.version.created', { name, version: 2, kind: 'tabular' });
    expect(datasetPageFollows(created('iris'), 'iris', terminal)).toBe(true);
    expect(datasetPageFollows(created('other'), 'iris', terminal)).toBe(false);
  });

  it('follows new lineage: models, submitted and ended runs', () => {
    const follows = (e: IWorkspaceEvent) =>
      datasetPageFollows(e, 'iris', terminal);
    expect(follows(event('model.version.created', { name: 'm' }))).toBe(true);
    expect(follows(event('run.created', { run_id: 'r' }))).toBe(true);
    expect(follows(event('run.status', { status: 'Completed' }))).toBe(true);
    expect(follows(event('run.status', { status: 'Running' }))).toBe(false);
    expect(follows(event('activity.updated', { name: 'env' }))).toBe(false);
  });
});
