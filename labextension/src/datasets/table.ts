import { el } from '../dom';
import { formatCell, visibleRows } from './format';

/** A column of a virtual table: its name and, shown smaller under it, its type. */
export interface IVirtualColumn {
  name: string;
  type: string;
}

/** Pixels per row (fixed: the window of drawn rows is computed from it; see `format.ts`). */
const ROW_HEIGHT = 24;
/** The tallest the table gets before it scrolls. */
const MAX_HEIGHT = 420;

/**
 * A table that draws only the rows in view (plus a few either side), however many it holds: the
 * preview of a dataset (up to 1,000 rows of any width) and a version's file list. The body is a
 * spacer as tall as every row together; the drawn rows are placed absolutely inside it, and
 * scrolling (or resizing) moves the window. The header stays on top while the body scrolls.
 *
 * `node` carries `data-total-rows` and `data-drawn-rows` (for tests and for users' automation);
 * each drawn row carries `data-index`.
 */
export class VirtualTable {
  constructor(testid: string, rowTestid: string) {
    this.node.dataset.testid = testid;
    this._rowTestid = rowTestid;
    this._scroller.append(this._header, this._body);
    this.node.append(this._scroller);
    this._scroller.addEventListener('scroll', () => this._schedule(), {
      passive: true
    });
    // Drawn while hidden (another tab in front), the table is redrawn once it has a size.
    this._resize = new ResizeObserver(() => this._schedule());
    this._resize.observe(this._scroller);
  }

  readonly node = el('div', 'jp-mlws-vtable');

  /** Show these rows (each an array of cells in column order). */
  setData(columns: IVirtualColumn[], rows: unknown[][]): void {
    this._columns = columns;
    this._rows = rows;
    const template = `4em repeat(${columns.length}, minmax(9em, 1fr))`;
    this._template = template;
    this._header.style.gridTemplateColumns = template;
    // Header and rows are as wide as their columns' minimum: wide tables scroll sideways, aligned.
    const width = `calc(4em + ${columns.length} * 9em)`;
    this._header.style.minWidth = width;
    this._body.style.minWidth = width;
    this._header.replaceChildren(
      el('div', 'jp-mlws-vtable-index', '#'),
      ...columns.map(column => {
        const cell = el('div', 'jp-mlws-vtable-head');
        cell.title = `${column.name}: ${column.type}`;
        cell.append(
          el('span', 'jp-mlws-vtable-name', column.name),
          el('span', 'jp-mlws-vtable-type', column.type)
        );
        return cell;
      })
    );
    this._body.style.height = `${rows.length * ROW_HEIGHT}px`;
    this._scroller.style.height = `${Math.min(MAX_HEIGHT, rows.length * ROW_HEIGHT + 40)}px`;
    this._scroller.scrollTop = 0;
    this.node.dataset.totalRows = String(rows.length);
    this._drawn = { start: 0, end: 0 };
    this._body.replaceChildren();
    this._draw();
  }

  dispose(): void {
    this._resize.disconnect();
    if (this._frame) {
      cancelAnimationFrame(this._frame);
    }
  }

  private _schedule(): void {
    if (!this._frame) {
      this._frame = requestAnimationFrame(() => {
        this._frame = 0;
        this._draw();
      });
    }
  }

  /** Draw the rows in view (only those: rows scrolled away are removed). */
  private _draw(): void {
    const header = this._header.offsetHeight;
    const height = this._scroller.clientHeight || MAX_HEIGHT;
    const span = visibleRows(
      Math.max(0, this._scroller.scrollTop - header),
      height,
      ROW_HEIGHT,
      this._rows.length
    );
    if (
      span.start === this._drawn.start &&
      span.end === this._drawn.end &&
      this._body.childElementCount === span.end - span.start
    ) {
      return;
    }
    const rows: HTMLElement[] = [];
    for (let index = span.start; index < span.end; index++) {
      rows.push(this._row(index));
    }
    this._body.replaceChildren(...rows);
    this._drawn = span;
    this.node.dataset.drawnRows = String(rows.length);
  }

  private _row(index: number): HTMLElement {
    const row = el('div', 'jp-mlws-vtable-row');
    row.dataset.testid = this._rowTestid;
    row.dataset.index = String(index);
    row.style.top = `${index * ROW_HEIGHT}px`;
    row.style.height = `${ROW_HEIGHT}px`;
    row.style.gridTemplateColumns = this._template;
    row.append(el('div', 'jp-mlws-vtable-index', String(index + 1)));
    const cells = this._rows[index] ?? [];
    for (let column = 0; column < this._columns.length; column++) {
      const text = formatCell(cells[column]);
      const cell = el('div', 'jp-mlws-vtable-cell', text);
      cell.title = text;
      if (cells[column] === null || cells[column] === undefined) {
        cell.classList.add('jp-mlws-vtable-null');
      }
      row.append(cell);
    }
    return row;
  }

  private _rowTestid: string;
  private _scroller = el('div', 'jp-mlws-vtable-scroller');
  private _header = el('div', 'jp-mlws-vtable-header');
  private _body = el('div', 'jp-mlws-vtable-body');
  private _columns: IVirtualColumn[] = [];
  private _rows: unknown[][] = [];
  private _template = '';
  private _drawn = { start: 0, end: 0 };
  private _frame = 0;
  private _resize: ResizeObserver;
}
