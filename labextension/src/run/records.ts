import type { Data } from 'plotly.js-dist-min';

import { MAX_POINTS } from '../chartdata';
import { el, errorMessage } from '../dom';
import { baseLayout, PLOT_CONFIG, plotly, purgeCharts } from '../plot';
import {
  getRunMetrics,
  linkURL,
  RecordMetricSeries,
  RunDetail,
  runFilePath
} from '../request';
import { formatMetric } from '../runlistmodel';
import { isV1ChartKind, latestChart, plotText, v1Figure } from '../v1charts';

/** The most rows of a logged table a run page shows. */
const MAX_TABLE_ROWS = 200;

/**
 * A run's series other than numbers, below its charts: text metrics (`run.log("msg", "text")`) in one
 * table, name -> latest value (and every value when several were logged); tables and images
 * (`log_table`, `log_row`, `log_image`); and Azure ML v1's chart metrics (`log_confusion_matrix`,
 * `log_accuracy_table`, `log_residuals`, `log_predictions`) drawn as charts.
 */
export class RunRecords {
  constructor(runId: string) {
    this._runId = runId;
  }

  readonly node = el('div', 'jp-mlws-records');

  /** Draw the series again when one of them changed. */
  async update(run: RunDetail): Promise<void> {
    const records = run.series.filter(s => s.kind !== 'scalar');
    const key = records.map(s => `${s.name}:${s.count}`).join('\n');
    if (key === this._key) {
      return;
    }
    this._key = key;
    const blocks: HTMLElement[] = [];
    const texts: RecordMetricSeries[] = [];
    for (const summary of records) {
      try {
        const series = (await getRunMetrics(
          this._runId,
          summary.name,
          MAX_POINTS
        )) as RecordMetricSeries;
        if (series.kind === 'text') {
          texts.push(series);
        } else if (isV1ChartKind(series.kind)) {
          blocks.push(await this._chart(series));
        } else {
          blocks.push(this._record(series));
        }
      } catch (reason) {
        blocks.push(el('div', 'jp-mlws-status', errorMessage(reason)));
      }
    }
    if (texts.length) {
      blocks.unshift(this._texts(texts));
    }
    purgeCharts(this.node);
    this.node.replaceChildren(...blocks);
  }

  /** The text metrics in one table: name, latest value, and all values when there are several. */
  private _texts(series: RecordMetricSeries[]): HTMLElement {
    const block = el('div', 'jp-mlws-record jp-mlws-text-metrics');
    block.append(el('h4', '', 'Text metrics'));
    const table = el('table', 'jp-mlws-kv');
    for (const one of series) {
      const values = Array.isArray(one.value) ? one.value : [one.value];
      const row = table.insertRow();
      row.dataset.metric = one.name;
      row.append(el('th', '', one.name));
      row.append(el('td', '', String(values[values.length - 1])));
      if (values.length > 1) {
        const all = values.slice(-MAX_TABLE_ROWS).map(String).join(', ');
        row.append(
          el('td', 'jp-mlws-text-history', `(${values.length}: ${all})`)
        );
      }
    }
    block.append(table);
    return block;
  }

  /** A v1 chart metric drawn as its chart (the latest document, when several were logged). */
  private async _chart(series: RecordMetricSeries): Promise<HTMLElement> {
    const block = el('div', 'jp-mlws-record');
    block.dataset.metric = series.name;
    block.dataset.kind = series.kind;
    const chart = latestChart(series.value);
    if (!chart || !isV1ChartKind(series.kind)) {
      block.append(el('h4', '', series.name));
      return block;
    }
    const figure = v1Figure(series.kind, chart);
    const node = el('div', 'jp-mlws-chart');
    node.dataset.metric = series.name;
    block.append(node);
    const Plotly = await plotly();
    const name = plotText(series.name);
    const title =
      series.total > 1
        ? `${name} (${series.kind}, latest of ${series.total})`
        : `${name} (${series.kind})`;
    const layout = baseLayout(title);
    layout.xaxis = {
      title: { text: figure.xTitle },
      ...(figure.categorical ? { type: 'category' as const } : {})
    };
    layout.yaxis = {
      title: { text: figure.yTitle },
      ...(figure.categorical ? { type: 'category' as const } : {}),
      ...(figure.reversedY ? { autorange: 'reversed' as const } : {})
    };
    layout.showlegend = figure.traces.length > 1;
    await Plotly.react(node, figure.traces as Data[], layout, PLOT_CONFIG);
    return block;
  }

  /** A table series as a table, an image series as its images. */
  private _record(series: RecordMetricSeries): HTMLElement {
    const block = el('div', 'jp-mlws-record');
    block.dataset.metric = series.name;
    block.append(el('h4', '', series.name));
    const value = series.value;
    if (series.kind === 'image') {
      for (const name of Array.isArray(value) ? value : [value]) {
        const image = el('img', 'jp-mlws-preview-image');
        image.alt = String(name);
        image.src = linkURL(runFilePath(this._runId, String(name)));
        block.append(image);
      }
      return block;
    }
    const columns = value as Record<string, unknown[]>;
    const names = Object.keys(columns);
    const table = el('table', 'jp-mlws-kv');
    const head = table.createTHead().insertRow();
    for (const name of names) {
      head.append(el('th', '', name));
    }
    const rows = Math.min(
      MAX_TABLE_ROWS,
      ...names.map(name => columns[name].length)
    );
    for (let i = 0; i < rows; i++) {
      const row = table.insertRow();
      for (const name of names) {
        row.append(el('td', '', formatMetric(columns[name][i])));
      }
    }
    block.append(table);
    return block;
  }

  private _runId: string;
  private _key = '';
}
