import { compareRuns } from '../compare/open';
import { el, errorMessage, section, statusDot } from '../dom';
import { drawParallel, plotly } from '../plot';
import type { RunDetail } from '../request';
import { openRun } from '../run/open';
import { formatMetric } from '../runlistmodel';
import type { IPageContext, IRunSection } from '../tokens';
import { getSweep, Sweep, SWEEP_RUN_TYPE } from './api';
import {
  formatValue,
  Goal,
  nextOrder,
  sortTrials,
  sweepDimensions,
  topTrials,
  TrialOrder
} from './format';

/** How many trials "Compare top k" opens unless the user picks another k. */
export const DEFAULT_TOP_K = 5;
/** The most trials the compare page is asked to show at once. */
const MAX_TOP_K = 20;

/**
 * The Sweep section of a sweep's run page (a run of type `hyperdrive`; hidden for other runs): the
 * sweep's setup, its trials (sampled values, best primary metric, why the policy stopped one;
 * sortable by the metric, the best marked), a parallel-coordinates chart of the parameters against
 * the metric, the policy's decisions, and "Compare top k". It reads `runs/{id}/sweep` each time the
 * run page reads the run, so it follows the page's events (a trial's status, a new trial).
 */
export class SweepSection implements IRunSection {
  constructor(runId: string, context: IPageContext) {
    this._runId = runId;
    this._context = context;
    const trans = context.trans;
    const parts = section(trans.__('Sweep'), 'mlws-sweep');
    this.node = parts.node;
    this.node.hidden = true;
    this._summary = el('div', 'jp-mlws-sweep-summary');
    this._status = el('div', 'jp-mlws-status');

    const tools = el('div', 'jp-mlws-run-tools');
    this._k = el('input', 'jp-mlws-sweep-k');
    this._k.type = 'number';
    this._k.min = '2';
    this._k.max = String(MAX_TOP_K);
    this._k.value = String(DEFAULT_TOP_K);
    this._k.title = trans.__('How many of the best trials to compare');
    this._k.addEventListener('input', () => this._drawCompare());
    this._compare = el('button', 'jp-mod-styled');
    this._compare.dataset.testid = 'mlws-sweep-compare';
    this._compare.addEventListener('click', () => this._openCompare());
    tools.append(this._compare, this._k);

    this._table = el('table', 'jp-mlws-compare-table jp-mlws-sweep-table');
    this._chart = el('div', 'jp-mlws-chart');
    this._chart.dataset.testid = 'mlws-sweep-chart';
    this._chartNote = el('div', 'jp-mlws-status');
    this._decisions = el('ul', 'jp-mlws-sweep-decisions');
    parts.body.append(
      this._summary,
      this._status,
      tools,
      this._table,
      el('h4', '', trans.__('Parameters against the primary metric')),
      this._chartNote,
      this._chart,
      el('h4', '', trans.__('Early termination')),
      this._decisions
    );
  }

