import { el, section, statusDot } from '../dom';
import type { RunDetail } from '../request';
import { openRun } from '../run/open';
import { formatDuration } from '../runlistmodel';
import type { IPageContext, IRunSection } from '../tokens';
import {
  IParallelSummary,
  parallelSummary,
  partitionLabel,
  partitionRows
} from './format';

/**
 * The Partitions section of a ParallelRunStep step run's page (a run with the property
 * `mlws.parallel.partitions`; hidden for other runs): the summary (partitions, succeeded, failed,
 * seconds, error threshold) and one row per mini-batch child run — its partition (key values or
 * name), status and duration, failed ones first, each opening the child's run page. It reads
 * nothing of its own: the run page's read of the run has the properties and the children.
 */
export class PartitionsSection implements IRunSection {
  constructor(context: IPageContext) {
    this._context = context;
    const parts = section(context.trans.__('Partitions'), 'mlws-parallel');
    this.node = parts.node;
    this.node.hidden = true;
    this._summary.dataset.testid = 'mlws-parallel-summary';
    parts.body.append(this._summary, this._table);
  }

  readonly node: HTMLElement;

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    this._disposed = true;
  }

  update(run: RunDetail): Promise<void> {
    const summary = parallelSummary(run.properties);
    this.node.hidden = summary === null;
    if (summary) {
      this._drawSummary(summary);
      this._drawTable(run, summary);
    }
    return Promise.resolve();
  }

  private _drawSummary(summary: IParallelSummary): void {
    const trans = this._context.trans;
    const parts = [
      trans._n('%1 partition', '%1 partitions', summary.partitions)
    ];
    if (summary.succeeded !== null) {
      parts.push(trans.__('%1 succeeded', summary.succeeded));
    }
    if (summary.failed !== null) {
      parts.push(trans.__('%1 failed', summary.failed));
    }
    if (summary.seconds !== null) {
      parts.push(formatDuration(summary.seconds));
    }
    if (summary.errorThreshold !== null) {
      parts.push(
        summary.errorThreshold < 0
          ? trans.__('no error threshold')
          : trans.__('error threshold %1', summary.errorThreshold)
      );
    }
    const node = this._summary;
    node.textContent = parts.join(' · ');
    node.dataset.partitions = String(summary.partitions);
    node.dataset.succeeded = String(summary.succeeded ?? '');
    node.dataset.failed = String(summary.failed ?? '');
    node.dataset.seconds = String(summary.seconds ?? '');
  }

  private _drawTable(run: RunDetail, summary: IParallelSummary): void {
    const trans = this._context.trans;
    const head = this._table.createTHead();
    head.replaceChildren();
    const header = head.insertRow();
    for (const title of [
      trans.__('Partition'),
      trans.__('Status'),
      trans.__('Duration')
    ]) {
      header.append(el('th', '', title));
    }
    const body = el('tbody');
    for (const child of partitionRows(run.children)) {
      const row = body.insertRow();
      row.dataset.testid = 'mlws-parallel-row';
      row.dataset.runId = child.id;
      row.dataset.status = child.status;
      const link = el(
        'a',
        'jp-mlws-link',
        partitionLabel(child, summary.partitionKeys)
      );
      link.href = '#';
      link.title = trans.__('Open run %1', child.id);
      link.addEventListener('click', event => {
        event.preventDefault();
        openRun(this._context, child.id);
      });
      const status = el('td');
      status.append(
        statusDot(child.status),
        el('span', '', ` ${child.status}`)
      );
      const name = el('td');
      name.append(link);
      row.append(
        name,
        status,
        el('td', '', formatDuration(child.duration_seconds))
      );
    }
    this._table.tBodies[0]?.remove();
    this._table.append(body);
  }

  private _context: IPageContext;
  private _summary = el('div', 'jp-mlws-parallel-summary');
  private _table = el('table', 'jp-mlws-compare-table jp-mlws-parallel-table');
  private _disposed = false;
}
