/**
 * Parsing of a papermill-style "parameters" cell into typed fields.
 *
 * Only simple literal assignments are understood: `name = <literal>` where
 * the literal is an int, a float, a quoted string, True/False or None.
 * Anything else is kept as a field of type 'expr' with its raw source.
 */

export type ParameterType = 'int' | 'float' | 'str' | 'bool' | 'none' | 'expr';

export interface IParameterField {
  name: string;
  type: ParameterType;
  value: number | string | boolean | null;
  /** The right-hand side as written in the cell. */
  source: string;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*[^=]+)?=\s*(.+)$/;
const INT = /^[-+]?\d+(?:_\d+)*$/;
const FLOAT = /^[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?$/;

/** Remove a trailing `# comment` that is not inside a string literal. */
export function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === '\\') {
        i++;
      } else if (ch === quote) {
        quote = null;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#') {
      return line.slice(0, i);
    }
  }
  return line;
}

function parseLiteral(source: string): Pick<IParameterField, 'type' | 'value'> {
  if (INT.test(source)) {
    return { type: 'int', value: Number(source.replace(/_/g, '')) };
  }
  if (FLOAT.test(source)) {
    return { type: 'float', value: Number(source) };
  }
  if (source === 'True' || source === 'False') {
    return { type: 'bool', value: source === 'True' };
  }
  if (source === 'None') {
    return { type: 'none', value: null };
  }
  const quoted = /^(['"])((?:\\.|(?!\1).)*)\1$/.exec(source);
  if (quoted) {
    return { type: 'str', value: quoted[2].replace(/\\(.)/g, '$1') };
  }
  return { type: 'expr', value: source };
}

/** Parse the source of a parameters cell into typed fields, in order. */
export function parseParameters(cellSource: string): IParameterField[] {
  const fields: IParameterField[] = [];
  for (const rawLine of cellSource.split(/\r?\n/)) {
    const line = stripComment(rawLine).trim();
    if (!line) {
      continue;
    }
    const match = ASSIGNMENT.exec(line);
    if (!match) {
      continue;
    }
    const [, name, rhs] = match;
    const source = rhs.trim();
    fields.push({ name, source, ...parseLiteral(source) });
  }
  return fields;
}

/** What a field's text becomes, or why it is refused (checked like the server checks it). */
export type Coerced =
  | { ok: true; value: number | string | boolean | null }
  | { ok: false; error: string };

/** Read a field's text as its default's type: an int default refuses "abc" (and 1.5). */
export function coerceValue(field: IParameterField, text: string): Coerced {
  const raw = text.trim();
  switch (field.type) {
    case 'int':
      return INT.test(raw)
        ? { ok: true, value: Number(raw.replace(/_/g, '')) }
        : { ok: false, error: `${field.name} must be a whole number` };
    case 'float':
      return FLOAT.test(raw)
        ? { ok: true, value: Number(raw) }
        : { ok: false, error: `${field.name} must be a number` };
    case 'bool':
      return raw === 'true' || raw === 'True'
        ? { ok: true, value: true }
        : raw === 'false' || raw === 'False'
          ? { ok: true, value: false }
          : { ok: false, error: `${field.name} must be True or False` };
    case 'str':
      return { ok: true, value: text };
    default:
      // None or an expression default: the server judges the value it is given.
      return { ok: true, value: raw };
  }
}

/** The source of the cell tagged `parameters` in notebook JSON, or null without one. */
export function parametersCellSource(notebook: {
  cells?: ReadonlyArray<{
    cell_type?: string;
    metadata?: { tags?: unknown };
    source?: string | string[];
  }>;
}): string | null {
  for (const cell of notebook.cells ?? []) {
    const tags = cell.metadata?.tags;
    if (
      cell.cell_type === 'code' &&
      Array.isArray(tags) &&
      tags.includes('parameters')
    ) {
      return Array.isArray(cell.source)
        ? cell.source.join('')
        : (cell.source ?? '');
    }
  }
  return null;
}
