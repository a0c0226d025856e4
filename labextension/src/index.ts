import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { plugins as activities } from './activities';
import { plugins as compare } from './compare';
import { plugins as compute } from './compute';
import { plugins as core } from './core';
import { plugins as datasets } from './datasets';
import { plugins as endpoints } from './endpoints';
import { plugins as experiments } from './experiments';
import { plugins as models } from './models';
import { plugins as monitoring } from './monitoring';
import { plugins as parallel } from './parallel';
import { plugins as pipelines } from './pipelines';
import { plugins as run } from './run';
import { plugins as secrets } from './secrets';
import { plugins as submit } from './submit';
import { plugins as sweeps } from './sweeps';

export { IMlwsPages } from './tokens';
export type {
  IMlwsPage,
  IPageContext,
  IPageKind,
  ISidebarSection
} from './tokens';

/**
 * Every plugin of the extension. The core provides `IMlwsPages`; each feature folder registers
 * its pages and sidebar sections through it. A new feature adds its folder here, nothing else.
 */
const plugins: JupyterFrontEndPlugin<unknown>[] = [
  ...core,
  ...experiments,
  ...run,
  ...compare,
  ...models,
  ...activities,
  ...submit,
  ...datasets,
  ...pipelines,
  ...endpoints,
  ...sweeps,
  ...monitoring,
  ...compute,
  ...parallel,
  ...secrets
];

export default plugins;
