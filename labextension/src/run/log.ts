import { el, errorMessage, section } from '../dom';
import { readRunLog, RunDetail } from '../request';
import type { IPageContext } from '../tokens';
import { DEFAULT_LOG, logChoices } from './model';

/** How often the log of an active run is read for new output. */
const LOG_POLL_MS = 1000;
/** The log kept on the page: the newest characters, like a terminal's scrollback. */
const MAX_LOG_CHARS = 2_000_000;

/**
 * The Log section of a run page: a choice of the run's logs and the chosen one, followed while
 * the run writes it (read from where the last read ended, never a byte twice).
 */
export class RunLog {
  constructor(runId: string, context: IPageContext) {
    this._runId = runId;
    this._context = context;
    const log = section(context.trans.__('Log'), 'mlws-run-log');
    this.node = log.node;
    this._select.addEventListener('change', () =>
      this._follow(this._select.value)
    );
    log.body.append(this._select, this._status, this._log);
  }

  readonly node: HTMLElement;

  /**
   * Offer the run's logs; on the first call start following the chosen one, later retry a read
   * that had failed.
   */
  update(run: RunDetail, first: boolean): void {
    const names = logChoices(run.log_files);
    const current = this._select.value || DEFAULT_LOG;
    const shown = [...this._select.options].map(o => o.value);
    if (shown.join('\n') !== names.join('\n')) {
      this._select.replaceChildren(
        ...names.map(name => new Option(name, name))
      );
      this._select.value = names.includes(current) ? current : DEFAULT_LOG;
    }
    this._select.hidden = names.length < 2;
    if (first) {
      this._follow(this._select.value);
    } else if (!this._done && !this._busy && this._timer === 0) {
      this._readSoon(this._generation, 0); // a read had failed: try again
    }
  }

  dispose(): void {
    this._disposed = true;
    window.clearTimeout(this._timer);
  }

  /** Show a log from its start and follow it while the run is active. */
  private _follow(name: string): void {
    this._generation++;
    this._name = name;
    this._offset = 0;
    this._done = false;
    this._log.textContent = '';
    this._status.textContent = '';
    this._readSoon(this._generation, 0);
  }

  /**
   * Queue a read of the log. Reads run one after another (each from where the last ended), and
   * at most one timer is armed, so no byte is shown twice.
   */
  private _readSoon(generation: number, delay: number): void {
    window.clearTimeout(this._timer);
    this._timer = 0;
    const read = () => {
      this._timer = 0;
      this._task = this._task.then(() => this._read(generation));
    };
    if (delay > 0) {
      this._timer = window.setTimeout(read, delay);
    } else {
      read();
    }
  }

  private async _read(generation: number): Promise<void> {
    const stale = () => this._disposed || generation !== this._generation;
    if (stale() || this._done) {
      return;
    }
    this._busy = true;
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await readRunLog(this._runId, this._offset, this._name);
        } catch (reason) {
          this._status.textContent = errorMessage(reason);
          return; // the next refresh of the run tries again
        }
        if (stale()) {
          return;
        }
        this._status.textContent = '';
        if (chunk.data) {
          this._append(chunk.data);
        }
        const grew = chunk.next_offset > this._offset;
        this._offset = chunk.next_offset;
        if (chunk.complete) {
          this._done = true;
          if (!this._log.textContent) {
            this._status.textContent = this._context.trans.__('(no output)');
          }
          return;
        }
        if (!grew) {
          break; // nothing new yet: look again in a moment
        }
      }
    } finally {
      this._busy = false;
    }
    this._readSoon(generation, LOG_POLL_MS);
  }

  private _append(data: string): void {
    const log = this._log;
    const follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    let content = (log.textContent ?? '') + data;
    if (content.length > MAX_LOG_CHARS) {
      content = content.slice(content.length - MAX_LOG_CHARS);
    }
    log.textContent = content;
    if (follow) {
      log.scrollTop = log.scrollHeight;
    }
  }

  private _runId: string;
  private _context: IPageContext;
  private _select = el('select', 'jp-mlws-log-select');
  private _status = el('div', 'jp-mlws-status');
  private _log = el('pre', 'jp-mlws-log');
  private _task: Promise<void> = Promise.resolve();
  private _busy = false;
  private _name = DEFAULT_LOG;
  private _offset = 0;
  private _done = false;
  private _generation = 0;
  private _timer = 0;
  private _disposed = false;
}
