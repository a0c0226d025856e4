import { showErrorMessage } from '@jupyterlab/apputils';

import { downloadLink, el, errorMessage, statusDot } from '../dom';
import { cancelRun, linkURL, RunDetail, TERMINAL_STATUSES } from '../request';
import { formatDuration } from '../runlistmodel';
import type { IPageContext } from '../tokens';
import { elapsedSeconds } from './model';
import {
  openPipelineRun,
  PIPELINE_RUN_TYPE,
  STEP_RUN_SOURCE
} from '../pipelines/open';
import { followNotebookLink, INotebookLink, notebookLinks } from './notebook';
import { openRun } from './open';

/**
 * The top of a run page: name, status, Cancel (while active), snapshot download, a link to the
 * parent, and the run's facts (ids, experiment, compute, times, and the notebook — and cell — it
 * came from, as links that open them).
 */
export class RunHeader {
  /**
   * @param changed called after a cancel request, so that the page reads the run again
   */
  constructor(
    runId: string,
    context: IPageContext,
    changed: () => Promise<void>
  ) {
    this._runId = runId;
    this._context = context;
    this._changed = changed;
  }

  readonly node = el('header', 'jp-mlws-page-header');

  /** Say why the run could not be read (in place of the header while it never was). */
  showError(message: string): void {
    if (this._drawn) {
      this._status.textContent = message;
    } else {
      this.node.replaceChildren(el('div', 'jp-mlws-status', message));
    }
  }

  update(run: RunDetail): void {
    const trans = this._context.trans;
    const status = el('span', 'jp-mlws-page-status');
    status.append(statusDot(run.status), el('span', '', run.status));
    const facts = el('dl', 'jp-mlws-facts');
    for (const [name, value] of this._facts(run)) {
      if (value) {
        facts.append(el('dt', '', name), el('dd', '', value));
      }
    }
    const { notebook, submittedFrom } = notebookLinks(run.properties);
    if (notebook) {
      facts.append(
        el('dt', '', trans.__('Notebook')),
        this._notebookLink(notebook, 'mlws-run-notebook-link')
      );
    }
    if (submittedFrom) {
      facts.append(
        el('dt', '', trans.__('Submitted from')),
        this._notebookLink(submittedFrom, 'mlws-run-submitted-from-link')
      );
    }
    const actions = el('div', 'jp-mlws-actions');
    if (!TERMINAL_STATUSES.has(run.status)) {
      const cancel = el(
        'button',
        'jp-mod-styled jp-mod-warn',
        trans.__('Cancel')
      );
      cancel.dataset.testid = 'mlws-run-cancel';
      cancel.disabled = run.status === 'CancelRequested' || this._cancelling;
      cancel.addEventListener('click', () => void this._cancel(cancel));
      actions.append(cancel);
    }
    if (run.snapshot_id) {
      const snapshot = downloadLink(
        linkURL(`runs/${encodeURIComponent(run.id)}/snapshot`),
        trans.__('Download snapshot')
      );
      snapshot.dataset.testid = 'mlws-snapshot-download';
      actions.append(snapshot);
    }
    const parentId = run.parent_run_id;
    if (parentId) {
      const parent = el('button', 'jp-mod-styled', trans.__('Open parent'));
      parent.addEventListener('click', () => openRun(this._context, parentId));
      actions.append(parent);
    }
    // A pipeline run (or one of its steps) links to the pipeline's graph.
    const pipelineId =
      run.run_type === PIPELINE_RUN_TYPE
        ? run.id
        : run.properties['azureml.runsource'] === STEP_RUN_SOURCE
          ? parentId
          : null;
    if (pipelineId) {
      const graph = el('button', 'jp-mod-styled', trans.__('Open graph'));
      graph.dataset.testid = 'mlws-open-pipeline-graph';
      graph.title = trans.__('Show the steps of pipeline run %1', pipelineId);
      graph.addEventListener('click', () =>
        openPipelineRun(this._context, pipelineId)
      );
      actions.append(graph);
    }
    this._status = el('div', 'jp-mlws-status');
    this._drawn = true;
    this.node.replaceChildren(
      el('h2', '', run.display_name || run.id),
      status,
      actions,
      this._status,
      facts
    );
  }

