"""The sweep controller (issue 18): the ``hyperdrive`` run driver, forked by the dispatcher agent for
a queued sweep run, takes it to its end with :meth:`SweepController.advance` passes.

One pass, from the records (so a controller started after a crash goes on where the last one was):

1. A cancel request on the sweep stops its active trials; once they all ended the sweep is Canceled.
2. Past ``max_duration_minutes`` the active trials are stopped and nothing more starts.
3. The early-termination policy looks at each running trial's primary-metric series at each
   evaluation interval it reached; a trial it stops gets the reason as its ``mlws.sweep.stopped``
   property and is canceled (its supervisor ends it Canceled).
4. Free slots (``max_concurrent_runs`` minus the trials not yet ended) are filled with new trials:
   trial ``i`` is the child run ``<sweep id>_<i>`` (a fixed id: a resumed controller can never make
   it twice), its sampled values added to the run config's arguments and recorded as its params.
5. Once every trial ended and no more may start (``max_total_runs``, the grid done, the duration
   passed) the sweep ends: Completed, or Failed when every trial failed.

A controller that dies is replaced by the agent (the driver is ``resumable``): the new one reads the
trials made so far, and a random sampler draws trial ``i`` from the seed and ``i`` alone.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.entities import RunRecord
from ..core.experiment import Experiment
from ..core.jobs import create_job_run, drive_until_ended, end_driven_run, queue_job
from ..core.runs import Run
from ..core.services import liveness
from ..core.status import ACTIVE_STATUSES, TERMINAL_STATUSES, RunStatus
from ..errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    InvalidArgumentError,
    InvalidStateError,
    MlwsError,
    NotFoundError,
)
from .config import notebook_parameter
from .policies import should_stop
from .sampling import Trial, make_sampler

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = [
    "END_PROPERTY",
    "HYPERPARAMETERS_PROPERTY",
    "INDEX_PROPERTY",
    "STOPPED_PROPERTY",
    "SweepController",
    "SweepDriver",
    "best_value",
    "trial_index",
]

INDEX_PROPERTY = "mlws.sweep.index"
HYPERPARAMETERS_PROPERTY = "mlws.sweep.hyperparameters"  # the sampled values, as JSON (typed)
STOPPED_PROPERTY = "mlws.sweep.stopped"  # why the controller stopped the trial (policy, budget, cancel)
END_PROPERTY = "mlws.sweep.end_reason"  # on the sweep: why no more trials started
REACH_CHECK_S = 5.0  # how often the controller checks that its trials' targets still exist
_STATE = {
    RunStatus.COMPLETED: "completed",
    RunStatus.FAILED: "failed",
    RunStatus.CANCELED: "canceled",
}


def best_value(values: Sequence[float], goal: str) -> float | None:
    """The best of a primary-metric series (by the goal); NaN and infinite values never count (a
    diverged trial must not look best, nor make every other trial look hopeless)."""
    finite = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not finite:
        return None
    return max(finite) if goal == "maximize" else min(finite)


def trial_index(sweep_id: str, child_id: str) -> int | None:
    """``i`` of the trial ``<sweep id>_<i>``; None for a child run the controller did not make."""
    prefix = f"{sweep_id}_"
    if child_id.startswith(prefix) and child_id[len(prefix) :].isdigit():
        return int(child_id[len(prefix) :])
    return None


def argument_value(value: Any) -> str:
    """How a sampled value is written into the argv (``True`` as the script's argparse reads it)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)  # 1.0, not 1: the script's type=float parses either; keeps the type visible
    return str(value)


class SweepController:
    """One sweep run's controller: the records are the truth; this keeps only what never changes
    (each trial's values, the series of trials that ended) and what the sampler learnt."""

    def __init__(self, workspace: Workspace, run_id: str) -> None:
        self.ws = workspace
        self.run_id = run_id
        queries = workspace.services.queries
        self.parent = queries.run(run_id)
        self.spec = queries.job_spec(run_id)
        self.metric = str(self.spec["primary_metric"]["name"])
        self.goal = str(self.spec["primary_metric"]["goal"])
        self.policy: dict[str, Any] = dict(self.spec["policy"])
        self.max_total = int(self.spec["max_total_runs"])
        self.max_concurrent = int(self.spec["max_concurrent_runs"])
        self.max_seconds = float(self.spec["max_duration_minutes"]) * 60.0
        self.sampler = make_sampler(self.spec["sampling"], int(self.spec["seed"]), goal=self.goal)
        self.experiment = Experiment(workspace, self.parent.experiment_name)
        self.parent_run = Run(self.experiment, run_id, _record=self.parent)
        properties = queries.properties(run_id)
        self.git = {k: v for k, v in properties.items() if k.startswith("azureml.git.")}
        env = self.spec.get("environment")
        self.environment = None if not env else {"name": env["name"], "version": env["version"]}
        self.values: dict[int, dict[str, Any]] = {}  # trial index -> its sampled values
        self.final: dict[str, list[float]] = {}  # series of trials that ended (they never change)
        self.evaluated: dict[str, int] = {}  # trial id -> the last interval the policy looked at
        # The driver's own process owns the sweep (set by the agent's claim); None when driven in-process.
        self.owner: tuple[int | None, str | None] | None = None
        self._backends: dict[str, Any] = {}  # compute target -> its back end, looked up once
        self.known: dict[int, RunRecord] | None = None  # the trials as the last pass left them
        self.next_reach_check = 0.0
        for record in queries.children(run_id):
            if record.status not in TERMINAL_STATUSES and trial_index(run_id, record.run_id) is not None:
                # A controller before this one judged the intervals reached so far: v1 judges each once.
                self.evaluated[record.run_id] = len(queries.metric_history(record.run_id, self.metric))
        if self.parent.start_time is None and self.parent.status == RunStatus.RUNNING:
            # Claiming the run set no start time: the sweep starts now (its duration counts from here).
            workspace.services.tracking.try_transition(
                run_id, RunStatus.RUNNING, RunStatus.RUNNING, start_time=time.time()
            )
            self.parent = queries.run(run_id)

    # -- one pass ---------------------------------------------------------------------------------------
    def advance(self) -> bool:
        """One pass over the sweep (see the module docstring); True once the sweep has ended."""
        queries = self.ws.services.queries
        parent = queries.run(self.run_id)
        self.parent = parent
        if parent.status in TERMINAL_STATUSES:
            return True
        if self.owner is not None and (parent.supervisor_pid, parent.supervisor_host) != self.owner:
            return True  # another controller took the sweep over (this one was thought dead): leave it
        trials = self._trials()
        self._end_unreachable(trials)
        if parent.status == RunStatus.CANCEL_REQUESTED:
            self._stop_active(trials, "the sweep was canceled")
            self.known = dict(sorted(trials.items()))
            return self._finish(trials, canceled=True)
        started = parent.start_time or parent.created_time
        over = time.time() - started >= self.max_seconds
        curves = self._curves(trials)
        if over:
            self._stop_active(trials, f"the sweep reached max_duration_minutes ({self.spec['max_duration_minutes']:g})")
        else:
            self._apply_policy(trials, curves)
            self._queue_not_started(trials)
            self._fill(trials, curves)
        self.known = dict(sorted(trials.items()))  # with the trials this pass made or stopped
        return self._finish(trials, over=over)

    def _trials(self) -> dict[int, RunRecord]:
        """Every trial's record, index order. A trial that ended never changes, so a pass reads only
        the trials not ended yet (and, once, each that ended since the last pass): the cost of a pass
        follows ``max_concurrent_runs``, not the size of the sweep."""
        queries = self.ws.services.queries
        if self.known is None:
            children = queries.children(self.run_id)
        else:
            children = queries.children(self.run_id, statuses=sorted(ACTIVE_STATUSES))
        found: dict[int, RunRecord] = {} if self.known is None else dict(self.known)
        fresh = set()
        for record in children:
            index = trial_index(self.run_id, record.run_id)
            if index is not None:
                found[index] = record
                fresh.add(index)
        for index, record in found.items():
            if index not in fresh and record.status not in TERMINAL_STATUSES:
                found[index] = queries.run(record.run_id)  # it ended since the last pass
        self.known = dict(sorted(found.items()))
        return dict(self.known)

    def _values_of(self, index: int, record: RunRecord) -> dict[str, Any]:
        if index not in self.values:  # a trial an earlier controller made
            raw = self.ws.services.queries.properties(record.run_id).get(HYPERPARAMETERS_PROPERTY, "{}")
            self.values[index] = json.loads(raw)
        return self.values[index]

    def _curves(self, trials: Mapping[int, RunRecord]) -> dict[str, list[float]]:
        """Each trial's primary-metric series (those that ended are read once)."""
        store_values = self.ws.services.queries
        curves: dict[str, list[float]] = {}
        for record in trials.values():
            cached = self.final.get(record.run_id)
            if cached is not None:
                curves[record.run_id] = cached
                continue
            series = [
                float(p.value)
                for p in store_values.metric_history(record.run_id, self.metric)
                if isinstance(p.value, int | float) and not isinstance(p.value, bool)
            ]
            curves[record.run_id] = series
            if record.status in TERMINAL_STATUSES:
                self.final[record.run_id] = series
        return curves

    def _history(self, trials: Mapping[int, RunRecord], curves: Mapping[str, list[float]]) -> list[Trial]:
        return [
            Trial(
                index=index,
                values=self._values_of(index, record),
                metric=best_value(curves.get(record.run_id, []), self.goal),
                state=_STATE.get(record.status, "running"),
            )
            for index, record in trials.items()
        ]

    def _apply_policy(self, trials: dict[int, RunRecord], curves: Mapping[str, list[float]]) -> None:
        if self.policy.get("type") in (None, "none"):
            return
        for index, record in list(trials.items()):
            if record.status != RunStatus.RUNNING:
                continue  # not started yet, stopping already, or ended: nothing to judge
            series = curves.get(record.run_id, [])
            done = self.evaluated.get(record.run_id, 0)
            for interval in range(done + 1, len(series) + 1):
                # Every trial's series as it stood at that interval: the policy compares like with like.
                reason = should_stop(self.policy, self.goal, curves, record.run_id, interval)
                if reason is not None:
                    trials[index] = self._stop(record, reason)
                    break
            self.evaluated[record.run_id] = len(series)

    def _queue_not_started(self, trials: dict[int, RunRecord]) -> None:
        """A trial an earlier controller made but did not get to queue (it died in between)."""
        for index, record in trials.items():
            if record.status == RunStatus.NOT_STARTED:
                self._queue(index, record.run_id)
                trials[index] = self.ws.services.queries.run(record.run_id)

    def _fill(self, trials: dict[int, RunRecord], curves: Mapping[str, list[float]]) -> None:
        active = sum(1 for r in trials.values() if r.status not in TERMINAL_STATUSES)
        index = max(trials, default=-1) + 1
        history: list[Trial] | None = None
        while active < self.max_concurrent and index < self.max_total:
            if self.sampler.size is not None and index >= self.sampler.size:
                return
            if history is None:
                history = self._history(trials, curves)
            values = self.sampler.suggest(index, history)
            if values is None:
                return
            self.values[index] = dict(values)
            record = self._create(index, values)
            trials[index] = record
            history.append(Trial(index=index, values=dict(values), metric=None, state="running"))
            active += 1
            index += 1

    def _child_spec(self, values: Mapping[str, Any]) -> dict[str, Any]:
        spec: dict[str, Any] = copy.deepcopy(self.spec["child"])
        if spec["kind"] == "notebook":
            sampled = {notebook_parameter(k): v for k, v in values.items()}
            spec["parameters"] = {**(spec.get("parameters") or {}), **sampled}
            spec["params"] = {**(spec.get("params") or {}), **sampled}
        else:
            pairs = [part for name, value in values.items() for part in (name, argument_value(value))]
            spec["arguments"] = [*spec.get("arguments", []), *pairs]
            spec["params"] = dict(values)
        if self.environment is not None:
            spec["environment"] = dict(self.environment)  # resolved (and registered) at submit
        return spec

    def _create(self, index: int, values: Mapping[str, Any]) -> RunRecord:
        run_id = f"{self.run_id}_{index}"
        spec = self._child_spec(values)
        try:
            create_job_run(
                self.experiment,
                spec,
                parent=self.parent_run,
                status=RunStatus.NOT_STARTED,
                run_id=run_id,
                display_name=f"{self.parent.display_name or 'sweep'} trial {index}",
                properties={INDEX_PROPERTY: str(index), HYPERPARAMETERS_PROPERTY: json.dumps(dict(values))},
                snapshot_id=self.parent.snapshot_id,
                git=self.git,
            )
        except AlreadyExistsError:
            # Made by a controller that died right after: queue it only if nobody did.
            record = self.ws.services.queries.run(run_id)
            if record.status != RunStatus.NOT_STARTED:
                return record
        self._queue(index, run_id)
        return self.ws.services.queries.run(run_id)

    def _queue(self, index: int, run_id: str) -> None:
        spec = self.ws.services.queries.job_spec(run_id)
        run = Run(self.experiment, run_id)
        queue_job(run, spec, self._backend(spec["compute_target"]))

    def _backend(self, target: str) -> Any:
        from ..core.jobs import target_backend

        if target not in self._backends:
            self._backends[target] = target_backend(self.ws, target)  # raises for a detached target
        return self._backends[target]

    def _end_unreachable(self, trials: dict[int, RunRecord]) -> None:
        """A trial whose compute target was detached, or whose target type's plug-in is gone, can
        never be run or checked by anyone: end it with the reason rather than wait for it forever.
        Looked at every ``REACH_CHECK_S`` (one query per target)."""
        now = time.monotonic()
        if now < self.next_reach_check:
            return
        self.next_reach_check = now + REACH_CHECK_S
        from ..core.jobs import target_backend

        checked: set[str] = set()
        unreachable: dict[str, MlwsError] = {}
        for index, record in trials.items():
            target = record.compute_target
            if record.status in TERMINAL_STATUSES or target is None:
                continue
            if target not in unreachable and target not in checked:
                try:
                    self._backends[target] = target_backend(self.ws, target)
                    checked.add(target)
                except MlwsError as exc:
                    unreachable[target] = exc
                    self._backends.pop(target, None)
            problem = unreachable.get(target)
            if problem is not None:
                if record.supervisor_pid is not None and (
                    liveness.stale_reason(
                        "its supervisor",
                        record.supervisor_pid,
                        record.supervisor_host,
                        record.supervisor_start,
                        record.heartbeat_time,
                        self.ws.services.tracking.database_time,
                    )
                    is None
                ):
                    continue  # its supervisor is alive and ends it; only a trial nobody can end is ended here
                new = RunStatus.CANCELED if record.status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
                error = {"message": f"its compute target cannot be used: {problem.message}", "reason": "unreachable"}
                self.ws.services.tracking.try_transition(
                    record.run_id, record.status, new, end_time=time.time(), error=error
                )
                trials[index] = self.ws.services.queries.run(record.run_id)

    # -- stopping and ending ----------------------------------------------------------------------------
    def _stop(self, record: RunRecord, reason: str) -> RunRecord:
        return stop_trial(self.ws, record.run_id, reason)

    def _stop_active(self, trials: dict[int, RunRecord], reason: str) -> None:
        for index, record in trials.items():
            if record.status not in TERMINAL_STATUSES and record.status != RunStatus.CANCEL_REQUESTED:
                trials[index] = self._stop(record, reason)

    def _finish(self, trials: Mapping[int, RunRecord], *, canceled: bool = False, over: bool = False) -> bool:
        if any(r.status not in TERMINAL_STATUSES for r in trials.values()):
            return False
        created = len(trials)
        exhausted = self.sampler.size is not None and created >= self.sampler.size
        if not (canceled or over or exhausted or created >= self.max_total):
            return False
        tracking = self.ws.services.tracking
        error: dict[str, Any] | None = None
        if canceled:
            new, why = RunStatus.CANCELED, "the sweep was canceled"
            error = {"message": why, "reason": "canceled"}
        elif trials and all(r.status == RunStatus.FAILED for r in trials.values()):
            first = next(iter(trials.values()))
            detail = (first.error or {}).get("message") or "no message"
            new, why = RunStatus.FAILED, "every trial failed"
            error = {"message": f"every trial failed; trial 0: {detail}"}
        else:
            new = RunStatus.COMPLETED
            if over:
                why = f"max_duration_minutes ({self.spec['max_duration_minutes']:g}) reached"
            elif exhausted and created < self.max_total:
                why = f"the grid is exhausted ({created} points)"
            else:
                why = f"max_total_runs ({self.max_total}) reached"
        with contextlib.suppress(MlwsError):
            tracking.add_properties(self.run_id, {END_PROPERTY: why})
        fields: dict[str, Any] = {"end_time": time.time()}
        if error is not None:
            fields["error"] = error
        if self.parent.start_time is None:
            fields["start_time"] = self.parent.created_time
        if tracking.try_transition(self.run_id, self.parent.status, new, **fields):
            return True
        # Its status changed since this pass read it (a cancel request): the next pass decides again.
        return self.ws.services.queries.run(self.run_id).status in TERMINAL_STATUSES


class SweepDriver:
    """The ``hyperdrive`` run driver (``core.registry.run_drivers``). ``resumable``: a sweep whose
    controller died is given a new one by the agent instead of being ended."""

    resumable = True

    def drive(self, workspace: Workspace, run_id: str) -> None:
        try:
            controller = SweepController(workspace, run_id)
        except Exception as exc:
            if not _lasting(exc):
                raise  # this process ends; the agent gives the sweep a new controller
            self.abandon_with(workspace, run_id, f"the sweep's controller could not start: {_message(exc)}")
            return
        controller.owner = (controller.parent.supervisor_pid, controller.parent.supervisor_host)

        def give_up(exc: BaseException) -> None:
            if not _lasting(exc):
                # Errors that may pass (a locked database, an engine restarting) must not end a sweep
                # of days: this controller exits and the agent starts another, which goes on.
                raise BackendUnavailableError(f"the sweep's controller stops for now: {_message(exc)}") from exc
            self.abandon_with(workspace, run_id, f"the sweep's controller failed: {_message(exc)}")

        drive_until_ended(workspace, run_id, controller.advance, give_up)

    def abandon_with(self, workspace: Workspace, run_id: str, reason: str) -> None:
        end_driven_run(workspace, run_id, reason)
        self.abandon(workspace, run_id, reason)

    def abandon(self, workspace: Workspace, run_id: str, reason: str) -> None:
        """The sweep ended without its controller: its trials not yet ended are stopped."""
        stop_trials(workspace, run_id, f"the sweep ended: {reason}")


def _lasting(exc: BaseException) -> bool:
    """Whether an error will not pass by trying again (bad data, something missing)."""
    return isinstance(exc, InvalidArgumentError | NotFoundError | InvalidStateError | KeyError | TypeError | ValueError)


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, MlwsError) else f"{type(exc).__name__}: {exc}"


def stop_trial(workspace: Workspace, run_id: str, reason: str) -> RunRecord:
    """Cancel a trial and, if the cancel took (it had not ended on its own meanwhile), record why."""
    tracking = workspace.services.tracking
    queries = workspace.services.queries
    with contextlib.suppress(MlwsError):  # it ended meanwhile
        tracking.cancel(queries.run(run_id))
    record = queries.run(run_id)
    if record.status in (RunStatus.CANCEL_REQUESTED, RunStatus.CANCELED):
        with contextlib.suppress(MlwsError):  # set already (a controller before this one decided)
            tracking.add_properties(run_id, {STOPPED_PROPERTY: reason})
    return record


def stop_trials(workspace: Workspace, run_id: str, reason: str) -> None:
    """Stop every trial of a sweep that has not ended (the reason recorded on each)."""
    for record in workspace.services.queries.children(run_id):
        if record.status not in TERMINAL_STATUSES and record.status != RunStatus.CANCEL_REQUESTED:
            stop_trial(workspace, record.run_id, reason)
