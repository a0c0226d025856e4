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
from tests.compute.conftest import _processes_of


@contextlib.contextmanager
def agent_workspace(root: Path, idle_seconds: int = 30) -> Iterator[Workspace]:
    """A workspace at ``root/ws``; at the end its jobs, drivers and agent are stopped (by pid)."""
    old = os.environ.get("MLWS_AGENT_IDLE_SECONDS")
    os.environ["MLWS_AGENT_IDLE_SECONDS"] = str(idle_seconds)
    try:
        ws = Workspace.create(root / "ws")
        yield ws
    finally:
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
        if old is None:
            os.environ.pop("MLWS_AGENT_IDLE_SECONDS", None)
        else:
            os.environ["MLWS_AGENT_IDLE_SECONDS"] = old
