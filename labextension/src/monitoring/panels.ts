import type * as PlotlyModule from 'plotly.js-dist-min';

import { el, errorMessage, statusDot } from '../dom';
import { baseLayout, PLOT_CONFIG, plotly } from '../plot';
import { TERMINAL_STATUSES } from '../request';
import { openRun } from '../run/open';
import type { IPageContext } from '../tokens';
import type { FeatureDistribution, IntervalResult } from './api';
import {
  chooseFeature,
  chooseInterval,
  contributionBars,
  distributionBars,
  finite,
  formatMagnitude,
  intervalLabel,
  magnitudeOf,
  magnitudeRange,
  magnitudeSeries,
  thresholdMagnitude
} from './format';

/** Reads an interval's distributions (null when its check wrote none, e.g. it failed). */
export type DistributionLoader = (
  runId: string
) => Promise<Record<string, FeatureDistribution> | null>;

const CHART_HEIGHT = 240;

/** Colours of the two sides of an overlay, and of drifted / not drifted contributions. */
const BASELINE_COLOR = '#1f77b4';
const TARGET_COLOR = '#ff7f0e';
const DRIFTED_COLOR = '#d62728';
const STEADY_COLOR = '#7f7f7f';

/**
 * The drift panels of a detector's page and of a drift run's page: the magnitude of each checked
 * interval over time (the threshold as a line, failed intervals marked), an interval picker (a
 * click on a point or the select), the chosen interval's feature contributions as bars and its
 * features' measures, and the baseline-vs-target distribution of a chosen feature. The owner hands
 * it the intervals each time it reads them (`show`); the distributions are read per interval.
 */
export class DriftPanels {
  /**
   * @param loadDistributions reads an interval's distributions
   * @param ownRunId the run whose page shows the panels (its interval needs no "Open check")
   */
  constructor(
    context: IPageContext,
    loadDistributions: DistributionLoader,
    ownRunId: string | null = null
  ) {
    this._context = context;
    this._load = loadDistributions;
    this._ownRunId = ownRunId;
    const trans = context.trans;
    this.node.dataset.testid = 'mlws-drift-panels';
    this._magnitude.dataset.testid = 'mlws-drift-magnitude';
    this._contributions.dataset.testid = 'mlws-drift-contributions';
    this._distribution.dataset.testid = 'mlws-drift-distribution';

    this._interval.dataset.testid = 'mlws-drift-interval';
    this._interval.setAttribute('aria-label', trans.__('Interval'));
    this._interval.addEventListener('change', () =>
      this._choose(this._interval.value)
    );
    this._feature.dataset.testid = 'mlws-drift-feature';
    this._feature.setAttribute('aria-label', trans.__('Feature'));
    this._feature.addEventListener('change', () => {
      this._chosenFeature = this._feature.value;
      this._featurePicked = true;
      this._drawFeatureRows();
      void this._drawDistribution();
    });
    this._summary.dataset.testid = 'mlws-drift-interval-summary';

    const picker = el('div', 'jp-mlws-drift-picker');
    const intervalLabelNode = el('label', 'jp-mlws-field');
    intervalLabelNode.append(
      el('span', '', trans.__('Interval')),
      this._interval
    );
    this._openRun.textContent = trans.__('Open check');
    this._openRun.dataset.testid = 'mlws-drift-open-interval';
    this._openRun.addEventListener('click', () => {
      if (this._chosen) {
        openRun(this._context, this._chosen);
      }
    });
    picker.append(intervalLabelNode, this._openRun);

    const featureLabel = el('label', 'jp-mlws-field');
    featureLabel.append(el('span', '', trans.__('Feature')), this._feature);

    const charts = el('div', 'jp-mlws-drift-charts');
    const left = el('div', 'jp-mlws-drift-cell');
    left.append(this._contributionsNote, this._contributions);
    const right = el('div', 'jp-mlws-drift-cell');
    right.append(featureLabel, this._distribution, this._distributionNote);
    charts.append(left, right);

    this._features.dataset.testid = 'mlws-drift-features';
    this.node.append(
      this._magnitudeNote,
      this._magnitude,
      picker,
      this._summary,
      charts,
      this._features
    );
  }

