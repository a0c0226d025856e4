import { describe, expect, it } from 'vitest';

import { parseParameters, stripComment } from './params';

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
