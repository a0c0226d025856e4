import type { TranslationBundle } from '@jupyterlab/translation';
import type * as PlotlyModule from 'plotly.js-dist-min';

import type { IDimension, XAxis } from './chartdata';

export type Plotly = typeof PlotlyModule;

let loading: Promise<Plotly> | null = null;

/**
 * plotly.js, loaded on first use: it is a few megabytes, so it comes as its own chunk when a run or
 * compare page first draws a chart, not with the sidebar.
 */
export function plotly(): Promise<Plotly> {
  if (!loading) {
    loading = import('plotly.js-dist-min').then(
      module =>
        ((module as unknown as { default?: Plotly }).default ??
          module) as Plotly
    );
  }
  return loading;
}

/** Layout shared by the pages' charts: compact, following JupyterLab's theme colours. */
export function baseLayout(title: string): Partial<PlotlyModule.Layout> {
  const style = getComputedStyle(document.body);
  const color = (name: string, fallback: string) =>
    style.getPropertyValue(name).trim() || fallback;
  return {
    title: { text: title, font: { size: 13 } },
    height: 260,
    margin: { l: 50, r: 20, t: 32, b: 36 },
    paper_bgcolor: color('--jp-layout-color0', '#fff'),
    plot_bgcolor: color('--jp-layout-color0', '#fff'),
    font: { color: color('--jp-ui-font-color1', '#222') },
    showlegend: false
  };
}

/** Charts resize with the page, and hover with no mode bar clutter. */
export const PLOT_CONFIG: Partial<PlotlyModule.Config> = {
  responsive: true,
  displaylogo: false
};

/** The x axis of a metric chart: steps, or wall-clock time. */
export function xAxisLayout(
  axis: XAxis,
  trans: TranslationBundle
): Partial<PlotlyModule.LayoutAxis> {
  return axis === 'time'
    ? { title: { text: trans.__('time') }, type: 'date' }
    : { title: { text: trans.__('step') }, type: 'linear' };
}

/** Fit charts to their (resized or newly shown) container. */
export function resizeCharts(host: HTMLElement): void {
  const charts = host.querySelectorAll<HTMLElement>('.js-plotly-plot');
  if (charts.length) {
    void plotly().then(Plotly => {
      charts.forEach(chart => void Plotly.Plots.resize(chart));
    });
  }
}

/** Release the charts under a node (plotly keeps listeners and data on each). */
export function purgeCharts(host: HTMLElement): void {
  const charts = host.querySelectorAll<HTMLElement>('.js-plotly-plot');
  if (charts.length) {
    void plotly().then(Plotly => charts.forEach(chart => Plotly.purge(chart)));
  }
}

/**
 * A parallel-coordinates chart (the compare page's parameters against a metric, a sweep's trials):
 * one axis per dimension, the lines coloured by the last one (the metric).
 */
export async function drawParallel(
  node: HTMLElement,
  dimensions: ReadonlyArray<IDimension>
): Promise<void> {
  const Plotly = await plotly();
  const values = dimensions[dimensions.length - 1].values;
  const layout = baseLayout('');
  layout.margin = { l: 60, r: 60, t: 40, b: 20 };
  await Plotly.react(
    node,
    [
      {
        type: 'parcoords',
        line: {
          color: values,
          colorscale: 'Viridis',
          showscale: true
        },
        dimensions: dimensions.map(d => ({
          label: d.label,
          values: d.values,
          ...(d.tickvals ? { tickvals: d.tickvals, ticktext: d.ticktext } : {})
        }))
      } as never
    ],
    layout,
    PLOT_CONFIG
  );
}
