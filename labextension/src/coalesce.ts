/**
 * Runs an async task one at a time: a call while it runs does not start a second copy alongside
 * it but asks for one more run after it (however many calls came meanwhile). Pages use it for
 * refreshes, which events, timers and the user can all ask for at once.
 */
export class Coalescer {
  /**
   * @param task the work; its errors are the caller's to handle inside it
   * @param options.after called once the task has settled and no more run is wanted
   * @param options.stopped when true, no further run is started
   */
  constructor(
    task: () => Promise<void>,
    options: { after?: () => void; stopped?: () => boolean } = {}
  ) {
    this._task = task;
    this._after = options.after ?? (() => undefined);
    this._stopped = options.stopped ?? (() => false);
  }

  /** Run the task, or (while it runs) once more after it; resolves when that run is over. */
  run(): Promise<void> {
    if (this._running) {
      this._again = true;
      return this._running;
    }
    this._running = (async () => {
      try {
        do {
          this._again = false;
          await this._task();
        } while (this._again && !this._stopped());
      } finally {
        this._running = null;
        this._after();
      }
    })();
    return this._running;
  }

  private _task: () => Promise<void>;
  private _after: () => void;
  private _stopped: () => boolean;
  private _running: Promise<void> | null = null;
  private _again = false;
}
