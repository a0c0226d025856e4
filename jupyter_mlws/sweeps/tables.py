"""The trials of a sweep as table rows, from :func:`jupyter_mlws.sweeps.views.sweep_view`'s dict: the
same columns in ``mlws sweep``, ``RunDetails`` (its table and its text) and the magics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ranked_children", "trial_headers", "trial_rows", "value_text"]


def value_text(value: Any) -> str:
    """A sampled value or a metric as people read it (floats to 4 significant digits)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def ranked_children(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The trials best first by the primary metric (by the goal); those without it last, in index order."""
    children = list(view["children"])
    maximize = view["primary_metric"]["goal"] == "maximize"
    scored = [c for c in children if c["best_primary_metric"] is not None]
    scored.sort(key=lambda c: (-c["best_primary_metric"] if maximize else c["best_primary_metric"], c["index"]))
    return scored + [c for c in children if c["best_primary_metric"] is None]


def trial_headers(view: Mapping[str, Any]) -> list[str]:
    metric = view["primary_metric"]
    goal = "max" if metric["goal"] == "maximize" else "min"
    return ["Rank", "Trial", "Run", "Status", *view["parameters"], f"{metric['name']} ({goal})", "Stopped"]


def trial_rows(view: Mapping[str, Any], top: int = 0, ranked: bool = True) -> list[list[str]]:
    """One row per trial (best first when ``ranked``, else in index order; ``top`` > 0 keeps that many):
    rank, index, run id, status, each sampled value, the best primary metric, why it was stopped."""
    order: Sequence[Mapping[str, Any]] = ranked_children(view)
    rank = {c["run_id"]: i + 1 for i, c in enumerate(order) if c["best_primary_metric"] is not None}
    if not ranked:
        order = view["children"]
    rows = [
        [
            str(rank.get(c["run_id"], "")),
            str(c["index"]),
            c["run_id"],
            c["status"],
            *(value_text(c["hyperparameters"].get(name)) for name in view["parameters"]),
            value_text(c["best_primary_metric"]),
            c["stop_reason"] or "",
        ]
        for c in order
    ]
    return rows[:top] if top else rows
