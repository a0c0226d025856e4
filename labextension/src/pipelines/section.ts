import { el, statusDot } from '../dom';
import { ListSection } from '../listsection';
import type { IPageContext } from '../tokens';
import {
  listPipelineEndpoints,
  listPipelineRuns,
  listPublishedPipelines,
  listSchedules,
  PipelineEndpoint,
  PipelineRun,
  PublishedPipeline,
  Schedule
} from './api';
import { completedFraction, stepSummary } from './format';
import { openPipelineRun } from './open';
import {
  pipelineLabel,
  relativeTime,
  scheduleTarget,
  SLOW_REFRESH_MS,
  sortPublished,
  sortSchedules,
  stepCount,
  triggerText
} from './publishing';

/** How many recent pipeline runs the section lists. */
const RECENT = 20;

/** A titled sub-list of the section: its heading, a status line and its rows. */
class Group {
  constructor(title: string, testid: string) {
    this.node.dataset.testid = testid;
    this.node.append(
      el('h4', 'jp-mlws-pipelines-group-title', title),
      this.status,
      this.list
    );
  }

  show(rows: HTMLElement[], empty: string): void {
    this.list.replaceChildren(...rows);
    this.status.textContent = rows.length ? '' : empty;
  }

  readonly node = el('div', 'jp-mlws-pipelines-group');
  readonly status = el('div', 'jp-mlws-status');
  readonly list = el('ul');
}

/** A read's items, or why it failed (`Promise.allSettled` of one, within this target's library). */
type Settled<T> =
  { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    value => ({ status: 'fulfilled', value }) as const,
    reason => ({ status: 'rejected', reason }) as const
  );
}

/** A published or schedule status (Active, Disabled) as a small dot. */
function publishingDot(status: string): HTMLSpanElement {
  const dot = el(
    'span',
    `jp-mlws-status-dot jp-mlws-status-${status.toLowerCase()}`
  );
  dot.title = status;
  return dot;
}

/**
 * The sidebar's Pipelines, in three groups: the published pipelines (name, version, Active or
 * Disabled, steps), the schedules (name, the pipeline they run, recurrence or data trigger, status
 * and when they fire next, relative) and the recent pipeline runs, newest first, each with its
 * status, name and how many of its steps completed; a run's row (and a schedule's last run) opens the
 * run's graph. Kept live like every section — the sidebar refreshes it on change events (a new
 * pipeline run, which is also how a schedule's fire shows, a step or a run changing status) — and on a
 * slow timer, since a disable or a publish announces nothing and next fire times move on.
 */
export class PipelinesSection extends ListSection {
  constructor(context: IPageContext) {
    super({
      id: 'pipelines',
      rank: 260,
      title: context.trans.__('Pipelines'),
      testid: 'mlws-pipelines',
      trans: context.trans
    });
    this._context = context;
    const trans = this.trans;
    this._published = new Group(
      trans.__('Published'),
      'mlws-published-pipelines'
    );
    this._schedules = new Group(trans.__('Schedules'), 'mlws-schedules');
    const runs = el('div', 'jp-mlws-pipelines-group');
    runs.dataset.testid = 'mlws-pipeline-runs';
    runs.append(
      el('h4', 'jp-mlws-pipelines-group-title', trans.__('Recent runs')),
      this.status,
      this.list
    );
    this.node.replaceChildren(
      this.heading,
      this._published.node,
      this._schedules.node,
      runs
    );
    this._timer = window.setInterval(() => {
      if (!document.hidden) {
        void this._refreshPublishing();
      }
    }, SLOW_REFRESH_MS);
  }

  async refresh(): Promise<void> {
    await Promise.all([
      this.load(
        () => listPipelineRuns(RECENT),
        run => this._run(run)
      ),
      this._refreshPublishing()
    ]);
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }

  /** Read the published pipelines and schedules; only the latest of overlapping reads is shown. */
  private async _refreshPublishing(): Promise<void> {
    const ticket = ++this._ticket;
    const trans = this.trans;
    const [published, schedules] = await Promise.all([
      settle(listPublishedPipelines()),
      settle(listSchedules())
    ]);
    let endpoints: PipelineEndpoint[] = [];
    if (
      schedules.status === 'fulfilled' &&
      schedules.value.items.some(s => s.pipeline_endpoint_id)
    ) {
      endpoints = await listPipelineEndpoints().then(
        page => page.items,
        () => []
      );
    }
    if (ticket !== this._ticket || this.isDisposed) {
      return;
    }
    const pipelines =
      published.status === 'fulfilled' ? published.value.items : [];
    if (published.status === 'fulfilled') {
      this._published.show(
        sortPublished(pipelines).map(p => this._pipeline(p)),
        trans.__('None published')
      );
    } else {
      this._published.status.textContent = trans.__(
        'Could not load: %1',
        String(published.reason)
      );
    }
    if (schedules.status === 'fulfilled') {
      const byId = new Map(pipelines.map(p => [p.id, p]));
      const endpointsById = new Map(endpoints.map(e => [e.id, e]));
      const now = Date.now();
      this._schedules.show(
        sortSchedules(schedules.value.items).map(s =>
          this._schedule(
            s,
            scheduleTarget(s, byId, endpointsById, trans.__.bind(trans)),
            now
          )
        ),
        trans.__('No schedules')
      );
    } else {
      this._schedules.status.textContent = trans.__(
        'Could not load: %1',
        String(schedules.reason)
      );
    }
  }

