import { ChartPage } from '../chartpage';
import { Coalescer } from '../coalesce';
import { errorMessage } from '../dom';
import { IWorkspaceEvent, WorkspaceEvents } from '../events';
import { getRun, RunDetail, TERMINAL_STATUSES } from '../request';
import type { IPageContext, IRunSection } from '../tokens';
import { MetricCharts } from './charts';
import { ChildRuns } from './children';
import { RunDetailsView } from './details';
import { RunFiles } from './files';
import { RunErrorBanner, RunHeader } from './header';
import { RunInputs } from './inputs';
import { RunLog } from './log';

/** How often an active run's page re-reads the run (its metrics have no events of their own). */
const ACTIVE_REFRESH_MS = 3000;

/**
 * A run in the main area: header with status and timing, metric charts, params, tags, properties,
 * git, input datasets, files (preview and download), the live driver log, snapshot download, child runs, Cancel.
 * Kept live by the events stream (status changes) and, while the run is active, by re-reading it.
 * Each section is a part of its own (`header.ts`, `charts.ts`, …); the page reads the run and
 * hands it to them.
 */
export class RunPage extends ChartPage {
  constructor(
    runId: string,
    context: IPageContext,
    sections: readonly IRunSection[] = []
  ) {
    super();
    this.runId = runId;
    this._context = context;
    this.addClass('jp-mlws-page');
    this.node.dataset.testid = 'mlws-run-page';
    this.node.dataset.runId = runId;
    const refresh = () => this.refresh();
    this._header = new RunHeader(runId, context, refresh);
    this._error = new RunErrorBanner(context);
    this._charts = new MetricCharts(runId, context, refresh);
    this._details = new RunDetailsView(context);
    this._inputs = new RunInputs(context);
    this._files = new RunFiles(runId, context);
    this._log = new RunLog(runId, context);
    this._children = new ChildRuns(context);
    // Sections of other features (the Sweep section, ...), right below the header.
    this._sections = [...sections];
    this.node.append(
      this._header.node,
      this._error.node,
      ...this._sections.map(part => part.node),
      this._charts.node,
      this._details.node,
      this._inputs.node,
      this._files.node,
      this._log.node,
      this._children.node
    );
    context.events.received.connect(this._onEvent, this);
  }

  readonly runId: string;

  /** The run as last read. */
  get run(): RunDetail | null {
    return this._run;
  }

  /**
   * Read the run again and redraw what changed. Calls while one is in flight (events, the timer,
   * reopening the page) are folded into one more pass after it, never run alongside it.
   */
  refresh(): Promise<void> {
    return this._refresher.run();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._timer);
    this._context.events.received.disconnect(this._onEvent, this);
    this._charts.dispose();
    this._files.dispose();
    this._log.dispose();
    this._sections.forEach(part => part.dispose());
    super.dispose();
  }

  private async _refreshOnce(): Promise<void> {
    let run: RunDetail;
    try {
      run = await getRun(this.runId);
    } catch (reason) {
      this._header.showError(errorMessage(reason));
      return;
    }
    if (this.isDisposed) {
      return;
    }
    const first = this._run === null;
    this._run = run;
    this.title.label = run.display_name || run.id;
    this._header.update(run);
    this._error.update(run);
    this._details.update(run);
    this._inputs.update(run);
    this._children.update(run);
    this._log.update(run, first);
    try {
      await Promise.all([
        this._charts.update(run),
        this._files.update(),
        ...this._sections.map(part => part.update(run))
      ]);
    } catch (reason) {
      this._charts.showError(errorMessage(reason));
    }
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    const data = event.data;
    if (
      (event.kind === 'run.status' &&
        (data.run_id === this.runId || this._children.has(data.run_id))) ||
      (event.kind === 'run.created' && data.parent_run_id === this.runId)
    ) {
      void this.refresh();
    }
  }

  /** While the run is active, read it again soon (metrics and files grow without events). */
  private _schedule(): void {
    window.clearTimeout(this._timer);
    const active =
      this._run !== null && !TERMINAL_STATUSES.has(this._run.status);
    if (active && !this.isDisposed) {
      this._timer = window.setTimeout(
        () => void this.refresh(),
        ACTIVE_REFRESH_MS
      );
    }
  }

  private _context: IPageContext;
  private _run: RunDetail | null = null;
  private _refresher = new Coalescer(() => this._refreshOnce(), {
    after: () => this._schedule(),
    stopped: () => this.isDisposed
  });
  private _timer = 0;
  private _header: RunHeader;
  private _error: RunErrorBanner;
  private _charts: MetricCharts;
  private _details: RunDetailsView;
  private _inputs: RunInputs;
  private _files: RunFiles;
  private _log: RunLog;
  private _children: ChildRuns;
  private _sections: IRunSection[];
}