  private _facts(run: RunDetail): Array<[string, string]> {
    const trans = this._context.trans;
    const time = (value: string | null | undefined) =>
      value ? new Date(value).toLocaleString() : '';
    const facts: Array<[string, string]> = [
      [trans.__('Run'), `${run.id} (#${run.number})`],
      [trans.__('Experiment'), run.experiment],
      [trans.__('Type'), run.run_type],
      [trans.__('Compute'), run.compute_target ?? ''],
      [trans.__('Created'), time(run.created_time)],
      [trans.__('Started'), time(run.start_time)],
      [trans.__('Ended'), time(run.end_time)],
      [
        trans.__('Duration'),
        run.duration_seconds !== null
          ? formatDuration(run.duration_seconds)
          : run.start_time
            ? trans.__('%1 so far', formatDuration(elapsedSeconds(run)))
            : ''
      ]
    ];
    if (run.parent_run_id) {
      facts.push([trans.__('Parent'), run.parent_run_id]);
    }
    return facts;
  }

  /** A notebook as a link that opens it (at the cell, when one is known); text when Lab cannot open it. */
  private _notebookLink(link: INotebookLink, testid: string): HTMLElement {
    const trans = this._context.trans;
    const where = link.executionCount
      ? trans.__('%1, cell [%2]', link.path, link.executionCount)
      : link.cellId
        ? trans.__('%1, a cell', link.path)
        : link.path;
    const dd = el('dd');
    if (!link.labPath) {
      dd.textContent = where;
      dd.title = trans.__(
        'outside the Jupyter server root: open it from its folder'
      );
      return dd;
    }
    const anchor = el('a', 'jp-mlws-link', where);
    anchor.href = '#';
    anchor.dataset.testid = testid;
    anchor.dataset.path = link.labPath;
    if (link.cellId) {
      anchor.dataset.cellId = link.cellId;
    }
    anchor.title = link.cellId
      ? trans.__('Open %1 at the cell that started this run', link.labPath)
      : trans.__('Open %1', link.labPath);
    anchor.addEventListener('click', event => {
      event.preventDefault();
      followNotebookLink(link).catch(reason =>
        showErrorMessage(
          trans.__('Could not open %1', link.path),
          errorMessage(reason)
        )
      );
    });
    dd.append(anchor);
    return dd;
  }

  private async _cancel(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    this._cancelling = true;
    try {
      await cancelRun(this._runId);
    } catch (reason) {
      await showErrorMessage(
        this._context.trans.__('Could not cancel %1', this._runId),
        errorMessage(reason)
      );
    } finally {
      this._cancelling = false;
    }
    await this._changed();
  }

  private _runId: string;
  private _context: IPageContext;
  private _changed: () => Promise<void>;
  private _cancelling = false;
  private _drawn = false;
  private _status = el('div', 'jp-mlws-status');
}

/** A failed or canceled run's error: message, reason, exit code, traceback and the log's end. */
export class RunErrorBanner {
  constructor(context: IPageContext) {
    this._context = context;
    this.node.dataset.testid = 'mlws-run-error';
    this.node.hidden = true;
  }

  readonly node = el('div', 'jp-mlws-run-error');

  update(run: RunDetail): void {
    const error = run.error;
    this.node.hidden = !error;
    if (!error) {
      return;
    }
    const trans = this._context.trans;
    const parts: HTMLElement[] = [
      el(
        'strong',
        '',
        run.status === 'Canceled' ? trans.__('Canceled') : trans.__('Failed')
      ),
      el('div', 'jp-mlws-error-message', error.message)
    ];
    const facts: string[] = [];
    if (error.reason) {
      facts.push(trans.__('reason: %1', error.reason));
    }
    if (error.exit_code !== undefined && error.exit_code !== null) {
      facts.push(trans.__('exit code: %1', error.exit_code));
    }
    if (error.cell_index !== undefined) {
      facts.push(trans.__('notebook cell: %1', error.cell_index));
    }
    if (facts.length) {
      parts.push(el('div', 'jp-mlws-status', facts.join(' · ')));
    }
    if (error.traceback) {
      parts.push(el('pre', 'jp-mlws-traceback', error.traceback));
    }
    if (error.log_tail) {
      parts.push(
        el('div', 'jp-mlws-status', trans.__('End of the log:')),
        el('pre', 'jp-mlws-traceback', error.log_tail)
      );
    }
    this.node.replaceChildren(...parts);
  }

  private _context: IPageContext;
}
