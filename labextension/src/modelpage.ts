import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { formatBytes, parseTags, suggestedModelName } from './chartdata';
import { downloadLink, el, errorMessage, keyValueTable } from './dom';
import { IWorkspaceEvent, WorkspaceEvents } from './events';
import {
  getModel,
  getModelVersion,
  linkURL,
  Model,
  modelFilePath,
  ModelVersionDetail,
  registerModel
} from './request';
import { IPageContext } from './runpage';

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
    this._status = el('div', 'jp-mlws-status');
    this._versions = el('div', 'jp-mlws-versions');
    const header = el('header', 'jp-mlws-page-header');
    header.append(el('h2', '', name), this._status);
    this.node.append(header, this._versions);
    context.events.received.connect(this._onEvent, this);
  }

  readonly modelName: string;

  async refresh(): Promise<void> {
    const trans = this._context.trans;
    let versions: ModelVersionDetail[];
    try {
      const model = await getModel(this.modelName);
      versions = await Promise.all(
        model.versions.map(v => getModelVersion(this.modelName, v.version))
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
      this._versions.replaceChildren(...versions.map(v => this._version(v)));
    }
  }

  dispose(): void {
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

  private _version(version: ModelVersionDetail): HTMLElement {
    const trans = this._context.trans;
    const node = el('section', 'jp-mlws-page-section jp-mlws-model-version');
    node.dataset.testid = 'mlws-model-version';
    node.dataset.version = String(version.version);
    const title = el('h3', '', trans.__('Version %1', version.version));
    for (const alias of version.aliases) {
      title.append(el('span', 'jp-mlws-alias', alias));
    }
    node.append(title);
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
    if (version.run_id) {
      const run = el('dd', 'jp-mlws-link', version.run_id);
      run.dataset.testid = 'mlws-model-run';
      run.addEventListener('click', () =>
        this._context.openRun(version.run_id as string)
      );
      facts.append(el('dt', '', trans.__('From run')), run);
    }
    node.append(facts);
    const blocks = el('div', 'jp-mlws-details');
    for (const [label, entries] of [
      [trans.__('Tags'), version.tags],
      [trans.__('Properties'), version.properties]
    ] as const) {
      const block = el('div', 'jp-mlws-details-block');
      block.append(
        el('h4', '', label),
        keyValueTable(entries, trans.__('None'))
      );
      blocks.append(block);
    }
    node.append(blocks);
    const files = el('table', 'jp-mlws-files');
    for (const file of version.files) {
      const row = files.insertRow();
      row.className = 'jp-mlws-model-file-row';
      const actions = el('td');
      actions.append(
        downloadLink(
          linkURL(modelFilePath(version.name, version.version, file.path), {
            download: 'true'
          }),
          trans.__('Download')
        )
      );
      row.append(
        el('td', '', file.path),
        el('td', 'jp-mlws-size', formatBytes(file.size)),
        actions
      );
    }
    node.append(el('h4', '', trans.__('Files')), files);
    return node;
  }

  private _context: IPageContext;
  private _status: HTMLDivElement;
  private _versions: HTMLDivElement;
}

/** The register dialog's body: name, description, tags. */
class RegisterForm extends Widget {
  constructor(path: string, trans: TranslationBundle) {
    super();
    this.addClass('jp-mlws-submit-form');
    this.node.dataset.testid = 'mlws-register-dialog';
    const field = (text: string, control: HTMLElement) => {
      const label = el('label', 'jp-mlws-field');
      label.append(el('span', '', text), control);
      return label;
    };
    this.name = el('input');
    this.name.name = 'name';
    this.name.value = suggestedModelName(path);
    this.description = el('input');
    this.description.name = 'description';
    this.tags = el('input');
    this.tags.name = 'tags';
    this.tags.placeholder = trans.__('key=value, key=value');
    this.node.append(
      el(
        'div',
        'jp-mlws-status',
        trans.__('Register %1 as a new model version', path)
      ),
      field(trans.__('Model name'), this.name),
      field(trans.__('Description'), this.description),
      field(trans.__('Tags'), this.tags)
    );
  }

  readonly name: HTMLInputElement;
  readonly description: HTMLInputElement;
  readonly tags: HTMLInputElement;
}

/**
 * Ask for a name (and tags) and register a run's file or folder as a new model version; tell the
 * user how it went. Returns the new version, or null when canceled.
 */
export async function registerFromRun(
  runId: string,
  path: string,
  trans: TranslationBundle,
  openModel: (name: string) => void
): Promise<Model | null> {
  const form = new RegisterForm(path, trans);
  const result = await showDialog({
    title: trans.__('Register Model'),
    body: form,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Register') })
    ],
    focusNodeSelector: 'input[name="name"]'
  });
  if (!result.button.accept) {
    return null;
  }
  const name = form.name.value.trim();
  try {
    const version = await registerModel(name, {
      run_id: runId,
      path,
      description: form.description.value.trim() || null,
      tags: parseTags(form.tags.value)
    });
    Notification.success(
      trans.__('Registered %1 version %2', version.name, version.version),
      {
        autoClose: 5000,
        actions: [
          {
            label: trans.__('Show model'),
            callback: () => openModel(version.name)
          }
        ]
      }
    );
    return version;
  } catch (reason) {
    Notification.error(
      trans.__('Could not register %1: %2', name || path, errorMessage(reason)),
      { autoClose: false }
    );
    return null;
  }
}
