/**
 * Monitoring (data drift, issue 20): the sidebar's Monitors section (`section.ts`: each detector
 * with its last magnitude and an alert badge; a notification when an alert turns on), the
 * detector page (`page.ts`: details, checks, a Backfill dialog from `backfill.ts`) and the Data
 * drift section of drift runs' pages (`runsection.ts`). Both show the same drift panels
 * (`panels.ts`: magnitude over time with the threshold, the chosen interval's contributions and
 * a feature's baseline-vs-target distribution). Registered by `plugin.ts` through `IMlwsPages` and
 * `IRunPageSections`; REST calls in `api.ts`; the numbers, series and dates are pure helpers
 * (`format.ts`).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import {
  driftRunSectionPlugin,
  monitorPagePlugin,
  monitorsSectionPlugin
} from './plugin';

/** The plugins of this feature. */
export const plugins: JupyterFrontEndPlugin<void>[] = [
  monitorPagePlugin,
  monitorsSectionPlugin,
  driftRunSectionPlugin
];
