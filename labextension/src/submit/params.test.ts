import { describe, expect, it } from 'vitest';

import {
  coerceValue,
  parametersCellSource,
  parseParameters,
  stripComment
} from './params';

describe('parseParameters', () => {
  it('parses ints and strings', () => {
    expect(parseParameters("a = 1\nb = 'x'")).toEqual([
      { name: 'a', type: 'int', value: 1, source: '1' },
      { name: 'b', type: 'str', value: 'x', source: "'x'" }
    ]);
  });

  it('parses floats, booleans, None and annotated names', () => {
    const fields = parseParameters(
      'lr: float = 1e-3\nuse_gpu = True\nseed = None\n'
    );
    expect(fields.map(f => [f.name, f.type, f.value])).toEqual([
      ['lr', 'float', 0.001],
      ['use_gpu', 'bool', true],
      ['seed', 'none', null]
    ]);
  });

  it('skips comments and blank lines, keeps other expressions raw', () => {
    const fields = parseParameters(
      '# parameters\n\nepochs = 10  # how many\nlayers = [1, 2]\nname = "a # b"'
    );
    expect(fields).toEqual([
      { name: 'epochs', type: 'int', value: 10, source: '10' },
      { name: 'layers', type: 'expr', value: '[1, 2]', source: '[1, 2]' },
      { name: 'name', type: 'str', value: 'a # b', source: '"a # b"' }
    ]);
  });
});

describe('stripComment', () => {
  it('keeps hashes inside strings', () => {
    expect(stripComment("x = '#'  # c")).toBe("x = '#'  ");
  });
});

describe('coerceValue', () => {
  const field = (type: string) =>
    ({ name: 'epochs', type, value: null, source: '' }) as never;
  it('keeps the type of the default and refuses what does not fit', () => {
    expect(coerceValue(field('int'), ' 7 ')).toEqual({ ok: true, value: 7 });
    expect(coerceValue(field('int'), 'abc')).toEqual({
      ok: false,
      error: 'epochs must be a whole number'
    });
    expect(coerceValue(field('int'), '1.5').ok).toBe(false);
    expect(coerceValue(field('float'), '1e-3')).toEqual({
      ok: true,
      value: 0.001
    });
    expect(coerceValue(field('float'), 'fast').ok).toBe(false);
    expect(coerceValue(field('bool'), 'False')).toEqual({
      ok: true,
      value: false
    });
    expect(coerceValue(field('bool'), 'yes').ok).toBe(false);
    expect(coerceValue(field('str'), ' a b ')).toEqual({
      ok: true,
      value: ' a b '
    });
  });
});

describe('parametersCellSource', () => {
  it('finds the code cell tagged parameters', () => {
    const notebook = {
      cells: [
        {
          cell_type: 'markdown',
          metadata: { tags: ['parameters'] },
          source: 'x'
        },
        { cell_type: 'code', metadata: {}, source: 'a = 0' },
        {
          cell_type: 'code',
          metadata: { tags: ['parameters'] },
          source: ['epochs = 20\n', 'lr = 0.5']
        }
      ]
    };
    expect(parametersCellSource(notebook)).toBe('epochs = 20\nlr = 0.5');
    expect(parametersCellSource({ cells: [] })).toBeNull();
  });
});
