import { showErrorMessage } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { formatBytes, seriesXY, XAxis } from './chartdata';
import { Coalescer } from './coalesce';
import {
  detailsBlock,
  downloadLink,
  el,
  errorMessage,
  section,
  statusDot
} from './dom';
import { IWorkspaceEvent, WorkspaceEvents } from './events';
import {
  baseLayout,
  PLOT_CONFIG,
  plotly,
  purgeCharts,
  resizeCharts,
  xAxisLayout
} from './plot';
import { disposePreview, renderPreview } from './preview';
import {
  cancelRun,
  FileEntry,
  getRun,
  getRunMetrics,
  linkURL,
  listRunFiles,
  readRunLog,
  RecordMetricSeries,
  RunDetail,
  runFilePath,
  TERMINAL_STATUSES
} from './request';
import { formatDuration, formatMetric } from './runlistmodel';

/** The most points a chart asks for; the server down-samples longer series (min/max per bucket). */
export const MAX_POINTS = 1000;
/** How often an active run's page re-reads the run (its metrics have no events of their own). */
const ACTIVE_REFRESH_MS = 3000;
/** How often the log of an active run is read for new output. */
const LOG_POLL_MS = 1000;
/** The log kept on the page: the newest characters, like a terminal's scrollback. */
const MAX_LOG_CHARS = 2_000_000;
const DEFAULT_LOG = 'user_logs/std_log.txt';

/** What the pages need from the application. */
export interface IPageContext {
  trans: TranslationBundle;
  events: WorkspaceEvents;
  rendermime: IRenderMimeRegistry | null;
  openRun(runId: string): void;
  openModel(name: string): void;
}

/** One drawn chart: its element and how many points of how many it shows. */
interface IChart {
  node: HTMLDivElement;
  count: number;
}

/**
 * A run in the main area: header with status and timing, metric charts, params, tags, properties,
 * git, files (preview and download), the live driver log, snapshot download, child runs, Cancel.
 * Kept live by the events stream (status changes) and, while the run is active, by re-reading it.
 */
