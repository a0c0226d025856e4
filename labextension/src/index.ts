import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  MainAreaWidget,
  ToolbarButton,
  WidgetTracker
} from '@jupyterlab/apputils';
import { DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon, runIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- one stream shared by the sidebar and pages
import { WorkspaceEvents } from './events';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { WorkspaceSidebar } from './sidebar';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- small, and the toolbar button needs it
import { submitNotebook } from './submit';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- small; plotly itself is loaded lazily
import { ComparePage } from './comparepage';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- small
import { ModelPage, registerFromRun } from './modelpage';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- small; plotly itself is loaded lazily
import { IPageContext, RunPage } from './runpage';

/** A flask: the workspace's experiments. */
const workspaceIcon = new LabIcon({
  name: 'jupyter-mlws:workspace',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M9 2h6v2h-1v5.2l5.6 9.4A2 2 0 0 1 17.9 22H6.1a2 2 0 0 1-1.7-3.4L10 9.2V4H9V2zm3 9.3L8.4 17h7.2L12 11.3z"/></svg>'
});

const SUBMIT_COMMAND = 'mlws:submit-notebook';
const OPEN_RUN_COMMAND = 'mlws:open-run';
const COMPARE_COMMAND = 'mlws:compare-runs';
const OPEN_MODEL_COMMAND = 'mlws:open-model';
const REGISTER_COMMAND = 'mlws:register-model';

/** A page that reads its content from the server. */
interface IPage extends Widget {
  refresh(): Promise<void>;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:sidebar',
  description:
    'The ML Workspace sidebar (experiments, runs, models, activities) and "Submit notebook as job".',
  autoStart: true,
  optional: [
    ITranslator,
    IDefaultFileBrowser,
    IRenderMimeRegistry,
    ILayoutRestorer
  ],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    browser: IDefaultFileBrowser | null,
    rendermime: IRenderMimeRegistry | null,
    restorer: ILayoutRestorer | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_mlws');
    const events = new WorkspaceEvents();

    // One tracker per kind of page, so that JupyterLab reopens them after a reload.
    const runs = new WidgetTracker<MainAreaWidget<RunPage>>({
      namespace: 'mlws-run'
    });
    const comparisons = new WidgetTracker<MainAreaWidget<ComparePage>>({
      namespace: 'mlws-compare'
    });
    const models = new WidgetTracker<MainAreaWidget<ModelPage>>({
      namespace: 'mlws-model'
    });
    if (restorer) {
      void restorer.restore(runs, {
        command: OPEN_RUN_COMMAND,
        args: page => ({ runId: page.content.runId }),
        name: page => page.content.runId
      });
      void restorer.restore(comparisons, {
        command: COMPARE_COMMAND,
        args: page => ({ runIds: page.content.runIds }),
        name: page => page.content.runIds.join(',')
      });
      void restorer.restore(models, {
        command: OPEN_MODEL_COMMAND,
        args: page => ({ name: page.content.modelName }),
        name: page => page.content.modelName
      });
    }

    /** Show a page in the main area, or bring it forward when it is already open. */
    const show = <T extends IPage>(
      id: string,
      tracker: WidgetTracker<MainAreaWidget<T>>,
      create: () => T
    ) => {
      let page = tracker.find(widget => widget.id === id);
      if (!page) {
        const content = create();
        // eslint-disable-next-line jupyter/require-disposable-ownership -- the shell and the tracker own it
        page = new MainAreaWidget<T>({ content });
        page.id = id;
        page.title.icon = workspaceIcon;
        page.title.closable = true;
        void tracker.add(page);
        app.shell.add(page, 'main');
        void content.refresh();
      } else {
        void page.content.refresh();
      }
      app.shell.activateById(page.id);
    };
    const context: IPageContext = {
      trans,
      events,
      rendermime,
      openRun: runId => void app.commands.execute(OPEN_RUN_COMMAND, { runId }),
      openModel: name => void app.commands.execute(OPEN_MODEL_COMMAND, { name })
    };

    app.commands.addCommand(OPEN_RUN_COMMAND, {
      label: trans.__('Open Run'),
      describedBy: {
        args: {
          type: 'object',
          properties: { runId: { type: 'string' } },
          required: ['runId']
        }
      },
      execute: args => {
        if (typeof args.runId !== 'string' || !args.runId) {
          throw new Error(trans.__('%1 needs a runId', OPEN_RUN_COMMAND));
        }
        const runId = args.runId;
        show(`mlws-run-${runId}`, runs, () => new RunPage(runId, context));
      }
    });
    app.commands.addCommand(COMPARE_COMMAND, {
      label: trans.__('Compare Runs'),
      describedBy: {
        args: {
          type: 'object',
          properties: { runIds: { type: 'array', items: { type: 'string' } } },
          required: ['runIds']
        }
      },
      execute: args => {
        const runIds = Array.isArray(args.runIds)
          ? args.runIds.map(String)
          : [];
        if (runIds.length < 2) {
          throw new Error(
            trans.__('%1 needs two or more runIds', COMPARE_COMMAND)
          );
        }
        show(
          `mlws-compare-${runIds.join(',')}`,
          comparisons,
          () => new ComparePage(runIds, context)
        );
      }
    });
    app.commands.addCommand(OPEN_MODEL_COMMAND, {
      label: trans.__('Open Model'),
      describedBy: {
        args: {
          type: 'object',
          properties: { name: { type: 'string' } },
          required: ['name']
        }
      },
      execute: args => {
        if (typeof args.name !== 'string' || !args.name) {
          throw new Error(trans.__('%1 needs a name', OPEN_MODEL_COMMAND));
        }
        const name = args.name;
        show(`mlws-model-${name}`, models, () => new ModelPage(name, context));
      }
    });
    app.commands.addCommand(REGISTER_COMMAND, {
      label: trans.__('Register as Model…'),
      caption: trans.__('Register this run file as a new model version'),
      describedBy: {
        args: {
          type: 'object',
          properties: { runId: { type: 'string' }, path: { type: 'string' } }
        }
      },
      execute: async args => {
        let runId = args.runId as string | undefined;
        let path = args.path as string | undefined;
        if (!runId || !path) {
          const row = app.contextMenuHitTest(node =>
            node.classList.contains('jp-mlws-file-row')
          );
          runId = row?.dataset.runId;
          path = row?.dataset.path;
        }
        if (runId && path) {
          await registerFromRun(runId, path, trans, context.openModel);
        }
      }
    });
    app.contextMenu.addItem({
      command: REGISTER_COMMAND,
      selector: '.jp-mlws-file-row',
      rank: 10
    });

    const sidebar = new WorkspaceSidebar(
      events,
      {
        open: context.openRun,
        compare: runIds =>
          void app.commands.execute(COMPARE_COMMAND, { runIds }),
        openModel: context.openModel
      },
      translator ?? nullTranslator
    );
    sidebar.title.icon = workspaceIcon;
    app.shell.add(sidebar, 'left', { rank: 600 });
    // Marks for users' and our own measurements of how soon the sidebar has its first rows.
    performance.mark('mlws:sidebar-start');
    void sidebar
      .refresh()
      .then(() => performance.mark('mlws:sidebar-first-rows'));
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
        await submitNotebook(path, content as never, trans, run => {
          showRuns(run.experiment);
          context.openRun(run.id);
        });
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
