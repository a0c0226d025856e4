"""Submitting jobs, reporting on them, and reconciling jobs whose supervisor died.

``submit`` captures the snapshot, creates the run (Queued) and hands it to the compute target.
``StoreReporter`` is how compute code reports (it never sees the database). ``reconcile`` runs when
anyone reads a job's status: a supervisor that vanished leaves a run that the next reader fails,
with a clear reason, instead of a run stuck in Running forever.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError
from .compute import DEFAULT_TARGET, ComputeTarget, JobReporter
from .entities import RunRecord, SnapshotRecord
from .status import ACTIVE_STATUSES, RunStatus, check_transition

if TYPE_CHECKING:
    from collections.abc import Callable

    from .activities import ActivityRecorder
    from .environment_build import BuildResult
    from .experiment import Experiment
    from .runs import Run
    from .workspace import Workspace

__all__ = ["HEARTBEAT_INTERVAL_S", "STALE_AFTER_S", "StoreReporter", "live_dir", "reconcile", "submit"]

HEARTBEAT_INTERVAL_S = 5.0
STALE_AFTER_S = 30.0
HOSTNAME = socket.gethostname()
_last_dispatch_check: dict[str, float] = {}


def live_dir(workspace: Workspace, run_id: str) -> Path:
    """Where a running job's logs are written, readable by every process on this machine."""
    return workspace.path / "jobs" / run_id


def submit(experiment: Experiment, config: Any, tags: Mapping[str, Any] | None = None) -> Run:
    from ..snapshots import capture_snapshot, git_properties
    from .runs import Run

    job_spec = getattr(config, "job_spec", None)
    if not callable(job_spec):
        raise InvalidArgumentError(
            f"submit() takes a ScriptRunConfig (or NotebookRunConfig), got {type(config).__name__}"
        )
    spec: dict[str, Any] = job_spec()
    ws = experiment.workspace
    target = ComputeTarget(ws, spec["compute_target"])
    backend = target.backend()
    backend.check()
    if spec.get("environment"):
        from .environment import Environment

        env = Environment.resolve(ws, spec["environment"])
        spec["environment"] = {"name": env.name, "version": env.version, "definition": env.definition()}
    snapshot = capture_snapshot(
        spec["source_directory"],
        ws.artifacts,
        cache_file=ws.path / "cache" / "snapshot-stat-cache.json",
        extra_files=getattr(config, "extra_files", None),
    )
    ws.metadata.add_snapshot(
        SnapshotRecord(snapshot.id, time.time(), snapshot.file_count, snapshot.total_size, spec["source_directory"])
    )
    properties = {
        **git_properties(spec["source_directory"]),
        "mlws.snapshot_id": snapshot.id,
        "mlws.compute_target": target.name,
    }
    run = Run.create(
        experiment,
        status=RunStatus.QUEUED,
        run_type=spec["kind"],
        tags=tags,
        properties=properties,
        compute_target=target.name,
        snapshot_id=snapshot.id,
        job_spec=spec,
    )
    if spec.get("params"):
        run.log_params(spec["params"])  # before the job starts: a job may log the same values itself
    backend.submit(run.id)
    return run


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
        from .runs import Run

        if not folder.is_dir():
            return []
        run = Run.get(self.workspace, self.run_id)
        return run.upload_folder(prefix, folder, overwrite=True)

    def live_dir(self) -> Path:
        return live_dir(self.workspace, self.run_id)

    def build_environment(
        self,
        target_type: str,
        config: Mapping[str, Any],
        log_file: Path,
        default: Mapping[str, Any] | None = None,
        on_start: Callable[[ActivityRecorder], None] | None = None,
    ) -> BuildResult | None:
        from .environment import build_environment

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


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def stale_reason(record: RunRecord, now: float | None = None) -> str | None:
    """Why an active job can no longer finish on its own, or ``None`` if it looks alive."""
    if record.status not in ACTIVE_STATUSES or record.compute_target is None:
        return None
    if record.supervisor_pid is None:
        return None  # not picked up yet: the dispatcher owns it (see ensure_dispatching)
    now = time.time() if now is None else now
    where = f"pid {record.supervisor_pid} on {record.supervisor_host}"
    if record.supervisor_host == HOSTNAME and not _process_alive(record.supervisor_pid):
        return f"the job's supervisor ({where}) stopped without finishing the run"
    if record.heartbeat_time is not None and now - record.heartbeat_time > STALE_AFTER_S:
        age = int(now - record.heartbeat_time)
        return f"the job's supervisor ({where}) sent no heartbeat for {age} s"
    return None


def reconcile(workspace: Workspace, record: RunRecord) -> RunRecord:
    """Fail a job whose supervisor is gone; restart a dispatcher for runs still queued."""
    reason = stale_reason(record)
    if reason is None:
        now = time.monotonic()
        waiting = record.status == RunStatus.QUEUED and time.time() - record.created_time > 2
        if waiting and record.compute_target and now - _last_dispatch_check.get(record.compute_target, 0.0) > 5:
            # At most every few seconds per target: readers poll status often.
            _last_dispatch_check[record.compute_target] = now
            try:
                ComputeTarget(workspace, record.compute_target).backend().ensure_dispatching()
            except Exception:  # noqa: S110 - best effort; the run stays Queued and is retried on a later read
                pass
        return record
    store = workspace.metadata
    new = RunStatus.CANCELED if record.status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
    if store.transition_run(
        record.run_id, record.status, new, end_time=time.time(), error={"message": reason, "reason": "stale"}
    ):
        _salvage(workspace, record.run_id)
        _end_builds(workspace, record.run_id, reason)
        try:
            ComputeTarget(workspace, record.compute_target or DEFAULT_TARGET).backend().abandon(record.run_id)
        except Exception:  # noqa: S110 - best effort: the run's end is recorded already
            pass
    return store.get_run(record.run_id)


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
    import shutil

    live = live_dir(workspace, run_id)
    if live.is_dir():
        reporter = StoreReporter(workspace, run_id)
        try:
            reporter.collect(live / "logs", "logs")
            reporter.collect(live / "user_logs", "user_logs")
        except Exception:  # noqa: S110 - the failure is recorded already; the logs are a bonus
            pass
        shutil.rmtree(live, ignore_errors=True)
    shutil.rmtree(job_workdir(run_id), ignore_errors=True)


def job_workdir(run_id: str) -> Path:
    """The scratch folder a job runs in on this machine (known, so a dead job's can be removed)."""
    import tempfile

    return Path(tempfile.gettempdir()) / "mlws-jobs" / run_id
