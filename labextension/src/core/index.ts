/**
 * The core plugin: the sidebar (`sidebar.ts`), the `IMlwsPages` registry in JupyterLab's shell
 * (`shell.ts`: commands, trackers, layout restorer) and the shared icon.
 */
import { corePlugin } from './plugin';

export const plugins = [corePlugin];
