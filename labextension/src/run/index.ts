/**
 * The run page: one part per section (`header.ts`, `charts.ts` and `records.ts`, `details.ts`,
 * `files.ts`, `log.ts`, `children.ts`), composed by `page.ts`, registered by `plugin.ts`.
 */
import { notebookLinkPlugin } from './notebook';
import { runPagePlugin } from './plugin';

export const plugins = [runPagePlugin, notebookLinkPlugin];
