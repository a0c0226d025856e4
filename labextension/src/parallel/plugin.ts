import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { IRunPageSections } from '../tokens';

/**
 * The Partitions section of run pages: shown for ParallelRunStep step runs (the property
 * `mlws.parallel.partitions`), hidden for any other run.
 */
export const partitionsSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:partitions-section',
  description:
    "The Partitions section of a ParallelRunStep step run's page (summary and mini-batch runs).",
  autoStart: true,
  requires: [IRunPageSections],
  activate: (_app, sections: IRunPageSections) => {
    sections.add({
      id: 'parallel-partitions',
      rank: 110,
      create: async (_runId, context) => {
        const { PartitionsSection } = await import('./section');
        return new PartitionsSection(context);
      }
    });
  }
};
