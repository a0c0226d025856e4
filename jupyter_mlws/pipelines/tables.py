"""The pipeline tables the terminal and the notebook show (issue 16, part 6): published pipelines,
recent pipeline runs, schedules, a pipeline run's steps and a published pipeline's steps.

``mlws pipelines …`` and ``%mlws pipelines …`` show the same rows; each adapter only draws them
(upper-case headers in a terminal, an HTML table in a notebook). The values are the ones the REST
API answers (``summary()``, ``views.pipeline_run_page`` / ``pipeline_run_view``), with times as
``YYYY-MM-DD HH:MM:SS`` UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.values import iso_utc
from ..errors import NotFoundError
from .published import PublishedPipeline
from .schedules import Schedule

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = [
    "DEFINITION_HEADERS",
    "PUBLISHED_HEADERS",
    "RUN_HEADERS",
    "SCHEDULE_HEADERS",
    "STEP_HEADERS",
    "definition_rows",
    "definition_view",
    "duration_text",
    "edge_lines",
    "published_json",
    "published_rows",
    "run_rows",
    "schedule_json",
    "schedule_rows",
    "step_rows",
    "time_text",
    "trigger_text",
]

PUBLISHED_HEADERS = ("Id", "Name", "Version", "Status", "Steps", "Created")
RUN_HEADERS = ("Run", "Experiment", "Status", "Steps", "Started", "Duration")
SCHEDULE_HEADERS = ("Name", "Id", "Pipeline", "Trigger", "Status", "Next fire", "Last run")
STEP_HEADERS = ("Step", "Status", "Reused", "Reason", "Duration", "Run")
DEFINITION_HEADERS = ("Step", "Kind", "Runs", "Compute", "Reuse", "After")


def time_text(value: float | str | None) -> str:
    """Epoch seconds or an ISO time as ``2026-12-03 08:00:00`` (UTC); ``""`` for None."""
    if value is None:
        return ""
    try:
        epoch = _epoch(value)
    except ValueError:
        return str(value)
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


# -- published pipelines ---------------------------------------------------------------------------------
def published_json(pipeline: PublishedPipeline) -> dict[str, Any]:
    """``summary()`` with the time as ISO UTC (as REST answers it)."""
    return {**pipeline.summary(), "created_time": iso_utc(pipeline.created_time)}


def published_rows(pipelines: Sequence[PublishedPipeline]) -> list[list[Any]]:
    return [[p.id, p.name, p.version or "", p.status, p.total_run_steps, time_text(p.created_time)] for p in pipelines]


def definition_view(pipeline: PublishedPipeline) -> dict[str, Any]:
    """A published pipeline's summary and what its definition runs: ``steps`` (name, kind, script or
    notebook, compute target, allow_reuse, inputs, outputs, upstream steps) and ``edges`` between
    step names (``data`` the PipelineData passed, None for ``run_after``)."""
    definition = pipeline.definition
    steps = [s for s in definition.get("steps") or [] if isinstance(s, Mapping)]
    writers = {o["name"]: s["name"] for s in steps for o in s.get("outputs") or []}
    shown = []
    edges: list[dict[str, Any]] = []
    for step in steps:
        upstream = [(writers.get(d["data"]), d["data"]) for d in step.get("data_inputs") or []]
        upstream += [(before, None) for before in step.get("run_after") or []]
        step_edges = [{"source": src, "target": step["name"], "data": data} for src, data in upstream if src]
        edges += step_edges
        shown.append(
            {
                "name": step["name"],
                "kind": step.get("kind"),
                "runs": step.get("script") or step.get("notebook"),
                "compute_target": step.get("compute_target"),
                "allow_reuse": step.get("allow_reuse"),
                "inputs": [d["data"] for d in step.get("data_inputs") or []]
                + [i["ref"]["name"] for i in step.get("inputs") or [] if "ref" in i],
                "outputs": [o["name"] for o in step.get("outputs") or []],
                "after": list(dict.fromkeys(e["source"] for e in step_edges)),
            }
        )
    return {**published_json(pipeline), "steps": shown, "edges": edges}


def definition_rows(view: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [s["name"], s["kind"] or "", s["runs"] or "", s["compute_target"] or "", "yes" if s["allow_reuse"] else "no",
         ", ".join(s["after"])]
        for s in view["steps"]
    ]  # fmt: skip


# -- pipeline runs -------------------------------------------------------------------------------------------
def _step_counts(item: Mapping[str, Any]) -> str:
    counts = item.get("step_counts") or {}
    detail = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"{item['step_count']}" + (f" ({detail})" if detail else "")


def run_rows(items: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """Rows of ``pipeline_run_page(...)["items"]``."""
    return [
        [i["id"], i["experiment"], i["status"], _step_counts(i), time_text(i["start_time"]),
         duration_text(i["duration_seconds"])]
        for i in items
    ]  # fmt: skip


def _epoch(value: float | str) -> float:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)


def _seconds(node: Mapping[str, Any]) -> float | None:
    start, end = node.get("start_time"), node.get("end_time")
    if start is None or end is None:
        return None
    return _epoch(end) - _epoch(start)


def step_rows(view: Mapping[str, Any]) -> list[list[Any]]:
    """Rows of ``pipeline_run_view(...)["nodes"]``: reused or not, and why (or the step's error)."""
    rows = []
    for node in view["nodes"]:
        reuse = node.get("reuse")
        reused = "" if reuse is None else ("yes" if reuse["reused"] else "no")
        reason = (reuse or {}).get("reason") or ""
        if node.get("error") and node["status"] in ("Failed", "Canceled"):
            reason = node["error"]
        rows.append([node["name"], node["status"], reused, reason, duration_text(_seconds(node)), node["id"]])
    return rows


def edge_lines(view: Mapping[str, Any]) -> list[str]:
    """``load -> train (raw)``: the edges of a run view or a definition view, by step name."""
    names = {n["id"]: n["name"] for n in view.get("nodes") or []}
    lines = []
    for edge in view["edges"]:
        source, target = names.get(edge["source"], edge["source"]), names.get(edge["target"], edge["target"])
        lines.append(f"{source} -> {target}" + (f" ({edge['data']})" if edge["data"] else " (run_after)"))
    return lines


# -- schedules -----------------------------------------------------------------------------------------------
def trigger_text(summary: Mapping[str, Any]) -> str:
    """``every 2 Hour``, ``every 1 Week on Monday, Friday at 09:30``, ``change of store/path (poll 5 min)``."""
    recurrence = summary.get("recurrence")
    if not recurrence:
        where = f"{summary.get('datastore_name')}/{summary.get('path_on_datastore') or ''}".rstrip("/")
        return f"change of {where} (poll {summary.get('polling_interval')} min)"
    text = f"every {recurrence['interval']} {recurrence['frequency']}"
    if recurrence.get("week_days"):
        text += " on " + ", ".join(recurrence["week_days"])
    if recurrence.get("time_of_day"):
        text += f" at {recurrence['time_of_day']}"
    elif recurrence.get("hours") or recurrence.get("minutes"):
        hours = recurrence.get("hours") or [0]
        minutes = recurrence.get("minutes") or [0]
        text += " at " + ", ".join(f"{h:02d}:{m:02d}" for h in hours for m in minutes)
    if recurrence.get("start_time"):
        text += f" from {recurrence['start_time']}"
    if recurrence.get("time_zone"):
        text += f" ({recurrence['time_zone']})"
    return text


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    """``summary()`` with times as ISO UTC (as REST answers it)."""
    data = schedule.summary()
    return {**data, "created_time": iso_utc(data["created_time"]), "next_fire_time": iso_utc(data["next_fire_time"])}


def _pipeline_name(workspace: Workspace, summary: Mapping[str, Any], names: dict[str, str]) -> str:
    pipeline_id = summary.get("pipeline_id")
    if pipeline_id is None:
        return f"endpoint {summary.get('pipeline_endpoint_id')}"
    if pipeline_id not in names:
        try:
            names[pipeline_id] = PublishedPipeline.get(workspace, pipeline_id).name
        except NotFoundError:
            names[pipeline_id] = pipeline_id
    return names[pipeline_id]


def schedule_rows(workspace: Workspace, summaries: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """Rows of ``schedule_json(...)`` values; the pipeline by its name."""
    names: dict[str, str] = {}
    return [
        [s["name"], s["id"], _pipeline_name(workspace, s, names), trigger_text(s), s["status"],
         time_text(s["next_fire_time"]), s["last_run_id"] or ""]
        for s in summaries
    ]  # fmt: skip
