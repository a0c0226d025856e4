import { el, statusDot } from '../dom';
import { ListSection } from '../listsection';
import type { IPageContext } from '../tokens';
import { listPipelineRuns, PipelineRun } from './api';
import { completedFraction, stepSummary } from './format';
import { openPipelineRun } from './open';

/** How many recent pipeline runs the section lists. */
const RECENT = 20;

/**
 * The sidebar's Pipelines: the recent pipeline runs, newest first, each with its status, name and
 * how many of its steps completed; a row opens the run's graph. Kept live like every section: the
 * sidebar refreshes it on change events (a new pipeline run, a step or a run changing status).
 */
export class PipelinesSection extends ListSection {
  constructor(context: IPageContext) {
    super({
      id: 'pipelines',
      rank: 260,
      title: context.trans.__('Pipelines'),
      testid: 'mlws-pipelines',
      trans: context.trans
    });
    this._context = context;
  }

  refresh(): Promise<void> {
    return this.load(
      () => listPipelineRuns(RECENT),
      run => this._run(run)
    );
  }

  private _run(run: PipelineRun): HTMLElement {
    const trans = this.trans;
    const row = el('li', 'jp-mlws-row jp-mlws-pipeline-run-row');
    row.dataset.testid = 'mlws-pipeline-run-row';
    row.dataset.runId = run.id;
    row.dataset.status = run.status;
    const name = run.display_name || run.id;
    row.title = trans.__(
      '%1 (%2, experiment %3): %4; %5; click to open its graph',
      name,
      run.id,
      run.experiment,
      run.status,
      stepSummary(run.step_counts, run.step_count, trans.__.bind(trans))
    );
    row.append(
      statusDot(run.status),
      el('span', 'jp-mlws-pipeline-run-name', `${name} #${run.number}`),
      el(
        'span',
        'jp-mlws-pipeline-run-steps',
        completedFraction(run.step_counts, run.step_count)
      ),
      el(
        'span',
        'jp-mlws-pipeline-run-time',
        new Date(run.created_time).toLocaleTimeString()
      )
    );
    row.addEventListener('click', () => openPipelineRun(this._context, run.id));
    return row;
  }

  private _context: IPageContext;
}
