import {
  compareRows,
  parallelDimensions,
  scalarSeriesNames,
  seriesXY,
  XAxis
} from '../chartdata';
import { ChartPage } from '../chartpage';
import { Coalescer } from '../coalesce';
import { el, errorMessage, section, statusDot } from '../dom';
import { IWorkspaceEvent, WorkspaceEvents } from '../events';
import {
  baseLayout,
  drawParallel,
  PLOT_CONFIG,
  plotly,
  xAxisLayout
} from '../plot';
import {
  getRun,
  getRunMetrics,
  RunDetail,
  TERMINAL_STATUSES
} from '../request';
import { openRun } from '../run/open';
import type { IPageContext } from '../tokens';

/** Points per run and series in the overlaid charts (the server down-samples beyond this). */
const POINTS_PER_RUN = 500;
/** How often the page re-reads its runs while one of them is still active. */
const ACTIVE_REFRESH_MS = 5000;
/** One colour per run, the same in every chart and in the legend (plotly's default colourway). */
const COLOURS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf'
];

function colour(index: number): string {
  return COLOURS[index % COLOURS.length];
}

/**
 * Several runs side by side: each metric's series overlaid (one line per run), a
 * parallel-coordinates chart of the params against a chosen metric, and a table of params,
 * latest metrics and tags in which the rows that differ between the runs are highlighted.
 */
export class ComparePage extends ChartPage {
  constructor(runIds: string[], context: IPageContext) {
    super();
    this.runIds = runIds;
    this._context = context;
    const trans = context.trans;
    this.addClass('jp-mlws-page');
    this.node.dataset.testid = 'mlws-compare-page';
    this.title.label = trans.__('Compare %1 runs', runIds.length);

    this._legend = el('div', 'jp-mlws-legend');
    const tools = el('div', 'jp-mlws-run-tools');
    this._metric = el('select', 'jp-mlws-compare-metric');
    this._metric.title = trans.__('Metric for the parallel coordinates');
    this._metric.addEventListener('change', () => void this.refresh());
    this._axis = el('select', 'jp-mlws-axis');
    this._axis.append(
      new Option(trans.__('x: step'), 'step'),
      new Option(trans.__('x: time'), 'time')
    );
    this._axis.addEventListener('change', () => void this.refresh());
    const label = (text: string, control: HTMLElement) => {
      const wrapper = el('label', 'jp-mlws-tool');
      wrapper.append(el('span', '', text), control);
      return wrapper;
    };
    tools.append(
      label(trans.__('Metric for parameters:'), this._metric),
      label(trans.__('Charts:'), this._axis)
    );

    const series = section(trans.__('Metrics'), 'mlws-compare-metrics');
    this._charts = el('div', 'jp-mlws-compare-charts');
    this._status = el('div', 'jp-mlws-status');
    series.body.append(this._status, this._charts);
    const parallel = section(
      trans.__('Parameters against a metric'),
      'mlws-compare-parallel'
    );
    this._parallel = el('div', 'jp-mlws-chart');
    this._parallel.dataset.testid = 'mlws-parallel-chart';
    this._parallelNote = el('div', 'jp-mlws-status');
    parallel.body.append(this._parallelNote, this._parallel);
    const table = section(
      trans.__('Side by side'),
      'mlws-compare-table-section'
    );
    this._table = el('table', 'jp-mlws-compare-table');
    this._table.dataset.testid = 'mlws-compare-table';
    table.body.append(this._table);
    const header = el('header', 'jp-mlws-page-header');
    header.append(el('h2', '', this.title.label), this._legend, tools);
    this.node.append(header, series.node, parallel.node, table.node);
    context.events.received.connect(this._onEvent, this);
  }

  readonly runIds: string[];

  /** Read the runs again and redraw; calls during a refresh fold into one more pass after it. */
  refresh(): Promise<void> {
    return this._refresher.run();
  }

  /** While one of the runs is active, read them again in a while. */
  private _schedule(): void {
    window.clearTimeout(this._timer);
    if (
      !this.isDisposed &&
      this._runs.some(run => !TERMINAL_STATUSES.has(run.status))
    ) {
      this._timer = window.setTimeout(
        () => void this.refresh(),
        ACTIVE_REFRESH_MS
      );
    }
  }

  private async _refreshOnce(): Promise<void> {
    try {
      this._runs = await Promise.all(this.runIds.map(id => getRun(id)));
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
      return;
    }
    if (this.isDisposed) {
      return;
    }
    this._drawLegend();
    this._drawTable();
    const names = scalarSeriesNames(this._runs);
    const latest = new Set<string>();
    for (const run of this._runs) {
      Object.keys(run.metrics).forEach(name => latest.add(name));
    }
    const choices = names.filter(name => latest.has(name));
    const current = this._metric.value;
    this._metric.replaceChildren(...choices.map(n => new Option(n, n)));
    this._metric.value = choices.includes(current)
      ? current
      : (choices[0] ?? '');
    try {
      await this._drawSeries();
      await this._drawParallel();
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._timer);
    this._context.events.received.disconnect(this._onEvent, this);
    super.dispose();
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    if (
      event.kind === 'run.status' &&
      this.runIds.includes(String(event.data.run_id))
    ) {
      void this.refresh();
    }
  }