  readonly node = el('div', 'jp-mlws-drift-panels');

  /**
   * Draw the intervals (the latest check of each); `driftThreshold` is the detector's threshold
   * (a coefficient, 0..1), or null when unknown (then no threshold line).
   */
  async show(
    intervals: readonly IntervalResult[],
    driftThreshold: number | null
  ): Promise<void> {
    this._intervals = [...intervals];
    this._threshold = driftThreshold;
    // An interval the user picked stays; else the panels follow the latest checked one.
    this._chosen = chooseInterval(
      this._intervals,
      this._intervalPicked ? this._chosen : null
    );
    this._fillIntervals();
    await Promise.all([this._drawMagnitude(), this._drawInterval()]);
  }

  /** Show why the intervals could not be read. */
  showError(message: string): void {
    this._magnitudeNote.textContent = message;
  }

  private get _current(): IntervalResult | null {
    return this._intervals.find(i => i.run_id === this._chosen) ?? null;
  }

  private _choose(runId: string): void {
    if (
      runId === this._chosen ||
      !this._intervals.some(i => i.run_id === runId)
    ) {
      return;
    }
    this._chosen = runId;
    this._intervalPicked = true;
    this._interval.value = runId;
    this._openRun.hidden = runId === this._ownRunId;
    void this._drawMagnitude();
    void this._drawInterval();
  }

  private _fillIntervals(): void {
    const trans = this._context.trans;
    const options = [...this._intervals]
      .sort((a, b) => Date.parse(b.start_date) - Date.parse(a.start_date))
      .map(interval => {
        const text =
          magnitudeOf(interval) === null
            ? trans.__('%1 (%2)', intervalLabel(interval), interval.status)
            : trans.__(
                '%1 · magnitude %2',
                intervalLabel(interval),
                formatMagnitude(interval.magnitude)
              );
        return new Option(text, interval.run_id);
      });
    this._interval.replaceChildren(...options);
    this._interval.disabled = !options.length;
    this._interval.value = this._chosen ?? '';
    this._openRun.hidden = !this._chosen || this._chosen === this._ownRunId;
  }

