"""Supervising jobs on this machine: how a job's supervisor reports (:class:`StoreReporter`), the
folders a job runs in, and ending jobs that can no longer finish.

A supervisor records its pid and host and sends a heartbeat. A job whose supervisor is gone (its
process is dead on this machine, or its heartbeat is too old) is ended with the reason, its logs
so far kept, by a sweep: the agent's on every tick, ``Workspace.reconcile_jobs()`` (which
``Run.wait_for_completion`` calls while it waits) and the Jupyter server's periodic one. Reading a
status never does it (DESIGN §1). The shape is Dagster's ``RunLauncher.check_run_worker_health``:
each target checks its own jobs (:meth:`SupervisedCompute.reconcile`).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.interfaces.compute import BuildResult, ComputeBackend, JobReporter
from ..core.layout import live_dir
from ..core.status import ACTIVE_STATUSES, RunStatus, check_transition
from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from ..core.activities import ActivityRecorder
    from ..core.entities import RunRecord
    from ..core.workspace import Workspace

__all__ = [
    "HEARTBEAT_INTERVAL_S",
    "HOSTNAME",
    "STALE_AFTER_S",
    "AgentCompute",
    "StoreReporter",
    "SupervisedCompute",
    "end_if_stale",
    "job_workdir",
    "process_alive",
    "reconcile_records",
    "stale_reason",
]

HEARTBEAT_INTERVAL_S = 5.0
STALE_AFTER_S = 30.0
HOSTNAME = socket.gethostname()
# A queued run older than this makes a sweep check that its dispatcher lives, at most every few
# seconds per target and process (a waiting reader sweeps often).
DISPATCH_AFTER_S = 2.0
DISPATCH_CHECK_EVERY_S = 5.0
_last_dispatch_check: dict[tuple[str, str], float] = {}


def job_workdir(run_id: str) -> Path:
    """The scratch folder a job runs in on this machine (known, so a dead job's can be removed)."""
    return Path(tempfile.gettempdir()) / "mlws-jobs" / run_id


class StoreReporter(JobReporter):
    """A :class:`JobReporter` that writes through the workspace's stores."""

    def __init__(self, workspace: Workspace, run_id: str) -> None:
        self.workspace = workspace
        self.run_id = run_id
        self._store = workspace.metadata

    def job_spec(self) -> dict[str, Any]:
        return self._store.get_job_spec(self.run_id)

    def status(self) -> RunStatus:
        return self._store.get_run(self.run_id).status

    def transition(self, new: RunStatus, *, error: Mapping[str, Any] | None = None) -> bool:
        for _ in range(20):
            current = self.status()
            try:
                check_transition(current, new, self.run_id)
            except Exception:
                return False
            now = time.time()
            fields: dict[str, Any] = {}
            if new == RunStatus.RUNNING:
                fields["start_time"] = now
            if new.is_terminal:
                fields["end_time"] = now
            if self._store.transition_run(self.run_id, current, new, error=error, **fields):
                return True
        return False

    def supervisor(self, pid: int, host: str) -> None:
        self._store.update_job(self.run_id, supervisor_pid=pid, supervisor_host=host, heartbeat_time=time.time())

    def heartbeat(self) -> None:
        self._store.update_job(self.run_id, heartbeat_time=time.time())

    def restore_snapshot(self, target: Path) -> None:
        from ..snapshots import load_manifest, restore_snapshot

        record = self._store.get_run(self.run_id)
        if record.snapshot_id is None:
            raise InvalidArgumentError(f"run {self.run_id} has no snapshot")
        artifacts = self.workspace.artifacts
        restore_snapshot(load_manifest(artifacts, record.snapshot_id), artifacts, target)

    def collect(self, folder: Path, prefix: str) -> list[str]:
        if folder.is_symlink() or not folder.is_dir():
            return []  # a link a job left in place of its folder is not followed (a Docker job's too)
        return self.workspace.services.tracking.upload_folder(self.run_id, prefix, folder, overwrite=True)

    def live_dir(self) -> Path:
        return live_dir(self.workspace.path, self.run_id)

    def build_environment(
        self,
        target_type: str,
        config: Mapping[str, Any],
        log_file: Path,
        default: Mapping[str, Any] | None = None,
        on_start: Callable[[ActivityRecorder], None] | None = None,
    ) -> BuildResult | None:
        from ..core.environment import build_environment

        ref = self.job_spec().get("environment")
        if not ref:
            if default is None:
                return None
            ref = {"name": "default", "version": None, "definition": dict(default)}
        return build_environment(
            self.workspace,
            ref["name"],
            ref["version"],
            ref["definition"],
            target_type,
            dict(config),
            self.run_id,
            log_file,
            on_start,
        )


# -- finding and ending jobs that can no longer finish ---------------------------------------------------
def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (a zombie is dead for our purposes)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def stale_reason(record: RunRecord, now: float | None = None) -> str | None:
    """Why an active job can no longer finish on its own, or ``None`` if it looks alive."""
    if record.status not in ACTIVE_STATUSES or record.compute_target is None:
        return None
    if record.supervisor_pid is None:
        return None  # not picked up yet: the dispatcher owns it (see reconcile_records)
    now = time.time() if now is None else now
    where = f"pid {record.supervisor_pid} on {record.supervisor_host}"
    if record.supervisor_host == HOSTNAME and not process_alive(record.supervisor_pid):
        return f"the job's supervisor ({where}) stopped without finishing the run"
    if record.heartbeat_time is not None and now - record.heartbeat_time > STALE_AFTER_S:
        age = int(now - record.heartbeat_time)
        return f"the job's supervisor ({where}) sent no heartbeat for {age} s"
    return None


def end_if_stale(workspace: Workspace, record: RunRecord, backend: ComputeBackend | None = None) -> bool:
    """End a job whose supervisor is gone: Failed (Canceled if a cancel was asked for) with the
    reason, its logs so far kept, its builds ended and (through ``backend``) what is left of it
    stopped. ``True`` if this call ended it."""
    reason = stale_reason(record)
    if reason is None:
        return False
    new = RunStatus.CANCELED if record.status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
    error = {"message": reason, "reason": "stale"}
    # Compare-and-set: a supervisor finishing the run meanwhile wins, and so does another sweep.
    if not workspace.metadata.transition_run(record.run_id, record.status, new, end_time=time.time(), error=error):
        return False
    _salvage(workspace, record.run_id)
    _end_builds(workspace, record.run_id, reason)
    if backend is not None:
        try:
            backend.abandon(record.run_id)
        except Exception:  # noqa: S110 - best effort: the run's end is recorded already
            pass
    return True


def reconcile_records(backend: ComputeBackend, records: Sequence[RunRecord], *, dispatch: bool = True) -> list[str]:
    """``backend.reconcile`` for targets whose jobs are supervised here: end the stale ones, and
    (``dispatch``) restart the dispatcher when a queued run has waited a while. Returns the ids of
    the runs it ended."""
    ended = [r.run_id for r in records if end_if_stale(backend.workspace, r, backend)]
    if dispatch and any(
        r.status == RunStatus.QUEUED and r.run_id not in ended and time.time() - r.created_time > DISPATCH_AFTER_S
        for r in records
    ):
        key = (str(backend.workspace.root), backend.name)
        now = time.monotonic()
        if now - _last_dispatch_check.get(key, 0.0) > DISPATCH_CHECK_EVERY_S:
            _last_dispatch_check[key] = now
            try:
                backend.ensure_dispatching()
            except Exception:  # noqa: S110 - best effort; the run stays Queued and the next sweep retries
                pass
    return ended


def _end_builds(workspace: Workspace, run_id: str, reason: str) -> None:
    """A build that died with its supervisor must not show as Running for ever."""
    try:
        for activity in workspace.metadata.list_activities(status="Running", limit=1000):
            if activity.run_id == run_id:
                message = f"the build stopped with its job: {reason}"
                workspace.metadata.update_activity(
                    activity.activity_id, status="Failed", end_time=time.time(), error={"message": message}
                )
    except Exception:  # noqa: S110 - best effort: the run's end is recorded already
        pass


def _salvage(workspace: Workspace, run_id: str) -> None:
    """Keep what a dead job left on this machine (its logs so far) and remove its scratch folders."""
    live = live_dir(workspace.path, run_id)
    if live.is_dir():
        reporter = StoreReporter(workspace, run_id)
        try:
            reporter.collect(live / "logs", "logs")
            reporter.collect(live / "user_logs", "user_logs")
        except Exception:  # noqa: S110 - the failure is recorded already; the logs are a bonus
            pass
        shutil.rmtree(live, ignore_errors=True)
    shutil.rmtree(job_workdir(run_id), ignore_errors=True)


class SupervisedCompute(ComputeBackend):
    """A target whose jobs' supervisors report through :class:`StoreReporter`: the health check of
    its jobs is their supervisors' pids and heartbeats. Plug-ins derive from it to get that check."""

    def reconcile(self, records: Sequence[RunRecord]) -> list[str]:
        return reconcile_records(self, records)


class AgentCompute(SupervisedCompute):
    """A target whose jobs the workspace's agent (:mod:`.agent`) dispatches and supervises on this
    machine: submitting wakes the agent, and a sweep restarts it when queued runs wait without one."""

    dispatched_by_agent = True

    # The agent is imported when used: it runs as ``python -m``, and must not be imported before.
    def submit(self, run_id: str) -> None:
        from .agent import notify

        notify(self.workspace)

    def ensure_dispatching(self) -> None:
        from .agent import ensure_running

        ensure_running(self.workspace)
