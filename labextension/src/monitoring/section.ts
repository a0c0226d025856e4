import { Notification } from '@jupyterlab/apputils';

import { el, errorMessage, statusDot } from '../dom';
import { ListSection } from '../listsection';
import type { IPageContext } from '../tokens';
import { getMonitor, listMonitors, MonitorSummary } from './api';
import {
  AlertStates,
  formatMagnitude,
  intervalLabel,
  latestCompleted,
  newAlerts,
  thresholdMagnitude
} from './format';
import { openMonitor } from './open';

/**
 * The sidebar's Monitors: one row per data drift detector with its name, the magnitude of its
 * last checked interval and an alert badge while that magnitude is above the threshold; a click
 * opens the detector's page. The sidebar refreshes it on change events (a check's runs, an alert's
 * activity); when a read finds a monitor's alert newly on, a JupyterLab notification says so.
 */
export class MonitorsSection extends ListSection {
  constructor(context: IPageContext) {
    super({
      id: 'monitors',
      rank: 280,
      title: context.trans.__('Monitors'),
      testid: 'mlws-monitors',
      trans: context.trans
    });
    this._context = context;
  }

  async refresh(): Promise<void> {
    let monitors: MonitorSummary[];
    try {
      monitors = (await listMonitors()).monitors;
    } catch (reason) {
      this.status.textContent = this.trans.__(
        'Could not load: %1',
        errorMessage(reason)
      );
      return;
    }
    this.show(
      monitors.map(monitor => this._row(monitor)),
      this.trans.__('No data drift monitors')
    );
    const { raised, states } = newAlerts(this._alerts, monitors);
    this._alerts = states;
    raised.forEach(monitor => void this._announce(monitor));
  }

  private _row(monitor: MonitorSummary): HTMLElement {
    const trans = this.trans;
    const last = monitor.last;
    const row = el('li', 'jp-mlws-row jp-mlws-monitor-row');
    row.dataset.testid = 'mlws-monitor-row';
    row.dataset.name = monitor.name;
    row.dataset.alert = String(monitor.alert);
    const magnitude = el(
      'span',
      'jp-mlws-monitor-magnitude',
      formatMagnitude(last?.magnitude)
    );
    magnitude.dataset.testid = 'mlws-monitor-magnitude';
    const parts: HTMLElement[] = [
      last ? statusDot(last.status) : el('span', 'jp-mlws-status-dot'),
      el('span', 'jp-mlws-monitor-name', monitor.name),
      magnitude
    ];
    if (monitor.alert) {
      const badge = el('span', 'jp-mlws-monitor-alert', trans.__('drift'));
      badge.dataset.testid = 'mlws-monitor-alert';
      badge.title = trans.__(
        'The last completed interval drifted: its magnitude is above the threshold %1',
        formatMagnitude(thresholdMagnitude(monitor.drift_threshold))
      );
      parts.push(badge);
    }
    row.append(...parts);
    row.title = [
      trans.__(
        '%1: %2 against %3, every %4',
        monitor.name,
        monitor.target,
        monitor.baseline,
        monitor.frequency.toLowerCase()
      ),
      trans.__(
        'Threshold %1',
        formatMagnitude(thresholdMagnitude(monitor.drift_threshold))
      ),
      last
        ? trans.__(
            'Last interval %1: %2',
            intervalLabel(last),
            last.magnitude === null
              ? (last.error ?? last.status)
              : trans.__('magnitude %1', formatMagnitude(last.magnitude))
          )
        : trans.__('No interval checked yet'),
      trans.__('Click to open its page')
    ].join('\n');
    row.addEventListener('click', () =>
      openMonitor(this._context, monitor.name)
    );
    return row;
  }

  /**
   * A warning that stays until closed, with a button that opens the detector's page. It names the
   * magnitude of the interval the alert is about: the last completed one, which is not `last`
   * while a later interval is still being checked (then read from the detector's intervals).
   */
  private async _announce(monitor: MonitorSummary): Promise<void> {
    const trans = this.trans;
    let magnitude =
      monitor.last?.status === 'Completed' ? monitor.last.magnitude : null;
    if (magnitude === null) {
      try {
        const detail = await getMonitor(monitor.name);
        magnitude = latestCompleted(detail.intervals)?.magnitude ?? null;
      } catch {
        // Announce it all the same, without the number.
      }
    }
    Notification.warning(
      trans.__(
        'Data drift: %1 magnitude %2 above threshold %3',
        monitor.name,
        formatMagnitude(magnitude),
        formatMagnitude(thresholdMagnitude(monitor.drift_threshold))
      ),
      {
        autoClose: false,
        actions: [
          {
            label: trans.__('Show monitor'),
            callback: () => openMonitor(this._context, monitor.name)
          }
        ]
      }
    );
  }

  private _context: IPageContext;
  /** Each monitor's alert state at the last read; null before the first. */
  private _alerts: AlertStates | null = null;
}
