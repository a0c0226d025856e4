"""What the sweep surfaces show (REST, RunDetails, the CLI): one call each."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError
from .config import HYPERDRIVE_RUN_TYPE
from .driver import END_PROPERTY, HYPERPARAMETERS_PROPERTY, STOPPED_PROPERTY, best_value, trial_index

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["sweep_children", "sweep_view"]


def sweep_children(workspace: Workspace, run_id: str, goal: str) -> list[dict[str, Any]]:
    """Each trial of a sweep in index order: id, index, status, sampled values, the best of its
    primary-metric series, why the controller stopped it (if it did), its times."""
    queries = workspace.services.queries
    metric = queries.job_spec(run_id)["primary_metric"]["name"]
    rows = []
    for record in queries.children(run_id):
        index = trial_index(run_id, record.run_id)
        if index is None:
            continue
        properties = queries.properties(record.run_id)
        series = [p.value for p in queries.metric_history(record.run_id, metric)]
        rows.append(
            {
                "run_id": record.run_id,
                "index": index,
                "status": record.status.value,
                "hyperparameters": json.loads(properties.get(HYPERPARAMETERS_PROPERTY, "{}")),
                "best_primary_metric": best_value(series, goal),
                "intervals": len(series),
                "stop_reason": properties.get(STOPPED_PROPERTY),
                "start_time": record.start_time,
                "end_time": record.end_time,
            }
        )
    rows.sort(key=lambda r: r["index"])
    return rows


def sweep_view(workspace: Workspace, run_id: str) -> dict[str, Any]:
    """The sweep page's data (REST ``GET runs/{run_id}/sweep``): its configuration, its trials and
    the controller's decisions."""
    from .policies import policy_from_json

    queries = workspace.services.queries
    record = queries.run(run_id)
    if record.run_type != HYPERDRIVE_RUN_TYPE:
        raise InvalidArgumentError(f"run {run_id!r} is a {record.run_type!r} run, not a sweep")
    spec = queries.job_spec(run_id)
    goal = spec["primary_metric"]["goal"]
    children = sweep_children(workspace, run_id, goal)
    ranked = [c for c in children if c["best_primary_metric"] is not None]
    best = (max if goal == "maximize" else min)(ranked, key=lambda c: c["best_primary_metric"]) if ranked else None
    decisions = [
        {"run_id": c["run_id"], "index": c["index"], "reason": c["stop_reason"], "time": c["end_time"]}
        for c in children
        if c["stop_reason"]
    ]
    policy = dict(spec["policy"])
    return {
        "run_id": run_id,
        "status": record.status.value,
        "primary_metric": {"name": spec["primary_metric"]["name"], "goal": goal},
        "parameters": list(spec["sampling"]["space"]),
        "sampling": {"type": spec["sampling"]["type"], "seed": spec.get("seed")},
        "policy": {"type": policy.get("type", "none"), "description": policy_from_json(policy).describe()},
        "max_total_runs": spec["max_total_runs"],
        "max_concurrent_runs": spec["max_concurrent_runs"],
        "max_duration_minutes": spec["max_duration_minutes"],
        "end_reason": queries.properties(run_id).get(END_PROPERTY),
        "children": children,
        "best_run_id": best["run_id"] if best else None,
        "decisions": decisions,
    }
