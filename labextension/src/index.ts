import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ToolbarButton } from '@jupyterlab/apputils';
import { DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon, runIcon } from '@jupyterlab/ui-components';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { WorkspaceSidebar } from './sidebar';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- small, and the toolbar button needs it
import { submitNotebook } from './submit';

/** A flask: the workspace's experiments. */
const workspaceIcon = new LabIcon({
  name: 'jupyter-mlws:workspace',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M9 2h6v2h-1v5.2l5.6 9.4A2 2 0 0 1 17.9 22H6.1a2 2 0 0 1-1.7-3.4L10 9.2V4H9V2zm3 9.3L8.4 17h7.2L12 11.3z"/></svg>'
});

const SUBMIT_COMMAND = 'mlws:submit-notebook';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:sidebar',
  description:
    'The ML Workspace sidebar (experiments, runs, models, activities) and "Submit notebook as job".',
  autoStart: true,
  optional: [ITranslator, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_mlws');
    const sidebar = new WorkspaceSidebar(translator ?? nullTranslator);
    sidebar.title.icon = workspaceIcon;
    app.shell.add(sidebar, 'left', { rank: 600 });
    void sidebar.refresh();
    sidebar.listen();

    const showRuns = (experiment: string) => {
      sidebar.openRuns(experiment);
      app.shell.activateById(sidebar.id);
    };

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
          const context = current.context;
          if (context.model.dirty) {
            await context.save(); // the job runs the file on disk
          }
          path = context.path;
          content = context.model.toJSON();
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
        await submitNotebook(path, content as never, trans, run =>
          showRuns(run.experiment)
        );
      }
    });

    // A toolbar button on every notebook.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (
        widget: DocumentWidget,
        context: DocumentRegistry.Context
      ) => {
        const button = new ToolbarButton({
          icon: runIcon,
          label: trans.__('Submit as job'),
          tooltip: trans.__('Submit this notebook as a job'),
          onClick: async () => {
            if (context.model.dirty) {
              await context.save(); // the job runs the file on disk: the dialog reads the same
            }
            await app.commands.execute(SUBMIT_COMMAND, { path: context.path });
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

export default plugin;
