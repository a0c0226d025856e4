import { describe, expect, it } from 'vitest';

import {
  formatValue,
  ITrialLike,
  metricNumber,
  nextOrder,
  sortTrials,
  sweepDimensions,
  topTrials
} from './format';

function trial(
  index: number,
  metric: unknown,
  hyperparameters: Record<string, unknown> = {}
): ITrialLike {
  return {
    run_id: `s_${index}`,
    index,
    hyperparameters,
    best_primary_metric: metric
  };
}

const TRIALS = [
  trial(2, 0.2),
  trial(0, 0.8),
  trial(3, null),
  trial(1, 0.9),
  trial(4, 'NaN'),
  trial(5, 0.8)
];

function order(trials: ITrialLike[]): number[] {
  return trials.map(t => t.index);
}

describe('sortTrials', () => {
  it('orders by index', () => {
    expect(order(sortTrials(TRIALS, 'index', 'maximize'))).toEqual([
      0, 1, 2, 3, 4, 5
    ]);
  });

  it('puts the best first by the goal, ties in index order, no value last', () => {
    expect(order(sortTrials(TRIALS, 'best', 'maximize'))).toEqual([
      1, 0, 5, 2, 3, 4
    ]);
    expect(order(sortTrials(TRIALS, 'best', 'minimize'))).toEqual([
      2, 0, 5, 1, 3, 4
    ]);
  });

  it('puts the worst first, no value still last', () => {
    expect(order(sortTrials(TRIALS, 'worst', 'maximize'))).toEqual([
      2, 0, 5, 1, 3, 4
    ]);
  });

  it('sorts the non-finite strings of the API as numbers', () => {
    const trials = [trial(0, 1), trial(1, 'Infinity'), trial(2, '-Infinity')];
    expect(order(sortTrials(trials, 'best', 'maximize'))).toEqual([1, 0, 2]);
    expect(metricNumber('NaN')).toBeNull();
    expect(metricNumber(null)).toBeNull();
  });

  it('does not change its input', () => {
    const copy = [...TRIALS];
    sortTrials(TRIALS, 'best', 'maximize');
    expect(TRIALS).toEqual(copy);
  });
});

describe('nextOrder', () => {
  it('goes best first, then worst first, and back', () => {
    expect(nextOrder('index')).toBe('best');
    expect(nextOrder('best')).toBe('worst');
    expect(nextOrder('worst')).toBe('best');
  });
});

describe('topTrials', () => {
  it('takes the best k with a value', () => {
    expect(topTrials(TRIALS, 'maximize', 2)).toEqual(['s_1', 's_0']);
    expect(topTrials(TRIALS, 'maximize', 10)).toEqual([
      's_1',
      's_0',
      's_5',
      's_2'
    ]);
    expect(topTrials(TRIALS, 'minimize', 1)).toEqual(['s_2']);
    expect(topTrials(TRIALS, 'minimize', 0)).toEqual([]);
  });
});

describe('formatValue', () => {
  it('shows numbers briefly and text as is', () => {
    expect(formatValue(0.0123456789)).toBe('0.0123457');
    expect(formatValue(3)).toBe('3');
    expect(formatValue('adam')).toBe('adam');
    expect(formatValue(true)).toBe('true');
    expect(formatValue(null)).toBe('');
  });
});

describe('sweepDimensions', () => {
  it('has an axis per parameter in the given order and the metric last', () => {
    const trials = [
      trial(0, 0.5, { '--opt': 'sgd', '--lr': 0.1 }),
      trial(1, 0.7, { '--opt': 'adam', '--lr': 0.01 }),
      trial(2, null, { '--opt': 'sgd', '--lr': 0.05 })
    ];
    const { dimensions, included } = sweepDimensions(
      trials,
      ['--lr', '--opt'],
      'acc'
    );
    expect(included).toEqual([0, 1]);
    expect(dimensions.map(d => d.label)).toEqual(['--lr', '--opt', 'acc']);
    expect(dimensions[0].values).toEqual([0.1, 0.01]);
    expect(dimensions[1].ticktext).toEqual(['adam', 'sgd']);
    expect(dimensions[1].values).toEqual([1, 0]);
    expect(dimensions[2].values).toEqual([0.5, 0.7]);
  });
});
