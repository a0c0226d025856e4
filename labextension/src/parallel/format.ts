/**
 * Pure reading of a ParallelRunStep step run (unit-tested in `format.test.ts`): its summary from
 * the run properties `mlws.parallel.*`, and its mini-batch child runs as partition rows.
 */

/** The run property whose presence marks a ParallelRunStep step run (issue 19). */
export const PARTITIONS_PROPERTY = 'mlws.parallel.partitions';

/** The step run's summary: how many partitions, how they ended, how long it took. */
export interface IParallelSummary {
  partitions: number;
  succeeded: number | null;
  failed: number | null;
  seconds: number | null;
  errorThreshold: number | null;
  partitionKeys: string[];
}

function numberOf(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') {
    return null;
  }
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

function keysOf(value: string | undefined): string[] {
  if (!value) {
    return [];
  }
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

/** The summary of a step run's properties; null for a run that is no ParallelRunStep step. */
export function parallelSummary(
  properties: Record<string, string>
): IParallelSummary | null {
  const partitions = numberOf(properties[PARTITIONS_PROPERTY]);
  if (partitions === null) {
    return null;
  }
  return {
    partitions,
    succeeded: numberOf(properties['mlws.parallel.succeeded']),
    failed: numberOf(properties['mlws.parallel.failed']),
    seconds: numberOf(properties['mlws.parallel.seconds']),
    errorThreshold: numberOf(properties['mlws.parallel.error_threshold']),
    partitionKeys: keysOf(properties['mlws.parallel.partition_keys'])
  };
}

/** A mini-batch child run as the REST API lists it (a `Run`). */
export interface IChildLike {
  id: string;
  display_name: string | null;
  status: string;
  duration_seconds: number | null;
  tags: Record<string, string>;
}

/**
 * What names a mini-batch: its partition keys' values from its tags (`store=1042`) when the step
 * has partition keys, else its display name (`mini-batch 7`), else its id.
 */
export function partitionLabel(
  child: IChildLike,
  partitionKeys: readonly string[] = []
): string {
  const keyed = partitionKeys
    .filter(key => key in child.tags)
    .map(key => `${key}=${child.tags[key]}`);
  if (keyed.length) {
    return keyed.join(', ');
  }
  return child.display_name || child.id;
}

/** The children as partition rows, failed ones first (the ones to look at), else in their order. */
export function partitionRows<T extends IChildLike>(
  children: readonly T[]
): T[] {
  const failed = children.filter(child => child.status === 'Failed');
  return [...failed, ...children.filter(child => child.status !== 'Failed')];
}
