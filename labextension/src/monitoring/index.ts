/**
 * Monitoring (data drift): a drift page (per-feature distances and the overall drift magnitude
 * over time for a baseline and a target).
 *
 * Wave 2 builds it here: pages and sidebar sections in this folder, each registered by a plugin of
 * this folder through `IMlwsPages` (see `../tokens.ts` and `../run/plugin.ts` for an example).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

/** The plugins of this feature (none yet). */
export const plugins: JupyterFrontEndPlugin<void>[] = [];
