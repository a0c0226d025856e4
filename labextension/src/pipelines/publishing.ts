import { plain, Translate } from './format';

/**
 * Pure helpers of the Pipelines section's published pipelines and schedules: a relative time ("in 4
 * min"), what a recurrence or a data trigger says, which pipeline a schedule runs, and the order
 * schedules are listed in. No DOM here (unit-tested in `publishing.test.ts`).
 */

/** How often the section reads published pipelines and schedules again without a change event
 * (a disable or a publish from a notebook announces nothing) and redraws the next fire times. */
export const SLOW_REFRESH_MS = 15_000;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A span of time in words, coarser the longer it is: `4 min`, `2 h 5 min`, `3 days`, `14 years`. */
export function spanText(ms: number, __: Translate = plain): string {
  const span = Math.abs(ms);
  if (span < HOUR) {
    return __('%1 min', Math.max(1, Math.round(span / MINUTE)));
  }
  if (span < DAY) {
    const minutes = Math.round(span / MINUTE);
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    if (hours >= 24) {
      return __('1 day');
    }
    return rest && hours < 10
      ? __('%1 h %2 min', hours, rest)
      : __('%1 h', Math.round(span / HOUR));
  }
  const days = Math.round(span / DAY);
  if (days < 60) {
    return days === 1 ? __('1 day') : __('%1 days', days);
  }
  if (days < 730) {
    return __('%1 months', Math.round(days / 30.44));
  }
  return __('%1 years', Math.round(days / 365.25));
}

/**
 * When a moment comes, from `now` (epoch ms): `in 4 min`, `in 3 days`; a moment already past
 * `4 min ago`; within a minute either way `in under a minute` / `due now`. Null (nothing scheduled,
 * e.g. a disabled schedule) and an unreadable time say so.
 */
export function relativeTime(
  iso: string | null | undefined,
  now: number,
  __: Translate = plain
): string {
  if (!iso) {
    return __('not scheduled');
  }
  const at = Date.parse(iso);
  if (Number.isNaN(at)) {
    return __('unknown time');
  }
  const ms = at - now;
  if (Math.abs(ms) < MINUTE) {
    return ms >= 0 ? __('in under a minute') : __('due now');
  }
  return ms > 0
    ? __('in %1', spanText(ms, __))
    : __('%1 ago', spanText(ms, __));
}

/** What a schedule's row needs to say how it fires (the REST `Schedule`'s fields). */
export interface ITriggerFacts {
  recurrence?: Record<string, unknown> | null;
  datastore_name?: string | null;
  path_on_datastore?: string | null;
  polling_interval?: number | null;
}

const UNITS: Record<string, [string, string]> = {
  Minute: ['minute', 'minutes'],
  Hour: ['hour', 'hours'],
  Day: ['day', 'days'],
  Week: ['week', 'weeks'],
  Month: ['month', 'months']
};

const numbers = (value: unknown): number[] =>
  Array.isArray(value)
    ? value.filter((n): n is number => typeof n === 'number')
    : typeof value === 'number'
      ? [value]
      : [];

const strings = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((s): s is string => typeof s === 'string')
    : typeof value === 'string'
      ? [value]
      : [];

const pad = (n: number) => String(n).padStart(2, '0');

/** At most this many times of day are listed; more end with `…`. */
const MAX_TIMES = 6;

/** The times of day of a recurrence: `time_of_day`, else each `hours` × `minutes`. */
function timesOfDay(
  recurrence: Record<string, unknown>,
  __: Translate
): string {
  if (typeof recurrence.time_of_day === 'string' && recurrence.time_of_day) {
    return recurrence.time_of_day;
  }
  const hours = numbers(recurrence.hours);
  const minutes = numbers(recurrence.minutes);
  if (hours.length && minutes.length) {
    const times: string[] = [];
    for (const h of hours) {
      times.push(...minutes.map(m => `${pad(h)}:${pad(m)}`));
    }
    return times.length > MAX_TIMES
      ? `${times.slice(0, MAX_TIMES).join(', ')}, …`
      : times.join(', ');
  }
  if (hours.length) {
    return __('hour %1', hours.join(', '));
  }
  if (minutes.length) {
    return __('minute %1', minutes.join(', '));
  }
  return '';
}

/**
 * How a schedule fires, in words: `every day`, `every 2 hours`, `every week on Monday, Friday at
 * 08:00 (Europe/Paris)`; a data-change schedule `when store/path changes (polled every 5 min)`.
 */
