import { describe, expect, it } from 'vitest';

import type { TelemetryBucket, Webservice } from './api';
import {
  formatMs,
  formatPercent,
  formatRps,
  isWebserviceEvent,
  prettyJSON,
  serviceTitle,
  telemetrySeries
} from './format';

const __ = (text: string, ...args: unknown[]) =>
  args.reduce<string>(
    (out, arg, i) => out.replace(`%${i + 1}`, String(arg)),
    text
  );

describe('formatting', () => {
  it('shows durations, rates and throughput short', () => {
    expect(formatMs(null)).toBe('–');
    expect(formatMs(3.21)).toBe('3.2 ms');
    expect(formatMs(41.4)).toBe('41 ms');
    expect(formatMs(1250)).toBe('1.25 s');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.125)).toBe('12.5%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatRps(0.05)).toBe('0.05/s');
    expect(formatRps(2.5)).toBe('2.5/s');
    expect(formatRps(12.4)).toBe('12/s');
  });

  it('pretty-prints JSON and leaves other text alone', () => {
    expect(prettyJSON('[30.0]')).toBe('[\n  30\n]');
    expect(prettyJSON('Healthy')).toBe('Healthy');
  });

  it('knows web service events', () => {
    expect(isWebserviceEvent('webservice.state')).toBe(true);
    expect(isWebserviceEvent('run.status')).toBe(false);
  });
});

describe('serviceTitle', () => {
  const service: Webservice = {
    name: 'iris',
    compute_type: 'Local',
    state: 'Failed',
    error: 'init() raised',
    scoring_uri: null,
    swagger_uri: null,
    models: ['iris:1', 'iris:2'],
    generation: 1,
    auth_enabled: true,
    created_time: '2026-12-03T10:00:00.000000Z',
    updated_time: '2026-12-03T10:00:00.000000Z',
    description: null,
    tags: {},
    properties: {}
  };

  it('says the state, why it failed, the URI and the models', () => {
    expect(serviceTitle(service, __).split('\n')).toEqual([
      'iris (Local): Failed',
      'init() raised',
      'Scoring URI: none yet',
      'Models: iris:1, iris:2',
      'Click to open its page'
    ]);
  });
});

describe('telemetrySeries', () => {
  it('gives one point per bucket, no latency or error rate for quiet buckets', () => {
    const buckets: TelemetryBucket[] = [
      {
        time: '2026-12-03T10:00:00.000000Z',
        count: 4,
        errors: 1,
        p50_ms: 2,
        p99_ms: 9
      },
      {
        time: '2026-12-03T10:00:10.000000Z',
        count: 0,
        errors: 0,
        p50_ms: null,
        p99_ms: null
      }
    ];
    expect(telemetrySeries(buckets, 10)).toEqual({
      time: ['2026-12-03T10:00:00.000000Z', '2026-12-03T10:00:10.000000Z'],
      count: [4, 0],
      errors: [1, 0],
      errorRate: [25, null],
      rps: [0.4, 0],
      p50: [2, null],
      p99: [9, null]
    });
  });
});
