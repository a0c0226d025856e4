import { describe, expect, it } from 'vitest';

import {
  IChildLike,
  parallelSummary,
  partitionLabel,
  partitionRows
} from './format';

function child(id: string, status: string, tags = {}, name = ''): IChildLike {
  return {
    id,
    display_name: name || null,
    status,
    duration_seconds: 1,
    tags
  };
}

describe('parallelSummary', () => {
  it('reads the step run properties', () => {
    expect(
      parallelSummary({
        'mlws.parallel.partitions': '200',
        'mlws.parallel.succeeded': '190',
        'mlws.parallel.failed': '10',
        'mlws.parallel.seconds': '12.5',
        'mlws.parallel.error_threshold': '20',
        'mlws.parallel.partition_keys': '["store"]'
      })
    ).toEqual({
      partitions: 200,
      succeeded: 190,
      failed: 10,
      seconds: 12.5,
      errorThreshold: 20,
      partitionKeys: ['store']
    });
  });

  it('is null for other runs and tolerates missing numbers', () => {
    expect(parallelSummary({ 'azureml.runsource': 'azureml.StepRun' })).toBe(
      null
    );
    const partial = parallelSummary({
      'mlws.parallel.partitions': '3',
      'mlws.parallel.partition_keys': 'not json'
    });
    expect(partial).toEqual({
      partitions: 3,
      succeeded: null,
      failed: null,
      seconds: null,
      errorThreshold: null,
      partitionKeys: []
    });
  });
});

describe('partitions', () => {
  it('names a partition by its keys, else its display name, else its id', () => {
    const keyed = child(
      'c1',
      'Completed',
      { store: '1042', x: 'y' },
      'store=1042'
    );
    expect(partitionLabel(keyed, ['store'])).toBe('store=1042');
    expect(
      partitionLabel(child('c2', 'Completed', { store: '7', dept: 'a' }), [
        'store',
        'dept'
      ])
    ).toBe('store=7, dept=a');
    expect(partitionLabel(child('c3', 'Completed', {}, 'mini-batch 3'))).toBe(
      'mini-batch 3'
    );
    expect(partitionLabel(child('c4', 'Running'))).toBe('c4');
  });

  it('puts failed partitions first and keeps the order otherwise', () => {
    const rows = partitionRows([
      child('a', 'Completed'),
      child('b', 'Failed'),
      child('c', 'Running'),
      child('d', 'Failed')
    ]);
    expect(rows.map(row => row.id)).toEqual(['b', 'd', 'a', 'c']);
  });
});