export class RunPage extends Widget {
  constructor(runId: string, context: IPageContext) {
    super();
    this.runId = runId;
    this._context = context;
    const trans = context.trans;
    this.addClass('jp-mlws-page');
    this.node.dataset.testid = 'mlws-run-page';
    this.node.dataset.runId = runId;

    this._header = el('header', 'jp-mlws-page-header');
    this._error = el('div', 'jp-mlws-run-error');
    this._error.dataset.testid = 'mlws-run-error';
    this._error.hidden = true;

    const metrics = section(trans.__('Metrics'), 'mlws-run-metrics');
    this._axis = el('select', 'jp-mlws-axis');
    this._axis.title = trans.__('x axis');
    this._axis.append(
      new Option(trans.__('x: step'), 'step'),
      new Option(trans.__('x: time'), 'time')
    );
    this._axis.addEventListener('change', () => {
      // Draws in flight belong to the old axis: they see the generation change and stop.
      this._chartGeneration++;
      purgeCharts(this._charts);
      this._drawn.clear();
      this._charts.replaceChildren();
      void this.refresh();
    });
    this._charts = el('div', 'jp-mlws-charts');
    this._records = el('div', 'jp-mlws-records');
    this._metricErrors = el('div', 'jp-mlws-status');
    metrics.body.append(
      this._axis,
      this._metricErrors,
      this._charts,
      this._records
    );
    this._metricsSection = metrics;

    const details = section(trans.__('Details'), 'mlws-run-details');
    this._details = details.body;
    this._details.classList.add('jp-mlws-details');
    const files = section(trans.__('Files'), 'mlws-run-files');
    this._files = el('table', 'jp-mlws-files');
    this._filesStatus = el('div', 'jp-mlws-status');
    this._preview = el('div', 'jp-mlws-preview');
    this._preview.dataset.testid = 'mlws-file-preview';
    files.body.append(this._filesStatus, this._files, this._preview);
    const log = section(trans.__('Log'), 'mlws-run-log');
    this._logSelect = el('select', 'jp-mlws-log-select');
    this._logSelect.addEventListener('change', () =>
      this._followLog(this._logSelect.value)
    );
    this._log = el('pre', 'jp-mlws-log');
    this._logStatus = el('div', 'jp-mlws-status');
    log.body.append(this._logSelect, this._logStatus, this._log);
    const children = section(trans.__('Child runs'), 'mlws-run-children');
    this._children = children.body;
    this._childrenSection = children.node;

    this.node.append(
      this._header,
      this._error,
      metrics.node,
      details.node,
      files.node,
      log.node,
      children.node
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

  private async _refreshOnce(): Promise<void> {
    let run: RunDetail;
    try {
      run = await getRun(this.runId);
    } catch (reason) {
      if (this._run === null) {
        this._header.replaceChildren(
          el('div', 'jp-mlws-status', errorMessage(reason))
        );
      } else {
        this._headerStatus.textContent = errorMessage(reason);
      }
      return;
    }
    if (this.isDisposed) {
      return;
    }
    const first = this._run === null;
    this._run = run;
    this.title.label = run.display_name || run.id;
    this._drawHeader(run);
    this._drawError(run);
    this._drawDetails(run);
    this._drawChildren(run);
    this._drawLogChoices(run, first);
    try {
      await Promise.all([this._drawMetrics(), this._loadFiles()]);
    } catch (reason) {
      this._metricErrors.textContent = errorMessage(reason);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._timer);
    window.clearTimeout(this._logTimer);
    this._context.events.received.disconnect(this._onEvent, this);
    purgeCharts(this._charts);
    disposePreview(this._preview);
    super.dispose();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    resizeCharts(this._charts);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    resizeCharts(this._charts);
  }

  private get _active(): boolean {
    return this._run !== null && !TERMINAL_STATUSES.has(this._run.status);
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    const data = event.data;
    const child =
      event.kind === 'run.status' &&
      (this._run?.children ?? []).some(c => c.id === data.run_id);
    if (
      (event.kind === 'run.status' && data.run_id === this.runId) ||
      (event.kind === 'run.created' && data.parent_run_id === this.runId) ||
      child
    ) {
      void this.refresh();
    }
  }

  /** While the run is active, read it again soon (metrics and files grow without events). */
  private _schedule(): void {
    window.clearTimeout(this._timer);
    if (this._active && !this.isDisposed) {
      this._timer = window.setTimeout(
        () => void this.refresh(),
        ACTIVE_REFRESH_MS
      );
    }
  }

  private _drawHeader(run: RunDetail): void {
    const trans = this._context.trans;
    const title = el('h2', '', run.display_name || run.id);
    const status = el('span', 'jp-mlws-page-status');
    status.append(statusDot(run.status), el('span', '', run.status));
    const facts: Array<[string, string]> = [
      [trans.__('Run'), `${run.id} (#${run.number})`],
      [trans.__('Experiment'), run.experiment],
      [trans.__('Type'), run.run_type],
      [trans.__('Compute'), run.compute_target ?? ''],
      [trans.__('Created'), new Date(run.created_time).toLocaleString()],
      [
        trans.__('Started'),
        run.start_time ? new Date(run.start_time).toLocaleString() : ''
      ],
      [
        trans.__('Ended'),
        run.end_time ? new Date(run.end_time).toLocaleString() : ''
      ],
      [
        trans.__('Duration'),
        run.duration_seconds !== null
          ? formatDuration(run.duration_seconds)
          : run.start_time
            ? trans.__('%1 so far', formatDuration(this._elapsed(run)))
            : ''
      ]
    ];
    if (run.parent_run_id) {
      facts.push([trans.__('Parent'), run.parent_run_id]);
    }
    const list = el('dl', 'jp-mlws-facts');
    for (const [name, value] of facts) {
      if (value) {
        list.append(el('dt', '', name), el('dd', '', value));
      }
    }
    const actions = el('div', 'jp-mlws-actions');
    if (this._active) {
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
    if (run.parent_run_id) {
      const parent = el('button', 'jp-mod-styled', trans.__('Open parent'));
      parent.addEventListener('click', () =>
        this._context.openRun(run.parent_run_id as string)
      );
      actions.append(parent);
    }
    this._headerStatus = el('div', 'jp-mlws-status');
    this._header.replaceChildren(
      title,
      status,
      actions,
      this._headerStatus,
      list
    );
  }

  private _elapsed(run: RunDetail): number {
    return run.start_time
      ? Math.max(0, (Date.now() - Date.parse(run.start_time)) / 1000)
      : 0;
  }

  private async _cancel(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    this._cancelling = true;
    try {
      await cancelRun(this.runId);
    } catch (reason) {
      await showErrorMessage(
        this._context.trans.__('Could not cancel %1', this.runId),
        errorMessage(reason)
      );
    } finally {
      this._cancelling = false;
    }
    await this.refresh();
  }

  private _drawError(run: RunDetail): void {
    const error = run.error;
    this._error.hidden = !error;
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
    this._error.replaceChildren(...parts);
  }

  private _drawDetails(run: RunDetail): void {
    const trans = this._context.trans;
    const none = trans.__('None');
    const block = (title: string, entries: Record<string, unknown>) =>
      detailsBlock(title, entries, none);
    const latest: Record<string, string> = {};
    for (const [name, value] of Object.entries(run.metrics)) {
      latest[name] = formatMetric(value);
    }
    this._details.replaceChildren(
      block(trans.__('Parameters'), run.params),
      block(trans.__('Latest metrics'), latest),
      block(trans.__('Tags'), run.tags),
      block(trans.__('Properties'), run.properties),
      block(trans.__('Git'), run.git)
    );
  }

  private _drawChildren(run: RunDetail): void {
    this._childrenSection.hidden = run.children.length === 0;
    this._children.replaceChildren(
      ...run.children.map(child => {
        const row = el('div', 'jp-mlws-row jp-mlws-link-row');
        row.dataset.testid = 'mlws-child-run-row';
        row.dataset.runId = child.id;
        row.append(
          statusDot(child.status),
          el('span', '', ` ${child.display_name || child.id}`),
          el(
            'span',
            'jp-mlws-status',
            ` ${formatDuration(child.duration_seconds)}`
          )
        );
        row.addEventListener('click', () => this._context.openRun(child.id));
        return row;
      })
    );
  }

  /** One chart per scalar series (redrawn when it grew), tables and images below. */
  private async _drawMetrics(): Promise<void> {
    const run = this._run;
    if (!run) {
      return;
    }
    const trans = this._context.trans;
    const generation = this._chartGeneration;
    const stale = () => this.isDisposed || generation !== this._chartGeneration;
    const scalars = run.series.filter(s => s.kind === 'scalar');
    this._metricsSection.node.hidden = run.series.length === 0;
    this._axis.hidden = scalars.length === 0;
    const axis = this._axis.value as XAxis;
    const errors: string[] = [];
    const Plotly = scalars.length ? await plotly() : null;
    for (const summary of scalars) {
      if (stale() || !Plotly) {
        return;
      }
      const drawn = this._drawn.get(summary.name);
      if (drawn && drawn.count === summary.count) {
        continue;
      }
      let series;
      try {
        series = await getRunMetrics(this.runId, summary.name, MAX_POINTS);
      } catch (reason) {
        errors.push(`${summary.name}: ${errorMessage(reason)}`);
        continue;
      }
      if (stale()) {
        return;
      }
      if (series.kind !== 'scalar') {
        continue;
      }
      let chart = this._drawn.get(summary.name);
      if (!chart) {
        const node = el('div', 'jp-mlws-chart');
        node.dataset.testid = 'mlws-metric-chart';
        node.dataset.metric = summary.name;
        this._charts.append(node);
        chart = { node, count: 0 };
        this._drawn.set(summary.name, chart);
      }
      chart.count = summary.count;
      const { x, y } = seriesXY(series.points, axis);
      chart.node.dataset.points = String(series.points.length);
      chart.node.dataset.total = String(series.total);
      const title = series.downsampled
        ? trans.__(
            '%1 (%2 of %3 points, down-sampled)',
            series.name,
            series.points.length,
            series.total
          )
        : series.name;
      const layout = baseLayout(title);
      layout.xaxis = xAxisLayout(axis, trans);
      await Plotly.react(
        chart.node,
        [
          {
            x,
            y,
            type: 'scatter',
            mode: series.points.length > 1 ? 'lines' : 'markers',
            name: series.name,
            connectgaps: false
          }
        ],
        layout,
        PLOT_CONFIG
      );
    }
    this._metricErrors.textContent = errors.join('\n');
    await this._drawRecords(run);
  }

  private async _drawRecords(run: RunDetail): Promise<void> {
    const records = run.series.filter(s => s.kind !== 'scalar');
    const key = records.map(s => `${s.name}:${s.count}`).join('\n');
    if (key === this._recordsKey) {
      return;
    }
    this._recordsKey = key;
    const blocks: HTMLElement[] = [];
    for (const summary of records) {
      try {
        const series = (await getRunMetrics(
          this.runId,
          summary.name,
          MAX_POINTS
        )) as RecordMetricSeries;
        blocks.push(this._record(series));
      } catch (reason) {
        blocks.push(el('div', 'jp-mlws-status', errorMessage(reason)));
      }
    }
    this._records.replaceChildren(...blocks);
  }

  /** A table series as a table, an image series as its images. */
  private _record(series: RecordMetricSeries): HTMLElement {
    const block = el('div', 'jp-mlws-record');
    block.dataset.metric = series.name;
    block.append(el('h4', '', series.name));
    const value = series.value;
    if (series.kind === 'image') {
      for (const name of Array.isArray(value) ? value : [value]) {
        const image = el('img', 'jp-mlws-preview-image');
        image.alt = String(name);
        image.src = linkURL(runFilePath(this.runId, String(name)));
        block.append(image);
      }
      return block;
    }
    const columns = value as Record<string, unknown[]>;
    const names = Object.keys(columns);
    const table = el('table', 'jp-mlws-kv');
    const head = table.createTHead().insertRow();
    for (const name of names) {
      head.append(el('th', '', name));
    }
    const rows = Math.min(200, ...names.map(name => columns[name].length));
    for (let i = 0; i < rows; i++) {
      const row = table.insertRow();
      for (const name of names) {
        row.append(el('td', '', formatMetric(columns[name][i])));
      }
    }
    block.append(table);
    return block;
  }

  private async _loadFiles(): Promise<void> {
    const trans = this._context.trans;
    let files: FileEntry[];
    try {
      files = (await listRunFiles(this.runId)).items;
    } catch (reason) {
      this._filesKey = null; // draw the list again once it can be read
      this._files.replaceChildren();
      this._filesStatus.textContent = errorMessage(reason);
      return;
    }
    const key = files.map(f => `${f.path}:${f.size}`).join('\n');
    if (key === this._filesKey) {
      return;
    }
    this._filesKey = key;
    const rows: HTMLTableRowElement[] = [];
    for (const file of files) {
      const row = el('tr', 'jp-mlws-file-row');
      row.dataset.testid = 'mlws-file-row';
      row.dataset.path = file.path;
      row.dataset.runId = this.runId;
      row.title = trans.__('Right-click to register as a model');
      const name = el('td', 'jp-mlws-link', file.path);
      name.addEventListener('click', () => void this._showPreview(file));
      const preview = el('button', 'jp-mod-styled', trans.__('Preview'));
      preview.addEventListener('click', () => void this._showPreview(file));
      const actions = el('td');
      actions.append(
        preview,
        downloadLink(
          linkURL(runFilePath(this.runId, file.path), { download: 'true' }),
          trans.__('Download')
        )
      );
      row.append(
        name,
        el('td', 'jp-mlws-size', formatBytes(file.size)),
        actions
      );
      rows.push(row);
    }
    this._files.replaceChildren(...rows);
    this._filesStatus.textContent = files.length ? '' : trans.__('No files');
  }

  private _showPreview(file: FileEntry): Promise<void> {
    return renderPreview(
      this._preview,
      runFilePath(this.runId, file.path),
      file.path,
      file.size,
      this._context.trans,
      this._context.rendermime
    );
  }

  private _drawLogChoices(run: RunDetail, first: boolean): void {
    const names = run.log_files.length ? [...run.log_files] : [DEFAULT_LOG];
    if (!names.includes(DEFAULT_LOG)) {
      names.unshift(DEFAULT_LOG);
    }
    const current = this._logSelect.value || DEFAULT_LOG;
    if (
      [...this._logSelect.options].map(o => o.value).join('\n') !==
      names.join('\n')
    ) {
      this._logSelect.replaceChildren(
        ...names.map(name => new Option(name, name))
      );
      this._logSelect.value = names.includes(current) ? current : DEFAULT_LOG;
    }
    this._logSelect.hidden = names.length < 2;
    if (first) {
      this._followLog(this._logSelect.value);
    } else if (!this._logDone && !this._logBusy && this._logTimer === 0) {
      this._readLogSoon(this._logGeneration, 0); // a read had failed: try again
    }
  }

  /** Show a log from its start and follow it while the run is active. */
  private _followLog(name: string): void {
    this._logGeneration++;
    this._logName = name;
    this._logOffset = 0;
    this._logDone = false;
    this._log.textContent = '';
    this._logStatus.textContent = '';
    this._readLogSoon(this._logGeneration, 0);
  }

  /**
   * Queue a read of the log. Reads run one after another (each from where the last ended), and
   * at most one timer is armed, so no byte is shown twice.
   */
  private _readLogSoon(generation: number, delay: number): void {
    window.clearTimeout(this._logTimer);
    this._logTimer = 0;
    const read = () => {
      this._logTimer = 0;
      this._logTask = this._logTask.then(() => this._readLog(generation));
    };
    if (delay > 0) {
      this._logTimer = window.setTimeout(read, delay);
    } else {
      read();
    }
  }

  private async _readLog(generation: number): Promise<void> {
    if (
      this.isDisposed ||
      generation !== this._logGeneration ||
      this._logDone
    ) {
      return;
    }
    this._logBusy = true;
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await readRunLog(this.runId, this._logOffset, this._logName);
        } catch (reason) {
          this._logStatus.textContent = errorMessage(reason);
          return; // the next refresh of the run tries again
        }
        if (generation !== this._logGeneration || this.isDisposed) {
          return;
        }
        this._logStatus.textContent = '';
        if (chunk.data) {
          this._appendLog(chunk.data);
        }
        const grew = chunk.next_offset > this._logOffset;
        this._logOffset = chunk.next_offset;
        if (chunk.complete) {
          this._logDone = true;
          if (!this._log.textContent) {
            this._logStatus.textContent = this._context.trans.__('(no output)');
          }
          return;
        }
        if (!grew) {
          break; // nothing new yet: look again in a moment
        }
      }
    } finally {
      this._logBusy = false;
    }
    this._readLogSoon(generation, LOG_POLL_MS);
  }