  private async _drawMagnitude(): Promise<void> {
    const trans = this._context.trans;
    const node = this._magnitude;
    const threshold = this._threshold;
    const series = magnitudeSeries(this._intervals, threshold ?? 0);
    node.dataset.points = String(series.x.length);
    node.dataset.failed = String(series.failed.x.length);
    node.dataset.threshold = threshold === null ? '' : String(series.threshold);
    node.dataset.interval = this._chosen ?? '';
    this._magnitudeNote.textContent = this._intervals.length
      ? ''
      : trans.__('No interval checked yet');
    const Plotly = await plotly();
    const chosen = series.runIds.map(id => id === this._chosen);
    const traces: PlotlyModule.Data[] = [
      {
        x: series.x,
        y: series.y,
        customdata: series.runIds,
        text: series.labels,
        hovertemplate: trans.__('%1<br>magnitude %2', '%{text}', '%{y:.1f}'),
        name: trans.__('magnitude'),
        type: 'scatter',
        mode: 'lines+markers',
        marker: {
          size: chosen.map(c => (c ? 13 : 8)),
          color: series.y.map(y =>
            threshold !== null && y > series.threshold
              ? DRIFTED_COLOR
              : BASELINE_COLOR
          ),
          line: { width: chosen.map(c => (c ? 2 : 0)), color: '#000' }
        }
      },
      {
        x: series.failed.x,
        y: series.failed.x.map(() => 0),
        customdata: series.failed.runIds,
        text: series.failed.labels,
        hovertemplate: '%{text}<extra></extra>',
        name: trans.__('failed'),
        type: 'scatter',
        mode: 'markers',
        marker: {
          symbol: 'x',
          size: series.failed.runIds.map(id => (id === this._chosen ? 15 : 11)),
          color: DRIFTED_COLOR
        }
      }
    ];
    const layout = baseLayout(trans.__('Drift magnitude'));
    layout.height = CHART_HEIGHT;
    const range = magnitudeRange(this._intervals);
    layout.xaxis = { type: 'date', ...(range ? { range } : {}) };
    layout.yaxis = { range: [0, 105], title: { text: trans.__('magnitude') } };
    if (threshold !== null) {
      layout.shapes = [
        {
          type: 'line',
          xref: 'paper',
          x0: 0,
          x1: 1,
          y0: series.threshold,
          y1: series.threshold,
          line: { color: DRIFTED_COLOR, dash: 'dash', width: 1.5 }
        }
      ];
      layout.annotations = [
        {
          xref: 'paper',
          x: 1,
          xanchor: 'right',
          y: series.threshold,
          yanchor: 'bottom',
          text: trans.__('threshold %1', formatMagnitude(series.threshold)),
          showarrow: false,
          font: { size: 11, color: DRIFTED_COLOR }
        }
      ];
    }
    await Plotly.react(node, traces, layout, PLOT_CONFIG);
    if (!this._clickable) {
      // A click on a point (a checked or a failed interval) chooses that interval.
      this._clickable = true;
      (node as unknown as PlotlyModule.PlotlyHTMLElement).on(
        'plotly_click',
        event => {
          const runId = event.points[0]?.customdata;
          if (typeof runId === 'string') {
            this._choose(runId);
          }
        }
      );
    }
  }

  /** The chosen interval's summary, contributions, features and distribution. */
  private async _drawInterval(): Promise<void> {
    const interval = this._current;
    this._drawSummary(interval);
    const names = interval ? interval.features.map(f => f.name) : [];
    // A feature the user picked stays (when the interval has it); else the top contributor.
    this._chosenFeature = chooseFeature(
      names,
      this._featurePicked ? this._chosenFeature : null
    );
    this._feature.replaceChildren(...names.map(name => new Option(name, name)));
    this._feature.disabled = !names.length;
    this._feature.value = this._chosenFeature ?? '';
    this._drawFeatureRows();
    await Promise.all([
      this._drawContributions(interval),
      this._drawDistribution()
    ]);
  }

  private _drawSummary(interval: IntervalResult | null): void {
    const trans = this._context.trans;
    this._summary.dataset.interval = interval?.run_id ?? '';
    if (!interval) {
      this._summary.replaceChildren();
      return;
    }
    const parts: string[] = [intervalLabel(interval)];
    const magnitude = magnitudeOf(interval);
    if (magnitude !== null) {
      const threshold =
        this._threshold === null ? null : thresholdMagnitude(this._threshold);
      parts.push(
        threshold !== null && magnitude > threshold
          ? trans.__(
              'magnitude %1, above the threshold %2',
              formatMagnitude(magnitude),
              formatMagnitude(threshold)
            )
          : trans.__('magnitude %1', formatMagnitude(magnitude))
      );
      const drifted = interval.features.filter(f => f.drifted).length;
      parts.push(
        trans.__('%1 of %2 features drifted', drifted, interval.features.length)
      );
    } else {
      parts.push(interval.error ?? interval.status);
    }
    this._summary.replaceChildren(
      statusDot(interval.status),
      el('span', '', ` ${parts.join(' · ')}`)
    );
  }

