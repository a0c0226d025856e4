import { Widget } from '@lumino/widgets';

import { Coalescer } from '../coalesce';
import { el, errorMessage, statusDot } from '../dom';
import { IWorkspaceEvent, WorkspaceEvents } from '../events';
import { TERMINAL_STATUSES } from '../request';
import { openRun } from '../run/open';
import type { IPageContext } from '../tokens';
import { getPipelineRun, PipelineNode, PipelineRunDetail } from './api';
import {
  graphShapeKey,
  nodeTitle,
  pipelinePageFollows,
  stepSummary
} from './format';
import { edgePath, IGraphLayout, layoutPipeline } from './layout';

/** While the pipeline is active, how often the page reads it again besides the events. */
const ACTIVE_REFRESH_MS = 5000;
const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * A pipeline run in the main area: its status and steps summed up, and its graph (laid out by
 * dagre) with one box per step, coloured by status, reused steps marked with a badge, and the reason
 * a step was reused or ran on hover. A click on a step opens its run page. Kept live by the events
 * stream: a status change of the pipeline run or of one of its steps reads the graph again.
 */
export class PipelineRunPage extends Widget {
  constructor(runId: string, context: IPageContext) {
    super();
    this.runId = runId;
    this._context = context;
    const trans = context.trans;
    this.addClass('jp-mlws-page');
    this.addClass('jp-mlws-pipeline-page');
    this.node.dataset.testid = 'mlws-pipeline-run-page';
    this.node.dataset.runId = runId;
    this.title.label = runId;
    this.title.caption = trans.__('Pipeline run %1', runId);

    const open = el('button', 'jp-mod-styled', trans.__('Open run page'));
    open.dataset.testid = 'mlws-pipeline-open-run';
    open.addEventListener('click', () => openRun(this._context, this.runId));
    this._actions.append(open);
    this._header.append(
      this._name,
      this._state,
      this._actions,
      this._status,
      this._facts
    );
    this._canvas.dataset.testid = 'mlws-pipeline-graph';
    this._canvas.append(this._edges, this._boxes);
    this._edges.setAttribute('class', 'jp-mlws-pipeline-edges');
    this.node.append(this._header, this._error, this._canvas);
    this._error.hidden = true;
    context.events.received.connect(this._onEvent, this);
  }

  readonly runId: string;

  /** The pipeline run as last drawn. */
  get detail(): PipelineRunDetail | null {
    return this._detail;
  }

