import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { formatBytes, parseTags, suggestedModelName } from './chartdata';
import { detailsBlock, downloadLink, el, errorMessage } from './dom';
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
    const none = trans.__('None');
    blocks.append(
      detailsBlock(trans.__('Tags'), version.tags, none),
      detailsBlock(trans.__('Properties'), version.properties, none)
    );
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

/** What the register form holds. */
interface IRegisterInput {
  name: string;
  description: string;
  tags: string;
}

/** Model names as the server takes them (validate_entity_name). */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

/** The register dialog's body: name, description, tags, and what was wrong last time. */
class RegisterForm extends Widget {
  constructor(
    path: string,
    input: IRegisterInput,
    error: string,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlws-submit-form');
    this.node.dataset.testid = 'mlws-register-dialog';
    const field = (text: string, control: HTMLElement) => {
      const label = el('label', 'jp-mlws-field');
      label.append(el('span', '', text), control);
      return label;
    };
    this._name = el('input');
    this._name.name = 'name';
    this._name.value = input.name;
    this._description = el('input');
    this._description.name = 'description';
    this._description.value = input.description;
    this._tags = el('input');
    this._tags.name = 'tags';
    this._tags.value = input.tags;
    this._tags.placeholder = trans.__('key=value, key=value');
    this.node.append(
      el(
        'div',
        'jp-mlws-status',
        trans.__('Register %1 as a new model version', path)
      )
    );
    if (error) {
      const errors = el('div', 'jp-mlws-form-errors', error);
      errors.dataset.testid = 'mlws-register-errors';
      this.node.append(errors);
    }
    this.node.append(
      field(trans.__('Model name'), this._name),
      field(trans.__('Description'), this._description),
      field(trans.__('Tags'), this._tags)
    );
  }

  getValue(): IRegisterInput {
    return {
      name: this._name.value.trim(),
      description: this._description.value.trim(),
      tags: this._tags.value
    };
  }

  private _name: HTMLInputElement;
  private _description: HTMLInputElement;
  private _tags: HTMLInputElement;
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
  let input: IRegisterInput = {
    name: suggestedModelName(path),
    description: '',
    tags: ''
  };
  let error = '';
  // Wrong input shows the dialog again with the message and what was typed (nothing is sent).
  for (;;) {
    const result = await showDialog<IRegisterInput>({
      title: trans.__('Register Model'),
      body: new RegisterForm(path, input, error, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Register') })
      ],
      focusNodeSelector: 'input[name="name"]'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    input = result.value;
    let tags: Record<string, string>;
    try {
      tags = parseTags(input.tags);
    } catch (reason) {
      error = errorMessage(reason);
      continue;
    }
    if (!MODEL_NAME.test(input.name)) {
      error = trans.__(
        'The model name must be 1-255 letters, digits, "-", "_" or ".", starting with a letter or digit.'
      );
      continue;
    }
    try {
      const version = await registerModel(input.name, {
        run_id: runId,
        path,
        description: input.description || null,
        tags
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
      error = errorMessage(reason); // e.g. the server refused it: say why, keep the input
    }
  }
}
