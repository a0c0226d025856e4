import { formatBytes } from '../chartdata';
import { el } from '../dom';
import { ListSection } from '../listsection';
import { DatasetSummary, listDatasets } from '../request';
import type { IPageContext } from '../tokens';
import { rowsOrFiles } from './format';
import { openDataset } from './open';

/**
 * The sidebar's Datasets: the latest version of each registered dataset, one row each with its
 * name, latest version, rows (tabular) or files, and size; a row opens the dataset's page. Kept
 * live like every section: the sidebar refreshes it on change events, `dataset.version.created`
 * among them, so a dataset registered anywhere shows up without a reload.
 */
export class DatasetsSection extends ListSection {
  constructor(context: IPageContext) {
    super({
      id: 'datasets',
      rank: 250,
      title: context.trans.__('Datasets'),
      testid: 'mlws-datasets',
      trans: context.trans
    });
    this._context = context;
  }

  refresh(): Promise<void> {
    return this.load(listDatasets, d => this._dataset(d));
  }

  private _dataset(item: DatasetSummary): HTMLElement {
    const row = el('li', 'jp-mlws-row jp-mlws-dataset-row');
    row.dataset.testid = 'mlws-dataset-row';
    row.dataset.dataset = item.name;
    row.dataset.version = String(item.version);
    row.title = this.trans.__(
      '%1 dataset from %2, registered %3; click to open',
      item.kind,
      item.source,
      item.created_time
    );
    row.append(
      el('span', 'jp-mlws-dataset-name', item.name),
      el('span', 'jp-mlws-dataset-version', `v${item.version}`),
      el('span', 'jp-mlws-dataset-count', rowsOrFiles(item, this.trans)),
      el('span', 'jp-mlws-dataset-size', formatBytes(item.total_size))
    );
    row.addEventListener('click', () => openDataset(this._context, item.name));
    return row;
  }

  private _context: IPageContext;
}
