import type { IPageContext } from '../tokens';

/** The page kind of a comparison (pages `mlws-compare-<id,id,…>`, tracker `mlws-compare`). */
export const COMPARE_KIND = 'compare';

/** Opens the comparison of two or more runs. */
export const COMPARE_COMMAND = 'mlws:compare-runs';

/** Show the comparison of runs (the run list's Compare button does). */
export function compareRuns(context: IPageContext, runIds: string[]): void {
  void context.open(COMPARE_KIND, { runIds });
}
