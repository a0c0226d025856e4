import { Widget } from '@lumino/widgets';

import { formatBytes } from '../chartdata';
import { detailsBlock, downloadLink, el, errorMessage } from '../dom';
import { IWorkspaceEvent, WorkspaceEvents } from '../events';
import {
  FileEntry,
  getModel,
  getModelVersion,
  linkURL,
  Model,
  modelFilePath
} from '../request';
import { openRun } from '../run/open';
import type { IPageContext } from '../tokens';

/** Versions whose files are read before the page is drawn; older ones are read when scrolled to. */
const EAGER_VERSIONS = 5;

/**
 * A registered model in the main area: every version (newest first) with its aliases, tags,
 * properties, description, the run that produced it and its files (download links).
 */
export class ModelPage extends Widget {
  constructor(name: string, context: IPageContext) {
    super();
    this.modelName = name;
    this._context = context;
    this.addClass('jp-mlws-page');
    this.node.dataset.testid = 'mlws-model-page';
    this.node.dataset.model = name;
    this.title.label = name;
    const header = el('header', 'jp-mlws-page-header');
    header.append(el('h2', '', name), this._status);
    this.node.append(header, this._versions);
    context.events.received.connect(this._onEvent, this);
  }

  readonly modelName: string;

  /**
   * Read the model again and draw its versions. A version's files never change once registered,
   * so each version's list is read once (a new registration costs one read, not one per version),
   * and only when the version is shown: the newest few before the page is drawn, the others when
   * they scroll into view.
   */
  async refresh(): Promise<void> {
    const trans = this._context.trans;
    let versions: Model[];
    try {
      const model = await getModel(this.modelName);
      versions = model.versions;
      await Promise.all(
        versions.slice(0, EAGER_VERSIONS).map(v => this._filesOf(v.version))
      );
      this._status.textContent = trans.__(
        '%1 versions, latest %2',
        model.versions.length,
        model.latest_version
      );
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
      return;
    }
    if (!this.isDisposed) {
      this._pendingFiles.clear();
      this._observer.disconnect();
      this._versions.replaceChildren(...versions.map(v => this._version(v)));
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._observer.disconnect();
    this._context.events.received.disconnect(this._onEvent, this);
    super.dispose();
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    if (
      event.kind === 'model.version.created' &&
      event.data.name === this.modelName
    ) {
      void this.refresh();
    }
  }

  /** A version's files, read on first use. */
  private _filesOf(version: number): Promise<FileEntry[]> {
    let files = this._files.get(version);
    if (!files) {
      files = getModelVersion(this.modelName, version).then(
        detail => detail.files
      );
      // A failed read is tried again on the next refresh.
      files.catch(() => this._files.delete(version));
      this._files.set(version, files);
    }
    return files;
  }

  private _version(version: Model): HTMLElement {
    const trans = this._context.trans;
    const node = el('section', 'jp-mlws-page-section jp-mlws-model-version');
    node.dataset.testid = 'mlws-model-version';
    node.dataset.version = String(version.version);
    const title = el('h3', '', trans.__('Version %1', version.version));
    for (const alias of version.aliases) {
      title.append(el('span', 'jp-mlws-alias', alias));
    }
    const facts = el('dl', 'jp-mlws-facts');
    facts.append(
      el('dt', '', trans.__('Registered')),
      el('dd', '', new Date(version.created_time).toLocaleString())
    );
    if (version.description) {
      facts.append(
        el('dt', '', trans.__('Description')),
        el('dd', '', version.description)
      );
    }
    const runId = version.run_id;
    if (runId) {
      const run = el('dd', 'jp-mlws-link', runId);
      run.dataset.testid = 'mlws-model-run';
      run.addEventListener('click', () => openRun(this._context, runId));
      facts.append(el('dt', '', trans.__('From run')), run);
    }
    const blocks = el('div', 'jp-mlws-details');
    const none = trans.__('None');
    blocks.append(
      detailsBlock(trans.__('Tags'), version.tags, none),
      detailsBlock(trans.__('Properties'), version.properties, none)
    );
    const files = el('table', 'jp-mlws-files');
    const fill = () =>
      void this._filesOf(version.version).then(
        entries =>
          files.replaceChildren(...entries.map(f => this._file(version, f))),
        reason =>
          files.replaceChildren(
            el('caption', 'jp-mlws-status', errorMessage(reason))
          )
      );
    if (this._files.has(version.version)) {
      fill(); // read already (see refresh): this settles at once
    } else {
      files.append(el('caption', 'jp-mlws-status', trans.__('Loading…')));
      this._pendingFiles.set(node, fill);
      this._observer.observe(node);
    }
    node.append(title, facts, blocks, el('h4', '', trans.__('Files')), files);
    return node;
  }

  private _file(version: Model, file: FileEntry): HTMLTableRowElement {
    const row = el('tr', 'jp-mlws-model-file-row');
    const actions = el('td');
    actions.append(
      downloadLink(
        linkURL(modelFilePath(version.name, version.version, file.path), {
          download: 'true'
        }),
        this._context.trans.__('Download')
      )
    );
    row.append(
      el('td', '', file.path),
      el('td', 'jp-mlws-size', formatBytes(file.size)),
      actions
    );
    return row;
  }

  private _context: IPageContext;
  private _status = el('div', 'jp-mlws-status');
  private _versions = el('div', 'jp-mlws-versions');
  private _files = new Map<number, Promise<FileEntry[]>>();
  /** How to fill in the files of each version drawn before its files were read. */
  private _pendingFiles = new Map<Element, () => void>();
  private _observer = new IntersectionObserver(entries => {
    for (const entry of entries) {
      const fill = this._pendingFiles.get(entry.target);
      if (entry.isIntersecting && fill) {
        this._pendingFiles.delete(entry.target);
        this._observer.unobserve(entry.target);
        fill();
      }
    }
  });
}
