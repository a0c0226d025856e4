"""Running one build step as a subprocess, every output line going to the build's activity log."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence

from ...core.activities import ActivityRecorder

__all__ = ["failure_summary", "run_logged"]


def run_logged(argv: Sequence[str], recorder: ActivityRecorder, env: Mapping[str, str] | None = None) -> int:
    """Run a build step, every output line going to the activity's log; its exit code."""
    recorder.log("$ " + " ".join(argv))
    if recorder.canceled.is_set():
        return -15
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        text=True,
        errors="replace",
        start_new_session=True,  # a group: pip re-runs itself under the venv's interpreter
    )

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    remove = recorder.on_cancel(kill)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            recorder.log(line.rstrip("\n"))
        return proc.wait()
    finally:
        # However this ends (an error, an interrupt), the step does not run on unwatched.
        remove()
        kill()  # whatever the step started goes with it
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def failure_summary(log: str) -> str:
    """The lines that say what went wrong (pip's ``ERROR:`` lines), else the last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:") or "Error:" in line]
    return (errors[-1] if errors else lines[-1] if lines else "no output").removeprefix("ERROR: ")
