"""Where a detector's results are and how they are read back: each interval's check is a child run
(run type ``mlws.datadrift.interval``) whose ``drift/result.json`` holds the whole result; the latest
completed check of an interval is that interval's result."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..core.entities import RunRecord
from ..core.status import RunStatus
from ..errors import InvalidArgumentError, NotFoundError
from .intervals import to_utc
from .measures import MEASURE_NAMES

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = [
    "CAPTURE_NON_FEATURES",
    "CAPTURE_TIMESTAMP",
    "DETECTOR_ID_PROPERTY",
    "DETECTOR_PROPERTY",
    "DISTRIBUTIONS_FILE",
    "END_PROPERTY",
    "INTERVAL_RUN_TYPE",
    "RESULT_FILE",
    "START_PROPERTY",
    "drift_output",
    "experiment_name",
    "figures_of",
    "interval_records",
    "latest_per_interval",
    "read_json",
]

INTERVAL_RUN_TYPE = "mlws.datadrift.interval"
DETECTOR_PROPERTY = "mlws.drift.detector"
#: The detector's own id: a detector made again under a deleted one's name does not see its old checks.
DETECTOR_ID_PROPERTY = "mlws.drift.detector_id"
START_PROPERTY = "mlws.drift.interval_start"
END_PROPERTY = "mlws.drift.interval_end"
RESULT_FILE = "drift/result.json"
#: The timestamp column of a service's captured inputs (serving/capture.py), and the columns there that
#: are no input feature of the model.
CAPTURE_TIMESTAMP = "$time"
CAPTURE_NON_FEATURES = ("$time", "$request_id", "prediction")
DISTRIBUTIONS_FILE = "drift/distributions.json"
#: The per-feature values of v1's output, in its order.
FEATURE_KEYS = ("datadrift_contribution", *MEASURE_NAMES, "drifted", "null_count", "unseen_category_count")


def experiment_name(detector: str) -> str:
    return f"{detector}-drift"


def read_json(workspace: Workspace, run_id: str, name: str) -> Any:
    with workspace.services.queries.open_file(run_id, name) as stream:
        return json.loads(stream.read())


def detector_filter(detector: str, detector_id: str) -> str:
    """The search filter of a detector's runs (by name and id; quotes in a name cannot occur)."""
    wanted = f"properties.{DETECTOR_PROPERTY} = '{detector}'"
    return f"{wanted} and properties.{DETECTOR_ID_PROPERTY} = '{detector_id}'" if detector_id else wanted


def interval_records(workspace: Workspace, detector: str, detector_id: str) -> list[RunRecord]:
    """Every interval run of a detector, newest first (none if it never checked)."""
    queries = workspace.services.queries
    try:
        experiment = queries.experiment(experiment_name(detector))
    except NotFoundError:
        return []
    return [
        r
        for r in queries.iter_runs(
            [experiment.id], _parse(detector_filter(detector, detector_id)), include_children=True
        )
        if r.run_type == INTERVAL_RUN_TYPE
    ]


def _parse(text: str) -> Any:
    from ..core.search import parse_filter

    return parse_filter(text)


def latest_per_interval(workspace: Workspace, records: Iterable[RunRecord]) -> list[tuple[RunRecord, dict[str, str]]]:
    """Per interval, the newest completed check (else the newest check), oldest interval first. An
    interval is its start and end: a day and a week that start together are two intervals."""
    queries = workspace.services.queries
    chosen: dict[tuple[str, str], tuple[RunRecord, dict[str, str]]] = {}
    for record in records:  # newest first
        properties = queries.properties(record.run_id)
        start, end = properties.get(START_PROPERTY), properties.get(END_PROPERTY)
        if start is None or end is None:
            continue
        held = chosen.get((start, end))
        if held is None or (held[0].status != RunStatus.COMPLETED and record.status == RunStatus.COMPLETED):
            chosen[(start, end)] = (record, properties)
    return [chosen[k] for k in sorted(chosen)]


def _within(properties: dict[str, str], low: dt.datetime | None, high: dt.datetime | None) -> bool:
    start = to_utc(properties[START_PROPERTY], "interval start")
    end = to_utc(properties[END_PROPERTY], "interval end")
    return (low is None or end > low) and (high is None or start < high)


def _selected(
    workspace: Workspace, detector: str, detector_id: str, start_time: Any, end_time: Any, run_id: str | None
) -> list[tuple[RunRecord, dict[str, str]]]:
    queries = workspace.services.queries
    if run_id is not None:
        record = queries.run(run_id)
        properties = queries.properties(run_id)
        if properties.get(DETECTOR_PROPERTY) != detector or properties.get(DETECTOR_ID_PROPERTY, "") != detector_id:
            raise InvalidArgumentError(f"run {run_id!r} is no check of drift detector {detector!r}")
        records = [record] if record.run_type == INTERVAL_RUN_TYPE else queries.children(run_id)[::-1]
    else:
        records = interval_records(workspace, detector, detector_id)
    low = to_utc(start_time, "start_time") if start_time is not None else None
    high = to_utc(end_time, "end_time") if end_time is not None else None
    return [(r, p) for r, p in latest_per_interval(workspace, records) if _within(p, low, high)]


def drift_output(
    workspace: Workspace,
    detector: str,
    detector_id: str,
    drift_type: str,
    start_time: Any,
    end_time: Any,
    run_id: str | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """v1's ``get_output``: ``(results, metrics)`` of the completed checks selected."""
    results: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    for record, properties in _selected(workspace, detector, detector_id, start_time, end_time, run_id):
        if record.status != RunStatus.COMPLETED:
            continue
        stored = read_json(workspace, record.run_id, RESULT_FILE)
        start = to_utc(properties[START_PROPERTY], "interval start")
        end = to_utc(properties[END_PROPERTY], "interval end")
        features = {name: {k: f.get(k) for k in FEATURE_KEYS} for name, f in stored["features"].items()}
        results.append(
            {
                "run_id": record.run_id,
                "start_date": start,
                "end_date": end,
                "drift_type": drift_type,
                "datadrift_coefficient": stored["datadrift_coefficient"],
                "drift_magnitude": stored["magnitude"],
                "drift_threshold": stored["drift_threshold"],
                "drift_detected": stored["drift_detected"],
                "baseline_rows": stored["baseline_rows"],
                "target_rows": stored["target_rows"],
                "features": features,
            }
        )
        for name, values in features.items():
            metrics.append({"run_id": record.run_id, "start_date": start, "end_date": end, "feature": name, **values})
    return results, metrics


def figures_of(
    workspace: Workspace, detector: str, detector_id: str, threshold: float, start_time: Any, end_time: Any
) -> dict[str, Any]:
    """``show()``: the magnitude over time and each interval's contributions, as plotly figures."""
    from .figures import contribution_figure, magnitude_figure

    results, _metrics = drift_output(workspace, detector, detector_id, "", start_time, end_time, None)
    points = [
        {
            "start_date": r["start_date"].isoformat(),
            "end_date": r["end_date"].isoformat(),
            "magnitude": r["drift_magnitude"],
            "drift_detected": r["drift_detected"],
            "threshold": threshold * 100,
        }
        for r in results
    ]
    figures: dict[str, Any] = {"drift_magnitude": magnitude_figure(points, threshold)}
    for r in results:
        stored = read_json(workspace, r["run_id"], RESULT_FILE)
        figures[f"contributions {r['start_date'].date().isoformat()}"] = contribution_figure(stored)
    return figures
