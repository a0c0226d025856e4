import type { TranslationBundle } from '@jupyterlab/translation';

import { el } from './dom';
import type { IWorkspaceEvent } from './events';
import type { ISidebarSection } from './tokens';

/** A row of a sidebar list: its text, its tooltip and a test id. */
export function sidebarRow(
  testid: string,
  text: string,
  title: string
): HTMLLIElement {
  const item = el('li', 'jp-mlws-row', text);
  item.dataset.testid = testid;
  item.title = title;
  return item;
}

/**
 * A titled list of the sidebar (Experiments, Models, Activities, …): what most sections are. A
 * subclass says how to read its items and draw one row; `load` shows them, or why it could not.
 */
export abstract class ListSection implements ISidebarSection {
  constructor(options: {
    id: string;
    rank: number;
    title: string;
    testid: string;
    trans: TranslationBundle;
  }) {
    this.id = options.id;
    this.rank = options.rank;
    this.trans = options.trans;
    this.node.dataset.testid = options.testid;
    this.heading.textContent = options.title;
    this.node.append(this.heading, this.status, this.list);
  }

  readonly id: string;
  readonly rank: number;
  readonly node = el('section', 'jp-mlws-section');

  get isDisposed(): boolean {
    return this._disposed;
  }

  abstract refresh(): Promise<void>;

  onEvent?(event: IWorkspaceEvent): void;

  dispose(): void {
    this._disposed = true;
    this.node.remove();
  }

  /** Read a page of items and show one row each ("None yet" when empty). */
  protected async load<T>(
    fetch: () => Promise<{ items: T[] }>,
    render: (item: T) => HTMLElement
  ): Promise<void> {
    try {
      const page = await fetch();
      this.show(page.items.map(render), this.trans.__('None yet'));
    } catch (reason) {
      this.status.textContent = this.trans.__(
        'Could not load: %1',
        String(reason)
      );
    }
  }

  /** Show rows, or a note when there are none. */
  protected show(rows: HTMLElement[], empty: string): void {
    this.list.replaceChildren(...rows);
    this.status.textContent = rows.length ? '' : empty;
  }

  protected readonly trans: TranslationBundle;
  protected readonly heading = el('h3');
  protected readonly status = el('div', 'jp-mlws-status');
  protected readonly list = el('ul');
  private _disposed = false;
}
