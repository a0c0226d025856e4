import { describe, expect, it } from 'vitest';

import { clusterView, formatBytes, workerCells } from './format';

const WORKER = {
  address: 'tcp://127.0.0.1:4001',
  name: 'w0',
  nthreads: 2,
  memory_limit: 2 ** 30,
  executing: 1
};

describe('clusterView', () => {
  it('reads the workers and the dashboard of a Dask cluster', () => {
    const view = clusterView({
      config: { scheduler_address: 'tcp://127.0.0.1:8786' },
      cluster: {
        scheduler: 'tcp://127.0.0.1:8786',
        dashboard: 'http://127.0.0.1:8787/status',
        workers: [WORKER]
      }
    });
    expect(view).toEqual({
      workers: [WORKER],
      dashboard: 'http://127.0.0.1:8787/status',
      error: null
    });
  });

  it('falls back to the configured dashboard', () => {
    const config = { dashboard_url: 'https://dask.example/status' };
    expect(
      clusterView({ config, cluster: { dashboard: null, workers: [] } })
        ?.dashboard
    ).toBe('https://dask.example/status');
    expect(clusterView({ config, cluster: null })?.dashboard).toBe(
      'https://dask.example/status'
    );
  });

  it('says why a cluster could not be read', () => {
    expect(
      clusterView({ config: {}, cluster: { error: 'does not answer' } })
    ).toEqual({ workers: [], dashboard: null, error: 'does not answer' });
  });

  it('is null for a target that describes nothing', () => {
    expect(clusterView({ config: {}, cluster: null })).toBeNull();
    expect(clusterView({ config: {} })).toBeNull();
  });
});

describe('formatBytes and workerCells', () => {
  it('formats sizes', () => {
    expect(formatBytes(2 ** 30)).toBe('1 GiB');
    expect(formatBytes(1.5 * 2 ** 20)).toBe('1.5 MiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(20 * 2 ** 30)).toBe('20 GiB');
    expect(formatBytes(null)).toBe('');
  });

  it('lays out a worker', () => {
    expect(workerCells(WORKER)).toEqual([
      'w0',
      'tcp://127.0.0.1:4001',
      '2',
      '1 GiB',
      '1'
    ]);
  });
});
