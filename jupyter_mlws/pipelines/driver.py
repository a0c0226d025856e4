"""The pipeline scheduler (issue 16): :func:`advance` moves a pipeline run one step forward, the
:class:`PipelineDriver` (forked by the dispatcher agent for a queued pipeline run) calls it until
the run ends.

One ``advance``, from the records alone (so any process may take over):

1. A cancel request on the pipeline run cancels its steps (NotStarted ones at once, running ones
   asked to stop) and, once they all ended, the pipeline run.
2. A failed step (or one canceled on its own) stops the pipeline: its dependants end Canceled with
   "upstream step X failed", the others not started yet Canceled with "the pipeline stopped: step X
   failed", running ones are asked to stop — unless ``continue_on_step_failure``, where only the
   dependants are canceled and independent branches go on. The pipeline then ends Failed (v1).
3. Each NotStarted step whose upstream steps all completed is decided: reused (it completes at
   once, answering the earlier run's outputs; ``azureml.reusedRunId``) or queued on its compute
   target (whose concurrency the dispatcher keeps). Either way its reason is recorded.
4. When every step has ended, the pipeline run ends: Completed if all completed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.entities import RunRecord
from ..core.experiment import Experiment
from ..core.interfaces.pipelines import StepRunRecord
from ..core.job_inputs import discard_inputs
from ..core.jobs import drive_until_ended, end_driven_run, queue_job, target_backend
from ..core.runs import Run
from ..core.status import ACTIVE_STATUSES, TERMINAL_STATUSES, RunStatus
from ..errors import MlwsError
from .reuse import decide, miss_reason, reuse_key, reuse_parts

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["PipelineDriver", "advance"]

UPSTREAM_FAILED = "upstream_failed"
PIPELINE_STOPPED = "pipeline_stopped"
REUSED_PROPERTY = "azureml.reusedRunId"
REASON_PROPERTY = "mlws.reuse.reason"
STOP_PROPERTY = "mlws.pipeline.stopped"  # on a running step this scheduler asked to stop: why


class _Pipeline:
    """One pipeline run's records, read once per advance."""

    def __init__(self, workspace: Workspace, parent: RunRecord) -> None:
        self.ws = workspace
        self.parent = parent
        spec = workspace.services.queries.job_spec(parent.run_id)
        self.spec = spec
        self.steps: dict[str, dict[str, Any]] = {s["name"]: s for s in spec["definition"]["steps"]}
        self.order = list(self.steps)
        self.run_ids: dict[str, str] = dict(spec["steps"])
        writers = {o["name"]: s["name"] for s in self.steps.values() for o in s["outputs"]}
        self.writers: dict[str, str] = writers  # data name -> the step that writes it
        self._rows: dict[str, StepRunRecord] | None = None
        self._experiment: Experiment | None = None
        self._backends: dict[str, Any] = {}
        self.upstream: dict[str, list[str]] = {
            name: [writers[d["data"]] for d in s["data_inputs"]] + list(s.get("run_after") or [])
            for name, s in self.steps.items()
        }
        children = {r.run_id: r for r in workspace.services.queries.children(parent.run_id)}
        self.records: dict[str, RunRecord] = {name: children[run_id] for name, run_id in self.run_ids.items()}

    def experiment(self) -> Experiment:
        if self._experiment is None:
            self._experiment = Experiment(self.ws, self.parent.experiment_name)
        return self._experiment

    def backend(self, target: str) -> Any:
        """The back end of a compute target, looked up once per pass."""
        if target not in self._backends:
            self._backends[target] = target_backend(self.ws, target)
        return self._backends[target]

    def outputs_of(self, step: str) -> dict[str, str]:
        """The stored outputs of a step of this pipeline run (its rows read once per pass)."""
        if self._rows is None:
            self._rows = {r.run_id: r for r in self.ws.metadata.list_step_runs(self.parent.run_id)}
        row = self._rows.get(self.run_ids[step])
        if row is None or row.outputs is None:  # written since this pass read the rows
            row = self.ws.metadata.get_step_run(self.run_ids[step])
            self._rows[row.run_id] = row
        return dict(row.outputs or {})

    def status(self, name: str) -> RunStatus:
        return self.records[name].status

    def ancestors(self, name: str) -> list[str]:
        seen: list[str] = []
        stack = list(self.upstream[name])
        while stack:
            up = stack.pop()
            if up not in seen:
                seen.append(up)
                stack.extend(self.upstream[up])
        return seen

    def stopped_by(self, name: str) -> bool:
        """Whether the step ended through a failure of its own (not canceled by this scheduler)."""
        record = self.records[name]
        if record.status == RunStatus.FAILED:
            return True
        if record.status != RunStatus.CANCELED:
            return False
        if (record.error or {}).get("reason") in (UPSTREAM_FAILED, PIPELINE_STOPPED, "pipeline_canceled"):
            return False
        # A running step this scheduler asked to stop carries the reason as a property.
        return STOP_PROPERTY not in self.ws.services.queries.properties(record.run_id)


