import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
import { DATASET_KIND, OPEN_DATASET_COMMAND } from './open';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { DatasetsSection } from './section';

/** Dataset pages: `mlws:open-dataset {name, version?}`; they reopen after a reload. */
export const datasetPagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:dataset-page',
  description:
    'The dataset page of the ML Workspace (versions, preview, schema, lineage).',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    const trans = pages.context.trans;
    pages.addPage({
      kind: DATASET_KIND,
      command: OPEN_DATASET_COMMAND,
      label: trans.__('Open Dataset'),
      argsSchema: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          version: { type: 'integer', minimum: 1 }
        },
        required: ['name']
      },
      key: args => {
        if (typeof args.name !== 'string' || !args.name) {
          throw new Error(trans.__('%1 needs a name', OPEN_DATASET_COMMAND));
        }
        return args.name;
      },
      create: async (args, context) => {
        const { DatasetPage } = await import('./page');
        const version = typeof args.version === 'number' ? args.version : null;
        return new DatasetPage(String(args.name), version, context);
      },
      args: page =>
        page.version === null
          ? { name: page.datasetName }
          : { name: page.datasetName, version: page.version }
    });
  }
};

/** The sidebar's Datasets section. */
export const datasetsSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:datasets-section',
  description: 'The Datasets section of the ML Workspace sidebar.',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    pages.addSection(new DatasetsSection(pages.context));
  }
};
