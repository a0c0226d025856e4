import { describe, expect, it } from 'vitest';

import type { DriftFeature, IntervalResult, MonitorSummary } from './api';
import {
  backfillDates,
  chooseFeature,
  chooseInterval,
  contributionBars,
  daysBefore,
  distributionBars,
  finite,
  formatMagnitude,
  intervalLabel,
  isDriftEvent,
  latestCompleted,
  magnitudeRange,
  magnitudeSeries,
  newAlerts,
  thresholdMagnitude,
  utcDayISO
} from './format';

const __ = (text: string, ...args: unknown[]) =>
  args.reduce<string>(
    (out, arg, i) => out.replace(`%${i + 1}`, String(arg)),
    text
  );

const MEASURES: DriftFeature['measures'] = {
  wasserstein_distance: null,
  normalized_wasserstein_distance: null,
  ks_statistic: null,
  p_value: null,
  jensen_shannon_distance: null,
  population_stability_index: null
};

function interval(
  week: number,
  magnitude: number | null,
  status: IntervalResult['status'] = 'Completed',
  error: string | null = null
): IntervalResult {
  const start = new Date(Date.UTC(2026, 10, 2 + 7 * week));
  const end = new Date(start.getTime() + 7 * 86_400_000);
  const iso = (d: Date) => d.toISOString().replace('.000Z', '+00:00');
  return {
    run_id: `w${week}`,
    parent_run_id: 'check',
    start_date: iso(start),
    end_date: iso(end),
    status,
    magnitude,
    datadrift_coefficient: magnitude === null ? null : magnitude / 100,
    drift_detected: magnitude === null ? null : magnitude > 20,
    error,
    features: [
      {
        name: 'a',
        kind: 'numeric',
        contribution: 0.1,
        drifted: false,
        method: 'ks_statistic p<0.05',
        measures: MEASURES,
        null_count: 0,
        unseen_category_count: 0
      },
      {
        name: 'b',
        kind: 'categorical',
        contribution: 0.7,
        drifted: true,
        method: 'jensen_shannon_distance >= 0.1',
        measures: MEASURES,
        null_count: 2,
        unseen_category_count: 1
      },
      {
        name: 'c',
        kind: 'numeric',
        contribution: 0.2,
        drifted: true,
        method: 'ks_statistic p<0.05',
        measures: MEASURES,
        null_count: 0,
        unseen_category_count: 0
      }
    ]
  };
}

function monitor(name: string, alert: boolean): MonitorSummary {
  return {
    name,
    baseline: 'base',
    target: 'target',
    service: null,
    frequency: 'Week',
    drift_threshold: 0.2,
    latency: 0,
    feature_count: 3,
    schedule_enabled: false,
    created_time: '2026-12-01T00:00:00.000000Z',
    last: null,
    alert
  };
}

describe('formatting', () => {
  it('shows a magnitude to one decimal, a dash for none', () => {
    expect(formatMagnitude(34.2345)).toBe('34.2');
    expect(formatMagnitude(0)).toBe('0.0');
    expect(formatMagnitude(100)).toBe('100.0');
    expect(formatMagnitude(null)).toBe('–');
    expect(formatMagnitude(NaN)).toBe('–');
    expect(formatMagnitude('NaN')).toBe('–');
    expect(finite('Infinity')).toBeNull();
    expect(finite(2.5)).toBe(2.5);
  });

  it('puts the threshold on the magnitude scale without float noise', () => {
    expect(thresholdMagnitude(0.2)).toBe(20);
    expect(thresholdMagnitude(0.35)).toBe(35);
    expect(thresholdMagnitude(0.07)).toBe(7);
  });

  it('names an interval by its UTC dates', () => {
    expect(intervalLabel(interval(0, 1))).toBe('2026-11-02 – 2026-11-09');
    expect(
      intervalLabel({
        start_date: '2026-11-02T01:00:00+01:00',
        end_date: '2026-11-03T00:00:00Z'
      })
    ).toBe('2026-11-02 – 2026-11-03');
  });
});

