import type * as PlotlyModule from 'plotly.js-dist-min';

import { ChartPage } from '../chartpage';
import { Coalescer } from '../coalesce';
import { el, errorMessage, keyValueTable, section } from '../dom';
import { IWorkspaceEvent, WorkspaceEvents } from '../events';
import { baseLayout, PLOT_CONFIG, plotly } from '../plot';
import type { IPageContext } from '../tokens';
import {
  getWebservice,
  getWebserviceTelemetry,
  readWebserviceLog,
  testWebservice,
  Webservice,
  WebserviceTelemetry
} from './api';
import {
  BUCKET_S,
  formatMs,
  formatPercent,
  formatRps,
  isWebserviceEvent,
  prettyJSON,
  SAMPLE_BODY,
  telemetrySeries,
  WINDOW_S
} from './format';
import { stateDot } from './section';

/** How often an open page reads the service, its traffic and its log again. */
const REFRESH_MS = 3000;
/** Lines of the service log the page shows. */
const LOG_LINES = 200;

/** A read's value, or why it failed (`Promise.allSettled` of one, within this target's library). */
type Settled<T> =
  { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    value => ({ status: 'fulfilled', value }) as const,
    reason => ({ status: 'rejected', reason }) as const
  );
}

/** The page's charts: what each shows. */
type ChartKind = 'latency' | 'throughput' | 'errors';

/**
 * A deployed web service in the main area: its state, scoring URI, models and details; its
 * traffic over the last ten minutes (latency p50/p99, throughput, error rate, each a chart, and
 * the totals); a Test box that sends a request body to the service with its primary key and shows
 * the answer with its status and latency; and the tail of the service log. While the page is
 * shown it reads all of it again every few seconds (traffic has no events), and at once on a
 * `webservice.*` event about this service.
 */
export class EndpointPage extends ChartPage {
  constructor(name: string, context: IPageContext) {
    super();
    this.serviceName = name;
    this._context = context;
    const trans = context.trans;
    this.addClass('jp-mlws-page');
    this.addClass('jp-mlws-endpoint-page');
    this.node.dataset.testid = 'mlws-endpoint-page';
    this.node.dataset.name = name;
    this.title.label = name;
    this.title.caption = trans.__('Web service %1', name);

    const header = el('header', 'jp-mlws-page-header');
    this._state.dataset.testid = 'mlws-endpoint-page-state';
    this._uri.dataset.testid = 'mlws-endpoint-page-uri';
    this._uri.title = trans.__('Scoring URI');
    header.append(el('h2', '', name), this._state, this._uri, this._status);

    const traffic = section(trans.__('Traffic'), 'mlws-endpoint-traffic');
    this._totals.dataset.testid = 'mlws-endpoint-totals';
    const charts = el('div', 'jp-mlws-charts');
    for (const kind of ['latency', 'throughput', 'errors'] as ChartKind[]) {
      const chart = el('div', 'jp-mlws-chart');
      chart.dataset.testid = 'mlws-endpoint-chart';
      chart.dataset.chart = kind;
      this._charts.set(kind, chart);
      charts.append(chart);
    }
    traffic.body.append(this._totals, this._chartError, charts);

    const test = section(trans.__('Test'), 'mlws-endpoint-test-section');
    this._body.dataset.testid = 'mlws-endpoint-test';
    this._body.value = SAMPLE_BODY;
    this._body.rows = 6;
    this._body.spellcheck = false;
    this._body.setAttribute('aria-label', trans.__('Request body (JSON)'));
    this._send.textContent = trans.__('Send');
    this._send.dataset.testid = 'mlws-endpoint-test-send';
    this._send.addEventListener('click', () => void this._test());
    this._reply.dataset.testid = 'mlws-endpoint-test-reply';
    this._reply.hidden = true;
    const sendRow = el('div', 'jp-mlws-endpoint-test-actions');
    sendRow.append(
      this._send,
      el(
        'span',
        'jp-mlws-status',
        trans.__('Sent to the scoring URI with the primary key')
      )
    );
    test.body.append(this._body, sendRow, this._reply);

    const log = section(trans.__('Log'), 'mlws-endpoint-log-section');
    this._log.dataset.testid = 'mlws-endpoint-log';
    log.body.append(this._log);

    // The details and the Test box side by side (stacked on a narrow page), the traffic below.
    const top = el('div', 'jp-mlws-endpoint-top');
    top.append(this._facts, test.node);
    this.node.append(header, top, traffic.node, log.node);
    context.events.received.connect(this._onEvent, this);
  }

