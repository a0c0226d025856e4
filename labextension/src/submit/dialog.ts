import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { el, errorMessage } from '../dom';
import {
  getRun,
  getWorkspace,
  listEnvironments,
  RunDetail,
  submit,
  SubmissionRequest,
  TERMINAL_STATUSES
} from '../request';
import {
  coerceValue,
  IParameterField,
  parametersCellSource,
  parseParameters
} from './params';

const POLL_MS = 2000;

/** What the form holds when the user presses Submit. */
interface ISubmitValue {
  request: SubmissionRequest | null;
  errors: string[];
  inputs: Record<string, string>;
}

/** The dialog's body: experiment, compute target, environment, and one typed field per parameter. */
class SubmitForm extends Widget {
  constructor(
    fields: IParameterField[],
    options: {
      notebook: string;
      experiment: string;
      computes: string[];
      defaultCompute: string;
      environments: string[];
      inputs: Record<string, string>;
      errors: string[];
    },
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlws-submit-form');
    this.node.dataset.testid = 'mlws-submit-dialog';
    this._fields = fields;
    this._notebook = options.notebook;
    const inputs = options.inputs;
    const label = (text: string, control: HTMLElement) => {
      const wrapper = el('label', 'jp-mlws-field');
      wrapper.append(el('span', '', text), control);
      return wrapper;
    };
    this._experiment.name = 'experiment';
    this._experiment.value = inputs['@experiment'] ?? options.experiment;
    this._experiment.placeholder = trans.__('(the folder\u2019s name)');
    this._compute.name = 'compute_target';
    for (const name of options.computes) {
      this._compute.append(new Option(name, name));
    }
    this._compute.value = inputs['@compute'] ?? options.defaultCompute;
    this._environment.name = 'environment';
    this._environment.append(
      new Option(trans.__('(this server\u2019s Python)'), '')
    );
    for (const name of options.environments) {
      this._environment.append(new Option(name, name));
    }
    this._environment.value = inputs['@environment'] ?? '';
    if (options.errors.length) {
      const errors = el(
        'div',
        'jp-mlws-form-errors',
        options.errors.join('; ')
      );
      errors.dataset.testid = 'mlws-submit-errors';
      this.node.append(errors);
    }
    this.node.append(
      label(trans.__('Experiment'), this._experiment),
      label(trans.__('Compute target'), this._compute),
      label(trans.__('Environment'), this._environment)
    );
    if (fields.length) {
      this.node.append(el('h4', '', trans.__('Parameters')));
    }
    for (const field of fields) {
      const input = el('input');
      input.name = `param-${field.name}`;
      input.dataset.type = field.type;
      input.type =
        field.type === 'int' || field.type === 'float' ? 'text' : 'text';
      input.value =
        inputs[field.name] ??
        (field.type === 'str' ? String(field.value) : field.source);
      input.title = trans.__('default: %1 (%2)', field.source, field.type);
      this._inputs.set(field.name, input);
      this.node.append(label(`${field.name} (${field.type})`, input));
    }
  }

  getValue(): ISubmitValue {
    const inputs: Record<string, string> = {
      '@experiment': this._experiment.value,
      '@compute': this._compute.value,
      '@environment': this._environment.value
    };
    const parameters: Record<string, unknown> = {};
    const errors: string[] = [];
    for (const field of this._fields) {
      const text = this._inputs.get(field.name)!.value;
      inputs[field.name] = text;
      const coerced = coerceValue(field, text);
      if (coerced.ok) {
        parameters[field.name] = coerced.value;
      } else {
        errors.push(coerced.error);
      }
    }
    const request: SubmissionRequest = {
      notebook: this._notebook,
      // Left empty, the server names it after the notebook's folder.
      ...(this._experiment.value.trim()
        ? { experiment: this._experiment.value.trim() }
        : {}),
      compute_target: this._compute.value,
      environment: this._environment.value || null,
      parameters
    };
    return { request: errors.length ? null : request, errors, inputs };
  }

  private _fields: IParameterField[];
  private _notebook: string;
  private _experiment = el('input');
  private _compute = el('select');
  private _environment = el('select');
  private _inputs = new Map<string, HTMLInputElement>();
}

/** The folder name of a path (the default experiment); empty for the server root. */
function folderName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts.length > 1 ? parts[parts.length - 2] : '';
}

/**
 * Ask for the submission's settings (refusing invalid parameter values in the dialog), submit the
 * notebook through the server's `submissions` route, and report the run's end in a notification.
 */
export async function submitNotebook(
  path: string,
  notebook: { cells?: ReadonlyArray<Record<string, unknown>> },
  trans: TranslationBundle,
  onSubmitted: (run: RunDetail) => void
): Promise<RunDetail | null> {
  const workspace = await getWorkspace();
  if (!workspace.capabilities.includes('notebook-jobs')) {
    await showDialog({
      title: trans.__('Submit notebook as job'),
      body: trans.__('This server does not run notebooks as jobs.'),
      buttons: [Dialog.okButton()]
    });
    return null;
  }
  const environments = await listEnvironments();
  const source = parametersCellSource(notebook as never);
  const fields = source === null ? [] : parseParameters(source);
  let inputs: Record<string, string> = {};
  let errors: string[] = [];
  for (;;) {
    const form = new SubmitForm(
      fields,
      {
        notebook: path,
        experiment: folderName(path),
        computes: workspace.compute_targets.map(t => t.name),
        defaultCompute: workspace.default_compute_target,
        environments: environments.items.map(e => `${e.name}:${e.version}`),
        inputs,
        errors
      },
      trans
    );
    const result = await showDialog<ISubmitValue>({
      title: trans.__('Submit %1 as a job', path.split('/').pop() ?? path),
      body: form,
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: trans.__('Submit') })
      ]
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    inputs = result.value.inputs;
    errors = result.value.errors;
    if (!result.value.request) {
      continue; // shown again, with what was wrong
    }
    try {
      const run = await submit(result.value.request);
      onSubmitted(run);
      follow(run, trans, onSubmitted);
      return run;
    } catch (reason) {
      errors = [errorMessage(reason)];
    }
  }
}

/** A notification that says when the run ends, and how. */
function follow(
  run: RunDetail,
  trans: TranslationBundle,
  show: (run: RunDetail) => void
): void {
  const label = run.display_name || run.id;
  const id = Notification.emit(
    trans.__('Run %1 submitted to %2', label, run.compute_target ?? ''),
    'in-progress',
    { autoClose: false }
  );
  const poll = async (): Promise<void> => {
    let current: RunDetail;
    try {
      current = await getRun(run.id);
    } catch {
      window.setTimeout(poll, POLL_MS * 2);
      return;
    }
    if (!TERMINAL_STATUSES.has(current.status)) {
      window.setTimeout(poll, POLL_MS);
      return;
    }
    const failed = current.status !== 'Completed';
    const message = failed
      ? trans.__(
          'Run %1 %2: %3',
          label,
          current.status,
          String((current.error as { message?: string } | null)?.message ?? '')
        )
      : trans.__('Run %1 completed', label);
    Notification.update({
      id,
      message,
      type: failed ? 'error' : 'success',
      autoClose: false,
      actions: [{ label: trans.__('Show run'), callback: () => show(current) }]
    });
  };
  window.setTimeout(poll, POLL_MS);
}
