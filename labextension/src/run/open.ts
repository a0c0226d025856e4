import type { IPageContext } from '../tokens';

/** The page kind of a run (its pages are `mlws-run-<run id>`, its tracker `mlws-run`). */
export const RUN_KIND = 'run';

/** Opens a run's page. */
export const OPEN_RUN_COMMAND = 'mlws:open-run';

/** Show a run's page (other pages and sections link to runs through this). */
export function openRun(context: IPageContext, runId: string): void {
  void context.open(RUN_KIND, { runId });
}

/**
 * A run's page has a URL: `<lab>/lab?mlws-run=<run id>` (what `run.get_portal_url()` answers in
 * Python). Opening it in a browser opens JupyterLab with that run's page in front.
 */
export const RUN_QUERY = 'mlws-run';

/** The router's command for run URLs (not in the palette: the router runs it). */
export const ROUTE_RUN_COMMAND = 'mlws:route-run';

/** Matches a request (path + search + hash) that names a run. */
export const RUN_ROUTE_PATTERN = new RegExp(`[?&]${RUN_QUERY}=[^&#]+`);

/** The run id a URL's search part (`?a=1&mlws-run=<id>`) names, or null. */
export function runIdFromSearch(search: string): string | null {
  const runId = new URLSearchParams(search).get(RUN_QUERY);
  return runId ? runId : null;
}

/** The same URL without the run parameter (so that a reload does not reopen a page that was closed). */
export function withoutRunQuery(href: string): string {
  const url = new URL(href);
  url.searchParams.delete(RUN_QUERY);
  return url.toString();
}
