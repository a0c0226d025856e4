import { ISignal, Signal } from '@lumino/signaling';

import { eventsURL } from './request';

/** The change events the server streams (DESIGN §6: `GET events`). */
export const EVENT_KINDS = [
  'run.created',
  'run.status',
  'model.version.created',
  'dataset.version.created',
  'activity.updated',
  'webservice.created',
  'webservice.updated',
  'webservice.state',
  'webservice.deleted',
  'drift.created',
  'drift.updated',
  'drift.deleted'
] as const;

export type EventKind = (typeof EVENT_KINDS)[number];

/** One event: its kind and its JSON payload (run_id, experiment, status, name, version, kind, state, …). */
export interface IWorkspaceEvent {
  kind: EventKind;
  data: Record<string, unknown>;
}

/**
 * One connection to the server's events stream for the whole front end: the sidebar, run pages,
 * compare and model pages all listen here instead of each polling or opening its own stream.
 */
export class WorkspaceEvents {
  /** Emitted once per event, in the order the server sent them. */
  get received(): ISignal<this, IWorkspaceEvent> {
    return this._received;
  }

  /** Open the stream (once); EventSource reconnects by itself and resumes with Last-Event-ID. */
  connect(): void {
    if (this._source || typeof EventSource === 'undefined') {
      return;
    }
    this._source = new EventSource(eventsURL());
    for (const kind of EVENT_KINDS) {
      this._source.addEventListener(kind, event => {
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse((event as MessageEvent<string>).data);
        } catch {
          // An event whose payload is not JSON still says "something changed".
        }
        this._received.emit({ kind, data });
      });
    }
  }

  dispose(): void {
    this._source?.close();
    this._source = null;
    Signal.clearData(this);
  }

  private _source: EventSource | null = null;
  private _received = new Signal<this, IWorkspaceEvent>(this);
}