def advance(workspace: Workspace, parent_run_id: str) -> bool:
    """One scheduling pass over a pipeline run (see the module docstring); True once it has ended."""
    parent = workspace.services.queries.run(parent_run_id)
    if parent.status in TERMINAL_STATUSES:
        return True
    p = _Pipeline(workspace, parent)
    now = time.time()
    if parent.status == RunStatus.CANCEL_REQUESTED:
        _stop_all(p, "the pipeline run was canceled", "pipeline_canceled")
        return _finish(p)
    failed = [n for n in p.order if p.stopped_by(n)]
    continue_on_failure = bool(p.spec.get("continue_on_step_failure"))
    for name in p.order:
        if p.status(name) != RunStatus.NOT_STARTED:
            continue
        culprit = next((a for a in p.ancestors(name) if a in failed), None)
        if culprit is not None:
            _cancel_not_started(p, name, f"upstream step {culprit!r} failed", UPSTREAM_FAILED)
        elif failed and not continue_on_failure:
            _cancel_not_started(p, name, f"the pipeline stopped: step {failed[0]!r} failed", PIPELINE_STOPPED)
    if failed and not continue_on_failure:
        for name in p.order:
            if p.status(name) in ACTIVE_STATUSES and p.status(name) not in (
                RunStatus.NOT_STARTED,
                RunStatus.CANCEL_REQUESTED,
            ):
                _ask_to_stop(p, name, f"the pipeline stopped: step {failed[0]!r} failed")
    else:
        for name in p.order:
            if p.status(name) == RunStatus.NOT_STARTED and all(
                p.status(u) == RunStatus.COMPLETED for u in p.upstream[name]
            ):
                _start_step(p, name, now)
    return _finish(p)


def _refresh(p: _Pipeline, name: str) -> None:
    p.records[name] = p.ws.services.queries.run(p.run_ids[name])


def _cancel_not_started(p: _Pipeline, name: str, message: str, reason: str) -> None:
    tracking = p.ws.services.tracking
    error = {"message": message, "reason": reason}
    if tracking.try_transition(
        p.run_ids[name], RunStatus.NOT_STARTED, RunStatus.CANCELED, end_time=time.time(), error=error
    ):
        with contextlib.suppress(Exception):
            discard_inputs(p.ws.services.queries.job_spec(p.run_ids[name]))
    _refresh(p, name)


def _stop_all(p: _Pipeline, message: str, reason: str) -> None:
    for name in p.order:
        status = p.status(name)
        if status == RunStatus.NOT_STARTED:
            _cancel_not_started(p, name, message, reason)
        elif status in ACTIVE_STATUSES and status != RunStatus.CANCEL_REQUESTED:
            _ask_to_stop(p, name, message)


def _ask_to_stop(p: _Pipeline, name: str, message: str) -> None:
    """Ask a queued or running step to stop (its supervisor ends it Canceled), saying why."""
    tracking = p.ws.services.tracking
    with contextlib.suppress(MlwsError):
        tracking.add_properties(p.run_ids[name], {STOP_PROPERTY: message})
    with contextlib.suppress(MlwsError):
        ended = tracking.cancel(p.records[name])
        if ended.status == RunStatus.CANCELED:  # nobody had picked it up: no supervisor will clean up
            discard_inputs(p.ws.services.queries.job_spec(p.run_ids[name]))
    _refresh(p, name)