  readonly node: HTMLElement;

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    this._disposed = true;
  }

  async update(run: RunDetail): Promise<void> {
    if (run.run_type !== SWEEP_RUN_TYPE) {
      this.node.hidden = true;
      return;
    }
    this.node.hidden = false;
    let sweep: Sweep;
    try {
      sweep = await getSweep(this._runId);
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
      return;
    }
    if (this._disposed) {
      return;
    }
    this._sweep = sweep;
    this._status.textContent = '';
    this._drawSummary();
    this._drawTable();
    this._drawCompare();
    this._drawDecisions();
    try {
      await this._drawChart();
    } catch (reason) {
      this._chartNote.textContent = errorMessage(reason);
    }
  }

  private get _goal(): Goal {
    return (this._sweep?.primary_metric.goal ?? 'maximize') as Goal;
  }

  private _drawSummary(): void {
    const sweep = this._sweep!;
    const trans = this._context.trans;
    const metric = sweep.primary_metric;
    const parts = [
      trans.__('Primary metric: %1 (%2)', metric.name, metric.goal),
      trans.__('%1 sampling', sweep.sampling.type),
      trans.__('%1 of %2 trials', sweep.children.length, sweep.max_total_runs),
      sweep.policy.description
    ];
    if (sweep.end_reason) {
      parts.push(trans.__('ended: %1', sweep.end_reason));
    }
    this._summary.textContent = parts.join(' · ');
  }

  private _drawTable(): void {
    const sweep = this._sweep!;
    const trans = this._context.trans;
    const head = el('thead');
    const titles = head.insertRow();
    titles.append(
      el('th', '', trans.__('Trial')),
      el('th', '', trans.__('Status')),
      ...sweep.parameters.map(name => el('th', '', name))
    );
    const descending = (this._order === 'best') === (this._goal === 'maximize');
    const arrow = this._order === 'index' ? '' : descending ? ' ▼' : ' ▲';
    const metric = el(
      'th',
      'jp-mlws-sortable',
      `${sweep.primary_metric.name}${arrow}`
    );
    metric.dataset.testid = 'mlws-sweep-sort-metric';
    metric.dataset.order = this._order;
    metric.title = trans.__(
      'Sort by the best %1 of each trial (click again to reverse)',
      sweep.primary_metric.name
    );
    metric.addEventListener('click', () => {
      this._order = nextOrder(this._order);
      this._drawTable();
    });
    titles.append(metric, el('th', '', trans.__('Stopped because')));

    const body = el('tbody');
    for (const trial of sortTrials(sweep.children, this._order, this._goal)) {
      const row = body.insertRow();
      row.className = 'jp-mlws-link-row';
      row.dataset.testid = 'mlws-sweep-row';
      row.dataset.runId = trial.run_id;
      row.dataset.index = String(trial.index);
      const best = trial.run_id === sweep.best_run_id;
      row.dataset.best = String(best);
      row.classList.toggle('jp-mlws-sweep-best', best);
      row.title = best
        ? trans.__('The best trial: %1', trial.run_id)
        : trial.run_id;
      const index = el('td', '', `${best ? '★ ' : ''}${trial.index}`);
      const status = el('td');
      status.append(statusDot(trial.status), ` ${trial.status}`);
      row.append(
        index,
        status,
        ...sweep.parameters.map(name =>
          el('td', '', formatValue(trial.hyperparameters[name]))
        ),
        el('td', '', formatMetric(trial.best_primary_metric, 6)),
        el('td', '', trial.stop_reason ?? '')
      );
      row.addEventListener('click', () => openRun(this._context, trial.run_id));
    }
    this._table.replaceChildren(head, body);
  }

  private _topK(): string[] {
    const k = Math.min(
      MAX_TOP_K,
      Math.max(2, Math.floor(Number(this._k.value) || DEFAULT_TOP_K))
    );
    return this._sweep ? topTrials(this._sweep.children, this._goal, k) : [];
  }

  private _drawCompare(): void {
    const trans = this._context.trans;
    const top = this._topK();
    this._compare.textContent = trans.__('Compare top %1', top.length);
    this._compare.disabled = top.length < 2;
    this._compare.title =
      top.length < 2
        ? trans.__('Two or more trials need a value of the primary metric')
        : trans.__('Compare the best trials: %1', top.join(', '));
  }

  private _openCompare(): void {
    const top = this._topK();
    if (top.length >= 2) {
      compareRuns(this._context, top);
    }
  }

  private _drawDecisions(): void {
    const sweep = this._sweep!;
    const trans = this._context.trans;
    if (!sweep.decisions.length) {
      this._decisions.replaceChildren(
        el('li', 'jp-mlws-status', trans.__('No trial was stopped early'))
      );
      return;
    }
    this._decisions.replaceChildren(
      ...sweep.decisions.map(decision => {
        const item = el('li', 'jp-mlws-link-row');
        item.dataset.testid = 'mlws-sweep-decision';
        item.dataset.runId = decision.run_id;
        item.append(
          el('strong', '', trans.__('Trial %1', decision.index)),
          el('span', '', `: ${decision.reason}`)
        );
        item.title = decision.run_id;
        item.addEventListener('click', () =>
          openRun(this._context, decision.run_id)
        );
        return item;
      })
    );
  }

  private async _drawChart(): Promise<void> {
    const sweep = this._sweep!;
    const trans = this._context.trans;
    const { dimensions, included } = sweepDimensions(
      sweep.children,
      sweep.parameters,
      sweep.primary_metric.name
    );
    this._chart.dataset.trials = String(included.length);
    if (!included.length) {
      (await plotly()).purge(this._chart);
      this._chartNote.textContent = trans.__(
        'No trial has a value of %1 yet',
        sweep.primary_metric.name
      );
      return;
    }
    this._chartNote.textContent =
      included.length < sweep.children.length
        ? trans.__(
            '%1 of %2 trials have a value of %3',
            included.length,
            sweep.children.length,
            sweep.primary_metric.name
          )
        : '';
    await drawParallel(this._chart, dimensions);
  }

  private _runId: string;
  private _context: IPageContext;
  private _sweep: Sweep | null = null;
  private _order: TrialOrder = 'index';
  private _disposed = false;
  private _summary: HTMLDivElement;
  private _status: HTMLDivElement;
  private _k: HTMLInputElement;
  private _compare: HTMLButtonElement;
  private _table: HTMLTableElement;
  private _chart: HTMLDivElement;
  private _chartNote: HTMLDivElement;
  private _decisions: HTMLUListElement;
}
