/**
 * Submitting a notebook as a job: `dialog.ts` (the form built from the notebook's parameters
 * cell, `params.ts`), registered by `plugin.ts` (command, notebook toolbar, file browser menu).
 */
import { submitPlugin } from './plugin';

export const plugins = [submitPlugin];
