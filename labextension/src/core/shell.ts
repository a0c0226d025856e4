import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import { IPagesHost, pageId, trackerNamespace } from '../registry';
import type {
  IMlwsPage,
  IPageContext,
  IPageKind,
  ISidebarSection
} from '../tokens';
import { workspaceIcon } from './icons';
import { WorkspaceSidebar } from './sidebar';

/** A page in the main area, as its tracker holds it. */
type PageWidget = MainAreaWidget<IMlwsPage>;

/**
 * The registry's hands in JupyterLab: per page kind an open command, a widget tracker and a
 * layout-restorer entry (so pages reopen after a reload); sections go into the sidebar.
 */
export class ShellPages implements IPagesHost {
  constructor(
    app: JupyterFrontEnd,
    sidebar: WorkspaceSidebar,
    restorer: ILayoutRestorer | null,
    context: () => IPageContext
  ) {
    this._app = app;
    this._sidebar = sidebar;
    this._restorer = restorer;
    this._context = context;
  }

  installPage(kind: IPageKind): IDisposable {
    const tracker = new WidgetTracker<PageWidget>({
      namespace: trackerNamespace(kind.kind)
    });
    const command = this._app.commands.addCommand(kind.command, {
      label: kind.label,
      describedBy: { args: kind.argsSchema },
      execute: args => this._show(kind, tracker, args)
    });
    if (this._restorer) {
      void this._restorer.restore(tracker, {
        command: kind.command,
        args: widget => kind.args(widget.content),
        name: widget => kind.key(kind.args(widget.content))
      });
    }
    return new DisposableDelegate(() => {
      command.dispose();
      tracker.dispose();
    });
  }

  execute(command: string, args: ReadonlyPartialJSONObject): Promise<unknown> {
    return this._app.commands.execute(command, args);
  }

  insertSection(
    section: ISidebarSection,
    before: ISidebarSection | null
  ): void {
    this._sidebar.insert(section, before);
  }

  removeSection(section: ISidebarSection): void {
    this._sidebar.remove(section);
  }

  showSidebar(): void {
    this._app.shell.activateById(this._sidebar.id);
  }

  /** Show a page in the main area, or bring it forward (and refresh it) when it is open. */
  private async _show(
    kind: IPageKind,
    tracker: WidgetTracker<PageWidget>,
    args: ReadonlyPartialJSONObject
  ): Promise<void> {
    const id = pageId(kind.kind, kind.key(args)); // throws on arguments that name no page
    const open = tracker.find(widget => widget.id === id);
    if (open) {
      void open.content.refresh();
    } else {
      // Two opens while the page's module loads make one page.
      let pending = this._pending.get(id);
      if (!pending) {
        pending = this._create(kind, tracker, id, args).finally(() =>
          this._pending.delete(id)
        );
        this._pending.set(id, pending);
      }
      await pending;
    }
    this._app.shell.activateById(id);
  }

  private async _create(
    kind: IPageKind,
    tracker: WidgetTracker<PageWidget>,
    id: string,
    args: ReadonlyPartialJSONObject
  ): Promise<void> {
    const content = await kind.create(args, this._context());
    // The shell and the tracker own the page from here.
    const page = new MainAreaWidget<IMlwsPage>({ content });
    page.id = id;
    page.title.icon = workspaceIcon;
    page.title.closable = true;
    void tracker.add(page);
    this._app.shell.add(page, 'main');
    void content.refresh();
  }

  private _app: JupyterFrontEnd;
  private _sidebar: WorkspaceSidebar;
  private _restorer: ILayoutRestorer | null;
  private _context: () => IPageContext;
  private _pending = new Map<string, Promise<void>>();
}
