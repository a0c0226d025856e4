import type { IWorkspaceEvent } from '../events';

/**
 * Pure helpers of the Pipelines section and the pipeline-run page: what a step's hover says, how a
 * run's steps are summed up, and which change events a page follows. No DOM here (unit-tested in
 * `format.test.ts`).
 */

/** A translation function (`trans.__`); the default fills `%1`, `%2`, … in. */
export type Translate = (message: string, ...args: unknown[]) => string;

export const plain: Translate = (message, ...args) =>
  message.replace(/%(\d+)/g, (whole, n) =>
    Number(n) >= 1 && Number(n) <= args.length
      ? String(args[Number(n) - 1])
      : whole
  );

/** What a step node needs for its hover text. */
export interface INodeFacts {
  name: string;
  status: string;
  reuse: { reused: boolean; from: string | null; reason: string } | null;
  error: string | null;
}

/**
 * The hover text (title) of a step: its name and status, whether it was reused (and from which run)
 * or ran, and why — or that it is not decided yet — and its error, if any.
 */
export function nodeTitle(node: INodeFacts, __: Translate = plain): string {
  const lines = [__('%1: %2', node.name, node.status)];
  if (node.reuse === null) {
    lines.push(__('Reuse not decided yet (waits for its upstream steps)'));
  } else if (node.reuse.reused) {
    lines.push(
      node.reuse.from
        ? __('Reused the outputs of run %1', node.reuse.from)
        : __('Reused')
    );
    lines.push(__('Why: %1', node.reuse.reason));
  } else {
    lines.push(__('Not reused: %1', node.reuse.reason));
  }
  if (node.error) {
    lines.push(__('Error: %1', node.error));
  }
  lines.push(__('Click to open the step run'));
  return lines.join('\n');
}

/** The order statuses are listed in a summary: active ones first, then how they ended. */
const STATUS_ORDER = [
  'Running',
  'Finalizing',
  'Starting',
  'Preparing',
  'Queued',
  'NotStarted',
  'CancelRequested',
  'Failed',
  'Canceled',
  'Completed'
];

/**
 * A pipeline run's steps summed up, e.g. `4 steps: 1 Running, 3 Completed` (`no steps` when
 * empty). Unknown statuses come last, by name.
 */
export function stepSummary(
  counts: Record<string, number>,
  total: number,
  __: Translate = plain
): string {
  const rank = (status: string) => {
    const index = STATUS_ORDER.indexOf(status);
    return index < 0 ? STATUS_ORDER.length : index;
  };
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([status, n]) => `${n} ${status}`);
  if (total === 0) {
    return __('no steps');
  }
  const head = total === 1 ? __('1 step') : __('%1 steps', total);
  return parts.length ? `${head}: ${parts.join(', ')}` : head;
}

/** How many of a run's steps have completed, e.g. `3/4`. */
export function completedFraction(
  counts: Record<string, number>,
  total: number
): string {
  return `${counts['Completed'] ?? 0}/${total}`;
}

/**
 * Whether a change event concerns a pipeline-run page: a status change of the pipeline run or of
 * one of its steps (`nodeIds`), or a new child run of it.
 */
export function pipelinePageFollows(
  event: IWorkspaceEvent,
  runId: string,
  nodeIds: ReadonlySet<string>
): boolean {
  const data = event.data;
  if (event.kind === 'run.status') {
    const id = data.run_id;
    return typeof id === 'string' && (id === runId || nodeIds.has(id));
  }
  if (event.kind === 'run.created') {
    return data.parent_run_id === runId;
  }
  return false;
}

/**
 * A key of the graph's shape (its nodes and edges, not their states): the layout is computed again
 * only when it changes.
 */
export function graphShapeKey(
  nodes: readonly { id: string; name: string }[],
  edges: readonly { source: string; target: string; data: string | null }[]
): string {
  return JSON.stringify([
    nodes.map(n => [n.id, n.name]),
    edges.map(e => [e.source, e.target, e.data])
  ]);
}
