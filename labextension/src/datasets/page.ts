import { Widget } from '@lumino/widgets';

import { formatBytes } from '../chartdata';
import { Coalescer } from '../coalesce';
import { detailsBlock, el, errorMessage, section } from '../dom';
import { IWorkspaceEvent, WorkspaceEvents } from '../events';
import { openModel } from '../models/open';
import {
  DatasetDetail,
  DatasetSummary,
  DatasetVersionDetail,
  getDataset,
  getDatasetVersion,
  previewDataset,
  TERMINAL_STATUSES
} from '../request';
import { openRun } from '../run/open';
import type { IPageContext } from '../tokens';
import {
  datasetPageFollows,
  formatCount,
  rowsOrFiles,
  splitModelId
} from './format';
import { VirtualTable } from './table';

/** Rows of the preview (the API's maximum: the table draws only those in view). */
const PREVIEW_ROWS = 1000;

/**
 * A registered dataset in the main area: its versions (a selector switches between them), and of
 * the chosen version the facts (digest, source, size, rows), a preview of the first rows, the
 * schema, the lineage (runs that used it, models registered with it, each opening its page) and
 * the files of its manifest.
 */
export class DatasetPage extends Widget {
  constructor(name: string, version: number | null, context: IPageContext) {
    super();
    this.datasetName = name;
    this._version = version;
    this._context = context;
    const trans = context.trans;
    this.addClass('jp-mlws-page');
    this.addClass('jp-mlws-dataset-page');
    this.node.dataset.testid = 'mlws-dataset-page';
    this.node.dataset.dataset = name;
    this.title.label = name;
    this.title.caption = trans.__('Dataset %1', name);

    this._select.dataset.testid = 'mlws-dataset-versions';
    this._select.addEventListener('change', () => {
      this._version = Number(this._select.value);
      void this.refresh();
    });
    const header = el('header', 'jp-mlws-page-header');
    const picker = el('label', 'jp-mlws-dataset-picker', trans.__('Version '));
    picker.append(this._select);
    header.append(el('h2', '', name), picker, this._status);

    const preview = section(
      trans.__('Preview'),
      'mlws-dataset-preview-section'
    );
    preview.body.append(this._previewStatus, this._preview.node);
    const schema = section(trans.__('Schema'), 'mlws-dataset-schema');
    this._schema = schema.body;
    const lineage = section(trans.__('Lineage'), 'mlws-dataset-lineage');
    this._lineage = lineage.body;
    const files = section(trans.__('Files'), 'mlws-dataset-files');
    files.body.append(this._filesStatus, this._files.node);
    this.node.append(
      header,
      this._facts,
      preview.node,
      schema.node,
      lineage.node,
      files.node
    );
    context.events.received.connect(this._onEvent, this);
  }

  readonly datasetName: string;

  /** The version shown: a number the user chose, or null for the latest (following new ones). */
  get version(): number | null {
    return this._version;
  }

  /** The version as last drawn. */
  get detail(): DatasetVersionDetail | null {
    return this._detail;
  }

  /**
   * Read the dataset and the chosen version again and redraw. Calls while one is in flight
   * (switching versions quickly, events) fold into one more pass after it.
   */
  refresh(): Promise<void> {
    this._previewWanted = true;
    return this._refresher.run();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._context.events.received.disconnect(this._onEvent, this);
    this._preview.dispose();
    this._files.dispose();
    super.dispose();
  }

  private async _refreshOnce(): Promise<void> {
    const trans = this._context.trans;
    let dataset: DatasetDetail;
    let detail: DatasetVersionDetail;
    const wanted = this._version;
    try {
      dataset = await getDataset(this.datasetName);
      const latest = dataset.versions[dataset.versions.length - 1];
      detail = await getDatasetVersion(
        this.datasetName,
        wanted ?? latest?.version ?? 'latest'
      );
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
      return;
    }
    if (this.isDisposed || wanted !== this._version) {
      return; // another version was chosen meanwhile: the next pass draws it
    }
    this._detail = detail;
    this.node.dataset.version = String(detail.version);
    this.title.label = `${this.datasetName} v${detail.version}`;
    this._status.textContent = trans.__(
      '%1 dataset, %2 versions',
      dataset.kind,
      dataset.versions.length
    );
    this._drawVersions(dataset.versions, detail.version);
    this._drawFacts(detail);
    this._drawSchema(detail);
    this._drawLineage(detail);
    this._drawFiles(detail);
    // The preview reads the version's files: only when asked (opening, reopening, another version),
    // not for every event that may have added lineage.
    if (this._previewWanted || detail.id !== this._previewId) {
      this._previewWanted = false;
      await this._drawPreview(detail);
    }
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    // A new version of this dataset (the selector lists it; a page following the latest shows it,
    // preview included), or new lineage. Cheap otherwise: the version is read again, its preview
    // rows are not.
    if (datasetPageFollows(event, this.datasetName, TERMINAL_STATUSES)) {
      void this._refresher.run();
    }
  }

  private _drawVersions(versions: DatasetSummary[], shown: number): void {
    const options = [...versions].reverse().map(v => {
      const option = el(
        'option',
        '',
        `v${v.version} \u00b7 ${new Date(v.created_time).toLocaleString()} \u00b7 ${v.digest.slice(0, 12)}`
      );
      option.value = String(v.version);
      option.selected = v.version === shown;
      return option;
    });
    this._select.replaceChildren(...options);
    this._select.value = String(shown);
  }

