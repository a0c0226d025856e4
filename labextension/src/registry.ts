import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import type {
  IMlwsPage,
  IMlwsPages,
  IPageContext,
  IPageKind,
  ISidebarSection
} from './tokens';

/**
 * What the registry asks of the application. The core plugin implements it with JupyterLab's
 * command registry, widget trackers, layout restorer and the sidebar; unit tests with plain objects,
 * so that the registry's rules are tested without a browser.
 */
export interface IPagesHost {
  /** Add a kind's open command, tracker and restorer entry; disposing removes them. */
  installPage(kind: IPageKind): IDisposable;
  /** Run a command (a kind's open command). */
  execute(command: string, args: ReadonlyPartialJSONObject): Promise<unknown>;
  /** Put a section's node in the panel before `before` (at the end when null). */
  insertSection(section: ISidebarSection, before: ISidebarSection | null): void;
  /** Take a section out of the panel. */
  removeSection(section: ISidebarSection): void;
  /** Bring the panel forward. */
  showSidebar(): void;
}

/** The main-area id of a page: one page per kind and key. */
export function pageId(kind: string, key: string): string {
  return `mlws-${kind}-${key}`;
}

/** The tracker (and layout-restorer) namespace of a kind. */
export function trackerNamespace(kind: string): string {
  return `mlws-${kind}`;
}

/** The registry behind the `IMlwsPages` token: page kinds and sidebar sections by name. */
export class PageRegistry implements IMlwsPages {
  constructor(context: Omit<IPageContext, 'open'>, host: IPagesHost) {
    this._host = host;
    this.context = { ...context, open: (kind, args) => this.open(kind, args) };
  }

  readonly context: IPageContext;

  get kinds(): readonly string[] {
    return [...this._kinds.keys()].sort();
  }

  /** The sections in the order the panel shows them. */
  get sections(): readonly ISidebarSection[] {
    return [...this._sections];
  }

  addPage<P extends IMlwsPage>(kind: IPageKind<P>): IDisposable {
    if (!kind.kind) {
      throw new Error('A page kind needs a name');
    }
    if (this._kinds.has(kind.kind)) {
      throw new Error(`The page kind "${kind.kind}" is already registered`);
    }
    for (const other of this._kinds.values()) {
      if (other.command === kind.command) {
        throw new Error(
          `The command "${kind.command}" already opens pages of kind "${other.kind}"`
        );
      }
    }
    // The registry stores every kind alike; each kind's functions only ever see its own pages.
    const erased = kind as unknown as IPageKind;
    this._kinds.set(kind.kind, erased);
    const installed = this._host.installPage(erased);
    return new DisposableDelegate(() => {
      if (this._kinds.get(kind.kind) === erased) {
        this._kinds.delete(kind.kind);
        installed.dispose();
      }
    });
  }

  addSection(section: ISidebarSection): IDisposable {
    if (this._sections.some(s => s.id === section.id)) {
      throw new Error(
        `The sidebar section "${section.id}" is already registered`
      );
    }
    // After every section of the same or a smaller rank: equal ranks keep their arrival order.
    const index = this._sections.findIndex(s => s.rank > section.rank);
    const before = index < 0 ? null : this._sections[index];
    this._sections.splice(
      index < 0 ? this._sections.length : index,
      0,
      section
    );
    this._host.insertSection(section, before);
    return new DisposableDelegate(() => {
      const at = this._sections.indexOf(section);
      if (at >= 0) {
        this._sections.splice(at, 1);
        this._host.removeSection(section);
      }
    });
  }

  /** Open (or bring forward) the page of a kind; an unknown kind is an error naming the known ones. */
  async open(kind: string, args: ReadonlyPartialJSONObject): Promise<void> {
    const found = this._kinds.get(kind);
    if (!found) {
      const known = this.kinds.join(', ') || 'none';
      throw new Error(
        `No page of kind "${kind}" is registered (known kinds: ${known})`
      );
    }
    await this._host.execute(found.command, args);
  }

  showSidebar(): void {
    this._host.showSidebar();
  }

  private _host: IPagesHost;
  private _kinds = new Map<string, IPageKind>();
  private _sections: ISidebarSection[] = [];
}
