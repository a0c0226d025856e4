/**
 * Azure ML v1's chart metrics (`log_confusion_matrix`, `log_accuracy_table`, `log_residuals`,
 * `log_predictions`) as plotly traces. Data only — no DOM, no plotting library — so it is
 * unit-tested on its own; the run page draws what these return.
 */

/** The kinds of v1 chart metric. */
export const V1_CHART_KINDS = [
  'confusion_matrix',
  'accuracy_table',
  'residuals',
  'predictions'
] as const;
export type V1ChartKind = (typeof V1_CHART_KINDS)[number];

/** Whether a metric kind is one of v1's chart kinds. */
export function isV1ChartKind(kind: string): kind is V1ChartKind {
  return (V1_CHART_KINDS as ReadonlyArray<string>).includes(kind);
}

/** A v1 chart document as the server sends it. */
export interface IV1Chart {
  schema_type: string;
  schema_version: string;
  data: Record<string, unknown[]>;
}

/** What a chart is drawn from: traces, axis titles and (for a matrix) cell annotations. */
export interface IV1Figure {
  traces: Array<Record<string, unknown>>;
  xTitle: string;
  yTitle: string;
  /** Category axes (class labels) rather than numbers. */
  categorical?: boolean;
  /** The y axis runs top-down (a matrix's first row on top). */
  reversedY?: boolean;
}

/**
 * A string as plotly shows it literally. Plotly reads a subset of HTML in titles, tick labels,
 * legend names and hover text (links, styles, line breaks): class labels and metric names come from
 * the logging code, so their `&`, `<` and `>` go as entities and are never made into markup.
 */
export function plotText(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

const numbers = (values: unknown): number[] =>
  Array.isArray(values) ? values.map(v => Number(v)) : [];

/** Midpoints of consecutive bin edges. */
export function binCenters(edges: ReadonlyArray<number>): number[] {
  const centers: number[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    centers.push((edges[i] + edges[i + 1]) / 2);
  }
  return centers;
}

/** Rates of a `[TP, FP, TN, FN]` row: true and false positive rates (0 where undefined). */
export function rates(row: ReadonlyArray<number>): {
  tpr: number;
  fpr: number;
} {
  const [tp, fp, tn, fn] = row;
  return {
    tpr: tp + fn > 0 ? tp / (tp + fn) : 0,
    fpr: fp + tn > 0 ? fp / (fp + tn) : 0
  };
}

/** The latest document of a v1 chart series (one was logged, or several: the last one). */
export function latestChart(value: unknown): IV1Chart | null {
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  if (last && typeof last === 'object' && 'data' in last) {
    return last as IV1Chart;
  }
  return null;
}

/**
 * The figure of one v1 chart: a confusion matrix as a heatmap with its class labels (true class
 * down, predicted across, each cell's count written in it); residuals as a histogram over their
 * bins; predictions as the average prediction per bin (with its error) against the bins' centres
 * and the ideal diagonal; an accuracy table as one ROC curve per class (from its probability table).
 */
export function v1Figure(kind: V1ChartKind, chart: IV1Chart): IV1Figure {
  const data = chart.data;
  switch (kind) {
    case 'confusion_matrix': {
      const labels = (data.class_labels ?? []).map(plotText);
      return {
        traces: [
          {
            type: 'heatmap',
            z: data.matrix,
            x: labels,
            y: labels,
            colorscale: 'Blues',
            reversescale: true, // plotly's Blues run dark to light: more is darker
            texttemplate: '%{z}',
            hovertemplate: 'true %{y}, predicted %{x}: %{z}<extra></extra>'
          }
        ],
        xTitle: 'predicted class',
        yTitle: 'true class',
        categorical: true,
        reversedY: true
      };
    }
    case 'residuals': {
      const edges = numbers(data.bin_edges);
      return {
        traces: [
          {
            type: 'bar',
            x: binCenters(edges),
            y: numbers(data.bin_counts),
            width: edges.slice(1).map((edge, i) => edge - edges[i]),
            hovertemplate: 'residual %{x}: %{y}<extra></extra>'
          }
        ],
        xTitle: 'residual (predicted − true)',
        yTitle: 'count'
      };
    }
    case 'predictions': {
      const edges = numbers(data.bin_edges);
      const ends = edges.length ? [edges[0], edges[edges.length - 1]] : [];
      return {
        traces: [
          {
            type: 'scatter',
            mode: 'lines+markers',
            name: 'average prediction',
            x: binCenters(edges),
            y: numbers(data.bin_averages),
            error_y: { type: 'data', array: numbers(data.bin_errors) }
          },
          {
            type: 'scatter',
            mode: 'lines',
            name: 'ideal',
            x: ends,
            y: ends,
            line: { dash: 'dot' }
          }
        ],
        xTitle: 'true value (bin centre)',
        yTitle: 'average prediction'
      };
    }
    case 'accuracy_table': {
      const labels = (data.class_labels ?? []).map(plotText);
      const tables = (data.probability_tables ?? []) as number[][][];
      return {
        traces: tables.map((table, c) => {
          const points = table.map(rates);
          return {
            type: 'scatter',
            mode: 'lines',
            name: `class ${labels[c] ?? c}`,
            x: points.map(p => p.fpr),
            y: points.map(p => p.tpr)
          };
        }),
        xTitle: 'false positive rate',
        yTitle: 'true positive rate (ROC)'
      };
    }
  }
}
