import { errorMessage, el } from '../dom';
import { sidebarRow, ListSection } from '../listsection';
import { getModel, listModels, Model } from '../request';
import type { IPageContext } from '../tokens';
import { openModel } from './open';

/**
 * The sidebar's Models: each model's newest version; a click unfolds every version (aliases,
 * tags), and a version opens the model's page. Unfolded models stay unfolded across refreshes.
 */
export class ModelsSection extends ListSection {
  constructor(context: IPageContext) {
    super({
      id: 'models',
      rank: 200,
      title: context.trans.__('Models'),
      testid: 'mlws-models',
      trans: context.trans
    });
    this._context = context;
  }

  refresh(): Promise<void> {
    return this.load(listModels, m => this._model(m));
  }

  private _model(item: Model): HTMLElement {
    const aliases = item.aliases.length ? ` (${item.aliases.join(', ')})` : '';
    const head = sidebarRow(
      'mlws-model-row',
      `${item.name} v${item.version}${aliases}`,
      this.trans.__('registered %1; click for its versions', item.created_time)
    );
    head.dataset.model = item.name;
    const versions = el('ul', 'jp-mlws-model-versions');
    const wrapper = el('li', 'jp-mlws-model');
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
        versions.replaceChildren(sidebarRow('', errorMessage(reason), ''));
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
    const element = sidebarRow(
      'mlws-model-version-row',
      `v${version.version}${aliases}${tags ? ` \u00b7 ${tags}` : ''}`,
      this.trans.__('Open %1 (all versions)', version.name)
    );
    element.dataset.model = version.name;
    element.dataset.version = String(version.version);
    element.addEventListener('click', () =>
      openModel(this._context, version.name)
    );
    return element;
  }

  private _context: IPageContext;
  private _expanded = new Set<string>();
}
