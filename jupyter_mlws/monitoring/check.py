"""One interval's check: read the baseline and the interval's slice of the target, compare them
(``measures.compare``), and record the result as a child run of the check — metrics, a table per
feature, ``drift/result.json``, the distributions for the overlays and plotly figures — then alert
when the magnitude passes the threshold.

An interval the check cannot judge (fewer than ``MIN_ROWS`` rows, a dataset gone) fails its own run
with the reason; the caller goes on with the next interval.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.experiment import Experiment
from ..core.runs import Run
from ..core.status import RunStatus
from ..errors import MlwsError
from .alerts import AlertConfiguration, send_alert
from .intervals import Interval, iso
from .measures import compare, distributions, feature_kinds
from .results import (
    CAPTURE_NON_FEATURES,
    DETECTOR_ID_PROPERTY,
    DETECTOR_PROPERTY,
    DISTRIBUTIONS_FILE,
    END_PROPERTY,
    INTERVAL_RUN_TYPE,
    RESULT_FILE,
    START_PROPERTY,
    experiment_name,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..core.workspace import Workspace

__all__ = ["DatasetCache", "check_interval"]

TOP_FEATURES = 5  # named in an alert


class DatasetCache:
    """The detector's datasets, read once per check run (a backfill reads the baseline once)."""

    def __init__(self, workspace: Workspace, definition: Mapping[str, Any]) -> None:
        self.workspace = workspace
        self.definition = definition
        self._baseline: pd.DataFrame | None = None
        self._target: Any = None

    def _dataset(self, ref: Mapping[str, Any]) -> Any:
        from ..data.dataset import Dataset  # the datasets feature through its public facade

        return Dataset.get_by_name(self.workspace, ref["name"], ref["version"])

    def baseline(self) -> pd.DataFrame:
        if self._baseline is None:
            self._baseline = self._dataset(self.definition["baseline"]).to_pandas_dataframe()
        return self._baseline

    def target(self, interval: Interval) -> pd.DataFrame:
        if self._target is None:
            ref = self.definition["target"]
            dataset = self._dataset(ref)
            if dataset.timestamp_columns[0] != ref["timestamp"]:
                dataset = dataset.with_timestamp_columns(timestamp=ref["timestamp"])
            self._target = dataset
        start, end = interval
        # [start, end): adjoining intervals share no row
        frame: pd.DataFrame = self._target.time_between(start, end, include_end=False).to_pandas_dataframe()
        return frame


def _features(definition: Mapping[str, Any], baseline: pd.DataFrame, target: pd.DataFrame) -> list[str]:
    if definition.get("features"):
        return list(definition["features"])
    skip = {definition["target"]["timestamp"], *(CAPTURE_NON_FEATURES if definition.get("service") else ())}
    return [c for c in baseline.columns if c in target.columns and c not in skip]


def _start_child(parent: Run, detector: str, detector_id: str, interval: Interval) -> Run:
    start, end = interval
    return Run.create(
        Experiment(parent.experiment.workspace, experiment_name(detector)),
        parent=parent,
        run_type=INTERVAL_RUN_TYPE,
        display_name=f"{start.date().isoformat()}/{end.date().isoformat()}",
        properties={
            DETECTOR_PROPERTY: detector,
            DETECTOR_ID_PROPERTY: detector_id,
            START_PROPERTY: iso(start),
            END_PROPERTY: iso(end),
        },
    )


