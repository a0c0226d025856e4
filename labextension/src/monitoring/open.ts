import type { IPageContext } from '../tokens';

/** The page kind of a data drift detector (pages `mlws-monitor-<name>`). */
export const MONITOR_KIND = 'monitor';

/** Opens a detector's page. */
export const OPEN_MONITOR_COMMAND = 'mlws:open-monitor';

/** Show a detector's page (the Monitors rows and the alert notifications link here). */
export function openMonitor(context: IPageContext, name: string): void {
  void context.open(MONITOR_KIND, { name });
}
