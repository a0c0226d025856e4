/**
 * Compute targets (issue 19, "Surfaces"): the sidebar's Compute section — the workspace's targets,
 * a Dask target's row expanding to its workers as its scheduler reports them — and the "Dask
 * dashboard" link of the run page of a run on a Dask target.
 *
 * `api.ts` calls `GET computes` / `GET computes/{name}`, `format.ts` holds the pure reading of a
 * cluster's description (unit-tested), `section.ts` draws the sidebar section, `dashboard.ts` the
 * run page's link (added through `IRunPageSections`, see `../tokens.ts`).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { computeSectionPlugin, daskDashboardPlugin } from './plugin';

/** The plugins of this feature. */
export const plugins: JupyterFrontEndPlugin<void>[] = [
  computeSectionPlugin,
  daskDashboardPlugin
];
