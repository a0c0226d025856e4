"""JSON shapes of the REST API (see openapi.yaml). Functions over core objects, shared by the handler
modules (which may not import one another)."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime
from typing import Any

from ..core.entities import MetricPoint, RunRecord
from ..core.jsonable import json_safe
from ..core.model import Model
from ..core.run import RunPage
from ..core.workspace import Workspace

__all__ = ["downsample", "empty_page", "iso", "model_json", "run_json", "run_page_json", "run_reply"]


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def iso(ts: float | None) -> str | None:
    """``2026-01-31T12:00:00.123456Z``. List pages format hundreds of these: the date part is cached
    per second (runs cluster in time), only the microseconds are formatted each time."""
    if ts is None:
        return None
    seconds, micros = divmod(round(ts * 1_000_000), 1_000_000)
    return f"{_second(seconds)}.{micros:06d}Z"


def run_json(record: RunRecord, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    summary = summary or {}
    end = record.end_time
    start = record.start_time
    data: dict[str, Any] = {
        "id": record.run_id,
        "number": record.number,
        "experiment": record.experiment_name,
        "status": record.status.value,
        "display_name": record.display_name,
        "parent_run_id": record.parent_run_id,
        "run_type": record.run_type,
        "compute_target": record.compute_target,
        "created_time": iso(record.created_time),
        "start_time": iso(start),
        "end_time": iso(end),
        "duration_seconds": (end - start) if (start is not None and end is not None) else None,
        "metrics": summary.get("metrics", {}),
        "params": summary.get("params", {}),
        "tags": summary.get("tags", {}),
    }
    return data


def empty_page() -> dict[str, Any]:
    """A list answer with nothing in it (lists answer empty while there is no workspace yet)."""
    return {"items": [], "next_page_token": None}


def run_page_json(ws: Workspace, page: RunPage) -> dict[str, Any]:
    """A page of runs, each with its metrics, params and tags."""
    summaries = ws.metadata.summarize_runs([r.id for r in page.runs])
    return {
        "items": [run_json(r._record, summaries.get(r.id)) for r in page.runs],
        "next_page_token": page.next_page_token,
    }


def run_reply(ws: Workspace, run_id: str) -> dict[str, Any]:
    """One run as a write route answers it (after a submission or a cancel)."""
    return run_json(ws.metadata.get_run(run_id), ws.metadata.summarize_runs([run_id])[run_id])


def model_json(model: Model, files: bool = False) -> dict[str, Any]:
    data = {
        "id": model.id,
        "name": model.name,
        "version": model.version,
        "description": model.description,
        "tags": model.tags,
        "properties": model.properties,
        "aliases": model.aliases,
        "run_id": model.run_id,
        "created_time": iso(model.created_time.timestamp()),
    }
    if files:
        data["files"] = [{"path": f.path, "size": f.size} for f in model.files()]
    return data


def _point(p: MetricPoint) -> dict[str, Any]:
    value: Any = p.value
    if not math.isfinite(p.value):
        value = json_safe(p.value)
    return {"step": p.step, "value": value, "timestamp": iso(p.timestamp)}


def downsample(points: list[MetricPoint], max_points: int) -> list[dict[str, Any]]:
    """At most about ``max_points`` points: per bucket its min and max (in order), plus the last point.

    A chart drawn from these shows every spike and the final value; never ship a million points.
    """
    if len(points) <= max_points:
        return [_point(p) for p in points]
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
    return [_point(points[i]) for i in chosen]
