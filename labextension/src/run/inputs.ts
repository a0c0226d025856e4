import { openDataset } from '../datasets/open';
import { el, section } from '../dom';
import { RunDetail } from '../request';
import type { IPageContext } from '../tokens';

/**
 * The Input datasets section of a run page: each dataset the run used (input name, dataset name and
 * version, digest, how the job got it); a registered one opens its dataset page at that version.
 * Hidden while the run has none.
 */
export class RunInputs {
  constructor(context: IPageContext) {
    this._context = context;
    const inputs = section(
      context.trans.__('Input datasets'),
      'mlws-run-inputs'
    );
    this.node = inputs.node;
    this._body = inputs.body;
    this.node.hidden = true;
  }

  readonly node: HTMLElement;

  update(run: RunDetail): void {
    const trans = this._context.trans;
    const inputs = run.input_datasets;
    this.node.hidden = inputs.length === 0;
    this._body.replaceChildren(
      ...inputs.map(input => {
        const { name, version, digest, id } = input.dataset;
        const row = el('div', 'jp-mlws-row');
        row.dataset.testid = 'mlws-run-input';
        row.dataset.input = input.name;
        const label =
          name !== null
            ? `${name}${version !== null ? ` v${version}` : ''}`
            : trans.__('unregistered dataset %1', id ?? digest.slice(0, 12));
        const target = el('span', name !== null ? 'jp-mlws-link' : '', label);
        if (name !== null) {
          row.dataset.dataset = name;
          row.dataset.version = String(version ?? '');
          target.title = trans.__('Open dataset %1', name);
          target.addEventListener('click', () =>
            openDataset(this._context, name, version)
          );
        }
        row.append(
          el('span', 'jp-mlws-input-name', `${input.name}: `),
          target,
          el(
            'span',
            'jp-mlws-status',
            ` \u00b7 ${input.mode} \u00b7 sha256:${digest.slice(0, 12)}`
          )
        );
        row.title = `sha256:${digest}`;
        return row;
      })
    );
  }

  private _context: IPageContext;
  private _body: HTMLDivElement;
}
