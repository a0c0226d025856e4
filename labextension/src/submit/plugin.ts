import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ToolbarButton } from '@jupyterlab/apputils';
import { DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { runIcon } from '@jupyterlab/ui-components';

import { SHOW_RUNS_COMMAND } from '../experiments/open';
import { openRun } from '../run/open';
import { IMlwsPages } from '../tokens';

const SUBMIT_COMMAND = 'mlws:submit-notebook';

/** "Submit Notebook as Job…": from the notebook toolbar, the command palette and the file browser. */
export const submitPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:submit',
  description:
    'Submit a notebook as a job (papermill) with a form built from its parameters cell.',
  autoStart: true,
  requires: [IMlwsPages],
  optional: [IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    pages: IMlwsPages,
    browser: IDefaultFileBrowser | null
  ) => {
    const context = pages.context;
    const trans = context.trans;
    app.commands.addCommand(SUBMIT_COMMAND, {
      describedBy: {
        args: {
          type: 'object',
          properties: {
            path: {
              type: 'string',
              description: trans.__(
                'The notebook, relative to the server root (default: the current one)'
              )
            }
          }
        }
      },
      label: trans.__('Submit Notebook as Job…'),
      caption: trans.__('Run this notebook as a job with papermill'),
      icon: runIcon,
      execute: async args => {
        let path = args.path as string | undefined;
        let content: unknown;
        const current = app.shell.currentWidget;
        if (!path && current instanceof DocumentWidget) {
          const document = current.context;
          if (document.model.dirty) {
            await document.save(); // the job runs the file on disk
          }
          path = document.path;
          content = document.model.toJSON();
        }
        if (!path && browser) {
          path = browser.selectedItems().next().value?.path;
        }
        if (!path) {
          return;
        }
        if (content === undefined) {
          content = (await app.serviceManager.contents.get(path)).content;
        }
        const { submitNotebook } = await import('./dialog');
        await submitNotebook(path, content as never, trans, run => {
          // The experiments plugin adds it; without it, a submission only opens the run.
          if (app.commands.hasCommand(SHOW_RUNS_COMMAND)) {
            void app.commands.execute(SHOW_RUNS_COMMAND, {
              experiment: run.experiment
            });
          }
          openRun(context, run.id);
        });
      }
    });

    // A toolbar button on every notebook.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (
        widget: DocumentWidget,
        document: DocumentRegistry.Context
      ) => {
        const button = new ToolbarButton({
          icon: runIcon,
          label: trans.__('Submit as job'),
          tooltip: trans.__('Submit this notebook as a job'),
          onClick: async () => {
            if (document.model.dirty) {
              await document.save(); // the job runs the file on disk: the dialog reads the same
            }
            await app.commands.execute(SUBMIT_COMMAND, { path: document.path });
          }
        });
        button.node.dataset.testid = 'mlws-submit-button';
        widget.toolbar.insertItem(10, 'mlwsSubmit', button);
        return button;
      }
    });

    // And on notebooks in the file browser.
    app.contextMenu.addItem({
      command: SUBMIT_COMMAND,
      selector: '.jp-DirListing-item[data-file-type="notebook"]',
      rank: 20
    });
  }
};
