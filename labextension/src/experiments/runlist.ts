import { TranslationBundle } from '@jupyterlab/translation';

import { el, errorMessage, statusDot } from '../dom';
import { listRuns, Run } from '../request';
import {
  formatDuration,
  formatMetric,
  formatStart,
  metricNames,
  needsMore,
  visibleRange
} from '../runlistmodel';

const ROW_HEIGHT = 24;
const PAGE_SIZE = 200;

/** What a click in the run list asks of the application. */
export interface IRunListActions {
  /** Open a run's page. */
  open(runId: string): void;
  /** Open the comparison of the ticked runs. */
  compare(runIds: string[]): void;
}

/**
 * The runs of one experiment: a filter box (the server's filter language), sortable columns, a
 * chosen key metric, and a virtualised body — only the rows in view exist in the DOM, and the next
 * page is fetched as the scroll nears the loaded end, so 10,000 runs open and scroll at once.
 */
export class RunList {
  constructor(
    experiment: string,
    trans: TranslationBundle,
    actions: IRunListActions
  ) {
    this.experiment = experiment;
    this._trans = trans;
    this._actions = actions;
    this.node.dataset.testid = 'mlws-run-list';
    this._filter.placeholder = trans.__('Filter, e.g. metrics.acc > 0.5');
    this._filter.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        void this.reload();
      }
    });
    this._metric.title = trans.__('Key metric');
    this._metric.addEventListener('change', () => this._draw(true));

    this._viewport.append(this._spacer);
    this._viewport.addEventListener('scroll', () => this._schedule());
    const tools = el('div', 'jp-mlws-run-tools');
    this._compare.dataset.testid = 'mlws-compare-button';
    this._compare.title = trans.__('Tick two or more runs to compare them');
    this._compare.addEventListener('click', () => {
      if (this._selected.size > 1) {
        this._actions.compare([...this._selected]);
      }
    });
    this._updateCompare();
    tools.append(this._filter, this._metric, this._compare);
    this.node.append(tools, this._header, this._status, this._viewport);
    this._drawHeader();
  }

  /** Start again from the first page (a new filter or order, or news from the server). */
  async reload(): Promise<void> {
    this._generation++; // a fetch in flight is for the old list: its answer is dropped
    this._loading = false;
    this._runs = [];
    this._next = null;
    this._more = true;
    this._viewport.scrollTop = 0;
    await this._fetch();
  }

  /** New runs or statuses: reload if the list shows its top, else when it gets back there. */
  changed(): void {
    if (this._viewport.scrollTop < ROW_HEIGHT * 5) {
      void this.reload();
    } else {
      this._stale = true;
    }
  }

  private async _fetch(): Promise<void> {
    if (this._loading || !this._more) {
      return;
    }
    this._loading = true;
    const generation = this._generation;
    try {
      const page = await listRuns(this.experiment, {
        filter: this._filter.value.trim(),
        order_by: this._order,
        page_size: PAGE_SIZE,
        page_token: this._next
      });
      if (generation !== this._generation) {
        return; // a reload started meanwhile
      }
      this._runs.push(...page.items);
      this._next = page.next_page_token;
      this._more = page.next_page_token !== null;
      this._status.textContent = this._runs.length
        ? ''
        : this._trans.__('No runs');
      this._updateMetrics();
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
      this._more = false;
    } finally {
      if (generation === this._generation) {
        this._loading = false;
      }
    }
    if (generation === this._generation) {
      this._draw(true);
    }
  }

  private _updateMetrics(): void {
    const names = metricNames(this._runs.slice(0, PAGE_SIZE));
    const current = this._metric.value;
    if (names.join('\n') === this._names.join('\n')) {
      return;
    }
    this._names = names;
    this._metric.replaceChildren(...names.map(name => new Option(name, name)));
    this._metric.value = names.includes(current) ? current : (names[0] ?? '');
    this._drawHeader();
  }

  private _drawHeader(): void {
    const cell = (text: string, order: string | null) => {
      const span = el('span', '', text);
      if (order) {
        span.classList.add('jp-mlws-sortable');
        span.title = this._trans.__('Sort by %1', text);
        span.addEventListener('click', () => {
          this._order =
            this._order === `${order} DESC` ? `${order} ASC` : `${order} DESC`;
          this._drawHeader();
          void this.reload();
        });
        if (this._order.startsWith(order)) {
          span.textContent += this._order.endsWith('ASC') ? ' ▲' : ' ▼';
        }
      }
      return span;
    };
    const metric = this._metric.value;
    this._header.replaceChildren(
      cell('', null),
      cell('', null),
      cell(this._trans.__('Run'), 'attributes.display_name'),
      cell(this._trans.__('Started'), 'attributes.start_time'),
      cell(this._trans.__('Duration'), null),
      cell(
        metric || this._trans.__('Metric'),
        metric ? `metrics.${metric}` : null
      )
    );
  }

  private _schedule(): void {
    if (this._frame === null) {
      this._frame = requestAnimationFrame(() => {
        this._frame = null;
        if (this._stale && this._viewport.scrollTop < ROW_HEIGHT * 5) {
          this._stale = false;
          void this.reload();
          return;
        }
        this._draw(false);
      });
    }
  }

  private _draw(force: boolean): void {
    const count = this._runs.length;
    this._spacer.style.height = `${(count + (this._more ? 1 : 0)) * ROW_HEIGHT}px`;
    const range = visibleRange(
      this._viewport.scrollTop,
      this._viewport.clientHeight || 400,
      ROW_HEIGHT,
      count
    );
    if (
      !force &&
      range.start === this._drawn.start &&
      range.end === this._drawn.end
    ) {
      return;
    }
    this._drawn = range;
    const metric = this._metric.value;
    const rows: HTMLElement[] = [];
    for (let i = range.start; i < range.end; i++) {
      rows.push(this._row(this._runs[i], i, metric));
    }
    this._spacer.replaceChildren(...rows);
    if (needsMore(range.end, count, this._more)) {
      void this._fetch();
    }
  }

  private _row(run: Run, index: number, metric: string): HTMLElement {
    const row = el('div', 'jp-mlws-run-row');
    row.dataset.testid = 'mlws-run-row';
    row.dataset.runId = run.id;
    row.dataset.index = String(index);
    row.style.top = `${index * ROW_HEIGHT}px`;
    const name = el('span', '', run.display_name || run.id);
    name.title = run.id;
    const started = el('span');
    if (run.start_time) {
      const when = new Date(run.start_time);
      started.textContent = formatStart(when, new Date());
      started.title = when.toLocaleString(); // the full date and time on hover
    }
    const duration = el('span', '', formatDuration(run.duration_seconds));
    const value = el(
      'span',
      '',
      metric ? formatMetric(run.metrics[metric]) : ''
    );
    const tick = el('input', 'jp-mlws-select');
    tick.type = 'checkbox';
    tick.dataset.testid = 'mlws-run-select';
    tick.title = this._trans.__('Select to compare');
    tick.checked = this._selected.has(run.id);
    tick.addEventListener('click', event => {
      event.stopPropagation();
      if (tick.checked) {
        this._selected.add(run.id);
      } else {
        this._selected.delete(run.id);
      }
      this._updateCompare();
    });
    row.append(tick, statusDot(run.status), name, started, duration, value);
    row.addEventListener('click', () => this._actions.open(run.id));
    return row;
  }

  /** The ticked runs (kept while the list reloads or scrolls). */
  get selected(): string[] {
    return [...this._selected];
  }

  private _updateCompare(): void {
    const count = this._selected.size;
    this._compare.textContent = this._trans.__('Compare (%1)', count);
    this._compare.disabled = count < 2;
  }

  readonly experiment: string;
  readonly node = el('div', 'jp-mlws-runs');
  private _trans: TranslationBundle;
  private _actions: IRunListActions;
  private _compare = el('button', 'jp-mod-styled jp-mlws-compare-button');
  private _selected = new Set<string>();
  private _filter = el('input', 'jp-mlws-filter');
  private _metric = el('select', 'jp-mlws-key-metric');
  private _header = el('div', 'jp-mlws-run-header');
  private _status = el('div', 'jp-mlws-status');
  private _viewport = el('div', 'jp-mlws-run-viewport');
  private _spacer = el('div', 'jp-mlws-run-spacer');
  private _runs: Run[] = [];
  private _names: string[] = [];
  private _next: string | null = null;
  private _more = true;
  private _loading = false;
  private _stale = false;
  private _generation = 0;
  private _order = 'attributes.start_time DESC';
  private _frame: number | null = null;
  private _drawn = { start: -1, end: -1 };
}
