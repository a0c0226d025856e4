/**
 * The data side of the run page: no DOM and no requests here, so it is unit-tested on its own.
 */

/** The driver log every run has (DESIGN §2: `./logs` is streamed live). */
export const DEFAULT_LOG = 'user_logs/std_log.txt';

/** The logs to offer: the run's, with the driver log first when the run did not list it. */
export function logChoices(logFiles: readonly string[]): string[] {
  const names = logFiles.length ? [...logFiles] : [DEFAULT_LOG];
  if (!names.includes(DEFAULT_LOG)) {
    names.unshift(DEFAULT_LOG);
  }
  return names;
}

/** Seconds since a run started (0 before it did, and never negative on a skewed clock). */
export function elapsedSeconds(
  run: { start_time?: string | null },
  now = Date.now()
): number {
  return run.start_time
    ? Math.max(0, (now - Date.parse(run.start_time)) / 1000)
    : 0;
}
