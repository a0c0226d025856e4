import { formatBytes } from '../chartdata';
import { downloadLink, el, errorMessage, section } from '../dom';
import { disposePreview, renderPreview } from '../preview';
import { FileEntry, linkURL, listRunFiles, runFilePath } from '../request';
import type { IPageContext } from '../tokens';

/**
 * The Files section of a run page: every file with its size, a preview (text, image, notebook)
 * and a download link. A row's right-click menu registers the file as a model (the models plugin
 * adds that item for `.jp-mlws-file-row`, reading the row's data-run-id and data-path).
 */
export class RunFiles {
  constructor(runId: string, context: IPageContext) {
    this._runId = runId;
    this._context = context;
    const files = section(context.trans.__('Files'), 'mlws-run-files');
    this.node = files.node;
    this._preview.dataset.testid = 'mlws-file-preview';
    files.body.append(this._status, this._table, this._preview);
  }

  readonly node: HTMLElement;

  /** Read the list again; redraw it when a file came or grew. */
  async update(): Promise<void> {
    const trans = this._context.trans;
    let files: FileEntry[];
    try {
      files = (await listRunFiles(this._runId)).items;
    } catch (reason) {
      this._key = null; // draw the list again once it can be read
      this._table.replaceChildren();
      this._status.textContent = errorMessage(reason);
      return;
    }
    const key = files.map(f => `${f.path}:${f.size}`).join('\n');
    if (key === this._key) {
      return;
    }
    this._key = key;
    this._table.replaceChildren(...files.map(file => this._row(file)));
    this._status.textContent = files.length ? '' : trans.__('No files');
  }

  /** Release the preview's renderers. */
  dispose(): void {
    disposePreview(this._preview);
  }

  private _row(file: FileEntry): HTMLTableRowElement {
    const trans = this._context.trans;
    const row = el('tr', 'jp-mlws-file-row');
    row.dataset.testid = 'mlws-file-row';
    row.dataset.path = file.path;
    row.dataset.runId = this._runId;
    row.title = trans.__('Right-click to register as a model');
    const name = el('td', 'jp-mlws-link', file.path);
    name.addEventListener('click', () => void this._showPreview(file));
    const preview = el('button', 'jp-mod-styled', trans.__('Preview'));
    preview.addEventListener('click', () => void this._showPreview(file));
    const actions = el('td');
    actions.append(
      preview,
      downloadLink(
        linkURL(runFilePath(this._runId, file.path), { download: 'true' }),
        trans.__('Download')
      )
    );
    row.append(name, el('td', 'jp-mlws-size', formatBytes(file.size)), actions);
    return row;
  }

  private _showPreview(file: FileEntry): Promise<void> {
    return renderPreview(
      this._preview,
      runFilePath(this._runId, file.path),
      file.path,
      file.size,
      this._context.trans,
      this._context.rendermime
    );
  }

  private _runId: string;
  private _context: IPageContext;
  private _status = el('div', 'jp-mlws-status');
  private _table = el('table', 'jp-mlws-files');
  private _preview = el('div', 'jp-mlws-preview');
  private _key: string | null = null;
}
