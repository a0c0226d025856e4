import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { el, errorMessage } from '../dom';
import { backfillMonitor } from './api';
import { backfillDates } from './format';

/** What the backfill form holds. */
interface IBackfillInput {
  start: string;
  end: string;
}

/** The backfill dialog's body: the start and end dates, and what was wrong last time. */
class BackfillForm extends Widget {
  constructor(
    name: string,
    input: IBackfillInput,
    error: string,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlws-submit-form');
    this.node.dataset.testid = 'mlws-drift-backfill-dialog';
    const field = (text: string, control: HTMLElement) => {
      const label = el('label', 'jp-mlws-field');
      label.append(el('span', '', text), control);
      return label;
    };
    for (const [control, key, value] of [
      [this._start, 'start', input.start],
      [this._end, 'end', input.end]
    ] as const) {
      control.type = 'date';
      control.name = key;
      control.value = value;
      control.dataset.testid = `mlws-drift-backfill-${key}`;
    }
    this.node.append(
      el(
        'div',
        'jp-mlws-status',
        trans.__(
          'Check %1 on every interval that starts from the start date (UTC) up to, not including, the end date.',
          name
        )
      )
    );
    if (error) {
      const errors = el('div', 'jp-mlws-form-errors', error);
      errors.dataset.testid = 'mlws-drift-backfill-errors';
      this.node.append(errors);
    }
    this.node.append(
      field(trans.__('Start date'), this._start),
      field(trans.__('End date'), this._end)
    );
  }

  getValue(): IBackfillInput {
    return { start: this._start.value, end: this._end.value };
  }

  private _start = el('input');
  private _end = el('input');
}

/**
 * Ask for a date range and start a backfill of the detector `name` over it (`POST
 * monitors/{name}/backfill`); a notification names the new check's run and opens it. Wrong dates,
 * or a refusal by the server, show the dialog again with the message and what was typed. Returns
 * the run id, or null when canceled.
 */
export async function backfillDialog(
  name: string,
  defaults: IBackfillInput,
  trans: TranslationBundle,
  showRun: (runId: string) => void
): Promise<string | null> {
  let input = defaults;
  let error = '';
  for (;;) {
    const result = await showDialog<IBackfillInput>({
      title: trans.__('Backfill %1', name),
      body: new BackfillForm(name, input, error, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Backfill') })
      ],
      focusNodeSelector: 'input[name="start"]'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    input = result.value;
    const dates = backfillDates(input.start, input.end, trans.__.bind(trans));
    if ('error' in dates) {
      error = dates.error;
      continue;
    }
    try {
      const { run_id } = await backfillMonitor(name, dates);
      Notification.info(
        trans.__('Backfill of %1 started: run %2', name, run_id),
        {
          autoClose: 8000,
          actions: [
            { label: trans.__('Show run'), callback: () => showRun(run_id) }
          ]
        }
      );
      return run_id;
    } catch (reason) {
      error = errorMessage(reason); // e.g. the server refused the range: say why, keep the input
    }
  }
}
