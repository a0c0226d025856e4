import { MAX_POINTS, seriesXY, XAxis } from '../chartdata';
import { el, errorMessage, section } from '../dom';
import {
  baseLayout,
  PLOT_CONFIG,
  plotly,
  purgeCharts,
  xAxisLayout
} from '../plot';
import { getRunMetrics, RunDetail } from '../request';
import type { IPageContext } from '../tokens';
import { RunRecords } from './records';

/** One drawn chart: its element and how many points of the series it was drawn from. */
interface IChart {
  node: HTMLDivElement;
  count: number;
}

/**
 * The Metrics section of a run page: one chart per scalar series (redrawn only when the series
 * grew), an x-axis choice (step or time), and the table and image series below.
 */
export class MetricCharts {
  /**
   * @param redraw asks the page to read the run again (after the axis changed: the charts are
   *   drawn from the run as last read, with its series' counts)
   */
  constructor(
    runId: string,
    context: IPageContext,
    redraw: () => Promise<void>
  ) {
    this._runId = runId;
    this._context = context;
    const trans = context.trans;
    const metrics = section(trans.__('Metrics'), 'mlws-run-metrics');
    this.node = metrics.node;
    this._axis.title = trans.__('x axis');
    this._axis.append(
      new Option(trans.__('x: step'), 'step'),
      new Option(trans.__('x: time'), 'time')
    );
    this._axis.addEventListener('change', () => {
      // Draws in flight belong to the old axis: they see the generation change and stop.
      this._generation++;
      purgeCharts(this._charts);
      this._drawn.clear();
      this._charts.replaceChildren();
      void redraw();
    });
    this._records = new RunRecords(runId);
    metrics.body.append(
      this._axis,
      this._errors,
      this._charts,
      this._records.node
    );
  }

  readonly node: HTMLElement;

  /** Say what went wrong while reading the run's metrics. */
  showError(message: string): void {
    this._errors.textContent = message;
  }

  /** Draw the series that are new or grew since the last call. */
  async update(run: RunDetail): Promise<void> {
    const trans = this._context.trans;
    const generation = this._generation;
    const stale = () => this._disposed || generation !== this._generation;
    const scalars = run.series.filter(s => s.kind === 'scalar');
    this.node.hidden = run.series.length === 0;
    this._axis.hidden = scalars.length === 0;
    const axis = this._axis.value as XAxis;
    const errors: string[] = [];
    const Plotly = scalars.length ? await plotly() : null;
    for (const summary of scalars) {
      if (stale() || !Plotly) {
        return;
      }
      const drawn = this._drawn.get(summary.name);
      if (drawn && drawn.count === summary.count) {
        continue;
      }
      let series;
      try {
        series = await getRunMetrics(this._runId, summary.name, MAX_POINTS);
      } catch (reason) {
        errors.push(`${summary.name}: ${errorMessage(reason)}`);
        continue;
      }
      if (stale()) {
        return;
      }
      if (series.kind !== 'scalar') {
        continue;
      }
      const chart = this._chart(summary.name);
      chart.count = summary.count;
      const { x, y } = seriesXY(series.points, axis);
      chart.node.dataset.points = String(series.points.length);
      chart.node.dataset.total = String(series.total);
      const title = series.downsampled
        ? trans.__(
            '%1 (%2 of %3 points, down-sampled)',
            series.name,
            series.points.length,
            series.total
          )
        : series.name;
      const layout = baseLayout(title);
      layout.xaxis = xAxisLayout(axis, trans);
      await Plotly.react(
        chart.node,
        [
          {
            x,
            y,
            type: 'scatter',
            mode: series.points.length > 1 ? 'lines' : 'markers',
            name: series.name,
            connectgaps: false
          }
        ],
        layout,
        PLOT_CONFIG
      );
    }
    this._errors.textContent = errors.join('\n');
    await this._records.update(run);
  }

  /** Stop drawing (the page purges the charts it holds). */
  dispose(): void {
    this._disposed = true;
  }

  /** The chart of a series, made on first use. */
  private _chart(name: string): IChart {
    let chart = this._drawn.get(name);
    if (!chart) {
      const node = el('div', 'jp-mlws-chart');
      node.dataset.testid = 'mlws-metric-chart';
      node.dataset.metric = name;
      this._charts.append(node);
      chart = { node, count: 0 };
      this._drawn.set(name, chart);
    }
    return chart;
  }

  private _runId: string;
  private _context: IPageContext;
  private _axis = el('select', 'jp-mlws-axis');
  private _errors = el('div', 'jp-mlws-status');
  private _charts = el('div', 'jp-mlws-charts');
  private _records: RunRecords;
  private _drawn = new Map<string, IChart>();
  private _generation = 0;
  private _disposed = false;
}
