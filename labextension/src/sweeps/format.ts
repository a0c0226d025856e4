/**
 * The data side of a sweep's section: the trials sorted by their primary metric, the top k, the
 * cells of the trials table and the axes of the parallel-coordinates chart. No DOM here, so it is
 * unit-tested on its own.
 */
import { IDimension, parallelDimensions } from '../chartdata';
import { formatMetric } from '../runlistmodel';

/** The fields of a trial (and of a sweep) that these functions read. */
export interface ITrialLike {
  run_id: string;
  index: number;
  hyperparameters: Record<string, unknown>;
  best_primary_metric: unknown;
}

/** The goal of a sweep's primary metric. */
export type Goal = 'maximize' | 'minimize';

/** How the trials table is ordered: by trial index, or by the metric, best or worst first. */
export type TrialOrder = 'index' | 'best' | 'worst';

/** The next order when the metric's header is clicked: best first, then worst first, and back. */
export function nextOrder(order: TrialOrder): TrialOrder {
  return order === 'best' ? 'worst' : 'best';
}

/** A metric value as a number to sort on ('Infinity' too); null for none or NaN. */
export function metricNumber(value: unknown): number | null {
  const number =
    typeof value === 'number'
      ? value
      : value === 'Infinity'
        ? Infinity
        : value === '-Infinity'
          ? -Infinity
          : NaN;
  return Number.isNaN(number) ? null : number;
}

/**
 * The trials in `order`. By the metric, trials without a value come last either way, and equal
 * values keep index order.
 */
export function sortTrials<T extends ITrialLike>(
  trials: ReadonlyArray<T>,
  order: TrialOrder,
  goal: Goal
): T[] {
  const byIndex = [...trials].sort((a, b) => a.index - b.index);
  if (order === 'index') {
    return byIndex;
  }
  const better = (goal === 'maximize') === (order === 'best') ? -1 : 1;
  return byIndex.sort((a, b) => {
    const x = metricNumber(a.best_primary_metric);
    const y = metricNumber(b.best_primary_metric);
    if (x === null || y === null) {
      return x === null ? (y === null ? 0 : 1) : -1;
    }
    return x === y ? 0 : x > y ? better : -better;
  });
}

/** The run ids of the best `k` trials with a metric value, best first (the "Compare top k" button). */
export function topTrials(
  trials: ReadonlyArray<ITrialLike>,
  goal: Goal,
  k: number
): string[] {
  return sortTrials(trials, 'best', goal)
    .filter(trial => metricNumber(trial.best_primary_metric) !== null)
    .slice(0, Math.max(0, k))
    .map(trial => trial.run_id);
}

/** A sampled value as the table shows it: numbers to 6 significant digits, text as is. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    return formatMetric(value, 6);
  }
  return value === null || value === undefined ? '' : String(value);
}

/**
 * The parallel-coordinates axes of a sweep: one per sampled parameter (in the space's order), the
 * primary metric last; trials without a finite metric value are left out (as on the compare page).
 */
export function sweepDimensions(
  trials: ReadonlyArray<ITrialLike>,
  parameters: ReadonlyArray<string>,
  metric: string
): { dimensions: IDimension[]; included: number[] } {
  const runs = trials.map(trial => {
    const params: Record<string, string> = {};
    for (const name of parameters) {
      const value = trial.hyperparameters[name];
      params[name] = value === undefined || value === null ? '' : String(value);
    }
    return {
      params,
      metrics: { [metric]: trial.best_primary_metric },
      tags: {}
    };
  });
  return parallelDimensions(runs, metric);
}
