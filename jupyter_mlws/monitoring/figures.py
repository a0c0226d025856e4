"""Plotly figures of data drift: magnitude over time, per-feature contributions, a feature's distributions.

They take the JSON the checks store (``DriftResult.to_json()``, ``distributions(...)``, one point per
interval), so a run's files can be drawn again later without the data. Figures serialise with
``fig.to_json()`` (the checks keep them under ``drift/figures/``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from jupyter_mlws.monitoring.measures import CATEGORICAL

__all__ = ["contribution_figure", "distribution_figure", "magnitude_figure"]

BASELINE_COLOR = "#1f77b4"
TARGET_COLOR = "#ff7f0e"
DRIFTED_COLOR = "#d62728"
STEADY_COLOR = "#7f7f7f"


def magnitude_figure(points: Sequence[Mapping[str, Any]], threshold: float | None = None) -> go.Figure:
    """Drift magnitude (0..100) per interval, with the alert threshold as a dashed line.

    Each point has ``start_date`` (ISO 8601 or a datetime) and ``magnitude`` (``None`` for an interval
    whose check failed: a gap); ``threshold`` is a ``drift_threshold`` (0..1, like the coefficient) and
    defaults to the points' own ``drift_threshold``.
    """
    if threshold is None:
        threshold = next((p["drift_threshold"] for p in points if p.get("drift_threshold") is not None), None)
    x = [p["start_date"] for p in points]
    y = [p.get("magnitude") for p in points]
    limit = None if threshold is None else float(threshold) * 100.0
    colors = [DRIFTED_COLOR if limit is not None and v is not None and v > limit else BASELINE_COLOR for v in y]
    figure = go.Figure(
        go.Scatter(x=x, y=y, mode="lines+markers", name="drift magnitude", marker={"color": colors}, connectgaps=False)
    )
    if limit is not None:
        figure.add_hline(y=limit, line_dash="dash", line_color=DRIFTED_COLOR, annotation_text=f"threshold {limit:g}")
    figure.update_layout(
        title="Drift magnitude", xaxis_title="interval start", yaxis_title="magnitude", yaxis_range=[0, 100]
    )
    return figure


def _contributions(result: Mapping[str, Any]) -> list[tuple[str, float, bool]]:
    """``(name, contribution, drifted)`` from ``DriftResult.to_json()`` or a view's feature list."""
    features = result.get("features") or {}
    if isinstance(features, Mapping):
        rows = [(name, f.get("datadrift_contribution"), f.get("drifted")) for name, f in features.items()]
    else:
        rows = [(f["name"], f.get("contribution"), f.get("drifted")) for f in features]
    return [(str(name), float(share or 0.0), bool(drifted)) for name, share, drifted in rows]


def contribution_figure(result_json: Mapping[str, Any]) -> go.Figure:
    """Each feature's share of the drift, largest on top; drifted features in red."""
    rows = sorted(_contributions(result_json), key=lambda row: row[1])  # plotly draws the first bar at the bottom
    figure = go.Figure(
        go.Bar(
            x=[share for _, share, _ in rows],
            y=[name for name, _, _ in rows],
            orientation="h",
            marker={"color": [DRIFTED_COLOR if drifted else STEADY_COLOR for _, _, drifted in rows]},
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    magnitude = result_json.get("magnitude")
    title = "Feature contributions" + (f" (magnitude {magnitude:.1f})" if magnitude is not None else "")
    figure.update_layout(
        title=title, xaxis_title="contribution", xaxis_tickformat=".0%", height=max(300, 24 * len(rows) + 120)
    )
    return figure


def distribution_figure(name: str, dist: Mapping[str, Any]) -> go.Figure:
    """Baseline and target distributions of one feature, overlaid (one entry of ``distributions(...)``)."""
    if dist.get("kind") == CATEGORICAL:
        x = list(dist.get("categories", []))
        bars = [go.Bar(x=x, y=dist.get(side, []), name=side, marker_color=color) for side, color in _SIDES]
        figure = go.Figure(bars)
        figure.update_layout(barmode="group", xaxis_title=name)
    else:
        edges = list(dist.get("edges", []))
        centers = [(lo + hi) / 2 for lo, hi in itertools.pairwise(edges)]
        widths = [hi - lo for lo, hi in itertools.pairwise(edges)]
        figure = go.Figure(
            [
                go.Bar(x=centers, y=dist.get(side, []), width=widths, name=side, marker_color=color, opacity=0.55)
                for side, color in _SIDES
            ]
        )
        figure.update_layout(barmode="overlay", bargap=0, xaxis_title=name)
    figure.update_layout(title=f"{name}: baseline vs target", yaxis_title="share of rows", yaxis_tickformat=".0%")
    return figure


_SIDES = (("baseline", BASELINE_COLOR), ("target", TARGET_COLOR))
