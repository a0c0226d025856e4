import type { components } from '../api/schema';
import { requestAPI } from '../request';

/** REST types of sweeps, generated from jupyter_mlws/server/openapi.yaml. */
export type Sweep = components['schemas']['Sweep'];
export type SweepTrial = components['schemas']['SweepTrial'];
export type SweepDecision = components['schemas']['SweepDecision'];
export type HyperparameterValue = components['schemas']['HyperparameterValue'];

/** The run type of a sweep (a HyperDrive run); its children are the trials. */
export const SWEEP_RUN_TYPE = 'hyperdrive';

/** A sweep with its trials, its best trial and its policy's decisions. */
export function getSweep(runId: string): Promise<Sweep> {
  return requestAPI<Sweep>(`runs/${encodeURIComponent(runId)}/sweep`);
}
