import { describe, expect, it } from 'vitest';

import {
  formatDuration,
  formatMetric,
  formatStart,
  metricNames,
  needsMore,
  visibleRange
} from './runlistmodel';

describe('visibleRange', () => {
  it('draws the visible rows plus overscan, never past the ends', () => {
    expect(visibleRange(0, 240, 24, 10000, 5)).toEqual({ start: 0, end: 16 });
    expect(visibleRange(24 * 5000, 240, 24, 10000, 5)).toEqual({
      start: 4995,
      end: 5016
    });
    expect(visibleRange(24 * 9995, 240, 24, 10000, 5)).toEqual({
      start: 9990,
      end: 10000
    });
    expect(visibleRange(-50, 240, 24, 3, 5)).toEqual({ start: 0, end: 3 });
  });

  it('draws a bounded number of rows however long the list', () => {
    const { start, end } = visibleRange(24 * 123456, 600, 24, 1_000_000);
    expect(end - start).toBeLessThan(50);
  });
});

describe('needsMore', () => {
  it('asks for the next page near the loaded end only while there is one', () => {
    expect(needsMore(160, 200, true)).toBe(true);
    expect(needsMore(100, 200, true)).toBe(false);
    expect(needsMore(199, 200, false)).toBe(false);
  });
});

describe('formatDuration', () => {
  it('reads like a person would say it', () => {
    expect(formatDuration(0.85)).toBe('850 ms');
    expect(formatDuration(12.34)).toBe('12.3 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(7380)).toBe('2 h 03 min');
    expect(formatDuration(null)).toBe('');
  });
});

describe('formatMetric and metricNames', () => {
  it('formats values and lists names in first-seen order', () => {
    expect(formatMetric(0.123456)).toBe('0.1235');
    expect(formatMetric(3)).toBe('3');
    expect(formatMetric(0.9)).toBe('0.9'); // no trailing zeros
    expect(formatMetric(120000.4, 6)).toBe('120000'); // zeros of the integer part stay
    expect(formatMetric(100000.3, 6)).toBe('100000');
    expect(formatMetric(1.5e-7)).toBe('1.5e-7');
    expect(formatMetric('NaN')).toBe('NaN');
    expect(formatMetric(undefined)).toBe('');
    expect(
      metricNames([
        { metrics: { acc: 1, loss: 2 } },
        { metrics: { f1: 3, acc: 4 } }
      ])
    ).toEqual(['acc', 'loss', 'f1']);
  });
});

describe('formatStart', () => {
  const now = new Date(2026, 10, 27, 15, 30);

  it('shows the time of day for today, the day this year, the date before', () => {
    expect(formatStart(new Date(2026, 10, 27, 9, 5), now, 'en-GB')).toBe(
      '09:05'
    );
    expect(formatStart(new Date(2026, 2, 3, 9, 5), now, 'en-GB')).toBe('3 Mar');
    expect(formatStart(new Date(2025, 2, 3, 9, 5), now, 'en-GB')).toBe(
      '3 Mar 2025'
    );
  });
});
