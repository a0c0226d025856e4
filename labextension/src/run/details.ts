import { detailsBlock, section } from '../dom';
import { RunDetail } from '../request';
import { formatMetric } from '../runlistmodel';
import type { IPageContext } from '../tokens';

/** The Details section of a run page: parameters, latest metrics, tags, properties and git. */
export class RunDetailsView {
  constructor(context: IPageContext) {
    this._context = context;
    const details = section(context.trans.__('Details'), 'mlws-run-details');
    this.node = details.node;
    this._body = details.body;
    this._body.classList.add('jp-mlws-details');
  }

  readonly node: HTMLElement;

  update(run: RunDetail): void {
    const trans = this._context.trans;
    const none = trans.__('None');
    const block = (title: string, entries: Record<string, unknown>) =>
      detailsBlock(title, entries, none);
    const latest: Record<string, string> = {};
    for (const [name, value] of Object.entries(run.metrics)) {
      latest[name] = formatMetric(value);
    }
    this._body.replaceChildren(
      block(trans.__('Parameters'), run.params),
      block(trans.__('Latest metrics'), latest),
      block(trans.__('Tags'), run.tags),
      block(trans.__('Properties'), run.properties),
      block(trans.__('Git'), run.git)
    );
  }

  private _context: IPageContext;
  private _body: HTMLDivElement;
}
