import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

import { IMlwsPages } from '../tokens';

/**
 * Notebook provenance on the run page (issue 14 item 9): the run's properties name the notebook
 * (and cell) it came from; the page links back to them. The property names are the ones
 * `jupyter_mlws/core/provenance.py` writes.
 */
export const NOTEBOOK_PATH = 'mlws.notebook.path';
export const NOTEBOOK_CELL_ID = 'mlws.notebook.cell_id';
export const NOTEBOOK_EXECUTION_COUNT = 'mlws.notebook.execution_count';
export const SUBMITTED_FROM_PATH = 'mlws.submitted_from.path';
export const SUBMITTED_FROM_CELL_ID = 'mlws.submitted_from.cell_id';
export const SUBMITTED_FROM_EXECUTION_COUNT =
  'mlws.submitted_from.execution_count';

/** Opens a notebook (docmanager:open) and, given a cell id, activates and scrolls to that cell. */
export const OPEN_NOTEBOOK_CELL_COMMAND = 'mlws:open-notebook-cell';

/** A notebook (and cell) a run links to. */
export interface INotebookLink {
  /** The path as stored: relative to the server root, or absolute. */
  readonly path: string;
  /** The path JupyterLab opens, or null when the notebook is outside the server's root. */
  readonly labPath: string | null;
  readonly cellId: string | null;
  readonly executionCount: string | null;
}

/**
 * A home folder's usual forms. Jupyter Server shows a root under the home folder as `~/...` in the
 * page config's `serverRoot`, and the page does not know the home folder itself.
 */
const HOME_FOLDER =
  /^(?:\/home\/[^/]+|\/Users\/[^/]+|\/root|[A-Za-z]:\/Users\/[^/]+)(?=\/)/;

/**
 * The path JupyterLab opens for a stored notebook path: a relative one as it is; an absolute one
 * relative to the server root when under it (runs made where no server was known store absolute
 * paths), else null.
 */
export function labPath(path: string, serverRoot: string): string | null {
  if (!path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(path)) {
    return path;
  }
  let root = serverRoot.replace(/\\/g, '/').replace(/\/+$/, '');
  let file = path.replace(/\\/g, '/');
  if (root === '~' || root.startsWith('~/')) {
    const home = HOME_FOLDER.exec(file);
    if (!home) {
      return null;
    }
    root = root.slice(1);
    file = file.slice(home[0].length);
  }
  if (root && file.startsWith(root + '/')) {
    return file.slice(root.length + 1);
  }
  return null;
}

/** The notebook links of a run's properties: its notebook, and the cell that submitted it. */
export function notebookLinks(
  properties: Readonly<Record<string, string>>,
  serverRoot = PageConfig.getOption('serverRoot')
): { notebook: INotebookLink | null; submittedFrom: INotebookLink | null } {
  const link = (
    pathKey: string,
    cellKey: string,
    countKey: string
  ): INotebookLink | null => {
    const path = properties[pathKey];
    if (!path) {
      return null;
    }
    return {
      path,
      labPath: labPath(path, serverRoot),
      cellId: properties[cellKey] || null,
      executionCount: properties[countKey] || null
    };
  };
  return {
    notebook: link(NOTEBOOK_PATH, NOTEBOOK_CELL_ID, NOTEBOOK_EXECUTION_COUNT),
    submittedFrom: link(
      SUBMITTED_FROM_PATH,
      SUBMITTED_FROM_CELL_ID,
      SUBMITTED_FROM_EXECUTION_COUNT
    )
  };
}

/** What the run page needs of a notebook panel (kept structural: no notebook package needed). */
interface INotebookPanelLike {
  readonly context?: { readonly ready: Promise<void> };
  readonly revealed?: Promise<void>;
  readonly content?: {
    readonly widgets?: ReadonlyArray<{
      readonly model: { readonly id: string };
    }>;
    activeCellIndex: number;
    scrollToCell?(cell: unknown, align?: string): Promise<void>;
  };
}

/** Open `path` in JupyterLab and, when given, make the cell with `cellId` the active one. */
export async function openNotebookCell(
  app: JupyterFrontEnd,
  path: string,
  cellId: string | null
): Promise<void> {
  const panel = (await app.commands.execute('docmanager:open', {
    path,
    factory: 'Notebook'
  })) as INotebookPanelLike | undefined;
  if (!cellId || !panel) {
    return;
  }
  await panel.context?.ready;
  await panel.revealed;
  const notebook = panel.content;
  const cells = notebook?.widgets ?? [];
  const index = cells.findIndex(cell => cell.model.id === cellId);
  if (!notebook || index < 0) {
    return; // the cell was deleted since: the notebook is open, which is what can be shown
  }
  notebook.activeCellIndex = index;
  await notebook.scrollToCell?.(cells[index], 'center');
}

// The application, once the plugin below is active: run pages get only their page context, and the
// link needs the shell's commands.
let application: JupyterFrontEnd | null = null;

/** Follow a run's notebook link (through the command, so that it shows in the command log). */
export async function followNotebookLink(link: INotebookLink): Promise<void> {
  if (!application || !link.labPath) {
    return;
  }
  await application.commands.execute(OPEN_NOTEBOOK_CELL_COMMAND, {
    path: link.labPath,
    cellId: link.cellId
  });
}

/** The command the run page's notebook links execute. */
export const notebookLinkPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:run-notebook-link',
  description:
    'Opens the notebook (and cell) a run came from, from its run page.',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    application = app;
    app.commands.addCommand(OPEN_NOTEBOOK_CELL_COMMAND, {
      label: pages.context.trans.__('Open the Notebook Cell of a Run'),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            path: { type: 'string' },
            cellId: { type: ['string', 'null'] }
          },
          required: ['path']
        }
      },
      execute: args =>
        openNotebookCell(
          app,
          String(args.path),
          typeof args.cellId === 'string' ? args.cellId : null
        )
    });
  }
};