  private _appendLog(data: string): void {
    const follow =
      this._log.scrollTop + this._log.clientHeight >=
      this._log.scrollHeight - 4;
    let content = (this._log.textContent ?? '') + data;
    if (content.length > MAX_LOG_CHARS) {
      content = content.slice(content.length - MAX_LOG_CHARS);
    }
    this._log.textContent = content;
    if (follow) {
      this._log.scrollTop = this._log.scrollHeight;
    }
  }

  private _context: IPageContext;
  private _run: RunDetail | null = null;
  private _refresher = new Coalescer(() => this._refreshOnce(), {
    after: () => this._schedule(),
    stopped: () => this.isDisposed
  });
  private _cancelling = false;
  private _header: HTMLElement;
  private _headerStatus: HTMLElement = el('div');
  private _error: HTMLDivElement;
  private _metricsSection: { node: HTMLElement };
  private _axis: HTMLSelectElement;
  private _charts: HTMLDivElement;
  private _records: HTMLDivElement;
  private _metricErrors: HTMLDivElement;
  private _chartGeneration = 0;
  private _recordsKey = '';
  private _drawn = new Map<string, IChart>();
  private _details: HTMLDivElement;
  private _files: HTMLTableElement;
  private _filesStatus: HTMLDivElement;
  private _filesKey: string | null = null;
  private _preview: HTMLDivElement;
  private _logSelect: HTMLSelectElement;
  private _log: HTMLPreElement;
  private _logStatus: HTMLDivElement;
  private _logTask: Promise<void> = Promise.resolve();
  private _logBusy = false;
  private _logName = DEFAULT_LOG;
  private _logOffset = 0;
  private _logDone = false;
  private _logGeneration = 0;
  private _logTimer = 0;
  private _children: HTMLDivElement;
  private _childrenSection: HTMLElement;
  private _timer = 0;
}
