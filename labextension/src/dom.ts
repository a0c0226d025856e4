/** Small DOM builders the sidebar and the pages share. */

/** An element with a class and, optionally, its text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text?: string
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) {
    element.className = className;
  }
  if (text !== undefined) {
    element.textContent = text;
  }
  return element;
}

/** A status as a small coloured dot (the status name is its tooltip and data). */
export function statusDot(status: string): HTMLSpanElement {
  const dot = el(
    'span',
    `jp-mlws-status-dot jp-mlws-status-${status.toLowerCase()}`
  );
  dot.dataset.testid = 'mlws-run-status';
  dot.dataset.status = status;
  dot.title = status;
  return dot;
}

/** A two-column table of a string map (params, tags, properties, git), or a note when empty. */
export function keyValueTable(
  entries: Record<string, unknown>,
  empty: string
): HTMLElement {
  const keys = Object.keys(entries).sort();
  if (!keys.length) {
    return el('div', 'jp-mlws-status', empty);
  }
  const table = el('table', 'jp-mlws-kv');
  for (const key of keys) {
    const row = table.insertRow();
    row.append(el('th', '', key), el('td', '', String(entries[key])));
  }
  return table;
}

/** A small titled key/value table (Parameters, Tags, …) of a page's details. */
export function detailsBlock(
  title: string,
  entries: Record<string, unknown>,
  empty: string
): HTMLElement {
  const block = el('div', 'jp-mlws-details-block');
  block.append(el('h4', '', title), keyValueTable(entries, empty));
  return block;
}

/** A titled block of a page. */
export function section(
  title: string,
  testid: string
): {
  node: HTMLElement;
  body: HTMLDivElement;
} {
  const node = el('section', 'jp-mlws-page-section');
  node.dataset.testid = testid;
  const body = el('div', 'jp-mlws-page-body');
  node.append(el('h3', '', title), body);
  return { node, body };
}

/** A link the browser downloads (an attachment, named by the server). */
export function downloadLink(href: string, text: string): HTMLAnchorElement {
  const link = el('a', 'jp-mlws-link', text);
  link.href = href;
  link.download = '';
  link.target = '_blank';
  link.rel = 'noopener';
  return link;
}

/** The message of an error from the REST API (or anything thrown). */
export function errorMessage(reason: unknown): string {
  return String((reason as { message?: string } | null)?.message ?? reason);
}
