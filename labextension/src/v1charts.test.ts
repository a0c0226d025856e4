import { describe, expect, it } from 'vitest';

import {
  binCenters,
  isV1ChartKind,
  latestChart,
  plotText,
  rates,
  v1Figure
} from './v1charts';

describe('v1 chart metrics', () => {
  it('knows its kinds', () => {
    expect(isV1ChartKind('confusion_matrix')).toBe(true);
    expect(isV1ChartKind('table')).toBe(false);
  });

  it('draws a confusion matrix as a labelled heatmap, first row on top', () => {
    const figure = v1Figure('confusion_matrix', {
      schema_type: 'confusion_matrix',
      schema_version: '1.0.0',
      data: {
        class_labels: [0, 1],
        matrix: [
          [3, 1],
          [0, 4]
        ]
      }
    });
    expect(figure.traces[0]).toMatchObject({
      type: 'heatmap',
      x: ['0', '1'],
      y: ['0', '1'],
      z: [
        [3, 1],
        [0, 4]
      ]
    });
    expect(figure.reversedY).toBe(true);
  });

  it('draws residuals as bars over their bins', () => {
    const figure = v1Figure('residuals', {
      schema_type: 'residuals',
      schema_version: '1.0.0',
      data: { bin_edges: [-1, 0, 2], bin_counts: [5, 7] }
    });
    expect(figure.traces[0]).toMatchObject({
      type: 'bar',
      x: [-0.5, 1],
      y: [5, 7],
      width: [1, 2]
    });
  });

  it('draws predictions as bin averages against bin centres, with the diagonal', () => {
    const figure = v1Figure('predictions', {
      schema_type: 'predictions',
      schema_version: '1.0.0',
      data: {
        bin_averages: [0.25, 0.75],
        bin_errors: [0.01, 0.04],
        bin_counts: [56, 34],
        bin_edges: [0, 0.5, 1]
      }
    });
    expect(figure.traces[0]).toMatchObject({
      x: [0.25, 0.75],
      y: [0.25, 0.75],
      error_y: { array: [0.01, 0.04] }
    });
    expect(figure.traces[1]).toMatchObject({ x: [0, 1], y: [0, 1] });
  });

  it('draws an accuracy table as one ROC curve per class', () => {
    const figure = v1Figure('accuracy_table', {
      schema_type: 'accuracy_table',
      schema_version: '1.0.1',
      data: {
        probability_tables: [
          [
            [4, 4, 0, 0],
            [3, 1, 3, 1]
          ]
        ],
        percentile_tables: [],
        probability_thresholds: [0, 0.5],
        percentile_thresholds: [],
        class_labels: ['yes']
      }
    });
    expect(figure.traces).toHaveLength(1);
    expect(figure.traces[0]).toMatchObject({
      name: 'class yes',
      x: [1, 0.25],
      y: [1, 0.75]
    });
  });

  it('computes rates and centres, and takes the latest of several documents', () => {
    expect(rates([0, 0, 0, 0])).toEqual({ tpr: 0, fpr: 0 });
    expect(binCenters([0, 2, 6])).toEqual([1, 4]);
    const a = { schema_type: 'residuals', schema_version: '1', data: {} };
    const b = { ...a, schema_version: '2' };
    expect(latestChart([a, b])).toBe(b);
    expect(latestChart('text')).toBeNull();
  });

  it('never lets a class label become plotly markup', () => {
    const label = '<a href="https://example.com/">dog</a> & <b>cat</b>';
    expect(plotText(label)).toBe(
      '&lt;a href="https://example.com/"&gt;dog&lt;/a&gt; &amp; &lt;b&gt;cat&lt;/b&gt;'
    );
    const chart = (schema_type: string, data: Record<string, unknown[]>) => ({
      schema_type,
      schema_version: '1.0.0',
      data
    });
    const matrix = v1Figure(
      'confusion_matrix',
      chart('confusion_matrix', { class_labels: [label], matrix: [[1]] })
    );
    expect(matrix.traces[0]).toMatchObject({
      x: [plotText(label)],
      y: [plotText(label)]
    });
    const table = v1Figure(
      'accuracy_table',
      chart('accuracy_table', {
        class_labels: [label],
        probability_tables: [[[1, 0, 1, 0]]]
      })
    );
    expect(String(table.traces[0].name)).not.toContain('<');
  });
});
