/**
 * Endpoints (web services): an Endpoints section in the sidebar (deployed services and their
 * state) and an endpoint page (scoring URI, keys, logs, a test request, collected inputs).
 *
 * Wave 2 builds it here: pages and sidebar sections in this folder, each registered by a plugin of
 * this folder through `IMlwsPages` (see `../tokens.ts` and `../run/plugin.ts` for an example).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

/** The plugins of this feature (none yet). */
export const plugins: JupyterFrontEndPlugin<void>[] = [];
