"""One build of an environment at a time, across processes: a file lock per cache key."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ...core.activities import ActivityRecorder
from ...errors import EnvironmentBuildError

__all__ = ["build_lock"]


@contextlib.contextmanager
def build_lock(root: Path, key: str, recorder: ActivityRecorder) -> Iterator[None]:
    """Hold the lock of ``key`` under ``root``; while another build holds it, say so and wait (a
    cancel of this build ends the wait)."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / f"{key[:16]}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if not waiting:
                    recorder.progress("waiting for another build of the same environment")
                    waiting = True
                if recorder.canceled.wait(0.5):
                    raise EnvironmentBuildError(
                        "the build was canceled", recorder.log_text, recorder.activity_id
                    ) from None
        yield
    finally:
        os.close(fd)