def _upload_json(run: Run, name: str, value: Any) -> None:
    run.upload_file(name, io.BytesIO(json.dumps(value, default=_jsonable).encode()))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _record(run: Run, stored: Mapping[str, Any]) -> None:
    """Metrics, the per-feature table and the figures of one result."""
    from .figures import contribution_figure

    run.log("drift_magnitude", stored["magnitude"])
    run.log("datadrift_coefficient", stored["datadrift_coefficient"])
    run.log("drift_detected", 1 if stored["drift_detected"] else 0)
    features = stored["features"]
    run.log("drifted_features", sum(1 for f in features.values() if f["drifted"]))
    for name, values in features.items():
        if len(name) <= 200:
            run.log(f"datadrift_contribution.{name}", values["datadrift_contribution"])
    names = list(features)
    table: dict[str, list[Any]] = {"feature": names}
    for key in ("kind", "datadrift_contribution", "drifted", "method", "null_count", "unseen_category_count"):
        table[key] = [features[n].get(key) for n in names]
    for key in ("normalized_wasserstein_distance", "ks_statistic", "p_value", "jensen_shannon_distance"):
        table[key] = [features[n].get(key) for n in names]
    table["population_stability_index"] = [features[n].get("population_stability_index") for n in names]
    run.log_table("features", table)
    _upload_json(run, "drift/figures/contributions.json", contribution_figure(stored).to_plotly_json())


def check_interval(
    cache: DatasetCache,
    parent: Run,
    detector: str,
    interval: Interval,
    definition: Mapping[str, Any],
    *,
    alert: bool = True,
) -> Run:
    """Check one interval as a child run of ``parent``; answers the child (Completed or Failed)."""
    from .figures import distribution_figure

    child = _start_child(parent, detector, str(definition.get("id", "")), interval)
    try:
        baseline = cache.baseline()
        target = cache.target(interval)
        features = _features(definition, baseline, target)
        result = compare(baseline, target, features)
        threshold = float(definition["drift_threshold"])
        stored = {
            **result.to_json(),
            "start_date": iso(interval[0]),
            "end_date": iso(interval[1]),
            "drift_threshold": threshold,
            "drift_detected": result.coefficient > threshold,
        }
        _upload_json(child, RESULT_FILE, stored)
        kinds = feature_kinds(baseline, features)
        overlays = distributions(baseline, target, kinds)
        _upload_json(child, DISTRIBUTIONS_FILE, overlays)
        drifting = {
            name: distribution_figure(name, overlays[name]).to_plotly_json()
            for name, feature in stored["features"].items()
            if feature["drifted"] and name in overlays
        }
        _upload_json(child, "drift/figures/distributions.json", drifting)  # one per drifting feature
        _record(child, stored)
    except MlwsError as exc:
        child.fail(exc.message)
        return child
    except Exception as exc:  # a failure of one interval is its own; the check goes on
        child.fail(f"{type(exc).__name__}: {exc}")
        return child
    child.complete()
    if alert and stored["drift_detected"]:
        _alert(parent.experiment.workspace, child, detector, stored, definition)
    return child


def _alert(
    workspace: Workspace, child: Run, detector: str, stored: Mapping[str, Any], definition: Mapping[str, Any]
) -> None:
    ranked = sorted(stored["features"].items(), key=lambda kv: kv[1]["datadrift_contribution"] or 0, reverse=True)
    payload = {
        "detector": detector,
        "interval_start": stored["start_date"],
        "interval_end": stored["end_date"],
        # on one scale: a magnitude of 0-100 and the threshold it passed (drift_threshold x 100)
        "magnitude": stored["magnitude"],
        "threshold": stored["drift_threshold"] * 100,
        "drift_threshold": stored["drift_threshold"],
        "datadrift_coefficient": stored["datadrift_coefficient"],
        "top_features": [name for name, _ in ranked[:TOP_FEATURES]],
        "run_id": child.id,
    }
    try:
        send_alert(workspace, AlertConfiguration.from_dict(definition.get("alert_config")), payload, run_id=child.id)
    except Exception as exc:  # an alert that cannot even be recorded must not undo the check
        child.add_properties({"mlws.drift.alert_error": f"{type(exc).__name__}: {exc}"[:1000]})


def ended_status(children: list[Run]) -> RunStatus:
    """A check is Completed when at least one interval was judged; Failed when none could be."""
    return RunStatus.COMPLETED if any(c.get_status() == "Completed" for c in children) else RunStatus.FAILED
