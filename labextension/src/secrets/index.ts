/**
 * Secrets (issue 21): the sidebar's Secrets section — the workspace vault's secret names with when
 * each was last set, an "Add secret" form (the value in a password box, sent and forgotten) and a
 * confirmed Delete per name. No route answers a value, so the page never holds one it did not type.
 *
 * `api.ts` calls `GET secrets`, `PUT secrets/{name}` and `DELETE secrets/{name}`, `format.ts` holds
 * the pure checks and wording (unit-tested), `section.ts` draws the section.
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { secretsSectionPlugin } from './plugin';

/** The plugins of this feature. */
export const plugins: JupyterFrontEndPlugin<void>[] = [secretsSectionPlugin];