  private async _drawContributions(
    interval: IntervalResult | null
  ): Promise<void> {
    const trans = this._context.trans;
    const node = this._contributions;
    const bars = interval
      ? contributionBars(interval)
      : { names: [], percents: [], drifted: [] };
    node.dataset.interval = interval?.run_id ?? '';
    node.dataset.features = bars.names.join(',');
    const Plotly = await plotly();
    if (!bars.names.length) {
      // A failed (or unfinished) check has no contributions: say so rather than draw empty axes.
      Plotly.purge(node);
      node.hidden = true;
      this._contributionsNote.textContent = interval
        ? trans.__('No contributions: %1', interval.error ?? interval.status)
        : '';
      return;
    }
    node.hidden = false;
    this._contributionsNote.textContent = '';
    // Horizontal bars read top-down: plotly draws the first category at the bottom.
    const layout = baseLayout(
      interval
        ? trans.__('Contributions, %1', intervalLabel(interval))
        : trans.__('Contributions')
    );
    layout.height = Math.max(CHART_HEIGHT, 60 + 18 * bars.names.length);
    layout.margin = { l: 110, r: 20, t: 32, b: 36 };
    layout.xaxis = { title: { text: trans.__('contribution (%)') } };
    layout.yaxis = { automargin: true };
    await Plotly.react(
      node,
      [
        {
          type: 'bar',
          orientation: 'h',
          x: [...bars.percents].reverse(),
          y: [...bars.names].reverse(),
          marker: {
            color: [...bars.drifted]
              .reverse()
              .map(d => (d ? DRIFTED_COLOR : STEADY_COLOR))
          },
          hovertemplate: '%{y}: %{x:.1f}%<extra></extra>'
        }
      ],
      layout,
      PLOT_CONFIG
    );
  }

  /** The features' measures; a click on a row shows its distribution. */
  private _drawFeatureRows(): void {
    const trans = this._context.trans;
    const interval = this._current;
    if (!interval || !interval.features.length) {
      this._features.replaceChildren();
      return;
    }
    const measure = (value: unknown) => {
      const number = finite(value);
      return number === null ? String(value ?? '') : number.toPrecision(3);
    };
    const head = el('thead');
    const titles = head.insertRow();
    for (const title of [
      trans.__('Feature'),
      trans.__('Kind'),
      trans.__('Contribution'),
      trans.__('Drifted'),
      trans.__('Decided by'),
      trans.__('Wasserstein (norm.)'),
      trans.__('KS'),
      trans.__('JS'),
      trans.__('p-value'),
      trans.__('PSI'),
      trans.__('Nulls'),
      trans.__('Unseen')
    ]) {
      titles.append(el('th', '', title));
    }
    const body = el('tbody');
    for (const feature of interval.features) {
      const row = body.insertRow();
      row.className = 'jp-mlws-link-row';
      row.dataset.feature = feature.name;
      row.classList.toggle(
        'jp-mod-selected',
        feature.name === this._chosenFeature
      );
      row.classList.toggle('jp-mlws-drift-drifted', feature.drifted);
      const m = feature.measures;
      row.append(
        el('td', '', feature.name),
        el('td', '', feature.kind),
        el(
          'td',
          '',
          `${((finite(feature.contribution) ?? 0) * 100).toFixed(1)}%`
        ),
        el('td', '', feature.drifted ? trans.__('yes') : trans.__('no')),
        el('td', '', feature.method),
        el('td', '', measure(m.normalized_wasserstein_distance)),
        el('td', '', measure(m.ks_statistic)),
        el('td', '', measure(m.jensen_shannon_distance)),
        el('td', '', measure(m.p_value)),
        el('td', '', measure(m.population_stability_index)),
        el('td', '', String(feature.null_count)),
        el('td', '', String(feature.unseen_category_count))
      );
      row.addEventListener('click', () => {
        this._chosenFeature = feature.name;
        this._featurePicked = true;
        this._feature.value = feature.name;
        this._drawFeatureRows();
        void this._drawDistribution();
      });
    }
    const table = el('table', 'jp-mlws-compare-table jp-mlws-drift-table');
    table.append(head, body);
    this._features.replaceChildren(table);
  }

