/**
 * Pipelines: the sidebar's Pipelines section (`section.ts`: published pipelines, schedules with
 * their next fire time — worded by `publishing.ts` — and recent pipeline runs, live) and the
 * pipeline-run page (`page.ts`: the step graph laid out by dagre in `layout.ts`, each step coloured
 * by status, reused steps marked, the reason a step was reused or ran on hover, a click opening the
 * step's run page), registered by `plugin.ts`. The run page of a pipeline run links here (`open.ts`).
 */
import { pipelineRunPagePlugin, pipelinesSectionPlugin } from './plugin';

export const plugins = [pipelineRunPagePlugin, pipelinesSectionPlugin];