export function triggerText(
  facts: ITriggerFacts,
  __: Translate = plain
): string {
  const recurrence = facts.recurrence;
  if (!recurrence) {
    const where = [facts.datastore_name, facts.path_on_datastore]
      .filter(part => part)
      .join('/');
    const head = where
      ? __('when %1 changes', where)
      : __('when its data changes');
    return facts.polling_interval
      ? __('%1 (polled every %2 min)', head, facts.polling_interval)
      : head;
  }
  const frequency = String(recurrence.frequency ?? '');
  const interval =
    typeof recurrence.interval === 'number' ? recurrence.interval : 1;
  const unit = UNITS[frequency];
  let text: string;
  if (!unit) {
    text = __('every %1 %2', interval, frequency || '?');
  } else if (interval === 1) {
    text = __('every %1', unit[0]);
  } else {
    text = __('every %1 %2', interval, unit[1]);
  }
  const days = strings(recurrence.week_days);
  if (days.length) {
    text = __('%1 on %2', text, days.join(', '));
  }
  const times = frequency === 'Minute' ? '' : timesOfDay(recurrence, __);
  if (times) {
    text = __('%1 at %2', text, times);
  }
  const zone = recurrence.time_zone;
  if (typeof zone === 'string' && zone && zone !== 'UTC') {
    text = `${text} (${zone})`;
  }
  return text;
}

/** A published pipeline as a schedule's row names it. */
export interface IPipelineName {
  id: string;
  name: string;
  version?: string | null;
  status?: string;
}

/** The name of a published pipeline, with its version when it has one: `nightly v2`. */
export function pipelineLabel(pipeline: IPipelineName): string {
  return pipeline.version
    ? `${pipeline.name} v${pipeline.version}`
    : pipeline.name;
}

/**
 * The pipeline a schedule runs, by name: its published pipeline (`nightly v2`, `nightly v2
 * (disabled)` when that pipeline is disabled), or its pipeline
 * endpoint (`endpoint nightly`); an id that no list knows (deleted, or not readable) stays an id.
 */
export function scheduleTarget(
  schedule: {
    pipeline_id?: string | null;
    pipeline_endpoint_id?: string | null;
  },
  pipelines: ReadonlyMap<string, IPipelineName>,
  endpoints: ReadonlyMap<string, { name: string }>,
  __: Translate = plain
): string {
  if (schedule.pipeline_id) {
    const pipeline = pipelines.get(schedule.pipeline_id);
    if (!pipeline) {
      return schedule.pipeline_id;
    }
    // A disabled pipeline's schedules do not fire, whatever their own status says.
    return pipeline.status === 'Disabled'
      ? __('%1 (disabled)', pipelineLabel(pipeline))
      : pipelineLabel(pipeline);
  }
  if (schedule.pipeline_endpoint_id) {
    const endpoint = endpoints.get(schedule.pipeline_endpoint_id);
    return __('endpoint %1', endpoint?.name ?? schedule.pipeline_endpoint_id);
  }
  return __('no pipeline');
}

/** `4 steps`, `1 step`. */
export function stepCount(total: number, __: Translate = plain): string {
  return total === 1 ? __('1 step') : __('%1 steps', total);
}

/**
 * Schedules in the order the section lists them: active ones first, soonest next fire first (one
 * with no next fire after those with one), then by name.
 */
export function sortSchedules<
  T extends { name: string; status: string; next_fire_time: string | null }
>(schedules: readonly T[]): T[] {
  const when = (s: T) => {
    const at = s.next_fire_time ? Date.parse(s.next_fire_time) : NaN;
    return Number.isNaN(at) ? Infinity : at;
  };
  return [...schedules].sort((a, b) => {
    const active =
      Number(b.status === 'Active') - Number(a.status === 'Active');
    if (active) {
      return active;
    }
    const wa = when(a);
    const wb = when(b);
    if (wa !== wb) {
      return wa < wb ? -1 : 1;
    }
    return a.name.localeCompare(b.name);
  });
}

/** Published pipelines in the order the section lists them: active ones first, then by name, the
 * newest published first. */
export function sortPublished<
  T extends {
    name: string;
    status: string;
    version?: string | null;
    created_time: string;
  }
>(pipelines: readonly T[]): T[] {
  return [...pipelines].sort(
    (a, b) =>
      Number(b.status === 'Active') - Number(a.status === 'Active') ||
      a.name.localeCompare(b.name) ||
      b.created_time.localeCompare(a.created_time)
  );
}
