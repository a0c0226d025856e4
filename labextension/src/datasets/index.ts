/**
 * Datasets and datastores: a Datasets section in the sidebar (registered datasets, their versions
 * and content fingerprints) and a dataset page (schema, a preview of the rows, the runs that used
 * each version).
 *
 * Wave 2 builds it here: pages and sidebar sections in this folder, each registered by a plugin of
 * this folder through `IMlwsPages` (see `../tokens.ts` and `../run/plugin.ts` for an example).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

/** The plugins of this feature (none yet). */
export const plugins: JupyterFrontEndPlugin<void>[] = [];
