"""A workspace whose jobs really run (its dispatcher agent forks them), shared by a test module, and a
cleanup that leaves none of its processes behind."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

from jupyter_mlws import Workspace
from jupyter_mlws.compute import agent


def _processes_of(marker: str) -> list[int]:
    """Our processes whose command line or environment mentions ``marker`` (a test's tmp folder)."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != os.getuid():
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        if needle in cmdline or needle in environ:
            found.append(int(entry))
    return found


def stop_processes(ws: Workspace, root: Path) -> None:
    """Kill every process of a test folder (supervisors: their command line names the workspace; jobs:
    their environment does; extra agents waiting for its lock) first, so that none takes over from the
    agent, which is stopped next; then whatever is left."""
    holder = agent.running_pid(ws)
    marker = f"{root}{os.sep}"
    for pid in _processes_of(marker):
        if pid != holder:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    agent.stop(ws)
    for pid in _processes_of(marker):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def agent_workspace(root: Path, idle_seconds: int = 30) -> Iterator[Workspace]:
    """A workspace at ``root/ws``; at the end its jobs, drivers and agent are stopped (by pid)."""
    old = os.environ.get("MLWS_AGENT_IDLE_SECONDS")
    os.environ["MLWS_AGENT_IDLE_SECONDS"] = str(idle_seconds)
    try:
        ws = Workspace.create(root / "ws")
        yield ws
    finally:
        stop_processes(ws, root)
        if old is None:
            os.environ.pop("MLWS_AGENT_IDLE_SECONDS", None)
        else:
            os.environ["MLWS_AGENT_IDLE_SECONDS"] = old
