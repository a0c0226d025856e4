import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IWorkspaceEvent, WorkspaceEvents } from './events';
import { errorMessage } from './dom';
import {
  Activity,
  Experiment,
  getModel,
  listActivities,
  listExperiments,
  listModels,
  Model
} from './request';
import { IRunListActions, RunList } from './runlist';

/** What the sidebar's rows open. */
export interface ISidebarActions extends IRunListActions {
  /** Open a model's page (its versions). */
  openModel(name: string): void;
}

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
  constructor(
    events: WorkspaceEvents,
    actions: ISidebarActions,
    translator: ITranslator = nullTranslator
  ) {
    super();
    this._events = events;
    this._actions = actions;
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
    this._events.received.connect(this._onEvent, this);
    this._events.connect();
  }

  dispose(): void {
    this._events.received.disconnect(this._onEvent, this);
    if (this._pending !== null) {
      window.clearTimeout(this._pending);
    }
    super.dispose();
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    if (event.kind.startsWith('run.')) {
      this._runs?.changed();
    }
    if (this._pending === null) {
      this._pending = window.setTimeout(() => {
        this._pending = null;
        void this.refresh();
      }, REFRESH_DELAY_MS);
    }
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
      this._runs = new RunList(experiment, this._trans, this._actions);
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

  /** A model: its newest version; a click unfolds every version (aliases, tags), which open its page. */
  private _model(item: Model): HTMLElement {
    const aliases = item.aliases.length ? ` (${item.aliases.join(', ')})` : '';
    const head = row(
      'mlws-model-row',
      `${item.name} v${item.version}${aliases}`,
      this._trans.__('registered %1; click for its versions', item.created_time)
    );
    head.dataset.model = item.name;
    const versions = document.createElement('ul');
    versions.className = 'jp-mlws-model-versions';
    const wrapper = document.createElement('li');
    wrapper.className = 'jp-mlws-model';
    wrapper.append(head, versions);
    const unfold = async () => {
      const expanded = this._expanded.has(item.name);
      head.classList.toggle('jp-mod-expanded', expanded);
      versions.hidden = !expanded;
      if (!expanded) {
        return;
      }
      try {
        const detail = await getModel(item.name);
        versions.replaceChildren(...detail.versions.map(v => this._version(v)));
      } catch (reason) {
        versions.replaceChildren(row('', errorMessage(reason), ''));
      }
    };
    head.addEventListener('click', () => {
      if (!this._expanded.delete(item.name)) {
        this._expanded.add(item.name);
      }
      void unfold();
    });
    void unfold();
    return wrapper;
  }

  private _version(version: Model): HTMLElement {
    const aliases = version.aliases.length
      ? ` (${version.aliases.join(', ')})`
      : '';
    const tags = Object.entries(version.tags)
      .map(([key, value]) => `${key}=${value}`)
      .join(', ');
    const element = row(
      'mlws-model-version-row',
      `v${version.version}${aliases}${tags ? ` \u00b7 ${tags}` : ''}`,
      this._trans.__('Open %1 (all versions)', version.name)
    );
    element.dataset.model = version.name;
    element.dataset.version = String(version.version);
    element.addEventListener('click', () =>
      this._actions.openModel(version.name)
    );
    return element;
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
  private _events: WorkspaceEvents;
  private _actions: ISidebarActions;
  private _pending: number | null = null;
  private _expanded = new Set<string>();
}
