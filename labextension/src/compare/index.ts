/** The comparison of runs: `page.ts` draws it, `plugin.ts` registers the `compare` page kind. */
import { comparePagePlugin } from './plugin';

export const plugins = [comparePagePlugin];
