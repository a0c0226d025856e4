import { MAX_POINTS } from '../chartdata';
import { el, errorMessage } from '../dom';
import {
  getRunMetrics,
  linkURL,
  RecordMetricSeries,
  RunDetail,
  runFilePath
} from '../request';
import { formatMetric } from '../runlistmodel';

/** The most rows of a logged table a run page shows. */
const MAX_TABLE_ROWS = 200;

/** A run's table and image series (`log_table`, `log_row`, `log_image`), below its charts. */
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
    for (const summary of records) {
      try {
        const series = (await getRunMetrics(
          this._runId,
          summary.name,
          MAX_POINTS
        )) as RecordMetricSeries;
        blocks.push(this._record(series));
      } catch (reason) {
        blocks.push(el('div', 'jp-mlws-status', errorMessage(reason)));
      }
    }
    this.node.replaceChildren(...blocks);
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
