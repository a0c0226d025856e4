import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
import { MODEL_KIND, OPEN_MODEL_COMMAND, openModel } from './open';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { ModelsSection } from './section';

/** Registers a run's file as a new model version (the run page's file rows have it in their menu). */
const REGISTER_COMMAND = 'mlws:register-model';

/** Model pages (`mlws:open-model {name}`) and "Register as Model…" on a run's files. */
export const modelPagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:model-page',
  description:
    'The model page of the ML Workspace (every version) and registering a run file as a model.',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    const context = pages.context;
    const trans = context.trans;
    pages.addPage({
      kind: MODEL_KIND,
      command: OPEN_MODEL_COMMAND,
      label: trans.__('Open Model'),
      argsSchema: {
        type: 'object',
        properties: { name: { type: 'string' } },
        required: ['name']
      },
      key: args => {
        if (typeof args.name !== 'string' || !args.name) {
          throw new Error(trans.__('%1 needs a name', OPEN_MODEL_COMMAND));
        }
        return args.name;
      },
      create: async (args, context) => {
        const { ModelPage } = await import('./page');
        return new ModelPage(String(args.name), context);
      },
      args: page => ({ name: page.modelName })
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
          const { registerFromRun } = await import('./register');
          await registerFromRun(runId, path, trans, name =>
            openModel(context, name)
          );
        }
      }
    });
    app.contextMenu.addItem({
      command: REGISTER_COMMAND,
      selector: '.jp-mlws-file-row',
      rank: 10
    });
  }
};

/** The sidebar's Models section. */
export const modelsSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:models-section',
  description: 'The Models section of the ML Workspace sidebar.',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    pages.addSection(new ModelsSection(pages.context));
  }
};
