"""JSON views of drift detectors and their checks: what the REST routes, the CLI and the Lab show
(shapes in ``server/openapi.yaml``: MonitorSummary, MonitorDetail, DriftRunView)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.entities import RunRecord
from ..core.status import RunStatus
from ..errors import NotFoundError
from .detector import DRIFT_RUN_TYPE, DataDriftDetector
from .measures import MEASURE_NAMES
from .results import (
    DETECTOR_PROPERTY,
    DISTRIBUTIONS_FILE,
    END_PROPERTY,
    INTERVAL_RUN_TYPE,
    RESULT_FILE,
    START_PROPERTY,
    detector_filter,
    experiment_name,
    interval_records,
    latest_per_interval,
    read_json,
)

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["drift_run_view", "monitor_view", "monitors_view"]

MAX_RUNS = 20


def _dataset_label(ref: Mapping[str, Any]) -> str:
    version = ref.get("version")
    return f"{ref['name']}:{version}" if version is not None else str(ref["name"])


def _error(record: RunRecord) -> str | None:
    error = record.error
    if not error:
        return None
    return str(error.get("message") if isinstance(error, Mapping) else error)


def _interval_summary(workspace: Workspace, record: RunRecord, properties: Mapping[str, str]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "run_id": record.run_id,
        "parent_run_id": record.parent_run_id,
        "start_date": properties[START_PROPERTY],
        "end_date": properties[END_PROPERTY],
        "status": str(record.status),
        "magnitude": None,
        "datadrift_coefficient": None,
        "drift_detected": None,
        "error": _error(record),
    }
    if record.status == RunStatus.COMPLETED:
        metrics = workspace.services.queries.metrics(record.run_id)
        summary["magnitude"] = metrics.get("drift_magnitude")
        summary["datadrift_coefficient"] = metrics.get("datadrift_coefficient")
        detected = metrics.get("drift_detected")
        summary["drift_detected"] = None if detected is None else bool(detected)
    return summary


def _interval_result(workspace: Workspace, record: RunRecord, properties: Mapping[str, str]) -> dict[str, Any]:
    view = _interval_summary(workspace, record, properties)
    features: list[dict[str, Any]] = []
    if record.status == RunStatus.COMPLETED:
        stored = read_json(workspace, record.run_id, RESULT_FILE)
        view.update(
            magnitude=stored["magnitude"],
            datadrift_coefficient=stored["datadrift_coefficient"],
            drift_detected=bool(stored["drift_detected"]),
        )
        for name, f in stored["features"].items():
            features.append(
                {
                    "name": name,
                    "kind": f.get("kind"),
                    "contribution": f.get("datadrift_contribution"),
                    "drifted": bool(f.get("drifted")),
                    "method": f.get("method"),
                    "measures": {k: f.get(k) for k in MEASURE_NAMES},
                    "null_count": f.get("null_count", 0),
                    "unseen_category_count": f.get("unseen_category_count", 0),
                }
            )
        features.sort(key=lambda f: f["contribution"] or 0.0, reverse=True)
    view["features"] = features
    return view


def _summary(workspace: Workspace, detector: DataDriftDetector) -> dict[str, Any]:
    definition = detector._definition
    intervals = latest_per_interval(workspace, interval_records(workspace, detector.name, detector.detector_id))
    last = None
    alert = False
    if intervals:
        record, properties = intervals[-1]
        last = _interval_summary(workspace, record, properties)
        completed = [(r, p) for r, p in intervals if r.status == RunStatus.COMPLETED]
        if completed:
            latest = _interval_summary(workspace, *completed[-1])
            alert = bool(latest["drift_detected"])
    features = definition.get("features")
    return {
        "name": detector.name,
        "baseline": _dataset_label(definition["baseline"]),
        "target": _dataset_label(definition["target"]),
        "service": definition.get("service"),
        "frequency": detector.frequency,
        "drift_threshold": detector.drift_threshold,
        "latency": detector.latency,
        "feature_count": len(features) if features else _feature_count(workspace, detector),
        "schedule_enabled": detector.enabled,
        "created_time": detector.created_time,
        "last": last,
        "alert": alert,
    }


def _feature_count(workspace: Workspace, detector: DataDriftDetector) -> int:
    """Without a feature list: the columns of the baseline (the shared ones are known per check)."""
    try:
        schema = detector.baseline_dataset.schema or []
    except Exception:  # a baseline deleted meanwhile: the list still shows the detector
        return 0
    timestamp = detector._definition["target"]["timestamp"]
    return sum(1 for c in schema if c["name"] != timestamp)


def monitors_view(workspace: Workspace) -> list[dict[str, Any]]:
    """Every detector with its last interval and alert state, by name."""
    return [_summary(workspace, d) for d in DataDriftDetector.list(workspace)]


def monitor_view(workspace: Workspace, name: str) -> dict[str, Any]:
    """One detector: its summary, definition, the latest check of every interval, and its checks."""
    detector = DataDriftDetector.get_by_name(workspace, name)
    view = _summary(workspace, detector)
    definition = detector._definition
    view["features"] = list(definition.get("features") or [])
    view["alert_config"] = detector.alert_config.to_dict()
    intervals = latest_per_interval(workspace, interval_records(workspace, name, detector.detector_id))
    view["intervals"] = [_interval_result(workspace, r, p) for r, p in intervals]
    view["runs"] = _checks(workspace, name, detector.detector_id)
    return view


def _checks(workspace: Workspace, name: str, detector_id: str) -> list[dict[str, Any]]:
    queries = workspace.services.queries
    try:
        experiment = queries.experiment(experiment_name(name))
    except Exception:
        return []
    page = queries.search([experiment.id], filter=detector_filter(name, detector_id), max_results=MAX_RUNS)
    return [
        {
            "run_id": r.run_id,
            "status": str(r.status),
            "created_time": r.created_time,
            "interval_count": len(queries.job_spec(r.run_id).get("intervals") or []),
        }
        for r in page.records
        if r.run_type == DRIFT_RUN_TYPE
    ]


def drift_run_view(workspace: Workspace, run_id: str) -> dict[str, Any]:
    """A check (its intervals) or one interval's run (its result and the distributions)."""
    queries = workspace.services.queries
    record = queries.run(run_id)
    properties = queries.properties(run_id)
    detector = properties.get(DETECTOR_PROPERTY)
    if detector is None or record.run_type not in (DRIFT_RUN_TYPE, INTERVAL_RUN_TYPE):
        raise NotFoundError(f"run {run_id!r} is no data drift check (open it as a run)")
    if record.run_type == INTERVAL_RUN_TYPE:
        distributions = None
        if record.status == RunStatus.COMPLETED:
            distributions = read_json(workspace, run_id, DISTRIBUTIONS_FILE)
        return {
            "detector": detector,
            "run_id": run_id,
            "kind": "interval",
            "status": str(record.status),
            "intervals": [_interval_result(workspace, record, properties)],
            "distributions": distributions,
        }
    children = [(r, queries.properties(r.run_id)) for r in queries.children(run_id)]
    children = [(r, p) for r, p in children if START_PROPERTY in p]
    children.sort(key=lambda rp: rp[1][START_PROPERTY])
    return {
        "detector": detector,
        "run_id": run_id,
        "kind": "check",
        "status": str(record.status),
        "intervals": [_interval_result(workspace, r, p) for r, p in children],
        "distributions": None,
    }
