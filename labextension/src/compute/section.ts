import { el, errorMessage } from '../dom';
import { ListSection } from '../listsection';
import type { IPageContext } from '../tokens';
import { ComputeTarget, DASK_TYPE, getCompute, listComputes } from './api';
import { clusterView, IWorkerLike, workerCells } from './format';

/** A link that opens in a new tab (a Dask dashboard is another web application). */
export function dashboardLink(
  href: string,
  text: string,
  testid: string
): HTMLAnchorElement {
  const link = el('a', 'jp-mlws-link', text);
  link.href = href;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  link.dataset.testid = testid;
  return link;
}

/**
 * The sidebar's Compute section: the workspace's compute targets. A Dask target's row expands (on
 * a click) to its workers — address, threads, memory, tasks executing — read from its scheduler
 * through `GET computes/{name}`, and a link to its dashboard; expanded rows are read again on each
 * refresh of the sidebar.
 */
export class ComputeSection extends ListSection {
  constructor(context: IPageContext) {
    super({
      id: 'compute',
      rank: 290,
      title: context.trans.__('Compute'),
      testid: 'mlws-computes',
      trans: context.trans
    });
  }

  refresh(): Promise<void> {
    return this.load(listComputes, target => this._row(target));
  }

  private _row(target: ComputeTarget): HTMLElement {
    const row = el('li', 'jp-mlws-row jp-mlws-compute-row');
    row.dataset.testid = 'mlws-compute-row';
    row.dataset.name = target.name;
    row.dataset.type = target.type;
    const label = el('div', 'jp-mlws-compute-label');
    label.append(
      el('span', '', target.name),
      el('span', 'jp-mlws-status', ` ${target.type}`)
    );
    row.append(label);
    if (target.type !== DASK_TYPE) {
      row.title = target.type;
      return row;
    }
    const address = target.config.scheduler_address;
    row.title = this.trans.__(
      'Dask cluster at %1: click to show its workers',
      String(address ?? '')
    );
    label.classList.add('jp-mlws-link-row');
    const details = el('div', 'jp-mlws-compute-details');
    row.append(details);
    label.addEventListener('click', () => {
      if (this._expanded.has(target.name)) {
        this._expanded.delete(target.name);
        row.dataset.expanded = 'false';
        details.replaceChildren();
      } else {
        this._expanded.add(target.name);
        void this._expand(row, details, target.name);
      }
    });
    if (this._expanded.has(target.name)) {
      void this._expand(row, details, target.name);
    }
    return row;
  }

  /** Read a Dask target's cluster and show its workers under its row. */
  private async _expand(
    row: HTMLElement,
    details: HTMLElement,
    name: string
  ): Promise<void> {
    const trans = this.trans;
    row.dataset.expanded = 'true';
    if (!details.childElementCount) {
      details.append(el('div', 'jp-mlws-status', trans.__('Reading…')));
    }
    let parts: HTMLElement[];
    try {
      const view = clusterView(await getCompute(name));
      parts = [];
      if (view?.dashboard) {
        parts.push(
          dashboardLink(
            view.dashboard,
            trans.__('Dask dashboard'),
            'mlws-compute-dashboard'
          )
        );
      }
      if (view?.error) {
        const error = el('div', 'jp-mlws-status', view.error);
        error.dataset.testid = 'mlws-compute-error';
        parts.push(error);
      } else {
        const workers = view?.workers ?? [];
        const list = el('ul', 'jp-mlws-compute-workers');
        list.append(...workers.map(worker => this._worker(worker)));
        parts.push(
          workers.length
            ? list
            : el('div', 'jp-mlws-status', trans.__('No workers'))
        );
      }
    } catch (reason) {
      parts = [el('div', 'jp-mlws-status', errorMessage(reason))];
    }
    if (this._expanded.has(name)) {
      details.replaceChildren(...parts);
    }
  }

  private _worker(worker: IWorkerLike): HTMLElement {
    const [name, address, , memory, executing] = workerCells(worker);
    const trans = this.trans;
    const item = el('li', 'jp-mlws-compute-worker');
    item.dataset.testid = 'mlws-compute-worker';
    item.dataset.address = address;
    item.dataset.executing = executing;
    item.title = address;
    const facts = [
      trans._n('%1 thread', '%1 threads', worker.nthreads),
      memory,
      trans.__('%1 executing', executing)
    ].filter(Boolean);
    // The facts first (a narrow sidebar cuts the end of a line), the address below them.
    item.append(
      el('span', '', name),
      el('span', 'jp-mlws-status', ` ${facts.join(' · ')}`),
      el('div', 'jp-mlws-status jp-mlws-compute-address', address)
    );
    return item;
  }

  private _expanded = new Set<string>();
}
