import { el, errorMessage, section } from '../dom';
import type { RunDetail } from '../request';
import type { IPageContext, IRunSection } from '../tokens';
import { DriftRunView, getDriftRun, getMonitor } from './api';
import { DRIFT_RUN_TYPES } from './format';
import { openMonitor } from './open';
import { DriftPanels } from './panels';

/**
 * The Data drift section of a drift run's page (a check, run type `mlws.datadrift`, or one of its
 * intervals, `mlws.datadrift.interval`; hidden for other runs): the detector's drift panels on
 * the run's intervals, from `GET runs/{id}/drift`, and a link to the detector's page. It reads
 * the view each time the run page reads the run, so it follows the check as intervals end.
 */
export class DriftRunSection implements IRunSection {
  constructor(runId: string, context: IPageContext) {
    this._runId = runId;
    this._context = context;
    const trans = context.trans;
    const parts = section(trans.__('Data drift'), 'mlws-drift');
    this.node = parts.node;
    this.node.hidden = true;
    this._detector.dataset.testid = 'mlws-drift-detector';
    this._detector.title = trans.__("Open the detector's page");
    this._detector.addEventListener('click', () => {
      if (this._view) {
        openMonitor(this._context, this._view.detector);
      }
    });
    this._panels = new DriftPanels(
      context,
      id => this._distributions(id),
      runId
    );
    const tools = el('div', 'jp-mlws-run-tools');
    tools.append(this._detector);
    parts.body.append(tools, this._status, this._panels.node);
  }

  readonly node: HTMLElement;

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    this._disposed = true;
  }

  async update(run: RunDetail): Promise<void> {
    if (!DRIFT_RUN_TYPES.has(run.run_type)) {
      this.node.hidden = true;
      return;
    }
    this.node.hidden = false;
    let view: DriftRunView;
    try {
      view = await getDriftRun(this._runId);
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
      return;
    }
    if (this._disposed) {
      return;
    }
    this._view = view;
    this._status.textContent = '';
    this.node.dataset.kind = view.kind;
    this._detector.textContent = this._context.trans.__(
      'Open monitor %1',
      view.detector
    );
    const threshold = await this._threshold(view.detector);
    await this._panels.show(view.intervals, threshold);
  }

  /** The detector's threshold (read once); null when it cannot be read (e.g. it was deleted). */
  private async _threshold(detector: string): Promise<number | null> {
    if (this._driftThreshold === undefined) {
      try {
        this._driftThreshold = (await getMonitor(detector)).drift_threshold;
      } catch {
        this._driftThreshold = null;
      }
    }
    return this._driftThreshold;
  }

  /** An interval's distributions: this run's own when it is that interval, else its view's. */
  private async _distributions(
    runId: string
  ): Promise<DriftRunView['distributions']> {
    if (this._view?.run_id === runId && this._view.kind === 'interval') {
      return this._view.distributions;
    }
    return (await getDriftRun(runId)).distributions;
  }

  private _runId: string;
  private _context: IPageContext;
  private _view: DriftRunView | null = null;
  private _driftThreshold: number | null | undefined = undefined;
  private _disposed = false;
  private _panels: DriftPanels;
  private _detector = el('button', 'jp-mod-styled');
  private _status = el('div', 'jp-mlws-status');
}
