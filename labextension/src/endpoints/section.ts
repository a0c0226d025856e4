import { Clipboard } from '@jupyterlab/apputils';

import { el, errorMessage } from '../dom';
import { ListSection } from '../listsection';
import type { IPageContext } from '../tokens';
import { getWebserviceKeys, listWebservices, Webservice } from './api';
import { serviceTitle } from './format';
import { openEndpoint } from './open';

/**
 * How often the section reads the services again besides the events: a service's state is what
 * its supervisor says now, and a crash and restart is announced only once the agent has seen it.
 */
const STATE_REFRESH_MS = 10_000;
/** How long the copy button says it copied. */
const COPIED_MS = 2000;

/** A web service's state (Healthy, Transitioning, Unhealthy, Failed) as a small dot. */
export function stateDot(state: string): HTMLSpanElement {
  const dot = el(
    'span',
    `jp-mlws-status-dot jp-mlws-endpoint-dot jp-mlws-endpoint-${state.toLowerCase()}`
  );
  dot.dataset.testid = 'mlws-endpoint-state';
  dot.dataset.state = state;
  dot.title = state;
  dot.setAttribute('role', 'img');
  dot.setAttribute('aria-label', state);
  return dot;
}

/**
 * The sidebar's Endpoints: one row per deployed web service with its state (a dot), its name,
 * its scoring URI and a button that copies its primary key; a click on the row opens the
 * service's page. Kept live like every section (the sidebar refreshes it on change events, the
 * `webservice.*` ones included) and on a slow timer, since a state is read live from the service.
 */
export class EndpointsSection extends ListSection {
  constructor(context: IPageContext) {
    super({
      id: 'endpoints',
      rank: 270,
      title: context.trans.__('Endpoints'),
      testid: 'mlws-endpoints',
      trans: context.trans
    });
    this._context = context;
    this._timer = window.setInterval(() => {
      if (!document.hidden) {
        void this.refresh();
      }
    }, STATE_REFRESH_MS);
  }

  async refresh(): Promise<void> {
    try {
      const page = await listWebservices();
      this.show(
        page.items.map(service => this._row(service)),
        this.trans.__('No deployed services')
      );
    } catch (reason) {
      this.status.textContent = this.trans.__(
        'Could not load: %1',
        errorMessage(reason)
      );
    }
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }

  private _row(service: Webservice): HTMLElement {
    const trans = this.trans;
    const row = el('li', 'jp-mlws-row jp-mlws-endpoint-row');
    row.dataset.testid = 'mlws-endpoint-row';
    row.dataset.name = service.name;
    row.dataset.state = service.state;
    row.title = serviceTitle(service, trans.__.bind(trans));
    const uri = el(
      'span',
      'jp-mlws-endpoint-uri',
      service.scoring_uri ?? trans.__('no scoring URI yet')
    );
    uri.dataset.testid = 'mlws-endpoint-uri';
    const copy = el('button', 'jp-mlws-endpoint-copy', trans.__('Copy key'));
    copy.dataset.testid = 'mlws-endpoint-copy-key';
    copy.title = trans.__('Copy the primary key of %1', service.name);
    copy.disabled = !service.auth_enabled;
    copy.addEventListener('click', event => {
      event.stopPropagation(); // a copy does not open the page
      void this._copyKey(service.name, copy);
    });
    row.append(
      stateDot(service.state),
      el('span', 'jp-mlws-endpoint-name', service.name),
      copy,
      uri
    );
    row.addEventListener('click', () =>
      openEndpoint(this._context, service.name)
    );
    return row;
  }

  private async _copyKey(
    name: string,
    button: HTMLButtonElement
  ): Promise<void> {
    const trans = this.trans;
    try {
      const keys = await getWebserviceKeys(name);
      Clipboard.copyToSystem(keys.primary);
      button.textContent = trans.__('Copied');
      button.dataset.copied = 'true';
    } catch (reason) {
      button.textContent = trans.__('Failed');
      button.title = errorMessage(reason);
    }
    window.setTimeout(() => {
      button.textContent = trans.__('Copy key');
      delete button.dataset.copied;
    }, COPIED_MS);
  }

  private _context: IPageContext;
  private _timer: number;
}
