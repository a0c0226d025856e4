import { el, section, statusDot } from '../dom';
import { RunDetail } from '../request';
import { formatDuration } from '../runlistmodel';
import type { IPageContext } from '../tokens';
import { openRun } from './open';

/** The Child runs section of a run page (hidden while there are none); a row opens the child. */
export class ChildRuns {
  constructor(context: IPageContext) {
    this._context = context;
    const children = section(
      context.trans.__('Child runs'),
      'mlws-run-children'
    );
    this.node = children.node;
    this._body = children.body;
  }

  readonly node: HTMLElement;

  /** Whether a run is one of the children as last drawn (their status events concern the page). */
  has(runId: unknown): boolean {
    return this._ids.has(String(runId));
  }

  update(run: RunDetail): void {
    this._ids = new Set(run.children.map(child => child.id));
    this.node.hidden = run.children.length === 0;
    this._body.replaceChildren(
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
        row.addEventListener('click', () => openRun(this._context, child.id));
        return row;
      })
    );
  }

  private _context: IPageContext;
  private _body: HTMLDivElement;
  private _ids = new Set<string>();
}
