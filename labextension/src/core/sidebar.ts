import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IWorkspaceEvent, WorkspaceEvents } from '../events';
import { ISidebarSection, SIDEBAR_ID } from '../tokens';

/** How long to gather change events before one refresh (a burst of changes costs one fetch). */
const REFRESH_DELAY_MS = 300;

/**
 * The "ML Workspace" panel: the sections registered through `IMlwsPages`, in rank order, kept
 * live by the events stream. It knows no section by name.
 */
export class WorkspaceSidebar extends Widget {
  constructor(events: WorkspaceEvents, trans: TranslationBundle) {
    super();
    this._events = events;
    this.id = SIDEBAR_ID;
    this.addClass('jp-mlws-sidebar');
    this.title.caption = trans.__('ML Workspace');
  }

  /** Show a section before another (at the end when null) and read its content. */
  insert(section: ISidebarSection, before: ISidebarSection | null): void {
    this.node.insertBefore(section.node, before?.node ?? null);
    this._sections.add(section);
    // Sections report their own errors; a rejection must not hide the others' first rows.
    this._first.push(section.refresh().catch(() => undefined));
  }

  remove(section: ISidebarSection): void {
    this._sections.delete(section);
    section.node.remove();
  }

  /** Resolves once every section inserted so far has shown its first content. */
  firstRows(): Promise<void> {
    return Promise.all(this._first).then(() => undefined);
  }

  /** Read every section again. */
  async refresh(): Promise<void> {
    await Promise.all([...this._sections].map(section => section.refresh()));
  }

  /** Follow the server's change events: each burst of changes refreshes the sections once. */
  listen(): void {
    this._events.received.connect(this._onEvent, this);
    this._events.connect();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._events.received.disconnect(this._onEvent, this);
    if (this._pending !== null) {
      window.clearTimeout(this._pending);
    }
    for (const section of [...this._sections]) {
      section.dispose();
    }
    this._sections.clear();
    super.dispose();
  }

  private _onEvent(_: WorkspaceEvents, event: IWorkspaceEvent): void {
    for (const section of this._sections) {
      section.onEvent?.(event);
    }
    if (this._pending === null) {
      this._pending = window.setTimeout(() => {
        this._pending = null;
        void this.refresh();
      }, REFRESH_DELAY_MS);
    }
  }

  private _events: WorkspaceEvents;
  private _sections = new Set<ISidebarSection>();
  private _first: Promise<unknown>[] = [];
  private _pending: number | null = null;
}