def _used_parameters(step: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    names: set[str] = set()

    def scan(item: Any) -> None:
        if isinstance(item, Mapping):
            for key in ("parameter", "parameter_path"):
                if isinstance(item.get(key), str):
                    names.add(item[key])
            for inner in item.values():
                scan(inner)
        elif isinstance(item, list):
            for inner in item:
                scan(inner)

    scan([step.get("arguments"), step.get("params"), step.get("parameters"), step.get("inputs")])
    return {n: values[n] for n in sorted(names) if n in values}


def _start_step(p: _Pipeline, name: str, now: float) -> None:
    ws = p.ws
    store = ws.metadata
    run_id = p.run_ids[name]
    record = p.records[name]
    step = p.steps[name]
    spec = ws.services.queries.job_spec(run_id)
    upstream_outputs = {d["name"]: p.outputs_of(p.writers[d["data"]])[d["data"]] for d in step["data_inputs"]}
    parts = reuse_parts(
        ws, spec, str(record.snapshot_id), upstream_outputs, _used_parameters(step, p.spec["parameters"])
    )
    decision = decide(
        ws,
        name,
        record.experiment_id,
        p.parent.run_id,
        parts,
        allow_reuse=bool(step.get("allow_reuse", True)),
        regenerate=bool(p.spec.get("regenerate_outputs")),
        explain_miss=False,  # told once the step is queued: the explanation reads manifests
    )
    tracking = ws.services.tracking
    key = reuse_key(parts)
    if decision.reused and decision.source is not None:
        source = decision.source
        store.add_step_run(
            StepRunRecord(run_id, name, key, parts, now, outputs=dict(source.outputs or {}), reused_from=source.run_id)
        )
        tracking.add_properties(run_id, {REUSED_PROPERTY: source.run_id, REASON_PROPERTY: decision.reason})
        if tracking.try_transition(run_id, RunStatus.NOT_STARTED, RunStatus.COMPLETED, start_time=now, end_time=now):
            discard_inputs(spec)  # what an unregistered input held for a job that will not run
        _refresh(p, name)
        return
    no_outputs = not spec.get("outputs")
    store.add_step_run(StepRunRecord(run_id, name, key, parts, now, outputs={} if no_outputs else None))
    try:
        queue_job(Run(p.experiment(), run_id, _record=record), spec, p.backend(spec["compute_target"]))
    except MlwsError as exc:
        tracking.try_transition(
            run_id,
            RunStatus.NOT_STARTED,
            RunStatus.FAILED,
            end_time=time.time(),
            error={"message": f"the step could not be queued: {exc.message}"},
        )
        discard_inputs(spec)
    reason = decision.reason or miss_reason(ws, name, record.experiment_id, p.parent.run_id, parts)
    tracking.add_properties(run_id, {REASON_PROPERTY: reason})
    _refresh(p, name)


def _finish(p: _Pipeline) -> bool:
    """End the pipeline run once every step has ended."""
    if any(p.status(n) not in TERMINAL_STATUSES for n in p.order):
        return False
    tracking = p.ws.services.tracking
    parent = p.ws.services.queries.run(p.parent.run_id)
    if parent.status in TERMINAL_STATUSES:
        return True
    failed = [n for n in p.order if p.stopped_by(n)]
    error: dict[str, Any] | None = None
    if parent.status == RunStatus.CANCEL_REQUESTED:
        new = RunStatus.CANCELED
        error = {"message": "the pipeline run was canceled", "reason": "canceled"}
    elif failed:
        new = RunStatus.FAILED
        first = p.records[failed[0]]
        detail = (first.error or {}).get("message") or first.status.value
        error = {"message": f"step {failed[0]!r} failed: {detail}", "failed_steps": failed}
    elif all(p.status(n) == RunStatus.COMPLETED for n in p.order):
        new = RunStatus.COMPLETED
    else:
        new = RunStatus.CANCELED
        error = {"message": "steps of the pipeline were canceled", "reason": "canceled"}
    fields: dict[str, Any] = {"end_time": time.time()}
    if error is not None:
        fields["error"] = error
    if parent.start_time is None:
        fields["start_time"] = p.parent.created_time
    tracking.try_transition(parent.run_id, parent.status, new, **fields)  # else someone else ended it
    return True


class PipelineDriver:
    """The ``azureml.PipelineRun`` run driver (``core.registry.run_drivers``)."""

    def drive(self, workspace: Workspace, run_id: str) -> None:
        """Advance the pipeline whenever one of its steps changed (see :func:`drive_until_ended`)."""
        drive_until_ended(
            workspace,
            run_id,
            lambda: advance(workspace, run_id),
            lambda exc: self.abandon_with(workspace, run_id, f"the pipeline's scheduler failed: {_message(exc)}"),
        )

    def abandon_with(self, workspace: Workspace, run_id: str, reason: str) -> None:
        end_driven_run(workspace, run_id, reason)
        self.abandon(workspace, run_id, reason)

    def abandon(self, workspace: Workspace, run_id: str, reason: str) -> None:
        """The pipeline run ended without its scheduler (its driver died): its steps not started are
        canceled, running ones asked to stop."""
        parent = workspace.services.queries.run(run_id)
        p = _Pipeline(workspace, parent)
        _stop_all(p, f"the pipeline run ended: {reason}", PIPELINE_STOPPED)


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, MlwsError) else f"{type(exc).__name__}: {exc}"


def step_reuse(workspace: Workspace, run_id: str) -> dict[str, Any] | None:
    """``{"reused", "from", "reason"}`` of a step run (None before it was decided)."""
    properties = workspace.services.queries.properties(run_id)
    reason = properties.get(REASON_PROPERTY)
    if reason is None:
        return None
    source = properties.get(REUSED_PROPERTY)
    return {"reused": source is not None, "from": source, "reason": reason}


def graph(workspace: Workspace, parent_run_id: str) -> dict[str, Any]:
    """The pipeline run's graph: ``{"nodes": [...], "edges": [...]}`` with each step's live state."""
    parent = workspace.services.queries.run(parent_run_id)
    p = _Pipeline(workspace, parent)
    nodes = []
    for name in p.order:
        record = p.records[name]
        nodes.append(
            {
                "id": record.run_id,
                "name": name,
                "status": record.status.value,
                "reuse": step_reuse(workspace, record.run_id),
                "error": (record.error or {}).get("message"),
                "start_time": record.start_time,
                "end_time": record.end_time,
            }
        )
    edges: list[dict[str, Any]] = []
    for name, step in p.steps.items():
        for data_input in step["data_inputs"]:
            edges.append(
                {
                    "source": p.run_ids[p.writers[data_input["data"]]],
                    "target": p.run_ids[name],
                    "data": data_input["data"],
                }
            )
        for before in step.get("run_after") or []:
            edges.append({"source": p.run_ids[before], "target": p.run_ids[name], "data": None})
    return {"run_id": parent_run_id, "status": parent.status.value, "nodes": nodes, "edges": edges}