describe('magnitudeSeries', () => {
  it('has a point per checked interval in time order, failed ones apart', () => {
    const series = magnitudeSeries(
      [
        interval(2, 45.5),
        interval(0, 3.25),
        interval(1, null, 'Failed', 'only 12 rows (fewer than 50)'),
        interval(3, 60)
      ],
      0.2
    );
    expect(series.runIds).toEqual(['w0', 'w2', 'w3']);
    expect(series.y).toEqual([3.25, 45.5, 60]);
    expect(series.x[0]).toBe('2026-11-02T00:00:00+00:00');
    expect(series.labels[0]).toBe('2026-11-02 – 2026-11-09');
    expect(series.failed.runIds).toEqual(['w1']);
    expect(series.failed.labels).toEqual([
      '2026-11-09 – 2026-11-16: Failed – only 12 rows (fewer than 50)'
    ]);
    expect(series.threshold).toBe(20);
  });

  it('counts a non-finite magnitude as none', () => {
    const odd = { ...interval(0, null), magnitude: 'NaN' as const };
    const series = magnitudeSeries([odd], 0.2);
    expect(series.y).toEqual([]);
    expect(series.failed.runIds).toEqual(['w0']);
  });

  it('spans the interval starts padded by half an interval', () => {
    expect(magnitudeRange([interval(1, 5), interval(0, null)])).toEqual([
      '2026-10-29T12:00:00.000Z',
      '2026-11-12T12:00:00.000Z'
    ]);
    expect(magnitudeRange([interval(2, 5)])).toEqual([
      '2026-11-12T12:00:00.000Z',
      '2026-11-19T12:00:00.000Z'
    ]);
    expect(magnitudeRange([])).toBeNull();
  });

  it('is empty without intervals', () => {
    const series = magnitudeSeries([], 0.3);
    expect(series.x).toEqual([]);
    expect(series.failed.x).toEqual([]);
    expect(series.threshold).toBe(30);
  });
});

describe('latestCompleted', () => {
  it('takes the latest completed interval with a magnitude', () => {
    const running = { ...interval(3, null), status: 'Running' as const };
    expect(
      latestCompleted([interval(2, 70), running, interval(0, 5)])?.run_id
    ).toBe('w2');
    expect(
      latestCompleted([interval(1, null, 'Failed', 'too few rows')])
    ).toBeNull();
  });
});

describe('chooseInterval', () => {
  const intervals = [interval(0, 5), interval(1, 40), interval(2, null)];

  it('keeps the chosen interval while it is there', () => {
    expect(chooseInterval(intervals, 'w0')).toBe('w0');
  });

  it('else takes the latest with a magnitude, else the latest', () => {
    expect(chooseInterval(intervals, 'gone')).toBe('w1');
    expect(chooseInterval([interval(0, null), interval(1, null)], null)).toBe(
      'w1'
    );
    expect(chooseInterval([], null)).toBeNull();
  });
});

describe('contributions and features', () => {
  it('sorts the features by contribution, in percent', () => {
    expect(contributionBars(interval(0, 30))).toEqual({
      names: ['b', 'c', 'a'],
      percents: [70, 20, 10],
      drifted: [true, true, false]
    });
    expect(contributionBars(interval(0, 30), 1).names).toEqual(['b']);
  });

  it('keeps the chosen feature, else the top contributor', () => {
    expect(chooseFeature(['b', 'c'], 'c')).toBe('c');
    expect(chooseFeature(['b', 'c'], 'z')).toBe('b');
    expect(chooseFeature([], null)).toBeNull();
  });
});

