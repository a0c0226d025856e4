/**
 * Registered models: the model page (`page.ts`), the sidebar's Models section (`section.ts`) and
 * the "Register as Model…" dialog (`register.ts`), registered by `plugin.ts`.
 */
import { modelPagePlugin, modelsSectionPlugin } from './plugin';

export const plugins = [modelPagePlugin, modelsSectionPlugin];
