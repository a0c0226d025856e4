import type { IPageContext } from '../tokens';

/** The page kind of a web service (pages `mlws-endpoint-<name>`). */
export const ENDPOINT_KIND = 'endpoint';

/** Opens a web service's page. */
export const OPEN_ENDPOINT_COMMAND = 'mlws:open-endpoint';

/** Show a web service's page (the sidebar's Endpoints rows link here). */
export function openEndpoint(context: IPageContext, name: string): void {
  void context.open(ENDPOINT_KIND, { name });
}
