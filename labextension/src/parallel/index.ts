/**
 * Many models (issue 19, ParallelRunStep): the Partitions section of a step run's page — the
 * summary the step writes as `mlws.parallel.*` properties and a table of its mini-batch child runs.
 *
 * `format.ts` holds the pure reading (unit-tested), `section.ts` draws the section, `plugin.ts`
 * adds it to run pages through `IRunPageSections` (see `../tokens.ts`).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { partitionsSectionPlugin } from './plugin';

/** The plugins of this feature. */
export const plugins: JupyterFrontEndPlugin<void>[] = [partitionsSectionPlugin];
