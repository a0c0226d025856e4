/** Long operations (environment builds, deployments, pipeline runs) in the sidebar: `section.ts`. */
import { activitiesPlugin } from './plugin';

export const plugins = [activitiesPlugin];
