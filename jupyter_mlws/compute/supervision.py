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

import contextlib
import grp
import os
import shutil
import stat
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.interfaces.compute import BuildResult, ComputeBackend, JobReporter
from ..core.layout import live_dir
from ..core.redaction import REDACTOR
from ..core.registry import resumable_driver
from ..core.services import liveness
from ..core.services.liveness import HEARTBEAT_INTERVAL_S, HOSTNAME, process_alive
from ..core.status import ACTIVE_STATUSES, RunStatus, check_transition
from ..errors import InvalidArgumentError, InvalidStateError

if TYPE_CHECKING:
    from ..core.activities import ActivityRecorder
    from ..core.entities import RunRecord
    from ..core.workspace import Workspace

__all__ = [
    "CHANNEL_PREFIXES",
    "HEARTBEAT_INTERVAL_S",
    "HOSTNAME",
    "JOB_API_CHANNEL_PREFIX",
    "KERNEL_SLOT_PREFIX",
    "SECRETS_CHANNEL_PREFIX",
    "AgentCompute",
    "StoreReporter",
    "SupervisedCompute",
    "channel_owner",
    "database_clock",
    "end_if_stale",
    "job_workdir",
    "jobs_root",
    "make_channel_folder",
    "make_job_folder",
    "own_channel_folder",
    "process_alive",
    "reconcile_records",
    "stale_reason",
]

# A queued run older than this makes a sweep check that its dispatcher lives, at most every few
# seconds per target and process (a waiting reader sweeps often).
DISPATCH_AFTER_S = 2.0
DISPATCH_CHECK_EVERY_S = 5.0
_last_dispatch_check: dict[tuple[str, str], float] = {}


# -- job folders: private to the user ------------------------------------------------------------------
# A job runs in ``${XDG_CACHE_HOME:-~/.cache}/jupyter-mlws/jobs/<run_id>``, not in the shared
# temporary folder: there another local user could read it, or create ``mlws-jobs`` first and swap a
# job's folder between the snapshot's restore and the start, so that our job ran their script. Not
# $XDG_RUNTIME_DIR: it is a small tmpfs, and a job's outputs may be large. A user with no usable
# home gets ``<tmp>/jupyter-mlws-<uid>/jobs`` instead, checked by the same rules (see _cache_base).
#
# Rules (each level is checked with lstat, so a symbolic link is never followed into):
# - the base folder ($XDG_CACHE_HOME or ~/.cache) is created 0700 if missing; an existing one must be
#   a folder owned by us (or root) that others cannot write into, unless it has the sticky bit (as
#   /tmp does: then they cannot rename or remove our entries) or it is writable only by our own
#   private group (a user private group, umask 002 distributions);
# - ``jupyter-mlws`` and ``jobs`` are created 0700; an existing one must be a real folder owned by
#   us. If it is ours and only its mode is wider, it is narrowed to 0700 with a warning (nobody but
#   us could have made it so); anything else is refused with an error naming the folder and the fix;
# - a run's folder is made fresh, 0700: a leftover of an earlier attempt is removed if it is ours
#   (a symbolic link is removed, never followed), refused if it is someone else's.
PRIVATE_MODE = 0o700
_APP_DIR = "jupyter-mlws"


def _cache_base() -> tuple[Path, str]:
    """The base folder and the name of our folder in it. ``$XDG_CACHE_HOME`` or ``~/.cache``; for a
    user with no usable home (a service account whose home is ``/nonexistent``, a container run
    with an arbitrary uid and ``HOME=/``) the shared temporary folder, in a folder named after the
    uid (made and checked like the others: ours, not a link, 0700; /tmp's sticky bit keeps others
    from renaming it)."""
    value = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec: a relative path is invalid and ignored.
    if value and os.path.isabs(value):
        return Path(value), _APP_DIR
    try:
        home: Path | None = Path.home()
    except RuntimeError:  # no HOME and no passwd entry
        home = None
    if home is not None and home != Path("/"):
        cache = home / ".cache"
        if cache.is_dir() or os.access(home, os.W_OK):
            return cache, _APP_DIR
    return Path(tempfile.gettempdir()), f"{_APP_DIR}-{os.geteuid()}"


def jobs_root() -> Path:
    """The folder holding this user's job folders on this machine (not created here)."""
    base, app = _cache_base()
    return base / app / "jobs"


