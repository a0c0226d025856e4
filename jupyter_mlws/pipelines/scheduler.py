"""The schedule driver: :func:`tick` fires what is due, exactly once across processes.

Every process that serves the workspace calls ``tick`` about once a second — the dispatcher agent
(``compute/agent.py``, through the ``agent_tasks`` registry of ``core/registry.py``) and each Jupyter
server (``server/sweeper.py``). For each enabled schedule a tick works out the fire times that are due
and CLAIMS each one by inserting ``(schedule id, fire time)`` under the store's unique key: only the
process whose insert succeeded submits that fire; the others see a conflict and move on. A process that
dies between its claim and the submission loses that one fire (never runs it twice): the fire row
keeps no run id, and that is visible in ``list_schedule_fires``.

Catch-up after downtime (``ScheduleRecord.catch_up``): ``"all"`` claims every missed fire time (at most
``MAX_FIRES_PER_TICK`` per tick; the next tick goes on), ``"latest"`` the newest one and skips the
rest, ``"none"`` fires only a fire time at most ``MISSED_AFTER_S`` old and skips older ones.

Data-change schedules: a process takes the turn to poll (a compare-and-set on ``next_poll_time``),
fingerprints the path's content, and a changed fingerprint becomes a fire only for the process whose
compare-and-set on the stored fingerprint succeeds.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..core.interfaces.pipeline_publishing import (
    ACTIVE,
    PipelinePublishingStore,
    PublishedPipelineRecord,
    ScheduleFireRecord,
    ScheduleRecord,
)
from ..core.registry import schedule_targets
from ..errors import MlwsError
from .published import submit_published
from .recurrence import ScheduleRecurrence
from .schedules import content_fingerprint

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["MAX_FIRES_PER_TICK", "MISSED_AFTER_S", "agent_task", "due_fire_times", "tick"]

#: A fire time more than this many seconds in the past counts as missed (catch_up="none" skips it).
MISSED_AFTER_S = 60
#: At most this many fires of one schedule per tick (catch_up="all" after a long downtime).
MAX_FIRES_PER_TICK = 100

log = logging.getLogger(__name__)


def _store(workspace: Workspace) -> PipelinePublishingStore:
    return workspace.metadata


def _claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def due_fire_times(record: ScheduleRecord, now: float) -> tuple[list[int], int | None]:
    """``(fire times to claim, time to skip up to)`` of a time-based schedule at ``now`` under its
    catch-up policy; the second is the newest due fire time (handled either way), None if none is due."""
    if record.recurrence is None:
        return [], None
    recurrence = ScheduleRecurrence.from_dict(record.recurrence)
    until = int(now)
    latest = recurrence.latest_fire_time(record.anchor_time, record.last_fire_time, until)
    if latest is None:
        return [], None
    if record.catch_up == "all":
        due = recurrence.fire_times(record.anchor_time, record.last_fire_time, until, MAX_FIRES_PER_TICK)
        return due, (due[-1] if due else None)
    if record.catch_up == "none" and now - latest > MISSED_AFTER_S:
        return [], latest
    return [latest], latest


def _target(workspace: Workspace, record: ScheduleRecord) -> PublishedPipelineRecord:
    store = _store(workspace)
    if record.pipeline_id is not None:
        return store.get_published_pipeline(record.pipeline_id)
    endpoint = store.get_pipeline_endpoint(endpoint_id=record.pipeline_endpoint_id)
    pipeline = store.get_published_pipeline(endpoint.versions[endpoint.default_version])
    # A disabled endpoint fires nothing, as a disabled pipeline does.
    return pipeline if endpoint.status == ACTIVE else replace(pipeline, status=endpoint.status)


def _fire(
    workspace: Workspace,
    record: ScheduleRecord,
    pipeline: PublishedPipelineRecord,
    fire_time: int,
    now: float,
    extra: dict[str, object] | None = None,
) -> str | None:
    """Claim one fire of a pipeline's schedule; the winner submits the pipeline."""

    def submit() -> str:
        run = submit_published(
            workspace,
            pipeline,
            record.experiment_name,
            {**record.parameters, **(extra or {})},
            continue_on_step_failure=record.continue_on_step_failure,
            properties={"azureml.scheduleid": record.id, "mlws.scheduleFireTime": str(fire_time)},
        )
        return str(run.id)

    return _claim_and_start(workspace, record, fire_time, now, submit)


