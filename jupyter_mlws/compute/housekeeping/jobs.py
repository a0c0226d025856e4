"""Scratch folders of finished jobs: ``<jobs_root>/<run_id>/`` that a supervisor did not remove (it
was killed, or the machine stopped).

A folder goes when its run has ended (a terminal status) or is not this workspace's, it has not
changed within the grace period, and nothing runs in it: no process works inside it and no Docker
container carries its run's label. The job root is this user's on this machine, shared by every
workspace, so a run unknown here may be another workspace's, still building or running: its
supervisor touches the folder with each heartbeat, and the checks above keep it. A folder of an
active run of this workspace is never touched.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ...core.services.liveness import STALE_AFTER_S, process_start
from ...core.services.reclaim import Reclaimable
from ...core.status import TERMINAL_STATUSES, RunStatus
from ...errors import NotFoundError
from ..supervision import CHANNEL_PREFIXES, channel_owner, jobs_root
from .files import folder_bytes, remove_tree
from .processes import ProcessUse, process_use
from .sweep import Sweep

__all__ = ["collect_job_channels", "collect_job_folders"]


def collect_job_folders(
    status_of: Callable[[str], RunStatus],
    grace_seconds: float,
    dry_run: bool = False,
    labelled_runs: Callable[[], set[str] | None] = lambda: set(),
    processes: Callable[[], ProcessUse | None] = process_use,
    now: float | None = None,
) -> Sweep:
    """Remove (``dry_run``: list) finished jobs' scratch folders. ``status_of`` gives a run's status
    in this workspace (:class:`NotFoundError`: not its run); ``labelled_runs`` the run ids on the
    Docker engine's containers (None: there is no engine)."""
    sweep = Sweep()
    root = jobs_root()
    if not root.is_dir():
        return sweep
    # A live job's supervisor touches its folder with every heartbeat (StoreReporter.heartbeat): a
    # folder touched within the time a heartbeat is trusted is a live job's, whatever the grace.
    cutoff = (time.time() if now is None else now) - max(grace_seconds, STALE_AFTER_S)
    seen: ProcessUse | None = None
    containers: set[str] | None = None
    looked = False
    for folder in sorted(root.iterdir()):
        try:
            info = folder.lstat()
        except FileNotFoundError:
            continue
        # Only real folders of ours (make_job_folder makes them so); anything else is not gc's.
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mtime > cutoff:
            continue
        run_id = folder.name
        try:
            status: RunStatus | None = status_of(run_id)
        except NotFoundError:
            status = None
        if status is not None and status not in TERMINAL_STATUSES:
            continue  # an active run of this workspace: its job is running or about to
        if not looked:  # asked once, and only when there is a candidate
            seen, containers, looked = processes(), labelled_runs(), True
        if seen is None:
            sweep.kept.append(f"job folder {folder}: the processes of this machine cannot be seen")
            continue
        if seen.runs_in(folder):
            sweep.kept.append(f"job folder {folder}: a process runs in it")
            continue
        # No engine to ask: no container can be running a job there.
        if containers and run_id in containers:
            sweep.kept.append(f"job folder {folder}: a Docker container of its run exists")
            continue
        size = folder_bytes(folder)
        if not dry_run and not remove_tree(folder):
            sweep.kept.append(f"job folder {folder}: could not be removed completely (see its permissions)")
            continue
        why = f"run {status.value}" if status is not None else "a run this workspace does not know"
        sweep.items.append(Reclaimable("job-folder", str(folder), size, why))
    return sweep


def collect_job_channels(
    dry_run: bool = False,
    folder: Path | None = None,
    start_of: Callable[[int], int | None] = process_start,
) -> Sweep:
    """Remove (``dry_run``: list) the channel folders (``mlws-job-secrets-…``, ``mlws-job-api-…`` in the
    temporary folder ``folder``) of job supervisors that are gone: a supervisor removes its own as its
    job ends, unless it is killed first. One whose supervisor lives (the same pid, started at the same
    time) is its running job's; one that names no supervisor is left alone. ``start_of``: a process's
    start time, None when it is gone."""
    sweep = Sweep()
    base = Path(tempfile.gettempdir()) if folder is None else folder
    for found in sorted(f for prefix in CHANNEL_PREFIXES for f in base.glob(f"{prefix}*")):
        owner = channel_owner(found)
        try:
            info = found.lstat()
        except FileNotFoundError:
            continue
        if owner is None or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            continue  # not a folder of ours that names its supervisor
        pid, start = owner
        now = start_of(pid)
        if now is not None and (now in (start, -1) or start == 0):
            continue  # its supervisor runs (or cannot be told apart from one that does)
        size = folder_bytes(found)
        if not dry_run and not remove_tree(found):
            sweep.kept.append(f"job folder {found}: could not be removed completely (see its permissions)")
            continue
        why = "a job's channel to its supervisor, which is gone"
        sweep.items.append(Reclaimable("job-folder", str(found), size, why))
    return sweep
