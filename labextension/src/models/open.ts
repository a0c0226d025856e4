import type { IPageContext } from '../tokens';

/** The page kind of a registered model (pages `mlws-model-<name>`, tracker `mlws-model`). */
export const MODEL_KIND = 'model';

/** Opens a model's page. */
export const OPEN_MODEL_COMMAND = 'mlws:open-model';

/** Show a model's page (every version). */
export function openModel(context: IPageContext, name: string): void {
  void context.open(MODEL_KIND, { name });
}