def _claim_and_start(
    workspace: Workspace, record: ScheduleRecord, fire_time: int, now: float, start: Callable[[], str]
) -> str | None:
    """Claim one fire; the winner calls ``start``. Answers the new run's id (None if not ours or failed)."""
    store = _store(workspace)
    if not store.claim_schedule_fire(ScheduleFireRecord(record.id, fire_time, now, _claimant())):
        return None  # another process fired it
    try:
        run_id = start()
    except Exception as exc:  # recorded on the fire and logged: one failing schedule stops no other
        message = exc.message if isinstance(exc, MlwsError) else f"{type(exc).__name__}: {exc}"
        store.set_schedule_fire_result(record.id, fire_time, None, error=message)
        log.warning(
            "jupyter_mlws: schedule %s (%s) could not submit its fire at %s: %s",
            record.name,
            record.id,
            fire_time,
            message,
        )
        return None
    store.set_schedule_fire_result(record.id, fire_time, run_id)
    return run_id


def _tick_target(workspace: Workspace, record: ScheduleRecord, now: float) -> list[str]:
    """A schedule of something other than a pipeline (``target_kind``): each due fire claimed, then
    started by the target kind's ``fire`` (``core.registry.schedule_targets``)."""
    due, handled = due_fire_times(record, now)
    if handled is None:
        return []
    fire = schedule_targets.get(str(record.target_kind))
    fired: list[str] = []
    for fire_time in due:

        def start(fire_time: int = fire_time) -> str:
            return str(fire(workspace, record, fire_time))

        run_id = _claim_and_start(workspace, record, fire_time, now, start)
        if run_id is not None:
            fired.append(run_id)
    _store(workspace).skip_schedule_fires(record.id, handled)
    return fired


def _tick_recurrence(workspace: Workspace, record: ScheduleRecord, now: float) -> list[str]:
    due, handled = due_fire_times(record, now)
    if handled is None:
        return []
    pipeline = _target(workspace, record)
    if pipeline.status != ACTIVE:
        # A disabled pipeline's fires are skipped, not queued up for when it is enabled again.
        _store(workspace).skip_schedule_fires(record.id, handled)
        return []
    fired = [run_id for t in due if (run_id := _fire(workspace, record, pipeline, t, now)) is not None]
    _store(workspace).skip_schedule_fires(record.id, handled)
    return fired


def _tick_data_change(workspace: Workspace, record: ScheduleRecord, now: float) -> list[str]:
    store = _store(workspace)
    interval = (record.polling_interval or 5) * 60
    if record.next_poll_time is not None and record.next_poll_time > now:
        return []
    if not store.claim_schedule_poll(record.id, now, now + interval):
        return []  # another process polls this time
    assert record.datastore_name is not None
    current = content_fingerprint(workspace, record.datastore_name, record.path_on_datastore or "")
    if current == record.fingerprint:
        return []
    if not store.swap_schedule_fingerprint(record.id, record.fingerprint, current):
        return []  # another process saw this change first
    pipeline = _target(workspace, record)
    if pipeline.status != ACTIVE:
        return []
    extra: dict[str, object] = {}
    if record.data_path_parameter_name:
        # v1 hands the changed path to this PipelineParameter: a DataPath, as the engine takes one.
        extra[record.data_path_parameter_name] = {
            "datastore": record.datastore_name,
            "path": record.path_on_datastore or "",
        }
    run_id = _fire(workspace, record, pipeline, int(now), now, extra)
    return [] if run_id is None else [run_id]


def tick(workspace: Workspace, now: float | None = None) -> list[str]:
    """Fire every enabled schedule's due fires that no other process fired; answers the ids of the
    runs this call started. ``now`` (epoch seconds) is for tests; default the clock."""
    now = time.time() if now is None else now
    fired: list[str] = []
    for record in _store(workspace).list_schedules(active_only=True):
        try:
            if record.target_kind is not None:
                fired += _tick_target(workspace, record, now)
            elif record.recurrence is not None:
                fired += _tick_recurrence(workspace, record, now)
            elif record.datastore_name is not None:
                fired += _tick_data_change(workspace, record, now)
        except MlwsError as exc:  # e.g. its pipeline or datastore is gone: the others still fire
            log.warning("jupyter_mlws: schedule %s (%s) skipped: %s", record.name, record.id, exc.message)
        except Exception as exc:
            log.warning(
                "jupyter_mlws: schedule %s (%s) skipped: %s: %s", record.name, record.id, type(exc).__name__, exc
            )
    return fired


def agent_task(workspace: Workspace) -> bool:
    """The dispatcher agent's periodic call (registered in ``core.registry.agent_tasks``): fire what is
    due, and answer whether an enabled schedule exists (the agent then stays up)."""
    tick(workspace)
    return bool(_store(workspace).list_schedules(active_only=True))
