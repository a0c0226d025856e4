/**
 * Sweeps (HyperDrive): a sweep page (the trials' metrics against their parameters, early-
 * terminated trials, the best run) opened from a sweep's parent run.
 *
 * Wave 2 builds it here: pages and sidebar sections in this folder, each registered by a plugin of
 * this folder through `IMlwsPages` (see `../tokens.ts` and `../run/plugin.ts` for an example).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

/** The plugins of this feature (none yet). */
export const plugins: JupyterFrontEndPlugin<void>[] = [];
