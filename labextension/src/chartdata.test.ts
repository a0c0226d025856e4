import { describe, expect, it } from 'vitest';

import {
  chartValue,
  compareRows,
  formatBytes,
  parallelDimensions,
  parseTags,
  previewKind,
  scalarSeriesNames,
  seriesXY,
  suggestedModelName
} from './chartdata';

describe('seriesXY', () => {
  const points = [
    { step: 0, value: 1.5, timestamp: '2026-01-01T00:00:00Z' },
    { step: 5, value: 'NaN', timestamp: '2026-01-01T00:00:01Z' },
    { step: null, value: 'Infinity', timestamp: '2026-01-01T00:00:02Z' },
    { step: 9, value: -2, timestamp: '2026-01-01T00:00:03Z' }
  ];

  it('puts steps on x, and a point without a step at its index', () => {
    expect(seriesXY(points, 'step')).toEqual({
      x: [0, 5, 2, 9],
      y: [1.5, null, null, -2]
    });
  });

  it('puts timestamps on x for the time axis', () => {
    expect(seriesXY(points, 'time').x).toEqual(points.map(p => p.timestamp));
  });

  it('turns the non-finite specials into gaps', () => {
    expect(chartValue('-Infinity')).toBeNull();
    expect(chartValue(Number.NaN)).toBeNull();
    expect(chartValue('3')).toBeNull(); // only numbers are numbers
    expect(chartValue(0)).toBe(0);
  });
});

describe('compareRows', () => {
  const a = {
    params: { lr: '0.01', epochs: '10' },
    metrics: { acc: 0.9123456789 },
    tags: { team: 'x' }
  };
  const b = {
    params: { lr: '0.1', epochs: '10', seed: '1' },
    metrics: { acc: 0.8, loss: 'NaN' },
    tags: { team: 'x' }
  };

  it('lists every key of every run, params first, marking the ones that differ', () => {
    const rows = compareRows([a, b]);
    expect(rows.map(r => `${r.section}.${r.key}:${r.differs}`)).toEqual([
      'params.lr:true',
      'params.epochs:false',
      'params.seed:true',
      'metrics.acc:true',
      'metrics.loss:true',
      'tags.team:false'
    ]);
    expect(rows[2].values).toEqual(['', '1']);
    expect(rows[3].values).toEqual(['0.912346', '0.8']);
  });

  it('keeps large values whole when it shortens them', () => {
    const rows = compareRows([
      { params: {}, metrics: { n: 120000.4 }, tags: {} },
      { params: {}, metrics: { n: 120000.2 }, tags: {} }
    ]);
    expect(rows[0].values).toEqual(['120000', '120000']);
    expect(rows[0].differs).toBe(false); // equal to the digits shown
  });

  it('finds nothing different between a run and itself', () => {
    expect(compareRows([a, a]).some(r => r.differs)).toBe(false);
  });
});

describe('parallelDimensions', () => {
  const runs = [
    { params: { lr: '0.1', opt: 'sgd' }, metrics: { acc: 0.5 }, tags: {} },
    { params: { lr: '0.01', opt: 'adam' }, metrics: { acc: 0.7 }, tags: {} },
    { params: { lr: '0.001' }, metrics: { acc: 0.9 }, tags: {} },
    { params: { lr: '1' }, metrics: { acc: 'NaN' }, tags: {} }
  ];

  it('makes numeric axes of numeric params, categorical ones of the rest, the metric last', () => {
    const { dimensions, included } = parallelDimensions(runs, 'acc');
    expect(included).toEqual([0, 1, 2]); // the NaN run cannot be placed
    expect(dimensions.map(d => d.label)).toEqual(['lr', 'opt', 'acc']);
    expect(dimensions[0].values).toEqual([0.1, 0.01, 0.001]);
    expect(dimensions[0].tickvals).toBeUndefined();
    expect(dimensions[1].ticktext).toEqual(['(none)', 'adam', 'sgd']);
    expect(dimensions[1].values).toEqual([2, 1, 0]);
    expect(dimensions[2].values).toEqual([0.5, 0.7, 0.9]);
  });

  it('has only the metric axis when no run has that metric', () => {
    expect(parallelDimensions(runs, 'f1')).toEqual({
      dimensions: [{ label: 'f1', values: [] }],
      included: []
    });
  });
});

describe('helpers', () => {
  it('collects scalar series names across runs, once each', () => {
    expect(
      scalarSeriesNames([
        {
          series: [
            { name: 'loss', kind: 'scalar' },
            { name: 'cm', kind: 'table' }
          ]
        },
        {
          series: [
            { name: 'acc', kind: 'scalar' },
            { name: 'loss', kind: 'scalar' }
          ]
        }
      ])
    ).toEqual(['loss', 'acc']);
  });

  it('formats sizes', () => {
    expect(formatBytes(12)).toBe('12 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MiB');
  });

  it('chooses a preview from the file name', () => {
    expect(previewKind('outputs/plot.PNG')).toBe('image');
    expect(previewKind('outputs/train.ipynb')).toBe('notebook');
    expect(previewKind('user_logs/std_log.txt')).toBe('text');
  });

  it('reads tags typed as key=value pairs', () => {
    expect(parseTags(' stage = prod, note=a=b ,, ')).toEqual({
      stage: 'prod',
      note: 'a=b'
    });
    expect(parseTags('')).toEqual({});
    expect(() => parseTags('stage')).toThrow('tag "stage" needs the form');
    expect(() => parseTags('=x')).toThrow('key=value');
  });

  it('proposes a valid model name from a file path', () => {
    expect(suggestedModelName('outputs/model.pkl')).toBe('model');
    expect(suggestedModelName('outputs/my model (v2).onnx')).toBe(
      'my-model-v2'
    );
    expect(suggestedModelName('outputs/.hidden')).toBe('model');
    expect(suggestedModelName('outputs/_x.bin')).toBe('x');
  });
});
