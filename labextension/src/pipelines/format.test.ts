import { describe, expect, it } from 'vitest';

import type { IWorkspaceEvent } from '../events';
import {
  completedFraction,
  graphShapeKey,
  nodeTitle,
  pipelinePageFollows,
  plain,
  stepSummary
} from './format';

describe('nodeTitle', () => {
  it('says a reused step was reused, from which run and why', () => {
    const title = nodeTitle({
      name: 'train',
      status: 'Completed',
      reuse: {
        reused: true,
        from: 'exp_1_abc',
        reason: 'nothing it depends on changed since run exp_1_abc'
      },
      error: null
    });
    expect(title.split('\n')).toEqual([
      'train: Completed',
      'Reused the outputs of run exp_1_abc',
      'Why: nothing it depends on changed since run exp_1_abc',
      'Click to open the step run'
    ]);
  });

  it('says why a step ran, and its error', () => {
    const title = nodeTitle({
      name: 'prep',
      status: 'Failed',
      reuse: { reused: false, from: null, reason: 'parameter scale 1 → 2' },
      error: 'exit code 1'
    });
    expect(title).toContain('Not reused: parameter scale 1 → 2');
    expect(title).toContain('Error: exit code 1');
    expect(title).not.toContain('Reused the outputs');
  });

  it('says when reuse is not decided yet', () => {
    const title = nodeTitle({
      name: 'report',
      status: 'NotStarted',
      reuse: null,
      error: null
    });
    expect(title).toContain('not decided yet');
  });

  it('translates through the given function', () => {
    const title = nodeTitle(
      { name: 'a', status: 'Running', reuse: null, error: null },
      (message, ...args) => plain(`<${message}>`, ...args)
    );
    expect(title.split('\n')[0]).toBe('<a: Running>');
  });
});

describe('stepSummary', () => {
  it('lists active statuses first, then how steps ended', () => {
    expect(stepSummary({ Completed: 3, Running: 1 }, 4)).toBe(
      '4 steps: 1 Running, 3 Completed'
    );
    expect(
      stepSummary({ Canceled: 1, Failed: 1, NotStarted: 2, Weird: 1 }, 5)
    ).toBe('5 steps: 2 NotStarted, 1 Failed, 1 Canceled, 1 Weird');
  });

  it('says one step, and no steps', () => {
    expect(stepSummary({ Completed: 1 }, 1)).toBe('1 step: 1 Completed');
    expect(stepSummary({}, 0)).toBe('no steps');
  });

  it('leaves out zero counts', () => {
    expect(stepSummary({ Completed: 2, Failed: 0 }, 2)).toBe(
      '2 steps: 2 Completed'
    );
  });
});

describe('completedFraction', () => {
  it('counts the completed steps of all', () => {
    expect(completedFraction({ Completed: 3, Running: 1 }, 4)).toBe('3/4');
    expect(completedFraction({ Running: 1 }, 1)).toBe('0/1');
  });
});

describe('pipelinePageFollows', () => {
  const nodes = new Set(['step-a', 'step-b']);
  const status = (runId: unknown): IWorkspaceEvent => ({
    kind: 'run.status',
    data: { run_id: runId, status: 'Running', previous: 'Queued' }
  });

  it('follows the pipeline run and its steps', () => {
    expect(pipelinePageFollows(status('pipe'), 'pipe', nodes)).toBe(true);
    expect(pipelinePageFollows(status('step-b'), 'pipe', nodes)).toBe(true);
  });

  it('ignores other runs and other kinds of events', () => {
    expect(pipelinePageFollows(status('other'), 'pipe', nodes)).toBe(false);
    expect(pipelinePageFollows(status(undefined), 'pipe', nodes)).toBe(false);
    expect(
      pipelinePageFollows(
        { kind: 'model.version.created', data: { run_id: 'pipe' } },
        'pipe',
        nodes
      )
    ).toBe(false);
  });

  it('follows a new child run of the pipeline run', () => {
    const created = (parent: string): IWorkspaceEvent => ({
      kind: 'run.created',
      data: { run_id: 'x', parent_run_id: parent }
    });
    expect(pipelinePageFollows(created('pipe'), 'pipe', nodes)).toBe(true);
    expect(pipelinePageFollows(created('other'), 'pipe', nodes)).toBe(false);
  });
});

describe('graphShapeKey', () => {
  it('changes with the shape, not with the states', () => {
    const nodes = [
      { id: 'a', name: 'load', status: 'Running' },
      { id: 'b', name: 'train', status: 'NotStarted' }
    ];
    const edges = [{ source: 'a', target: 'b', data: 'raw' }];
    const key = graphShapeKey(nodes, edges);
    const later = nodes.map(n => ({ ...n, status: 'Completed' }));
    expect(graphShapeKey(later, edges)).toBe(key);
    expect(graphShapeKey(nodes, [])).not.toBe(key);
  });
});
