import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { DisposableSet } from '@lumino/disposable';

import { formatBytes, previewKind } from './chartdata';
import { el, errorMessage } from './dom';
import { fetchFile } from './request';

/** Larger files are offered for download only: a preview must not stall the page. */
export const MAX_PREVIEW_BYTES = 2 * 1024 * 1024;

/** What a notebook file holds, as far as the preview reads it. */
interface INotebookFile {
  cells?: Array<{
    cell_type?: string;
    source?: string | string[];
    outputs?: Array<Record<string, unknown>>;
  }>;
}

/** The renderers of each preview area, disposed when it shows something else. */
const RENDERERS = new WeakMap<HTMLElement, DisposableSet>();

const ANSI = new RegExp(String.raw`\u001b\[[0-9;]*[A-Za-z]`, 'g');

function text(value: unknown): string {
  return Array.isArray(value) ? value.join('') : String(value ?? '');
}

function pre(content: string, className: string): HTMLPreElement {
  return el('pre', className, content);
}

/** Which preview each area shows now: an answer for an older click is dropped. */
const CURRENT = new WeakMap<HTMLElement, number>();

/** Release what a preview area holds (its renderers), e.g. when its page closes. */
export function disposePreview(host: HTMLElement): void {
  RENDERERS.get(host)?.dispose();
  RENDERERS.delete(host);
}

/**
 * Show a run or model file inline: text as text, images as images, notebooks as their cells and
 * outputs (rendered by JupyterLab's own renderers, untrusted, so HTML is sanitised and no script
 * runs). Errors are shown in the area; a newer preview in the same area wins.
 */
export async function renderPreview(
  host: HTMLElement,
  endPoint: string,
  path: string,
  size: number,
  trans: TranslationBundle,
  rendermime: IRenderMimeRegistry | null
): Promise<void> {
  const ticket = (CURRENT.get(host) ?? 0) + 1;
  CURRENT.set(host, ticket);
  const current = () => CURRENT.get(host) === ticket;
  disposePreview(host);
  const renderers = new DisposableSet();
  RENDERERS.set(host, renderers);
  host.dataset.path = path;
  if (size > MAX_PREVIEW_BYTES) {
    host.textContent = trans.__(
      '%1 is %2: too large to preview here; download it instead.',
      path,
      formatBytes(size)
    );
    return;
  }
  host.textContent = trans.__('Loading %1…', path);
  const content = el('div', 'jp-mlws-preview-content');
  try {
    const response = await fetchFile(endPoint);
    const kind = previewKind(path);
    if (kind === 'image') {
      const blob = await response.blob();
      if (!current()) {
        return;
      }
      const image = el('img', 'jp-mlws-preview-image');
      image.alt = path;
      const url = URL.createObjectURL(blob);
      const release = () => URL.revokeObjectURL(url);
      image.addEventListener('load', release);
      image.addEventListener('error', release);
      image.src = url;
      content.append(image);
    } else {
      const body = await response.text();
      let shown = false;
      if (kind === 'notebook') {
        try {
          await renderNotebook(
            content,
            JSON.parse(body),
            rendermime,
            renderers
          );
          shown = true;
        } catch {
          // Not a notebook after all: show it as text.
        }
      }
      if (!shown) {
        content.append(
          body.includes('\u0000')
            ? el(
                'div',
                'jp-mlws-status',
                trans.__('%1 is a binary file; download it instead.', path)
              )
            : pre(body, 'jp-mlws-preview-text')
        );
      }
    }
  } catch (reason) {
    content.replaceChildren(el('div', 'jp-mlws-status', errorMessage(reason)));
  }
  if (current()) {
    host.replaceChildren(content);
  }
}

async function renderNotebook(
  host: HTMLElement,
  notebook: INotebookFile,
  rendermime: IRenderMimeRegistry | null,
  renderers: DisposableSet
): Promise<void> {
  if (!Array.isArray(notebook.cells)) {
    throw new Error('no cells');
  }
  const body = el('div', 'jp-mlws-preview-notebook');
  for (const cell of notebook.cells) {
    const node = el(
      'div',
      `jp-mlws-nb-cell jp-mlws-nb-${cell.cell_type ?? 'raw'}`
    );
    const source = text(cell.source);
    if (cell.cell_type === 'markdown' && rendermime) {
      node.append(
        await render(rendermime, { 'text/markdown': source }, renderers)
      );
    } else {
      node.append(pre(source, 'jp-mlws-nb-source'));
    }
    for (const output of cell.outputs ?? []) {
      node.append(await renderOutput(output, rendermime, renderers));
    }
    body.append(node);
  }
  host.append(body);
}

async function renderOutput(
  output: Record<string, unknown>,
  rendermime: IRenderMimeRegistry | null,
  renderers: DisposableSet
): Promise<HTMLElement> {
  switch (output.output_type) {
    case 'stream':
      return pre(text(output.text), 'jp-mlws-nb-output');
    case 'error':
      return pre(
        text((output.traceback as string[] | undefined)?.join('\n')).replace(
          ANSI,
          ''
        ) || `${text(output.ename)}: ${text(output.evalue)}`,
        'jp-mlws-nb-output jp-mlws-nb-error'
      );
    default: {
      const data = (output.data ?? {}) as Record<string, unknown>;
      if (rendermime) {
        const mime = rendermime.preferredMimeType(
          data as Record<string, string>,
          'ensure'
        );
        if (mime) {
          return render(rendermime, data, renderers);
        }
      }
      return pre(text(data['text/plain']), 'jp-mlws-nb-output');
    }
  }
}

async function render(
  rendermime: IRenderMimeRegistry,
  data: Record<string, unknown>,
  renderers: DisposableSet
): Promise<HTMLElement> {
  const mime = rendermime.preferredMimeType(
    data as Record<string, string>,
    'ensure'
  );
  const host = el('div', 'jp-mlws-nb-output');
  if (!mime) {
    return host;
  }
  const renderer = rendermime.createRenderer(mime);
  renderers.add(renderer);
  await renderer.renderModel(
    new MimeModel({ data: data as never, trusted: false })
  );
  host.append(renderer.node);
  return host;
}