  private _pipeline(pipeline: PublishedPipeline): HTMLElement {
    const trans = this.trans;
    const __ = trans.__.bind(trans);
    const row = el('li', 'jp-mlws-row jp-mlws-published-pipeline-row');
    row.dataset.testid = 'mlws-published-pipeline-row';
    row.dataset.pipelineId = pipeline.id;
    row.dataset.status = pipeline.status;
    const parameters = Object.keys(pipeline.parameters);
    row.title = [
      trans.__(
        '%1 (%2): %3',
        pipelineLabel(pipeline),
        pipeline.id,
        pipeline.status
      ),
      pipeline.description ?? '',
      stepCount(pipeline.total_run_steps, __),
      parameters.length
        ? trans.__('Parameters: %1', parameters.join(', '))
        : '',
      trans.__('Endpoint: %1', pipeline.endpoint)
    ]
      .filter(line => line)
      .join('\n');
    row.append(
      publishingDot(pipeline.status),
      el('span', 'jp-mlws-pipeline-run-name', pipeline.name),
      el(
        'span',
        'jp-mlws-pipeline-run-steps',
        pipeline.version ? `v${pipeline.version}` : ''
      ),
      el(
        'span',
        'jp-mlws-pipeline-run-time',
        stepCount(pipeline.total_run_steps, __)
      )
    );
    return row;
  }

  private _schedule(
    schedule: Schedule,
    target: string,
    now: number
  ): HTMLElement {
    const trans = this.trans;
    const __ = trans.__.bind(trans);
    const row = el('li', 'jp-mlws-row jp-mlws-schedule-row');
    row.dataset.testid = 'mlws-schedule-row';
    row.dataset.scheduleId = schedule.id;
    row.dataset.status = schedule.status;
    row.dataset.nextFire = schedule.next_fire_time ?? '';
    const trigger = triggerText(schedule, __);
    const next = relativeTime(schedule.next_fire_time, now, __);
    const lastRun = schedule.last_run_id;
    row.title = [
      trans.__('%1 (%2): %3', schedule.name, schedule.id, schedule.status),
      trans.__('Runs %1 in experiment %2', target, schedule.experiment_name),
      trans.__('Fires %1', trigger),
      schedule.next_fire_time
        ? trans.__(
            'Next: %1 (%2)',
            new Date(schedule.next_fire_time).toLocaleString(),
            next
          )
        : trans.__('Next: %1', next),
      lastRun
        ? trans.__('Last run: %1; click to open its graph', lastRun)
        : trans.__('It has not run yet')
    ].join('\n');
    const main = el('span', 'jp-mlws-schedule-main');
    main.append(
      el('span', 'jp-mlws-pipeline-run-name', schedule.name),
      el('span', 'jp-mlws-schedule-detail', `${target} · ${trigger}`)
    );
    const when = el('span', 'jp-mlws-pipeline-run-time', next);
    when.dataset.testid = 'mlws-schedule-next-fire';
    row.append(publishingDot(schedule.status), main, when);
    if (lastRun) {
      row.classList.add('jp-mod-clickable');
      row.addEventListener('click', () =>
        openPipelineRun(this._context, lastRun)
      );
    }
    return row;
  }

  private _run(run: PipelineRun): HTMLElement {
    const trans = this.trans;
    const row = el('li', 'jp-mlws-row jp-mlws-pipeline-run-row');
    row.dataset.testid = 'mlws-pipeline-run-row';
    row.dataset.runId = run.id;
    row.dataset.status = run.status;
    const name = run.display_name || run.id;
    row.title = trans.__(
      '%1 (%2, experiment %3): %4; %5; click to open its graph',
      name,
      run.id,
      run.experiment,
      run.status,
      stepSummary(run.step_counts, run.step_count, trans.__.bind(trans))
    );
    row.append(
      statusDot(run.status),
      el('span', 'jp-mlws-pipeline-run-name', `${name} #${run.number}`),
      el(
        'span',
        'jp-mlws-pipeline-run-steps',
        completedFraction(run.step_counts, run.step_count)
      ),
      el(
        'span',
        'jp-mlws-pipeline-run-time',
        new Date(run.created_time).toLocaleTimeString()
      )
    );
    row.addEventListener('click', () => openPipelineRun(this._context, run.id));
    return row;
  }

  private _context: IPageContext;
  private _published: Group;
  private _schedules: Group;
  private _timer: number;
  private _ticket = 0;
}
