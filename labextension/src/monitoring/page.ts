import { ChartPage } from '../chartpage';
import { Coalescer } from '../coalesce';
import { el, errorMessage, keyValueTable, section, statusDot } from '../dom';
import { IWorkspaceEvent, WorkspaceEvents } from '../events';
import { openRun } from '../run/open';
import type { IPageContext } from '../tokens';
import { getDriftRun, getMonitor, MonitorDetail } from './api';
import { backfillDialog } from './backfill';
import {
  daysBefore,
  formatMagnitude,
  isDriftEvent,
  latestCompleted,
  thresholdMagnitude
} from './format';
import { DriftPanels } from './panels';

/** How far back the backfill dialog starts when the detector has no interval checked yet. */
const DEFAULT_BACKFILL_DAYS = 28;

/**
 * A data drift detector in the main area: what it compares (baseline, target, features,
 * frequency, threshold, alerts), its alert state, the drift panels of its intervals (magnitude
 * over time, the chosen interval's contributions and distributions), a Backfill button, and its
 * recent checks (each opens its run). It reads the detector again on the events of its checks'
 * runs and of alert activities.
 */
export class MonitorPage extends ChartPage {
  constructor(name: string, context: IPageContext) {
    super();
    this.monitorName = name;
    this._context = context;
    const trans = context.trans;
    this.addClass('jp-mlws-page');
    this.addClass('jp-mlws-monitor-page');
    this.node.dataset.testid = 'mlws-monitor-page';
    this.node.dataset.name = name;
    this.title.label = name;
    this.title.caption = trans.__('Data drift monitor %1', name);

    this._alert.dataset.testid = 'mlws-monitor-page-alert';
    this._backfill.textContent = trans.__('Backfill…');
    this._backfill.title = trans.__(
      'Check the intervals of a date range (a new check run)'
    );
    this._backfill.dataset.testid = 'mlws-drift-backfill';
    this._backfill.addEventListener('click', () => void this._startBackfill());
    const header = el('header', 'jp-mlws-page-header');
    header.append(
      el('h2', '', name),
      this._alert,
      this._backfill,
      this._status
    );

    this._panels = new DriftPanels(context, async runId => {
      return (await getDriftRun(runId)).distributions;
    });
    const drift = section(trans.__('Drift'), 'mlws-monitor-drift');
    drift.body.append(this._panels.node);
    const checks = section(trans.__('Checks'), 'mlws-monitor-checks');
    this._runs.dataset.testid = 'mlws-monitor-runs';
    checks.body.append(this._runs);
    const details = section(trans.__('Details'), 'mlws-monitor-details');
    details.body.append(this._facts);
    this.node.append(header, drift.node, checks.node, details.node);
    context.events.received.connect(this._onEvent, this);
  }

  readonly monitorName: string;

  /** The detector as last read. */
  get monitor(): MonitorDetail | null {
    return this._monitor;
  }

  /** Read the detector again; calls meanwhile fold into one more pass. */
  refresh(): Promise<void> {
    return this._refresher.run();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._context.events.received.disconnect(this._onEvent, this);
    super.dispose();
  }

  private async _refreshOnce(): Promise<void> {
    let monitor: MonitorDetail;
    try {
      monitor = await getMonitor(this.monitorName);
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
      return;
    }
    if (this.isDisposed) {
      return;
    }
    this._monitor = monitor;
    this._status.textContent = '';
    this._drawHeader(monitor);
    this._drawFacts(monitor);
    this._drawRuns(monitor);
    try {
      await this._panels.show(monitor.intervals, monitor.drift_threshold);
    } catch (reason) {
      this._panels.showError(errorMessage(reason));
    }
  }