  private _name(run: RunDetail): string {
    return run.display_name || run.id;
  }

  private _drawLegend(): void {
    this._legend.replaceChildren(
      ...this._runs.map((run, index) => {
        const item = el('span', 'jp-mlws-legend-item jp-mlws-link');
        const swatch = el('span', 'jp-mlws-swatch');
        swatch.style.background = colour(index);
        item.append(
          swatch,
          statusDot(run.status),
          el('span', '', ` ${this._name(run)}`)
        );
        item.title = run.id;
        item.addEventListener('click', () => openRun(this._context, run.id));
        return item;
      })
    );
  }

  private _drawTable(): void {
    const trans = this._context.trans;
    const rows = compareRows(this._runs);
    const head = el('thead');
    const titles = head.insertRow();
    titles.append(el('th', '', ''));
    for (const run of this._runs) {
      titles.append(el('th', '', this._name(run)));
    }
    const body = el('tbody');
    const sections = {
      params: trans.__('param'),
      metrics: trans.__('metric'),
      tags: trans.__('tag')
    };
    for (const item of rows) {
      const row = body.insertRow();
      row.dataset.key = `${item.section}.${item.key}`;
      row.dataset.differs = String(item.differs);
      row.classList.toggle('jp-mlws-differs', item.differs);
      const label = el('th', '', item.key);
      label.title = sections[item.section];
      row.append(label, ...item.values.map(value => el('td', '', value)));
    }
    this._table.replaceChildren(head, body);
  }

  /** One chart per scalar metric, a line per run (kept and updated in place across refreshes). */
  private async _drawSeries(): Promise<void> {
    const trans = this._context.trans;
    const names = scalarSeriesNames(this._runs);
    const axis = this._axis.value as XAxis;
    if (!names.length) {
      this._status.textContent = trans.__('These runs logged no metric series');
    }
    const Plotly = await plotly();
    const errors: string[] = [];
    for (const name of names) {
      const traces = await Promise.all(
        this._runs
          .map((run, index) => ({ run, index }))
          .filter(({ run }) => run.series.some(s => s.name === name))
          .map(async ({ run, index }) => {
            let series;
            try {
              series = await getRunMetrics(run.id, name, POINTS_PER_RUN);
            } catch (reason) {
              errors.push(
                `${this._name(run)}, ${name}: ${errorMessage(reason)}`
              );
              return null;
            }
            const points = series.kind === 'scalar' ? series.points : [];
            return {
              ...seriesXY(points, axis),
              type: 'scatter' as const,
              mode: (points.length > 1 ? 'lines' : 'markers') as
                'lines' | 'markers',
              name: this._name(run),
              line: { color: colour(index) },
              marker: { color: colour(index) }
            };
          })
      );
      if (this.isDisposed) {
        return;
      }
      let node = this._seriesCharts.get(name);
      if (!node) {
        node = el('div', 'jp-mlws-chart');
        node.dataset.testid = 'mlws-compare-chart';
        node.dataset.metric = name;
        this._charts.append(node);
        this._seriesCharts.set(name, node);
      }
      const drawn = traces.filter(trace => trace !== null);
      node.dataset.traces = String(drawn.length);
      const layout = baseLayout(name);
      layout.showlegend = true;
      layout.xaxis = xAxisLayout(axis, trans);
      await Plotly.react(node, drawn, layout, PLOT_CONFIG);
    }
    for (const [name, node] of this._seriesCharts) {
      if (!names.includes(name)) {
        Plotly.purge(node);
        node.remove();
        this._seriesCharts.delete(name);
      }
    }
    if (names.length) {
      this._status.textContent = errors.join('\n');
    }
  }

  private async _drawParallel(): Promise<void> {
    const trans = this._context.trans;
    const metric = this._metric.value;
    const Plotly = await plotly();
    if (!metric) {
      Plotly.purge(this._parallel);
      this._parallelNote.textContent = trans.__(
        'No metric with a value in these runs'
      );
      return;
    }
    const { dimensions, included } = parallelDimensions(this._runs, metric);
    this._parallelNote.textContent =
      included.length < this._runs.length
        ? trans.__(
            '%1 of %2 runs have a value of %3',
            included.length,
            this._runs.length,
            metric
          )
        : '';
    this._parallel.dataset.dimensions = String(dimensions.length);
    this._parallel.dataset.runs = String(included.length);
    await drawParallel(this._parallel, dimensions);
  }

  private _context: IPageContext;
  private _runs: RunDetail[] = [];
  private _legend: HTMLDivElement;
  private _metric: HTMLSelectElement;
  private _axis: HTMLSelectElement;
  private _charts: HTMLDivElement;
  private _status: HTMLDivElement;
  private _seriesCharts = new Map<string, HTMLDivElement>();
  private _refresher = new Coalescer(() => this._refreshOnce(), {
    after: () => this._schedule(),
    stopped: () => this.isDisposed
  });
  private _timer = 0;
  private _parallel: HTMLDivElement;
  private _parallelNote: HTMLDivElement;
  private _table: HTMLTableElement;
}