  /** Read the pipeline run again and redraw; calls meanwhile fold into one more pass after it. */
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
    let detail: PipelineRunDetail;
    try {
      detail = await getPipelineRun(this.runId);
    } catch (reason) {
      this._status.textContent = errorMessage(reason);
      return;
    }
    if (this.isDisposed) {
      return;
    }
    this._detail = detail;
    this._nodeIds = new Set(detail.nodes.map(n => n.id));
    this._drawHeader(detail);
    this._drawGraph(detail);
  }

  private _drawHeader(detail: PipelineRunDetail): void {
    const trans = this._context.trans;
    const name = detail.display_name || detail.id;
    this.title.label = `${name} #${detail.number}`;
    this.node.dataset.status = detail.status;
    this._name.textContent = name;
    this._state.replaceChildren(
      statusDot(detail.status),
      el('span', '', detail.status)
    );
    this._status.textContent = '';
    const time = (value: string | null) =>
      value ? new Date(value).toLocaleString() : '';
    const facts: [string, string][] = [
      [trans.__('Run'), `${detail.id} (#${detail.number})`],
      [trans.__('Experiment'), detail.experiment],
      [
        trans.__('Steps'),
        stepSummary(detail.step_counts, detail.step_count, trans.__.bind(trans))
      ],
      [trans.__('Started'), time(detail.start_time)],
      [trans.__('Ended'), time(detail.end_time)]
    ];
    const list = el('dl', 'jp-mlws-facts');
    for (const [term, value] of facts) {
      if (value) {
        list.append(el('dt', '', term), el('dd', '', value));
      }
    }
    this._facts.replaceChildren(list);
    this._error.hidden = !detail.error;
    this._error.textContent = detail.error ?? '';
  }

  private _drawGraph(detail: PipelineRunDetail): void {
    const trans = this._context.trans;
    const shape = graphShapeKey(detail.nodes, detail.edges);
    if (shape !== this._shape || this._graphLayout === null) {
      this._shape = shape;
      this._graphLayout = layoutPipeline(detail.nodes, detail.edges);
      this._drawEdges(this._graphLayout);
    }
    const layout = this._graphLayout;
    this._canvas.style.width = `${layout.width}px`;
    this._canvas.style.height = `${layout.height}px`;
    const boxes = detail.nodes.map(node => {
      const box = layout.nodes.get(node.id);
      const item = this._node(node);
      if (box) {
        item.style.left = `${box.x}px`;
        item.style.top = `${box.y}px`;
        item.style.width = `${box.width}px`;
        item.style.height = `${box.height}px`;
      }
      return item;
    });
    this._boxes.replaceChildren(...boxes);
    if (!detail.nodes.length) {
      this._status.textContent = trans.__('This pipeline run has no steps.');
    }
  }

  private _drawEdges(layout: IGraphLayout): void {
    const svg = this._edges;
    svg.setAttribute('width', String(layout.width));
    svg.setAttribute('height', String(layout.height));
    const defs = document.createElementNS(SVG_NS, 'defs');
    const marker = document.createElementNS(SVG_NS, 'marker');
    marker.setAttribute(
      'id',
      `mlws-arrow-${(this.id || this.runId).replace(/[^\w-]/g, '_')}`
    );
    marker.setAttribute('viewBox', '0 0 10 10');
    marker.setAttribute('refX', '9');
    marker.setAttribute('refY', '5');
    marker.setAttribute('markerWidth', '8');
    marker.setAttribute('markerHeight', '8');
    marker.setAttribute('orient', 'auto-start-reverse');
    const tip = document.createElementNS(SVG_NS, 'path');
    tip.setAttribute('d', 'M0,0 L10,5 L0,10 z');
    tip.setAttribute('class', 'jp-mlws-pipeline-arrow');
    marker.append(tip);
    defs.append(marker);
    const paths = layout.edges.map(edge => {
      const path = document.createElementNS(SVG_NS, 'path');
      path.setAttribute('d', edgePath(edge.points));
      // An edge without data is a `run_after` ordering: drawn dashed.
      path.setAttribute(
        'class',
        edge.data
          ? 'jp-mlws-pipeline-edge'
          : 'jp-mlws-pipeline-edge jp-mlws-pipeline-edge-order'
      );
      path.setAttribute('marker-end', `url(#${marker.id})`);
      path.dataset.testid = 'mlws-pipeline-edge';
      path.dataset.source = edge.source;
      path.dataset.target = edge.target;
      const title = document.createElementNS(SVG_NS, 'title');
      title.textContent = edge.data ?? this._context.trans.__('runs after');
      path.append(title);
      return path;
    });
    svg.replaceChildren(defs, ...paths);
  }

  private _node(node: PipelineNode): HTMLElement {
    const trans = this._context.trans;
    const reused = node.reuse?.reused === true;
    const item = el(
      'div',
      `jp-mlws-pipeline-node jp-mlws-pipeline-${node.status.toLowerCase()}`
    );
    item.dataset.testid = 'mlws-pipeline-node';
    item.dataset.status = node.status;
    item.dataset.reused = String(reused);
    item.dataset.step = node.name;
    item.dataset.runId = node.id;
    item.title = nodeTitle(node, trans.__.bind(trans));
    item.tabIndex = 0;
    item.setAttribute('role', 'button');
    const top = el('div', 'jp-mlws-pipeline-node-top');
    top.append(
      statusDot(node.status),
      el('span', 'jp-mlws-pipeline-node-name', node.name)
    );
    const bottom = el('div', 'jp-mlws-pipeline-node-bottom');
    bottom.append(el('span', 'jp-mlws-pipeline-node-status', node.status));
    if (reused) {
      const badge = el('span', 'jp-mlws-pipeline-badge', trans.__('reused'));
      badge.dataset.testid = 'mlws-pipeline-reused-badge';
      bottom.append(badge);
    }
    item.append(top, bottom);
    const open = () => openRun(this._context, node.id);
    item.addEventListener('click', open);
    item.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        open();
      }
    });
    return item;
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    if (pipelinePageFollows(event, this.runId, this._nodeIds)) {
      void this.refresh();
    }
  }

  /** While the pipeline is active, read it again soon (a missed event must not freeze the page). */
  private _schedule(): void {
    window.clearTimeout(this._timer);
    const active =
      this._detail !== null && !TERMINAL_STATUSES.has(this._detail.status);
    if (active && !this.isDisposed) {
      this._timer = window.setTimeout(
        () => void this.refresh(),
        ACTIVE_REFRESH_MS
      );
    }
  }

  private _context: IPageContext;
  private _detail: PipelineRunDetail | null = null;
  private _nodeIds: ReadonlySet<string> = new Set();
  private _shape = '';
  private _graphLayout: IGraphLayout | null = null;
  private _timer = 0;
  private _refresher = new Coalescer(() => this._refreshOnce(), {
    after: () => this._schedule(),
    stopped: () => this.isDisposed
  });
  private _header = el('header', 'jp-mlws-page-header');
  private _name = el('h2');
  private _state = el('span', 'jp-mlws-page-status');
  private _actions = el('div', 'jp-mlws-actions');
  private _status = el('div', 'jp-mlws-status');
  private _facts = el('div');
  private _error = el('div', 'jp-mlws-run-error');
  private _canvas = el('div', 'jp-mlws-pipeline-graph');
  private _edges = document.createElementNS(SVG_NS, 'svg');
  private _boxes = el('div', 'jp-mlws-pipeline-nodes');
}