# A job's channels to its supervisor (its secrets; the Docker target's job API) are sockets in private
# folders of the temporary folder (a socket's path must be short), removed by the supervisor as the
# job ends; each names its supervisor, so that ``mlws gc`` can remove those of supervisors killed first.
SECRETS_CHANNEL_PREFIX = "mlws-job-secrets-"
JOB_API_CHANNEL_PREFIX = "mlws-job-api-"
KERNEL_SLOT_PREFIX = "mlws-kernel-slot-"  # a pooled kernel's container's folders (see .docker_kernels)
CHANNEL_PREFIXES = (SECRETS_CHANNEL_PREFIX, JOB_API_CHANNEL_PREFIX, KERNEL_SLOT_PREFIX)
_CHANNEL_OWNER = "supervisor"  # the file in a channel folder that names its supervisor


def make_channel_folder(prefix: str) -> Path:
    """A private (0700) folder ``<tmp>/<prefix>…`` for a job's channel, with a file naming this
    supervisor (pid and start time)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    own_channel_folder(folder)
    return folder


def own_channel_folder(folder: Path) -> None:
    """Name this process as the owner of ``folder`` (a pooled kernel's, handed from the agent to a job's
    supervisor): ``mlws gc`` leaves it alone while this process lives."""
    pid = os.getpid()
    tmp = folder / f".{_CHANNEL_OWNER}.{pid}"
    tmp.write_text(f"{pid} {liveness.process_start(pid) or 0}\n", encoding="ascii")
    os.replace(tmp, folder / _CHANNEL_OWNER)


def channel_owner(folder: Path) -> tuple[int, int] | None:
    """The (pid, start time) of the supervisor of a channel folder, or ``None`` when it does not say
    (not made by :func:`make_channel_folder`, or being made right now)."""
    try:
        pid, start = (folder / _CHANNEL_OWNER).read_text(encoding="ascii").split()
        return int(pid), int(start)
    except (OSError, ValueError):
        return None


def job_workdir(run_id: str) -> Path:
    """Where a job of this process's environment runs (see :func:`make_job_folder`)."""
    return jobs_root() / run_id


def _refuse(folder: Path, problem: str, fix: str) -> InvalidStateError:
    return InvalidStateError(
        f"the job folder {folder} {problem}, so a job cannot safely run there: {fix} "
        "(or set XDG_CACHE_HOME to a private folder of yours)"
    )


def _private_group(gid: int) -> bool:
    """Whether ``gid`` is our own primary group with no other member (a user private group)."""
    if gid != os.getegid():
        return False
    try:
        return not grp.getgrgid(gid).gr_mem
    except KeyError:
        return False


def _check_base(base: Path) -> None:
    try:
        st = os.stat(base)  # the base may be a link the user made (e.g. to a larger disk)
    except FileNotFoundError:
        _make_levels(base)
        return
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(base, "is not a folder", "remove it")
    if st.st_uid not in (os.geteuid(), 0):
        raise _refuse(base, f"belongs to another user (uid {st.st_uid})", "use a folder of yours")
    others_write = st.st_mode & stat.S_IWOTH or (st.st_mode & stat.S_IWGRP and not _private_group(st.st_gid))
    if others_write and not st.st_mode & stat.S_ISVTX:
        raise _refuse(base, "is writable by other users", f"run `chmod go-w {base}`")


def _make_levels(path: Path) -> None:
    """Create ``path`` and its missing parents, each 0700 (``mkdir(parents=True)`` would give the
    parents the umask's mode)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, PRIVATE_MODE)


def _private_level(folder: Path) -> None:
    """Make ``folder`` (its parent checked already) exist as a real folder of ours, mode 0700."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, PRIVATE_MODE)
    st = os.lstat(folder)
    if stat.S_ISLNK(st.st_mode):
        raise _refuse(folder, "is a symbolic link", f"remove the link ({folder})")
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(folder, "is not a folder", f"remove it ({folder})")
    if st.st_uid != os.geteuid():
        raise _refuse(folder, f"belongs to another user (uid {st.st_uid})", f"have it removed ({folder})")
    if stat.S_IMODE(st.st_mode) != PRIVATE_MODE:
        # Ours: only we (or root) could have widened it. Narrow it; entries others may have put in
        # meanwhile are dealt with per run below. Through a descriptor opened without following a
        # link (chmod's follow_symlinks=False raises NotImplementedError with glibc < 2.32: Ubuntu
        # 20.04, RHEL 8), and only if it is still the folder checked above.
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino, now.st_uid) != (st.st_dev, st.st_ino, st.st_uid):
                raise _refuse(folder, "changed while it was checked", f"look at what is there ({folder})")
            os.fchmod(fd, PRIVATE_MODE)
        finally:
            os.close(fd)
        warnings.warn(
            f"jupyter-mlws: {folder} had mode {stat.S_IMODE(st.st_mode):o}; narrowed to 700",
            RuntimeWarning,
            stacklevel=3,
        )


