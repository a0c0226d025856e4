"""One build of an environment at a time, across processes: a file lock per cache key."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ...core.activities import ActivityRecorder
from ...errors import EnvironmentBuildError

__all__ = ["build_lock", "lock_path", "try_build_lock"]


def lock_path(root: Path, key: str) -> Path:
    """The lock file of ``key`` (a cache key, or its first 16 characters: a venv's folder name)."""
    return root / f"{key[:16]}.lock"


@contextlib.contextmanager
def build_lock(root: Path, key: str, recorder: ActivityRecorder) -> Iterator[None]:
    """Hold the lock of ``key`` under ``root``; while another build holds it, say so and wait (a
    cancel of this build ends the wait)."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(root, key), os.O_RDWR | os.O_CREAT, 0o644)
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


@contextlib.contextmanager
def try_build_lock(root: Path, key: str) -> Iterator[bool]:
    """Hold the build lock of ``key`` if it is free, without waiting: yields whether it is held. For
    ``mlws gc``: an environment being built (or a job taking it from the cache) is left alone."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(root, key), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a cache we cannot write into: nothing of it is ours to remove
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
