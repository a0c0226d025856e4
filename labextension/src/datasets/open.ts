import type { IPageContext } from '../tokens';

/** The page kind of a dataset (pages `mlws-dataset-<name>`, tracker `mlws-dataset`). */
export const DATASET_KIND = 'dataset';

/** Opens a dataset's page. */
export const OPEN_DATASET_COMMAND = 'mlws:open-dataset';

/**
 * Show a dataset's page (one page per dataset; it switches between versions), at `version` when
 * given, else at the latest. Other pages (a run's inputs) link to datasets through this.
 */
export function openDataset(
  context: IPageContext,
  name: string,
  version?: number | null
): void {
  const args: { name: string; version?: number } = { name };
  if (typeof version === 'number') {
    args.version = version;
  }
  void context.open(DATASET_KIND, args);
}