  private _drawHeader(monitor: MonitorDetail): void {
    const trans = this._context.trans;
    // The alert is about the last completed interval (a later one may still be running).
    const done = latestCompleted(monitor.intervals);
    const threshold = formatMagnitude(
      thresholdMagnitude(monitor.drift_threshold)
    );
    this.node.dataset.alert = String(monitor.alert);
    this._alert.className = monitor.alert
      ? 'jp-mlws-monitor-alert'
      : 'jp-mlws-monitor-ok';
    this._alert.textContent = monitor.alert
      ? trans.__(
          'Drift: magnitude %1 above the threshold %2',
          formatMagnitude(done?.magnitude),
          threshold
        )
      : done
        ? trans.__(
            'Magnitude %1, threshold %2',
            formatMagnitude(done.magnitude),
            threshold
          )
        : trans.__('Not checked yet');
  }

  private _drawFacts(monitor: MonitorDetail): void {
    const trans = this._context.trans;
    const alerts = monitor.alert_config;
    const facts: Record<string, string> = {
      [trans.__('Baseline')]: monitor.baseline,
      [trans.__('Target')]: monitor.target,
      [trans.__('Frequency')]: monitor.frequency,
      [trans.__('Threshold')]: formatMagnitude(
        thresholdMagnitude(monitor.drift_threshold)
      ),
      [trans.__('Latency (days)')]: String(monitor.latency),
      // A detector without a feature list monitors every column the datasets share.
      [trans.__('Features')]: monitor.features.length
        ? trans.__('%1: %2', monitor.feature_count, monitor.features.join(', '))
        : trans.__('all shared columns (%1)', monitor.feature_count),
      [trans.__('Schedule')]: monitor.schedule_enabled
        ? trans.__('on')
        : trans.__('off'),
      [trans.__('Alert emails')]: alerts.email_addresses.join(', '),
      [trans.__('Alert webhook')]: alerts.webhook_url ?? '',
      [trans.__('Created')]: new Date(monitor.created_time).toLocaleString()
    };
    if (monitor.service) {
      facts[trans.__('Service')] = monitor.service;
    }
    const table = keyValueTable(facts, '');
    table.dataset.testid = 'mlws-monitor-facts';
    this._facts.replaceChildren(table);
  }

  private _drawRuns(monitor: MonitorDetail): void {
    const trans = this._context.trans;
    if (!monitor.runs.length) {
      this._runs.replaceChildren(
        el('li', 'jp-mlws-status', trans.__('No checks yet'))
      );
      return;
    }
    this._runs.replaceChildren(
      ...monitor.runs.map(run => {
        const item = el('li', 'jp-mlws-row jp-mlws-link-row');
        item.dataset.testid = 'mlws-monitor-run';
        item.dataset.runId = run.run_id;
        item.dataset.status = run.status;
        item.title = run.run_id;
        item.append(
          statusDot(run.status),
          el(
            'span',
            '',
            trans.__(
              ' %1 · %2 · %3 intervals',
              new Date(run.created_time).toLocaleString(),
              run.status,
              run.interval_count
            )
          )
        );
        item.addEventListener('click', () =>
          openRun(this._context, run.run_id)
        );
        return item;
      })
    );
  }

  private async _startBackfill(): Promise<void> {
    const today = new Date();
    const intervals = this._monitor?.intervals ?? [];
    // From the first checked interval (checking again what is there), else the last four weeks.
    const start = intervals.length
      ? intervals[0].start_date.slice(0, 10)
      : daysBefore(today, DEFAULT_BACKFILL_DAYS);
    const runId = await backfillDialog(
      this.monitorName,
      { start, end: today.toISOString().slice(0, 10) },
      this._context.trans,
      id => openRun(this._context, id)
    );
    if (runId) {
      this._backfill.dataset.runId = runId;
      void this.refresh();
    }
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    if (isDriftEvent(event, this.monitorName)) {
      void this.refresh();
    }
  }

  private _context: IPageContext;
  private _monitor: MonitorDetail | null = null;
  private _panels: DriftPanels;
  private _refresher = new Coalescer(() => this._refreshOnce(), {
    stopped: () => this.isDisposed
  });
  private _alert = el('span', 'jp-mlws-monitor-ok');
  private _backfill = el('button', 'jp-mod-styled');
  private _status = el('div', 'jp-mlws-status');
  private _facts = el('div', 'jp-mlws-monitor-facts');
  private _runs = el('ul', 'jp-mlws-monitor-runs');
}
