import { Dialog, showDialog } from '@jupyterlab/apputils';

import { el, errorMessage } from '../dom';
import { ListSection } from '../listsection';
import type { IPageContext } from '../tokens';
import { deleteSecret, listSecrets, SecretEntry, setSecret } from './api';
import {
  formProblem,
  isReplacement,
  secretNameProblem,
  updatedText
} from './format';

/**
 * How often the section reads the names again besides the change events: a secret set from a
 * notebook or `mlws secrets set` announces nothing, and the "set 4 min ago" texts age.
 */
const SLOW_REFRESH_MS = 15_000;

/**
 * The sidebar's Secrets (issue 21): the workspace vault's secret names, each with when it was last
 * set and a Delete button (confirmed in a dialog), and a form that adds a secret or replaces one's
 * value. Values only ever go to the server: the value box is a password box, emptied once the
 * value is sent, and no route answers a value, so none is ever drawn. What goes wrong (a bad name,
 * an answer of the server) is said in the section, under the form.
 */
export class SecretsSection extends ListSection {
  constructor(context: IPageContext) {
    const trans = context.trans;
    super({
      id: 'secrets',
      rank: 295,
      title: trans.__('Secrets'),
      testid: 'mlws-secrets',
      trans
    });

    this._name = el('input', 'jp-mlws-secret-name');
    this._name.type = 'text';
    this._name.name = 'name';
    this._name.dataset.testid = 'mlws-secret-name';
    this._name.placeholder = trans.__('NAME');
    this._name.autocomplete = 'off';
    this._name.spellcheck = false;
    this._name.title = trans.__('1-127 letters, digits and "-"');
    this._name.setAttribute('aria-label', trans.__('Secret name'));
    this._name.addEventListener('input', () => this._nameChanged());

    this._value = el('input', 'jp-mlws-secret-value');
    this._value.type = 'password';
    this._value.name = 'value';
    this._value.dataset.testid = 'mlws-secret-value';
    this._value.placeholder = trans.__('value');
    // The browser offers to save no password, and fills none in.
    this._value.autocomplete = 'new-password';
    this._value.setAttribute('aria-label', trans.__('Secret value'));

    this._add = el('button', 'jp-mlws-secret-add');
    this._add.type = 'submit';
    this._add.dataset.testid = 'mlws-secret-add';

    this._form = el('form', 'jp-mlws-secret-form');
    this._form.noValidate = true; // the section says what is wrong, in its own words
    this._form.append(this._name, this._value, this._add);
    this._form.addEventListener('submit', event => {
      event.preventDefault();
      void this._submit();
    });

    this._error = el('div', 'jp-mlws-form-errors jp-mlws-secret-error');
    this._error.dataset.testid = 'mlws-secret-error';
    this._error.setAttribute('aria-live', 'polite');
    this._error.hidden = true;

    this.node.append(this._form, this._error);
    this._drawAdd();
    this._timer = window.setInterval(() => {
      if (!document.hidden) {
        void this.refresh();
      }
    }, SLOW_REFRESH_MS);
  }

  async refresh(): Promise<void> {
    // Only the newest read draws: an older answer arriving late must not bring back a deleted name.
    const ticket = ++this._reads;
    try {
      const list = await listSecrets();
      if (ticket !== this._reads || this.isDisposed) {
        return;
      }
      this._names = list.secrets.map(secret => secret.name);
      const now = Date.now();
      this.show(
        list.secrets.map(secret => this._row(secret, now)),
        this.trans.__('No secrets yet')
      );
      this._drawAdd();
    } catch (reason) {
      if (ticket === this._reads) {
        this.status.textContent = this.trans.__(
          'Could not load: %1',
          errorMessage(reason)
        );
      }
    }
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }

  private _row(secret: SecretEntry, now: number): HTMLElement {
    const trans = this.trans;
    const row = el('li', 'jp-mlws-row jp-mlws-secret-row');
    row.dataset.testid = 'mlws-secret-row';
    row.dataset.name = secret.name;
    const when = new Date(secret.updated_time);
    row.title = trans.__('%1: last set %2', secret.name, when.toLocaleString());
    const remove = el('button', 'jp-mlws-secret-delete', trans.__('Delete'));
    remove.type = 'button';
    remove.dataset.testid = 'mlws-secret-delete';
    remove.title = trans.__('Delete the secret %1', secret.name);
    remove.setAttribute('aria-label', remove.title);
    remove.addEventListener(
      'click',
      () => void this._delete(secret.name, remove)
    );
    row.append(
      el('span', 'jp-mlws-secret-label', secret.name),
      el(
        'span',
        'jp-mlws-status jp-mlws-secret-updated',
        updatedText(secret.updated_time, now, this._tr)
      ),
      remove
    );
    return row;
  }

  /** The submit button says whether the name listed is replaced or a new one added. */
  private _drawAdd(): void {
    const replace = isReplacement(this._name.value.trim(), this._names);
    this._add.textContent = replace
      ? this.trans.__('Replace value')
      : this.trans.__('Add secret');
    this._add.title = replace
      ? this.trans.__('Set a new value for %1', this._name.value.trim())
      : this.trans.__('Add the secret to the workspace vault');
  }

  private _nameChanged(): void {
    const name = this._name.value.trim();
    // A wrong character is said as it is typed; an empty name only when the form is sent.
    const problem = name ? secretNameProblem(name, this._tr) : null;
    this._name.setAttribute('aria-invalid', String(problem !== null));
    this._showError(problem);
    this._drawAdd();
  }

  private async _submit(): Promise<void> {
    const trans = this.trans;
    const name = this._name.value.trim();
    const problem = formProblem(name, this._value.value, this._tr);
    if (problem) {
      this._showError(problem);
      (secretNameProblem(name) ? this._name : this._value).focus();
      return;
    }
    this._setBusy(true);
    try {
      await setSecret(name, this._value.value);
      this._name.value = '';
      this._showError(null);
    } catch (reason) {
      this._showError(
        trans.__('Could not set %1: %2', name, errorMessage(reason))
      );
    } finally {
      // The value leaves the page once sent, whatever the answer.
      this._value.value = '';
      this._setBusy(false);
    }
    await this.refresh();
  }

  private async _delete(
    name: string,
    button: HTMLButtonElement
  ): Promise<void> {
    const trans = this.trans;
    const result = await showDialog({
      title: trans.__('Delete secret'),
      body: trans.__(
        'Delete the secret "%1" from the workspace vault? Code and jobs that read it fail until it is set again.',
        name
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Delete') })
      ]
    });
    if (!result.button.accept) {
      return;
    }
    button.disabled = true; // one delete per click; the refresh below redraws the row or drops it
    try {
      await deleteSecret(name);
      this._showError(null);
    } catch (reason) {
      this._showError(
        trans.__('Could not delete %1: %2', name, errorMessage(reason))
      );
    }
    await this.refresh();
  }

  private _setBusy(busy: boolean): void {
    this._name.disabled = busy;
    this._value.disabled = busy;
    this._add.disabled = busy;
  }

  private _showError(message: string | null): void {
    this._error.textContent = message ?? '';
    this._error.hidden = !message;
  }

  /** `trans.__` bound, for the pure helpers. */
  private get _tr(): (message: string, ...args: unknown[]) => string {
    return this.trans.__.bind(this.trans);
  }

  private _name: HTMLInputElement;
  private _value: HTMLInputElement;
  private _add: HTMLButtonElement;
  private _form: HTMLFormElement;
  private _error: HTMLDivElement;
  private _names: string[] = [];
  private _reads = 0;
  private _timer: number;
}