def make_job_folder(run_id: str, root: Path | None = None) -> Path:
    """Create a fresh, private (0700) job folder for ``run_id`` under ``root`` (default
    :func:`jobs_root`), checked level by level; an unsafe existing level is refused with an
    :class:`InvalidStateError` that names it and the fix. Returns the folder."""
    root = jobs_root() if root is None else root
    _check_base(root.parent.parent)
    _private_level(root.parent)
    _private_level(root)
    folder = root / run_id
    _remove_job_folder(folder, strict=True)
    os.mkdir(folder, PRIVATE_MODE)  # fails if anyone raced us: nobody but us writes into root now
    os.chmod(folder, PRIVATE_MODE)  # exactly 0700, whatever the umask took away
    return folder


def _remove_job_folder(folder: Path, *, strict: bool = False) -> None:
    """Remove a job folder of ours: a symbolic link is removed, never followed; a folder that is
    someone else's is refused (``strict``) or left alone."""
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
        shutil.rmtree(folder, ignore_errors=True)
    elif stat.S_ISLNK(st.st_mode) or (not stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()):
        os.unlink(folder)
    elif strict:
        raise _refuse(folder, f"exists and belongs to another user (uid {st.st_uid})", f"have it removed ({folder})")


class StoreReporter(JobReporter):
    """A :class:`JobReporter` that writes through the workspace's stores."""

    def __init__(self, workspace: Workspace, run_id: str) -> None:
        self.workspace = workspace
        self.run_id = run_id
        self._store = workspace.metadata
        self._claimant: tuple[int, str] | None = None

    def job_spec(self) -> dict[str, Any]:
        return self._store.get_job_spec(self.run_id)

    def status(self) -> RunStatus:
        return self._store.get_run(self.run_id).status

    def transition(self, new: RunStatus, *, error: Mapping[str, Any] | None = None) -> bool:
        if error is not None and REDACTOR:  # a secret the job obtained, in its error or log tail (issue 21)
            error = REDACTOR.value(error)
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
            if new == RunStatus.PREPARING and self._claimant is not None:
                if self._claim(current, new):
                    return True
            elif self._store.transition_run(self.run_id, current, new, error=error, **fields):
                return True
        return False

    def _claim(self, current: RunStatus, new: RunStatus) -> bool:
        """The claim: the status, the supervisor (pid, host, process start time), the job folder and a
        first heartbeat in one compare-and-set. A dispatcher that loses the race writes nothing, so it
        cannot leave its pid on a job another supervisor runs (it would be judged dead after it exits)."""
        return self._store.claim_job(self.run_id, current, new, **self.claimant_fields())

    def claimant_fields(self) -> dict[str, Any]:
        """Who claims the job: the declared supervisor (pid, host, process start time), its folder."""
        assert self._claimant is not None
        pid, host = self._claimant
        return {
            "supervisor_pid": pid,
            "supervisor_host": host,
            "supervisor_start": liveness.process_start(pid) if host == HOSTNAME else None,
            "job_folder": str(job_workdir(self.run_id)),
        }

    def supervisor(self, pid: int, host: str) -> None:
        # Recorded by the claim (the transition to Preparing), and only if it wins.
        self._claimant = (pid, host)

    def heartbeat(self) -> None:
        self._store.heartbeat([self.run_id])  # in the database's clock
        # The job folder's time too: `mlws gc` of another workspace (the job root is this user's,
        # shared by all their workspaces) does not know this run, and must see its folder as live
        # while it builds or runs. One utime per beat; the folder may not be made yet, or be gone.
        with contextlib.suppress(OSError, NotImplementedError):
            os.utime(job_workdir(self.run_id), follow_symlinks=False)

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
def stale_reason(record: RunRecord, database_time: Callable[[], float] | None = None) -> str | None:
    """Why an active job can no longer finish on its own, or ``None`` if it looks alive: on this host
    its supervisor's process decides (a live pid with its recorded start time is alive, however old
    its heartbeat: it may be paused), on another host its heartbeat, in the database's clock (see
    :mod:`jupyter_mlws.core.services.liveness`). ``database_time`` is that clock (default: asked of
    the workspace's database when needed)."""
    if record.status not in ACTIVE_STATUSES or record.compute_target is None:
        return None
    if record.supervisor_pid is None:
        return None  # not picked up yet: the dispatcher owns it (see reconcile_records)
    return liveness.stale_reason(
        "the job's supervisor",
        record.supervisor_pid,
        record.supervisor_host,
        record.supervisor_start,
        record.heartbeat_time,
        database_time or time.time,
    )


