import { el } from '../dom';
import type { RunDetail } from '../request';
import type { IPageContext, IRunSection } from '../tokens';
import { DASK_TYPE, getCompute } from './api';
import { clusterView } from './format';
import { dashboardLink } from './section';

/**
 * A run page's link to the Dask dashboard, for runs on a Dask target that has one (hidden for any
 * other run). The target is read once per page (a target does not move while its run is shown).
 */
export class DaskDashboardLink implements IRunSection {
  constructor(context: IPageContext) {
    this._context = context;
    this.node.dataset.testid = 'mlws-dask';
    this.node.hidden = true;
  }

  readonly node = el('div', 'jp-mlws-dask-link');

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    this._disposed = true;
  }

  async update(run: RunDetail): Promise<void> {
    const target = run.compute_target;
    if (!target || target === this._target) {
      return;
    }
    this._target = target;
    let dashboard: string | null = null;
    try {
      const detail = await getCompute(target);
      if (detail.type === DASK_TYPE) {
        dashboard = clusterView(detail)?.dashboard ?? null;
      }
    } catch {
      dashboard = null; // a target detached since: no link
    }
    if (this._disposed) {
      return;
    }
    this.node.hidden = !dashboard;
    if (dashboard) {
      const link = dashboardLink(
        dashboard,
        this._context.trans.__('Dask dashboard'),
        'mlws-dask-dashboard'
      );
      link.title = this._context.trans.__(
        'The dashboard of the Dask cluster %1 runs on (a new tab)',
        target
      );
      this.node.replaceChildren(link);
    }
  }

  private _context: IPageContext;
  private _target: string | null = null;
  private _disposed = false;
}
