import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { parseTags, suggestedModelName } from '../chartdata';
import { el, errorMessage } from '../dom';
import { Model, registerModel } from '../request';

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
