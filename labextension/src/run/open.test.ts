import { describe, expect, it } from 'vitest';

import { RUN_ROUTE_PATTERN, runIdFromSearch, withoutRunQuery } from './open';

describe('run URLs', () => {
  it('match a request that names a run, wherever the parameter stands', () => {
    expect('/lab?mlws-run=exp_1_ab'.match(RUN_ROUTE_PATTERN)).toBeTruthy();
    expect(
      '/lab?reset&mlws-run=exp_1_ab'.match(RUN_ROUTE_PATTERN)
    ).toBeTruthy();
    expect('/lab?mlws-run='.match(RUN_ROUTE_PATTERN)).toBeNull();
    expect('/lab/tree/mlws-run=x'.match(RUN_ROUTE_PATTERN)).toBeNull();
  });

  it('give the run id back decoded', () => {
    expect(runIdFromSearch('?mlws-run=exp_1_ab')).toBe('exp_1_ab');
    expect(runIdFromSearch('?a=1&mlws-run=my.run%2D1')).toBe('my.run-1');
    expect(runIdFromSearch('?a=1')).toBeNull();
  });

  it('drop only the run parameter from the address', () => {
    expect(withoutRunQuery('http://h:1/base/lab?mlws-run=r1&x=2#top')).toBe(
      'http://h:1/base/lab?x=2#top'
    );
  });
});
