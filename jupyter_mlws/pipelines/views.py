"""What the surfaces show of pipeline runs (issue 16, part 6): a page of recent pipeline runs with
their steps counted by status, and one pipeline run with its graph and each step's live state.

REST (``server/handlers/pipeline_runs.py``) answers these dicts as they are; a CLI or a widget can
show the same. Built from core's query service only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.entities import RunRecord
from ..core.values import iso_utc
from ..errors import NotFoundError
from .driver import graph, step_reuse
from .engine import PIPELINE_RUN_TYPE

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["PIPELINE_FILTER", "pipeline_run_page", "pipeline_run_view"]

# v1 marks a pipeline run with this property (``azureml.runsource``); the engine sets it on submit.
PIPELINE_FILTER = "properties.azureml.runsource = 'azureml.PipelineRun'"


def _times(record: RunRecord) -> dict[str, Any]:
    start, end = record.start_time, record.end_time
    return {
        "created_time": iso_utc(record.created_time),
        "start_time": iso_utc(start),
        "end_time": iso_utc(end),
        "duration_seconds": (end - start) if start is not None and end is not None else None,
    }


def _fields(record: RunRecord, steps: Sequence[RunRecord]) -> dict[str, Any]:
    """A pipeline run's fields in lists: its record and its steps counted by status."""
    counts = Counter(s.status.value for s in steps)
    return {
        "id": record.run_id,
        "number": record.number,
        "experiment": record.experiment_name,
        "status": record.status.value,
        "display_name": record.display_name,
        **_times(record),
        "step_count": len(steps),
        "step_counts": dict(sorted(counts.items())),
    }


def pipeline_run_page(
    workspace: Workspace,
    experiments: Sequence[str] | None = None,
    page_size: int = 100,
    page_token: str | None = None,
) -> dict[str, Any]:
    """Recent pipeline runs, newest first: ``{"items": [...], "next_page_token"}``. ``experiments``
    names the experiments to list (an unknown name matches nothing); all when ``None``."""
    queries = workspace.services.queries
    ids = queries.experiment_ids(experiments) if experiments else None
    page = queries.search(ids, filter=PIPELINE_FILTER, max_results=page_size, page_token=page_token)
    items = [
        _fields(record, queries.children(record.run_id))
        for record in page.records
        if record.run_type == PIPELINE_RUN_TYPE  # the property alone could be set by hand on any run
    ]
    return {"items": items, "next_page_token": page.next_page_token}


def pipeline_run_view(workspace: Workspace, run_id: str) -> dict[str, Any]:
    """One pipeline run: its fields, error, and graph — ``nodes`` (each step's run id, name, status,
    reuse ``{"reused", "from", "reason"}`` or ``None`` before it was decided, error message, times)
    and ``edges`` (``source`` → ``target`` run ids, ``data`` the PipelineData passed or ``None`` for
    ``run_after``). ``NotFoundError`` for an unknown run or one that is not a pipeline run."""
    queries = workspace.services.queries
    record = queries.run(run_id)
    if record.run_type != PIPELINE_RUN_TYPE:
        raise NotFoundError(
            f"run {run_id!r} is not a pipeline run (its type is {record.run_type!r}); read it at runs/{run_id}"
        )
    steps = queries.children(run_id)
    try:
        shape = graph(workspace, run_id)
    except (KeyError, StopIteration):  # a submission that failed before every step run was made
        shape = _partial_graph(workspace, run_id, steps)
    nodes = [
        {
            "id": node["id"],
            "name": node["name"],
            "status": node["status"],
            "reuse": node["reuse"],
            "error": node["error"],
            "start_time": iso_utc(node["start_time"]),
            "end_time": iso_utc(node["end_time"]),
        }
        for node in shape["nodes"]
    ]
    return {
        **_fields(record, steps),
        "error": (record.error or {}).get("message"),
        "nodes": nodes,
        "edges": shape["edges"],
    }


def _partial_graph(workspace: Workspace, run_id: str, steps: Sequence[RunRecord]) -> dict[str, Any]:
    """The steps that exist (in the pipeline's order) and the edges between them."""
    spec = workspace.services.queries.job_spec(run_id)
    by_id = {s.run_id: s for s in steps}
    ids: dict[str, str] = {name: rid for name, rid in (spec.get("steps") or {}).items() if rid in by_id}
    definition = {s["name"]: s for s in (spec.get("definition") or {}).get("steps") or []}
    writers: dict[str, str] = {o["name"]: name for name, s in definition.items() for o in s.get("outputs") or []}
    nodes = []
    edges: list[dict[str, Any]] = []
    for name, step_id in ids.items():
        record = by_id[step_id]
        nodes.append(
            {
                "id": step_id,
                "name": name,
                "status": record.status.value,
                "reuse": step_reuse(workspace, step_id),
                "error": (record.error or {}).get("message"),
                "start_time": record.start_time,
                "end_time": record.end_time,
            }
        )
        step = definition.get(name) or {}
        upstream: list[tuple[str | None, str | None]] = [
            (writers.get(d["data"]), d["data"]) for d in step.get("data_inputs") or []
        ]
        upstream += [(before, None) for before in step.get("run_after") or []]
        edges.extend(
            {"source": ids[source], "target": step_id, "data": data}
            for source, data in upstream
            if source is not None and source in ids
        )
    return {"nodes": nodes, "edges": edges}
