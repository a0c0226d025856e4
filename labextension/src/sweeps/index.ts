/**
 * Sweeps (HyperDrive): the Sweep section of a sweep's run page — its trials (sampled values, best
 * primary metric, stop reason; sortable, the best marked), a parallel-coordinates chart of the
 * parameters against the metric, the early-termination policy's decisions, and "Compare top k".
 *
 * `format.ts` holds the pure sorting and formatting (unit-tested), `section.ts` draws the section,
 * `plugin.ts` adds it to run pages through `IRunPageSections` (see `../tokens.ts`).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { sweepSectionPlugin } from './plugin';

/** The plugins of this feature. */
export const plugins: JupyterFrontEndPlugin<void>[] = [sweepSectionPlugin];
