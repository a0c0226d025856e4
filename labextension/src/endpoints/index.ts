/**
 * Endpoints (web services): the sidebar's Endpoints section (`section.ts`: each deployed service
 * with its state, scoring URI and a copy-key button, live) and the endpoint page (`page.ts`: state,
 * URI, models, latency/throughput/error-rate charts from the telemetry route, a Test box and the
 * service log), registered by `plugin.ts` through `IMlwsPages`. REST types come from the OpenAPI
 * file (`api.ts`); the words and chart series are pure helpers (`format.ts`).
 */
import { endpointPagePlugin, endpointsSectionPlugin } from './plugin';

export const plugins = [endpointPagePlugin, endpointsSectionPlugin];