  private async _drawDistribution(): Promise<void> {
    const trans = this._context.trans;
    const node = this._distribution;
    const interval = this._current;
    const feature = this._chosenFeature;
    const draw = ++this._distributionDraw;
    node.dataset.interval = interval?.run_id ?? '';
    node.dataset.feature = feature ?? '';
    let dist: FeatureDistribution | null = null;
    if (interval && feature) {
      try {
        dist = (await this._distributions(interval))?.[feature] ?? null;
        this._distributionNote.textContent = dist
          ? ''
          : trans.__('No distribution of %1 in this interval', feature);
      } catch (reason) {
        this._distributionNote.textContent = errorMessage(reason);
      }
    } else {
      this._distributionNote.textContent = '';
    }
    if (draw !== this._distributionDraw) {
      return; // another interval or feature was chosen meanwhile
    }
    const Plotly = await plotly();
    if (!dist || !feature) {
      node.dataset.kind = '';
      Plotly.purge(node);
      node.hidden = true;
      return;
    }
    node.hidden = false;
    const bars = distributionBars(dist);
    node.dataset.kind = bars.kind;
    const side = (
      name: string,
      y: number[],
      color: string
    ): PlotlyModule.Data => ({
      type: 'bar',
      name,
      x: bars.x,
      y,
      ...(bars.width ? { width: bars.width } : {}),
      marker: { color },
      opacity: bars.kind === 'numeric' ? 0.55 : 0.85,
      hovertemplate: `${name} %{x}: %{y:.1f}%<extra></extra>`
    });
    const layout = baseLayout(trans.__('%1: baseline and target', feature));
    layout.height = CHART_HEIGHT;
    layout.barmode = bars.kind === 'numeric' ? 'overlay' : 'group';
    layout.showlegend = true;
    layout.legend = { orientation: 'h', x: 1, xanchor: 'right', y: 1.15 };
    layout.yaxis = { title: { text: trans.__('share (%)') } };
    layout.xaxis =
      bars.kind === 'categorical' ? { type: 'category' } : { type: 'linear' };
    await Plotly.react(
      node,
      [
        side(trans.__('baseline'), bars.baseline, BASELINE_COLOR),
        side(trans.__('target'), bars.target, TARGET_COLOR)
      ],
      layout,
      PLOT_CONFIG
    );
  }

  /** An interval's distributions, read once per ended check. */
  private _distributions(
    interval: IntervalResult
  ): Promise<Record<string, FeatureDistribution> | null> {
    const known = this._loaded.get(interval.run_id);
    if (known) {
      return known;
    }
    const loading = this._load(interval.run_id);
    if (TERMINAL_STATUSES.has(interval.status)) {
      this._loaded.set(interval.run_id, loading);
      loading.catch(() => this._loaded.delete(interval.run_id));
    }
    return loading;
  }

  private _context: IPageContext;
  private _load: DistributionLoader;
  private _ownRunId: string | null;
  private _intervals: IntervalResult[] = [];
  private _threshold: number | null = null;
  private _chosen: string | null = null;
  private _chosenFeature: string | null = null;
  /** Whether the user picked the interval / the feature (else they follow the data). */
  private _intervalPicked = false;
  private _featurePicked = false;
  private _clickable = false;
  private _distributionDraw = 0;
  private _loaded = new Map<
    string,
    Promise<Record<string, FeatureDistribution> | null>
  >();
  private _magnitudeNote = el('div', 'jp-mlws-status');
  private _magnitude = el('div', 'jp-mlws-chart');
  private _interval = el('select', 'jp-mlws-select');
  private _openRun = el('button', 'jp-mod-styled');
  private _summary = el('div', 'jp-mlws-drift-summary');
  private _contributions = el('div', 'jp-mlws-chart');
  private _contributionsNote = el('div', 'jp-mlws-status');
  private _feature = el('select', 'jp-mlws-select');
  private _distribution = el('div', 'jp-mlws-chart');
  private _distributionNote = el('div', 'jp-mlws-status');
  private _features = el('div', 'jp-mlws-drift-features');
}
