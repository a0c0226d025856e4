/**
 * Registered datasets: the sidebar's Datasets section (`section.ts`) and the dataset page
 * (`page.ts`: versions, a virtualised preview of the rows in `table.ts`, the schema, the lineage),
 * registered by `plugin.ts`. The run page lists a run's input datasets and links here
 * (`open.ts`).
 */
import { datasetPagePlugin, datasetsSectionPlugin } from './plugin';

export const plugins = [datasetPagePlugin, datasetsSectionPlugin];