  readonly serviceName: string;

  /** The service as last read. */
  get service(): Webservice | null {
    return this._service;
  }

  /** Read the service, its traffic and its log again; calls meanwhile fold into one more pass. */
  refresh(): Promise<void> {
    return this._refresher.run();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._timer);
    this._context.events.received.disconnect(this._onEvent, this);
    super.dispose();
  }

  private async _refreshOnce(): Promise<void> {
    const name = this.serviceName;
    const [service, telemetry, log] = await Promise.all([
      settle(getWebservice(name)),
      settle(getWebserviceTelemetry(name, WINDOW_S, BUCKET_S)),
      settle(readWebserviceLog(name, LOG_LINES))
    ]);
    if (this.isDisposed) {
      return;
    }
    if (service.status === 'fulfilled') {
      this._drawService(service.value);
    } else {
      this._status.textContent = errorMessage(service.reason);
      this.node.dataset.state = 'Unknown';
    }
    if (telemetry.status === 'fulfilled') {
      this._chartError.textContent = '';
      await this._drawTelemetry(telemetry.value);
    } else {
      this._chartError.textContent = errorMessage(telemetry.reason);
    }
    if (log.status === 'fulfilled') {
      const atEnd =
        this._log.scrollTop + this._log.clientHeight >=
        this._log.scrollHeight - 4;
      if (this._log.textContent !== log.value.data) {
        this._log.textContent = log.value.data;
        if (atEnd) {
          this._log.scrollTop = this._log.scrollHeight; // follow the tail, unless scrolled up
        }
      }
    }
  }

  private _drawService(service: Webservice): void {
    const trans = this._context.trans;
    this._service = service;
    this.node.dataset.state = service.state;
    this._state.replaceChildren(
      stateDot(service.state),
      el('span', 'jp-mlws-endpoint-state-text', service.state)
    );
    this._uri.textContent =
      service.scoring_uri ?? trans.__('no scoring URI yet');
    this._status.textContent = service.error ?? '';
    const time = (value: string) => new Date(value).toLocaleString();
    const facts: Record<string, string> = {
      [trans.__('Scoring URI')]: service.scoring_uri ?? trans.__('none yet'),
      [trans.__('Swagger URI')]: service.swagger_uri ?? '',
      [trans.__('Models')]: service.models.join(', '),
      [trans.__('Compute')]: service.compute_type,
      [trans.__('Generation')]: String(service.generation),
      [trans.__('Key auth')]: service.auth_enabled
        ? trans.__('on (Authorization: Bearer <key>)')
        : trans.__('off'),
      [trans.__('Created')]: time(service.created_time),
      [trans.__('Updated')]: time(service.updated_time)
    };
    if (service.description) {
      facts[trans.__('Description')] = service.description;
    }
    for (const [key, value] of Object.entries(service.tags)) {
      facts[trans.__('tag %1', key)] = value;
    }
    const table = keyValueTable(facts, '');
    table.dataset.testid = 'mlws-endpoint-facts';
    this._facts.replaceChildren(table);
  }

  private async _drawTelemetry(data: WebserviceTelemetry): Promise<void> {
    const trans = this._context.trans;
    const totals = data.totals;
    this._totals.dataset.requests = String(totals.requests);
    this._totals.textContent = trans.__(
      'Last %1 min: %2 requests · p50 %3 · p99 %4 · %5 · errors %6',
      Math.round(WINDOW_S / 60),
      totals.requests,
      formatMs(totals.p50_ms),
      formatMs(totals.p99_ms),
      formatRps(totals.throughput_rps),
      formatPercent(totals.error_rate)
    );
    const series = telemetrySeries(data.buckets, data.bucket_s);
    const Plotly = await plotly();
    if (this.isDisposed) {
      return;
    }
    const charts: [ChartKind, string, PlotlyModule.Data[]][] = [
      [
        'latency',
        trans.__('Latency (ms)'),
        [
          {
            x: series.time,
            y: series.p50,
            name: 'p50',
            type: 'scatter',
            mode: 'lines+markers',
            connectgaps: false
          },
          {
            x: series.time,
            y: series.p99,
            name: 'p99',
            type: 'scatter',
            mode: 'lines+markers',
            connectgaps: false
          }
        ]
      ],
      [
        'throughput',
        trans.__('Throughput (requests/s)'),
        [{ x: series.time, y: series.rps, name: 'rps', type: 'bar' }]
      ],
      [
        'errors',
        trans.__('Error rate (%)'),
        [
          {
            x: series.time,
            y: series.errorRate,
            name: trans.__('errors'),
            type: 'scatter',
            mode: 'lines+markers',
            connectgaps: false
          }
        ]
      ]
    ];
    for (const [kind, title, traces] of charts) {
      const node = this._charts.get(kind)!;
      node.dataset.requests = String(totals.requests);
      node.dataset.points = String(series.time.length);
      const layout = baseLayout(title);
      layout.height = 220;
      layout.xaxis = { type: 'date' };
      layout.yaxis = { rangemode: 'tozero' };
      if (kind === 'latency') {
        layout.showlegend = true;
        layout.legend = { orientation: 'h', x: 1, xanchor: 'right', y: 1.15 };
      }
      await Plotly.react(node, traces, layout, PLOT_CONFIG);
    }
  }

  /** Send the Test box's body to the service and show the answer. */
  private async _test(): Promise<void> {
    const trans = this._context.trans;
    const text = this._body.value;
    this._reply.hidden = false;
    try {
      JSON.parse(text);
    } catch (reason) {
      this._showReply('error', trans.__('Not JSON: %1', errorMessage(reason)));
      return;
    }
    this._send.disabled = true;
    this._showReply('sending', trans.__('Sending…'));
    try {
      const reply = await testWebservice(this.serviceName, text);
      this._showReply(
        String(reply.status),
        trans.__('%1 · %2', reply.status, formatMs(reply.latency_ms)),
        prettyJSON(reply.body)
      );
      this._reply.dataset.latencyMs = String(reply.latency_ms);
    } catch (reason) {
      this._showReply('error', errorMessage(reason));
    } finally {
      this._send.disabled = false;
    }
    void this.refresh(); // the request is in the traffic now
  }

  private _showReply(status: string, head: string, body = ''): void {
    this._reply.dataset.status = status;
    const ok = /^2\d\d$/.test(status);
    this._reply.classList.toggle('jp-mod-error', !ok && status !== 'sending');
    const line = el('div', 'jp-mlws-endpoint-reply-status', head);
    line.dataset.testid = 'mlws-endpoint-test-status';
    this._reply.replaceChildren(line);
    if (body) {
      this._reply.append(el('pre', 'jp-mlws-endpoint-reply-body', body));
    }
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    if (isWebserviceEvent(event.kind) && event.data.name === this.serviceName) {
      void this.refresh();
    }
  }

  /** While the page is open, read it again in a few seconds (hidden pages wait until shown). */
  private _schedule(): void {
    window.clearTimeout(this._timer);
    if (this.isDisposed) {
      return;
    }
    this._timer = window.setTimeout(() => {
      if (this.isVisible && !document.hidden) {
        void this.refresh();
      } else {
        this._schedule();
      }
    }, REFRESH_MS);
  }

  private _context: IPageContext;
  private _service: Webservice | null = null;
  private _refresher = new Coalescer(() => this._refreshOnce(), {
    after: () => this._schedule(),
    stopped: () => this.isDisposed
  });
  private _timer = 0;
  private _state = el('span', 'jp-mlws-page-status jp-mlws-endpoint-state');
  private _uri = el('code', 'jp-mlws-endpoint-page-uri');
  private _status = el('div', 'jp-mlws-status jp-mlws-endpoint-error');
  private _facts = el('div', 'jp-mlws-endpoint-facts');
  private _totals = el('div', 'jp-mlws-endpoint-totals');
  private _chartError = el('div', 'jp-mlws-status');
  private _charts = new Map<ChartKind, HTMLDivElement>();
  private _body = el('textarea', 'jp-mlws-endpoint-test-body');
  private _send = el('button', 'jp-mod-styled jp-mod-accept');
  private _reply = el('div', 'jp-mlws-endpoint-test-reply');
  private _log = el('pre', 'jp-mlws-log jp-mlws-endpoint-log');
}
