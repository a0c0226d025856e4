"""The views the adapters show, each built by one service call and rendered in one shape.

REST, the CLI's ``--json``, the magics' tables and the widget all read these: a run is a dict in
one shape (:meth:`RunSummary.as_dict`), not one per adapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..entities import MetricPoint, MetricSeriesInfo, RunRecord
from ..jsonable import json_safe
from ..values import iso_utc

__all__ = ["MetricSeriesView", "RunDetailView", "RunSummary", "RunSummaryPage", "downsample"]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A run's record with its latest scalar metric values, params and tags (list rows)."""

    record: RunRecord
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.record.run_id

    @property
    def duration_seconds(self) -> float | None:
        start, end = self.record.start_time, self.record.end_time
        return (end - start) if (start is not None and end is not None) else None

    def as_dict(self) -> dict[str, Any]:
        """The run's JSON shape (REST ``Run``, ``mlws runs list --json``); metric values may be
        NaN/inf here: :func:`json_safe` them before strict JSON."""
        record = self.record
        return {
            "id": record.run_id,
            "number": record.number,
            "experiment": record.experiment_name,
            "status": record.status.value,
            "display_name": record.display_name,
            "parent_run_id": record.parent_run_id,
            "run_type": record.run_type,
            "compute_target": record.compute_target,
            "created_time": iso_utc(record.created_time),
            "start_time": iso_utc(record.start_time),
            "end_time": iso_utc(record.end_time),
            "duration_seconds": self.duration_seconds,
            "metrics": self.metrics,
            "params": self.params,
            "tags": self.tags,
        }


@dataclass(frozen=True, slots=True)
class RunSummaryPage:
    """One page of runs as summaries, and the token of the next page (``None`` at the end)."""

    items: list[RunSummary]
    next_page_token: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": [s.as_dict() for s in self.items], "next_page_token": self.next_page_token}


@dataclass(frozen=True, slots=True)
class RunDetailView:
    """Everything a run page shows at once: summary, properties, error, logs, children, series."""

    summary: RunSummary
    properties: dict[str, str]
    error: dict[str, Any] | None
    log_files: list[str]
    snapshot_id: str | None
    children: list[RunSummary]
    series: list[MetricSeriesInfo]

    @property
    def git(self) -> dict[str, str]:
        """``azureml.git.*`` properties by their last name part (``branch``, ``commit``, …)."""
        return {k.rsplit(".", 1)[-1]: v for k, v in self.properties.items() if k.startswith("azureml.git.")}

    def as_dict(self) -> dict[str, Any]:
        data = self.summary.as_dict()
        data.update(
            {
                "properties": self.properties,
                "error": self.error,
                "log_files": self.log_files,
                "snapshot_id": self.snapshot_id,
                "git": self.git,
                "children": [c.as_dict() for c in self.children],
                "series": [{"name": s.name, "kind": s.kind, "count": s.count} for s in self.series],
            }
        )
        return data


@dataclass(frozen=True, slots=True)
class MetricSeriesView:
    """One metric of a run for a chart: scalar points (down-sampled) or the value of a table/image."""

    name: str
    kind: str
    total: int
    points: list[MetricPoint] | None = None
    downsampled: bool = False
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        if self.points is None:
            return {"name": self.name, "kind": self.kind, "total": self.total, "value": self.value}
        return {
            "name": self.name,
            "kind": "scalar",
            "total": self.total,
            "downsampled": self.downsampled,
            "points": [_point(p) for p in self.points],
        }


def _point(p: MetricPoint) -> dict[str, Any]:
    value: Any = p.value if math.isfinite(p.value) else json_safe(p.value)
    return {"step": p.step, "value": value, "timestamp": iso_utc(p.timestamp)}


def downsample(points: list[MetricPoint], max_points: int) -> list[MetricPoint]:
    """At most about ``max_points`` points: per bucket its min and max (in order), plus the last point.

    A chart drawn from these shows every spike and the final value; never ship a million points.
    """
    if len(points) <= max_points:
        return points
    buckets = max(1, (max_points - 1) // 2)
    size = math.ceil(len(points) / buckets)
    chosen: list[int] = []
    for start in range(0, len(points), size):
        chunk = range(start, min(start + size, len(points)))
        finite = [i for i in chunk if not math.isnan(points[i].value)] or list(chunk)
        low = min(finite, key=lambda i: points[i].value)
        high = max(finite, key=lambda i: points[i].value)
        chosen.extend(sorted({low, high}))
    if chosen[-1] != len(points) - 1:
        chosen.append(len(points) - 1)
    return [points[i] for i in chosen]
