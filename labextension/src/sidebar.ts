import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import {
  Activity,
  eventsURL,
  Experiment,
  listActivities,
  listExperiments,
  listModels,
  Model
} from './request';
import { RunList } from './runlist';

/** How long to gather change events before one refresh (a burst of changes costs one fetch). */
const REFRESH_DELAY_MS = 300;

/** One titled list of the sidebar. */
class Section {
  constructor(title: string, testid: string) {
    this.node = document.createElement('section');
    this.node.className = 'jp-mlws-section';
    this.node.dataset.testid = testid;
    const heading = document.createElement('h3');
    heading.textContent = title;
    this.status = document.createElement('div');
    this.status.className = 'jp-mlws-status';
    this.list = document.createElement('ul');
    this.node.append(heading, this.status, this.list);
  }

  show(rows: HTMLElement[], empty: string): void {
    this.list.replaceChildren(...rows);
    this.status.textContent = rows.length ? '' : empty;
  }

  readonly node: HTMLElement;
  readonly status: HTMLDivElement;
  readonly list: HTMLUListElement;
}

function row(testid: string, text: string, title: string): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'jp-mlws-row';
  item.dataset.testid = testid;
  item.textContent = text;
  item.title = title;
  return item;
}

/** The "ML Workspace" panel: experiments, models and activities, kept live by the events stream. */
export class WorkspaceSidebar extends Widget {
  constructor(translator: ITranslator = nullTranslator) {
    super();
    this._trans = translator.load('jupyter_mlws');
    this.id = 'mlws-sidebar';
    this.addClass('jp-mlws-sidebar');
    this.title.caption = this._trans.__('ML Workspace');
    this._experiments = new Section(
      this._trans.__('Experiments'),
      'mlws-experiments'
    );
    this._models = new Section(this._trans.__('Models'), 'mlws-models');
    this._activities = new Section(
      this._trans.__('Activities'),
      'mlws-activities'
    );
    this._runsSection = new Section(this._trans.__('Runs'), 'mlws-runs');
    this._runsSection.node.hidden = true;
    this.node.append(
      this._experiments.node,
      this._runsSection.node,
      this._models.node,
      this._activities.node
    );
  }

  /** Fetch every section once. */
  async refresh(): Promise<void> {
    await Promise.all([
      this._load(this._experiments, listExperiments, e => this._experiment(e)),
      this._load(this._models, listModels, m => this._model(m)),
      this._load(this._activities, listActivities, a => this._activity(a))
    ]);
  }

  /** Follow the server's change events: each burst of changes refreshes the lists once. */
  listen(): void {
    if (this._source || typeof EventSource === 'undefined') {
      return;
    }
    this._source = new EventSource(eventsURL());
    const schedule = (event: Event) => {
      if (event.type.startsWith('run.')) {
        this._runs?.changed();
      }
      if (this._pending === null) {
        this._pending = window.setTimeout(() => {
          this._pending = null;
          void this.refresh();
        }, REFRESH_DELAY_MS);
      }
    };
    for (const kind of [
      'run.created',
      'run.status',
      'model.version.created',
      'activity.updated'
    ]) {
      this._source.addEventListener(kind, schedule);
    }
  }

  dispose(): void {
    this._source?.close();
    this._source = null;
    if (this._pending !== null) {
      window.clearTimeout(this._pending);
    }
    super.dispose();
  }

  private async _load<T>(
    section: Section,
    fetch: () => Promise<{ items: T[] }>,
    render: (item: T) => HTMLElement
  ): Promise<void> {
    try {
      const page = await fetch();
      section.show(page.items.map(render), this._trans.__('None yet'));
    } catch (reason) {
      section.status.textContent = this._trans.__(
        'Could not load: %1',
        String(reason)
      );
    }
  }

  private _experiment(item: Experiment): HTMLElement {
    const element = row(
      'mlws-experiment-row',
      item.name,
      this._trans.__('created %1', item.created_time)
    );
    element.classList.toggle(
      'jp-mod-selected',
      this._runs?.experiment === item.name
    );
    element.addEventListener('click', () => this.openRuns(item.name));
    return element;
  }

  /** Show the runs of an experiment under the experiment list. */
  openRuns(experiment: string): void {
    if (this._runs?.experiment !== experiment) {
      this._runs = new RunList(experiment, this._trans);
      this._runsSection.list.replaceChildren(this._runs.node);
      this._runsSection.node.querySelector('h3')!.textContent = this._trans.__(
        'Runs of %1',
        experiment
      );
      void this._runs.reload();
    }
    this._runsSection.node.hidden = false;
    for (const element of this._experiments.list.children) {
      element.classList.toggle(
        'jp-mod-selected',
        element.textContent === experiment
      );
    }
  }

  private _model(item: Model): HTMLElement {
    const aliases = item.aliases.length ? ` (${item.aliases.join(', ')})` : '';
    return row(
      'mlws-model-row',
      `${item.name} v${item.version}${aliases}`,
      this._trans.__('registered %1', item.created_time)
    );
  }

  private _activity(item: Activity): HTMLElement {
    const text = `${item.name}: ${item.status}`;
    return row('mlws-activity-row', text, item.progress ?? item.kind);
  }

  private _trans: TranslationBundle;
  private _experiments: Section;
  private _models: Section;
  private _activities: Section;
  private _runsSection: Section;
  private _runs: RunList | null = null;
  private _source: EventSource | null = null;
  private _pending: number | null = null;
}
