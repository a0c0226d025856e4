import { describe, expect, it } from 'vitest';

import { plain } from './format';
import {
  pipelineLabel,
  relativeTime,
  scheduleTarget,
  sortPublished,
  sortSchedules,
  spanText,
  stepCount,
  triggerText
} from './publishing';

const NOW = Date.parse('2026-12-03T08:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('relativeTime', () => {
  it('says when a future moment comes', () => {
    expect(relativeTime(at(4 * MIN), NOW)).toBe('in 4 min');
    expect(relativeTime(at(4 * MIN + 20_000), NOW)).toBe('in 4 min');
    expect(relativeTime(at(59 * MIN), NOW)).toBe('in 59 min');
    expect(relativeTime(at(2 * HOUR + 5 * MIN), NOW)).toBe('in 2 h 5 min');
    expect(relativeTime(at(3 * HOUR), NOW)).toBe('in 3 h');
    expect(relativeTime(at(13 * HOUR + 20 * MIN), NOW)).toBe('in 13 h');
    expect(relativeTime(at(DAY), NOW)).toBe('in 1 day');
    expect(relativeTime(at(3 * DAY + 2 * HOUR), NOW)).toBe('in 3 days');
    expect(relativeTime(at(90 * DAY), NOW)).toBe('in 3 months');
  });

  it('counts years for a far start time', () => {
    expect(relativeTime('2040-01-01T00:00:00Z', NOW)).toBe('in 13 years');
  });

  it('says under a minute, and due now for a moment just past', () => {
    expect(relativeTime(at(20_000), NOW)).toBe('in under a minute');
    expect(relativeTime(at(0), NOW)).toBe('in under a minute');
    expect(relativeTime(at(-20_000), NOW)).toBe('due now');
  });

  it('says how long ago a past moment was', () => {
    expect(relativeTime(at(-5 * MIN), NOW)).toBe('5 min ago');
    expect(relativeTime(at(-2 * DAY), NOW)).toBe('2 days ago');
  });

  it('says when nothing is scheduled or the time is unreadable', () => {
    expect(relativeTime(null, NOW)).toBe('not scheduled');
    expect(relativeTime(undefined, NOW)).toBe('not scheduled');
    expect(relativeTime('soon', NOW)).toBe('unknown time');
  });

  it('translates through the given function', () => {
    const __ = (message: string, ...args: unknown[]) =>
      plain(`<${message}>`, ...args);
    expect(relativeTime(at(4 * MIN), NOW, __)).toBe('<in <4 min>>');
  });
});

describe('spanText', () => {
  it('rounds a span up to 24 hours to a day', () => {
    expect(spanText(DAY - 10_000)).toBe('1 day');
    expect(spanText(-3 * MIN)).toBe('3 min');
  });
});

describe('triggerText', () => {
  const every = (recurrence: Record<string, unknown>) =>
    triggerText({ recurrence });

  it('says how often a recurrence fires', () => {
    expect(every({ frequency: 'Day', interval: 1 })).toBe('every day');
    expect(every({ frequency: 'Hour', interval: 2 })).toBe('every 2 hours');
    expect(every({ frequency: 'Minute', interval: 1, hours: [8] })).toBe(
      'every minute'
    );
    expect(every({ frequency: 'Fortnight', interval: 3 })).toBe(
      'every 3 Fortnight'
    );
  });

  it('says on which days and at which times, and in which zone', () => {
    expect(
      every({
        frequency: 'Week',
        interval: 1,
        week_days: ['Monday', 'Friday'],
        hours: [8, 17],
        minutes: [0, 30],
        time_zone: 'Europe/Paris'
      })
    ).toBe(
      'every week on Monday, Friday at 08:00, 08:30, 17:00, 17:30 (Europe/Paris)'
    );
    expect(every({ frequency: 'Day', interval: 1, time_of_day: '06:15' })).toBe(
      'every day at 06:15'
    );
    expect(every({ frequency: 'Day', interval: 1, hours: [3] })).toBe(
      'every day at hour 3'
    );
    expect(
      every({
        frequency: 'Day',
        interval: 1,
        hours: [1, 2, 3, 4],
        minutes: [0, 30]
      })
    ).toBe('every day at 01:00, 01:30, 02:00, 02:30, 03:00, 03:30, …');
    expect(every({ frequency: 'Day', interval: 1, time_zone: 'UTC' })).toBe(
      'every day'
    );
  });

  it('says what a data-change schedule watches and how often it looks', () => {
    expect(
      triggerText({
        recurrence: null,
        datastore_name: 'workspaceblobstore',
        path_on_datastore: 'raw/',
        polling_interval: 5
      })
    ).toBe('when workspaceblobstore/raw/ changes (polled every 5 min)');
    expect(triggerText({ recurrence: null })).toBe('when its data changes');
  });
});

