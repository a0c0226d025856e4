import type { IPageContext } from '../tokens';

/** The page kind of a run (its pages are `mlws-run-<run id>`, its tracker `mlws-run`). */
export const RUN_KIND = 'run';

/** Opens a run's page. */
export const OPEN_RUN_COMMAND = 'mlws:open-run';

/** Show a run's page (other pages and sections link to runs through this). */
export function openRun(context: IPageContext, runId: string): void {
  void context.open(RUN_KIND, { runId });
}