  private _drawFacts(detail: DatasetVersionDetail): void {
    const trans = this._context.trans;
    const facts: [string, string][] = [
      [trans.__('Kind'), detail.kind],
      [trans.__('Version'), String(detail.version)],
      [trans.__('Registered'), new Date(detail.created_time).toLocaleString()],
      [trans.__('Source'), detail.source],
      [trans.__('Contents'), rowsOrFiles(detail, trans)],
      [
        trans.__('Size'),
        trans.__(
          '%1 in %2 files',
          formatBytes(detail.total_size),
          formatCount(detail.file_count)
        )
      ],
      [trans.__('Digest'), `sha256:${detail.digest}`],
      [trans.__('Id'), detail.id]
    ];
    if (detail.description) {
      facts.push([trans.__('Description'), detail.description]);
    }
    const list = el('dl', 'jp-mlws-facts');
    for (const [term, value] of facts) {
      const dd = el('dd', '', value);
      if (term === trans.__('Digest')) {
        dd.dataset.testid = 'mlws-dataset-digest';
      }
      list.append(el('dt', '', term), dd);
    }
    const tags = el('div', 'jp-mlws-details');
    tags.append(detailsBlock(trans.__('Tags'), detail.tags, trans.__('None')));
    this._facts.replaceChildren(list, tags);
  }

  private _drawSchema(detail: DatasetVersionDetail): void {
    const trans = this._context.trans;
    if (!detail.schema) {
      this._schema.replaceChildren(
        el(
          'div',
          'jp-mlws-status',
          trans.__('A file dataset: files, no columns.')
        )
      );
      return;
    }
    const table = el('table', 'jp-mlws-kv');
    for (const column of detail.schema) {
      const row = table.insertRow();
      row.dataset.testid = 'mlws-dataset-column';
      row.append(el('th', '', column.name), el('td', '', column.type));
    }
    this._schema.replaceChildren(table);
  }

  private _drawLineage(detail: DatasetVersionDetail): void {
    const trans = this._context.trans;
    const runs = detail.lineage.runs.map(runId => {
      const link = el('li', 'jp-mlws-link', runId);
      link.dataset.testid = 'mlws-lineage-run';
      link.dataset.runId = runId;
      link.title = trans.__('Open run %1', runId);
      link.addEventListener('click', () => openRun(this._context, runId));
      return link;
    });
    const models = detail.lineage.models.map(id => {
      const { name, version } = splitModelId(id);
      const link = el('li', 'jp-mlws-link', id);
      link.dataset.testid = 'mlws-lineage-model';
      link.dataset.model = name;
      link.dataset.version = version;
      link.title = trans.__('Open model %1', name);
      link.addEventListener('click', () => openModel(this._context, name));
      return link;
    });
    const block = (title: string, items: HTMLElement[], none: string) => {
      const node = el('div', 'jp-mlws-details-block');
      const list = el('ul', 'jp-mlws-lineage-list');
      list.append(...items);
      node.append(
        el('h4', '', title),
        items.length ? list : el('div', 'jp-mlws-status', none)
      );
      return node;
    };
    this._lineage.classList.add('jp-mlws-details');
    this._lineage.replaceChildren(
      block(
        trans.__('Runs that used this version'),
        runs,
        trans.__('No run yet')
      ),
      block(
        trans.__('Models registered with it'),
        models,
        trans.__('No model yet')
      )
    );
  }

  private _drawFiles(detail: DatasetVersionDetail): void {
    const trans = this._context.trans;
    const manifest = detail.manifest;
    this._filesStatus.textContent = manifest.truncated
      ? trans.__(
          'The first %1 of %2 files',
          formatCount(manifest.files.length),
          formatCount(manifest.file_count)
        )
      : '';
    this._files.setData(
      [
        { name: trans.__('path'), type: 'string' },
        { name: trans.__('size'), type: 'bytes' },
        { name: 'sha256', type: 'string' }
      ],
      manifest.files.map(f => [f.path, formatBytes(f.size), f.sha256])
    );
  }

  private async _drawPreview(detail: DatasetVersionDetail): Promise<void> {
    const trans = this._context.trans;
    this._previewStatus.textContent = trans.__('Loading…');
    try {
      const preview = await previewDataset(
        this.datasetName,
        detail.version,
        PREVIEW_ROWS
      );
      if (this.isDisposed || this._detail !== detail) {
        return;
      }
      this._preview.setData(preview.columns, preview.rows);
      this._previewId = detail.id;
      this._previewStatus.textContent =
        preview.total_rows !== null && preview.total_rows > preview.rows.length
          ? trans.__(
              'The first %1 of %2 rows',
              formatCount(preview.rows.length),
              formatCount(preview.total_rows)
            )
          : trans.__('%1 rows', formatCount(preview.rows.length));
    } catch (reason) {
      // A version whose files changed since registration says so here (and shows no other data).
      this._preview.setData([], []);
      this._previewId = null;
      this._previewStatus.textContent = errorMessage(reason);
    }
  }

  private _context: IPageContext;
  private _version: number | null;
  private _detail: DatasetVersionDetail | null = null;
  /** The version (id) whose rows the preview shows, and whether to read them again anyway. */
  private _previewId: string | null = null;
  private _previewWanted = true;
  private _refresher = new Coalescer(() => this._refreshOnce(), {
    stopped: () => this.isDisposed
  });
  private _status = el('div', 'jp-mlws-status');
  private _select = el('select', 'jp-mlws-select');
  private _facts = el('div', 'jp-mlws-dataset-facts');
  private _schema: HTMLDivElement;
  private _lineage: HTMLDivElement;
  private _preview = new VirtualTable(
    'mlws-dataset-preview',
    'mlws-dataset-preview-row'
  );
  private _previewStatus = el('div', 'jp-mlws-status');
  private _files = new VirtualTable(
    'mlws-dataset-manifest',
    'mlws-dataset-file-row'
  );
  private _filesStatus = el('div', 'jp-mlws-status');
}