def end_if_stale(
    workspace: Workspace,
    record: RunRecord,
    backend: ComputeBackend | None = None,
    database_time: Callable[[], float] | None = None,
    reason: str | None = None,
) -> bool:
    """End a job whose supervisor is gone: Failed (Canceled if a cancel was asked for) with the
    reason, its logs so far kept, its builds ended and (through ``backend``) what is left of it
    stopped. ``reason``: the target knows already why (a Dask task Dask gave up on). ``True`` if
    this call ended it."""
    reason = reason or stale_reason(record, database_time or database_clock(workspace))
    if reason is None:
        return False
    if resumable_driver(record.run_type):
        return False  # a sweep whose controller died: the agent gives it a new one (see reconcile_records)
    new = RunStatus.CANCELED if record.status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
    error = {"message": reason, "reason": "stale"}
    # Compare-and-set: a supervisor finishing the run meanwhile wins, and so does another sweep.
    if not workspace.metadata.transition_run(record.run_id, record.status, new, end_time=time.time(), error=error):
        return False
    _salvage(workspace, record)
    _end_builds(workspace, record.run_id, reason)
    _abandon_driven(workspace, record, reason)
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
    clock = database_clock(backend.workspace)  # one query per sweep, only if a record needs it
    ended = [r.run_id for r in records if end_if_stale(backend.workspace, r, backend, clock)]
    if dispatch and any(
        (r.status == RunStatus.QUEUED and r.run_id not in ended and time.time() - r.created_time > DISPATCH_AFTER_S)
        # a driven run whose driver died, to be resumed by the agent
        or (resumable_driver(r.run_type) and stale_reason(r, clock) is not None)
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


def database_clock(workspace: Workspace) -> Callable[[], float]:
    """The database's clock, asked once (lazily) for a whole sweep."""
    cache: list[float] = []

    def now() -> float:
        if not cache:
            cache.append(workspace.metadata.database_time())
        return cache[0]

    return now


def _abandon_driven(workspace: Workspace, record: RunRecord, reason: str) -> None:
    """A driven run (a pipeline run) whose driver died: its driver type ends what it had started
    (the steps not yet run are canceled, running ones asked to stop)."""
    from ..core.registry import run_drivers

    if record.run_type not in run_drivers.names():
        return
    try:
        run_drivers.get(record.run_type)().abandon(workspace, record.run_id, reason)
    except Exception:  # noqa: S110 - best effort: the run's end is recorded already
        pass


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


def _salvage(workspace: Workspace, record: RunRecord) -> None:
    """Keep what a dead job left on this machine (its logs so far) and remove its scratch folders:
    the job folder its supervisor recorded (it depends on the supervisor's environment), if it ran
    on this host."""
    run_id = record.run_id
    live = live_dir(workspace.path, run_id)
    if live.is_dir():
        reporter = StoreReporter(workspace, run_id)
        try:
            reporter.collect(live / "logs", "logs")
            reporter.collect(live / "user_logs", "user_logs")
        except Exception:  # noqa: S110 - the failure is recorded already; the logs are a bonus
            pass
        shutil.rmtree(live, ignore_errors=True)
    if record.supervisor_host not in (None, HOSTNAME):
        return  # the job folder is on the supervisor's host
    folder = Path(record.job_folder) if record.job_folder else job_workdir(run_id)
    # Only a job folder: named after the run, in a ``jobs`` folder (a record is data, not a command).
    if folder.is_absolute() and folder.name == run_id and folder.parent.name == "jobs":
        _remove_job_folder(folder)


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
