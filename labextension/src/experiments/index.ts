/**
 * Experiments and their runs in the sidebar: `section.ts` (the Experiments and Runs sections),
 * `runlist.ts` (the virtualised, filterable run list), registered by `plugin.ts`.
 */
import { experimentsPlugin } from './plugin';

export const plugins = [experimentsPlugin];