describe('scheduleTarget', () => {
  const pipelines = new Map([
    ['p1', { id: 'p1', name: 'nightly', version: '2' }],
    ['p2', { id: 'p2', name: 'adhoc', version: null }],
    ['p3', { id: 'p3', name: 'old', version: '1', status: 'Disabled' }]
  ]);
  const endpoints = new Map([['e1', { name: 'scoring' }]]);

  it('names the published pipeline or endpoint a schedule runs', () => {
    expect(scheduleTarget({ pipeline_id: 'p1' }, pipelines, endpoints)).toBe(
      'nightly v2'
    );
    expect(scheduleTarget({ pipeline_id: 'p2' }, pipelines, endpoints)).toBe(
      'adhoc'
    );
    expect(
      scheduleTarget(
        { pipeline_id: null, pipeline_endpoint_id: 'e1' },
        pipelines,
        endpoints
      )
    ).toBe('endpoint scoring');
  });

  it('says when the pipeline a schedule runs is disabled', () => {
    expect(scheduleTarget({ pipeline_id: 'p3' }, pipelines, endpoints)).toBe(
      'old v1 (disabled)'
    );
  });

  it('keeps an id no list knows', () => {
    expect(scheduleTarget({ pipeline_id: 'gone' }, pipelines, endpoints)).toBe(
      'gone'
    );
    expect(
      scheduleTarget({ pipeline_endpoint_id: 'e9' }, pipelines, endpoints)
    ).toBe('endpoint e9');
    expect(scheduleTarget({}, pipelines, endpoints)).toBe('no pipeline');
  });
});

describe('pipelineLabel and stepCount', () => {
  it('name a pipeline with its version and count steps', () => {
    expect(pipelineLabel({ id: 'x', name: 'a', version: '1.0' })).toBe(
      'a v1.0'
    );
    expect(pipelineLabel({ id: 'x', name: 'a' })).toBe('a');
    expect(stepCount(1)).toBe('1 step');
    expect(stepCount(4)).toBe('4 steps');
  });
});

describe('sortSchedules', () => {
  it('lists active ones first, soonest first, then by name', () => {
    const s = (name: string, status: string, next: string | null) => ({
      name,
      status,
      next_fire_time: next
    });
    const sorted = sortSchedules([
      s('off', 'Disabled', null),
      s('later', 'Active', at(2 * HOUR)),
      s('never', 'Active', null),
      s('b-soon', 'Active', at(MIN)),
      s('a-soon', 'Active', at(MIN))
    ]);
    expect(sorted.map(x => x.name)).toEqual([
      'a-soon',
      'b-soon',
      'later',
      'never',
      'off'
    ]);
  });
});

describe('sortPublished', () => {
  it('lists active ones first, then by name, newest first', () => {
    const p = (name: string, status: string, created: string) => ({
      name,
      status,
      created_time: created
    });
    const sorted = sortPublished([
      p('b', 'Disabled', '2026-01-01'),
      p('a', 'Active', '2026-01-01'),
      p('a', 'Active', '2026-02-01'),
      p('c', 'Active', '2025-01-01')
    ]);
    expect(sorted.map(x => `${x.name} ${x.created_time}`)).toEqual([
      'a 2026-02-01',
      'a 2026-01-01',
      'c 2025-01-01',
      'b 2026-01-01'
    ]);
  });
});
