import { el } from '../dom';
import type { IWorkspaceEvent } from '../events';
import { ListSection, sidebarRow } from '../listsection';
import { Experiment, listExperiments } from '../request';
import { compareRuns } from '../compare/open';
import { openRun } from '../run/open';
import type { IPageContext, ISidebarSection } from '../tokens';
import { RunList } from './runlist';

/**
 * The sidebar's Runs: the run list of the experiment last chosen (hidden until one is). It is not
 * refreshed with the other sections: the list reloads itself on run events (see `RunList.changed`).
 */
export class RunsSection implements ISidebarSection {
  constructor(context: IPageContext) {
    this._context = context;
    this.node.dataset.testid = 'mlws-runs';
    this.node.hidden = true;
    this._heading.textContent = context.trans.__('Runs');
    this.node.append(this._heading, el('div', 'jp-mlws-status'), this._list);
  }

  readonly id = 'runs';
  readonly rank = 150;
  readonly node = el('section', 'jp-mlws-section');

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The experiment whose runs are shown, if any. */
  get experiment(): string | null {
    return this._runs?.experiment ?? null;
  }

  /** Show the runs of an experiment (a new list only when it is another experiment). */
  open(experiment: string): void {
    if (this._runs?.experiment !== experiment) {
      const context = this._context;
      this._runs = new RunList(experiment, context.trans, {
        open: runId => openRun(context, runId),
        compare: runIds => compareRuns(context, runIds)
      });
      this._list.replaceChildren(this._runs.node);
      this._heading.textContent = context.trans.__('Runs of %1', experiment);
      void this._runs.reload();
    }
    this.node.hidden = false;
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  onEvent(event: IWorkspaceEvent): void {
    if (event.kind.startsWith('run.')) {
      this._runs?.changed();
    }
  }

  dispose(): void {
    this._disposed = true;
    this.node.remove();
  }

  private _context: IPageContext;
  private _heading = el('h3');
  private _list = el('ul');
  private _runs: RunList | null = null;
  private _disposed = false;
}

/** The sidebar's Experiments: a click shows the experiment's runs in the Runs section below. */
export class ExperimentsSection extends ListSection {
  constructor(context: IPageContext, runs: RunsSection) {
    super({
      id: 'experiments',
      rank: 100,
      title: context.trans.__('Experiments'),
      testid: 'mlws-experiments',
      trans: context.trans
    });
    this._runs = runs;
  }

  refresh(): Promise<void> {
    return this.load(listExperiments, e => this._experiment(e));
  }

  /** Show the runs of an experiment under the experiment list, and mark it chosen. */
  openRuns(experiment: string): void {
    this._runs.open(experiment);
    for (const element of this.list.children) {
      element.classList.toggle(
        'jp-mod-selected',
        element.textContent === experiment
      );
    }
  }

  private _experiment(item: Experiment): HTMLElement {
    const element = sidebarRow(
      'mlws-experiment-row',
      item.name,
      this.trans.__('created %1', item.created_time)
    );
    element.classList.toggle(
      'jp-mod-selected',
      this._runs.experiment === item.name
    );
    element.addEventListener('click', () => this.openRuns(item.name));
    return element;
  }

  private _runs: RunsSection;
}
