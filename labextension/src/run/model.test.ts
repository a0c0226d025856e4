import { describe, expect, it } from 'vitest';

import { DEFAULT_LOG, elapsedSeconds, logChoices } from './model';

describe('logChoices', () => {
  it('offers the driver log when the run lists none', () => {
    expect(logChoices([])).toEqual([DEFAULT_LOG]);
  });

  it('puts the driver log first when the run did not list it', () => {
    expect(logChoices(['logs/train.log'])).toEqual([
      DEFAULT_LOG,
      'logs/train.log'
    ]);
  });

  it("keeps the run's order when it lists the driver log", () => {
    const logs = ['logs/a.log', DEFAULT_LOG];
    expect(logChoices(logs)).toEqual(logs);
    expect(logChoices(logs)).not.toBe(logs); // a copy: the run is not changed
  });
});

describe('elapsedSeconds', () => {
  const start = '2026-01-01T00:00:00Z';
  const t0 = Date.parse(start);

  it('counts from the start', () => {
    expect(elapsedSeconds({ start_time: start }, t0 + 90_500)).toBe(90.5);
  });

  it('is 0 before the run started', () => {
    expect(elapsedSeconds({ start_time: null }, t0)).toBe(0);
    expect(elapsedSeconds({}, t0)).toBe(0);
  });

  it('is never negative (a clock behind the server)', () => {
    expect(elapsedSeconds({ start_time: start }, t0 - 5000)).toBe(0);
  });
});
