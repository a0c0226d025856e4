import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  ReadonlyJSONObject,
  ReadonlyPartialJSONObject,
  Token
} from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import type { Widget } from '@lumino/widgets';

import type { IWorkspaceEvent, WorkspaceEvents } from './events';
import type { RunDetail } from './request';

/** The id of the ML Workspace panel in the left area (tests and users' layouts know it). */
export const SIDEBAR_ID = 'mlws-sidebar';

/**
 * The ML Workspace's extension point: every page of the main area (a run, a comparison, a model,
 * …) and every section of the sidebar (Experiments, Models, Activities, …) registers here, each
 * from a plugin of its own folder. The core plugin provides it: the sidebar, the one events
 * stream, and per page kind its open command, widget tracker and layout-restorer entry.
 */
export const IMlwsPages = new Token<IMlwsPages>(
  'jupyter-mlws:IMlwsPages',
  'Pages and sidebar sections of the ML Workspace register here.'
);

/** What pages and sections need from the application. */
export interface IPageContext {
  readonly trans: TranslationBundle;
  /** The one connection to the server's change events. */
  readonly events: WorkspaceEvents;
  /** JupyterLab's renderers (for notebook previews); null when absent. */
  readonly rendermime: IRenderMimeRegistry | null;
  /**
   * Show the page of a registered kind (or bring it forward when it is open). Rejects with an
   * error naming the known kinds when none is registered under `kind`.
   */
  open(kind: string, args: ReadonlyPartialJSONObject): Promise<void>;
}

/** A page in the main area: a widget that reads its content from the server. */
export interface IMlwsPage extends Widget {
  /** Read the content again and redraw what changed. */
  refresh(): Promise<void>;
}

/** One kind of page (run, compare, model, …): how it opens, and how it comes back after a reload. */
export interface IPageKind<P extends IMlwsPage = IMlwsPage> {
  /** Unique name; also names the tracker (`mlws-<kind>`) and the pages' ids (`mlws-<kind>-<key>`). */
  readonly kind: string;
  /** The command that opens a page of this kind (e.g. `mlws:open-run`); the core plugin adds it. */
  readonly command: string;
  /** The command's label (translated). */
  readonly label: string;
  /** JSON schema of the command's arguments. */
  readonly argsSchema: ReadonlyJSONObject;
  /**
   * The key of the page the arguments ask for (one page per key and kind). Throws an error that
   * says what is missing when the arguments are not valid.
   */
  key(args: ReadonlyPartialJSONObject): string;
  /** Make the page (its module may be loaded here, on first use). */
  create(args: ReadonlyPartialJSONObject, context: IPageContext): Promise<P>;
  /** The arguments that open this page again (saved by the layout restorer). */
  args(page: P): ReadonlyPartialJSONObject;
}

/** One section of the sidebar: a titled part of the panel that refreshes itself. */
export interface ISidebarSection extends IDisposable {
  /** Unique name. */
  readonly id: string;
  /** Order in the panel, smallest first (Experiments 100, Models 200, Activities 300). */
  readonly rank: number;
  /** What the panel shows. */
  readonly node: HTMLElement;
  /** Read the section's content again (the panel calls it once on insertion and after changes). */
  refresh(): Promise<void>;
  /** Every event from the server, as it arrives (a burst of them then refreshes every section once). */
  onEvent?(event: IWorkspaceEvent): void;
}

/** The registry behind the `IMlwsPages` token. */
export interface IMlwsPages {
  /** What pages and sections are given. */
  readonly context: IPageContext;
  /** The registered page kinds, sorted. */
  readonly kinds: readonly string[];
  /**
   * Register a kind of page: its open command, tracker and restorer entry are added. A kind or
   * command already registered is refused with an error. Disposing removes it again.
   */
  addPage<P extends IMlwsPage>(kind: IPageKind<P>): IDisposable;
  /** Put a section in the sidebar at its rank; an id already in use is refused with an error. */
  addSection(section: ISidebarSection): IDisposable;
  /** Show the sidebar (e.g. after a section revealed something). */
  showSidebar(): void;
}

/**
 * Sections that other features add to run pages (e.g. the Sweep section of a HyperDrive run). The
 * run page plugin provides it; every run page makes one of each registered section and hands it
 * each read of its run, so a section follows the page's events and refreshes.
 */
export const IRunPageSections = new Token<IRunPageSections>(
  'jupyter-mlws:IRunPageSections',
  'Sections of the run page that other features add (the Sweep section, ...).'
);

/** One section of one run page. */
export interface IRunSection extends IDisposable {
  /** What the page shows (the section hides itself for runs it does not concern). */
  readonly node: HTMLElement;
  /** The run as the page last read it; read what the section needs and redraw. */
  update(run: RunDetail): Promise<void>;
}

/** A kind of run page section, made once per run page. */
export interface IRunSectionFactory {
  /** Unique name. */
  readonly id: string;
  /** Order among the added sections, smallest first; they come after the run's header. */
  readonly rank: number;
  /** Make the section of one run page (its module may be loaded here, on first use). */
  create(runId: string, context: IPageContext): Promise<IRunSection>;
}

/** The registry behind the `IRunPageSections` token. */
export interface IRunPageSections {
  /** The registered sections, by rank. */
  readonly factories: readonly IRunSectionFactory[];
  /** Add a section to run pages opened from now on; an id already in use is refused with an error. */
  add(factory: IRunSectionFactory): IDisposable;
}
