/**
 * Pipelines: a Pipelines section in the sidebar (published pipelines, schedules) and a pipeline
 * run page (the step graph, each step's status, whether it was reused and why).
 *
 * Wave 2 builds it here: pages and sidebar sections in this folder, each registered by a plugin of
 * this folder through `IMlwsPages` (see `../tokens.ts` and `../run/plugin.ts` for an example).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

/** The plugins of this feature (none yet). */
export const plugins: JupyterFrontEndPlugin<void>[] = [];