describe('distributionBars', () => {
  it('puts numeric bars at the bin centres, as wide as the bins', () => {
    expect(
      distributionBars({
        kind: 'numeric',
        edges: [0, 1, 3],
        baseline: [0.25, 0.75],
        target: [0.5, 0.5]
      })
    ).toEqual({
      kind: 'numeric',
      x: [0.5, 2],
      width: [1, 2],
      baseline: [25, 75],
      target: [50, 50]
    });
  });

  it('keeps the categories in order', () => {
    expect(
      distributionBars({
        kind: 'categorical',
        categories: ['red', 'blue', '(other)'],
        baseline: [0.5, 0.5, 0],
        target: [0.2, 0.3, 0.5]
      })
    ).toEqual({
      kind: 'categorical',
      x: ['red', 'blue', '(other)'],
      width: null,
      baseline: [50, 50, 0],
      target: [20, 30, 50]
    });
  });

  it('draws nothing for a histogram without edges', () => {
    const bars = distributionBars({
      kind: 'numeric',
      baseline: [],
      target: []
    });
    expect(bars.x).toEqual([]);
    expect(bars.baseline).toEqual([]);
  });
});

describe('newAlerts', () => {
  it('announces nothing on the first read', () => {
    const { raised, states } = newAlerts(null, [monitor('m', true)]);
    expect(raised).toEqual([]);
    expect(states.get('m')).toBe(true);
  });

  it('announces an alert that turned on, once', () => {
    let states = newAlerts(null, [
      monitor('m', false),
      monitor('n', true)
    ]).states;
    let step = newAlerts(states, [monitor('m', true), monitor('n', true)]);
    expect(step.raised.map(m => m.name)).toEqual(['m']);
    states = step.states;
    step = newAlerts(states, [monitor('m', true), monitor('n', true)]);
    expect(step.raised).toEqual([]);
    // Off, then on again: a new alert.
    states = newAlerts(step.states, [monitor('m', false)]).states;
    expect(newAlerts(states, [monitor('m', true)]).raised.length).toBe(1);
  });

  it('counts a monitor first seen later as not alerting before', () => {
    const states = newAlerts(null, []).states;
    expect(newAlerts(states, [monitor('new', true)]).raised.length).toBe(1);
  });
});

describe('isDriftEvent', () => {
  it('follows the detector, its runs and alert activities', () => {
    expect(
      isDriftEvent({ kind: 'run.status', data: { experiment: 'm-drift' } }, 'm')
    ).toBe(true);
    expect(
      isDriftEvent({ kind: 'run.created', data: { experiment: 'x' } }, 'm')
    ).toBe(false);
    expect(isDriftEvent({ kind: 'activity.updated', data: {} }, 'm')).toBe(
      true
    );
    expect(
      isDriftEvent({ kind: 'drift.updated', data: { name: 'm' } }, 'm')
    ).toBe(true);
    expect(
      isDriftEvent({ kind: 'drift.deleted', data: { name: 'other' } }, 'm')
    ).toBe(false);
    expect(
      isDriftEvent(
        { kind: 'model.version.created', data: { experiment: 'm-drift' } },
        'm'
      )
    ).toBe(false);
  });
});

describe('backfill dates', () => {
  it('takes two dates, the start first, as UTC midnights', () => {
    expect(backfillDates('2026-11-02', ' 2026-11-30', __)).toEqual({
      start_date: '2026-11-02T00:00:00+00:00',
      end_date: '2026-11-30T00:00:00+00:00'
    });
  });

  it('says what is wrong', () => {
    expect(backfillDates('2026-11-30', '2026-11-02', __)).toEqual({
      error: 'The start date must come before the end date.'
    });
    expect(backfillDates('2026-11-02', '2026-11-02', __)).toHaveProperty(
      'error'
    );
    expect(backfillDates('', '2026-11-02', __)).toHaveProperty('error');
    expect(utcDayISO('2026-02-30')).toBeNull();
    expect(utcDayISO('02/11/2026')).toBeNull();
  });

  it('counts days back in UTC', () => {
    expect(daysBefore(new Date('2026-12-03T23:30:00Z'), 28)).toBe('2026-11-05');
  });
});
