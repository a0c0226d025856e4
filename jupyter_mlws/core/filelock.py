"""An advisory lock file beside a small JSON file that several processes read-modify-write (the stat
caches, a pre-vault datastore credentials file while it is moved into the vault)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:  # POSIX only; elsewhere callers rely on their atomic rename alone (a concurrent writer may lose entries)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # the module is absent there; the None branch handles it

__all__ = ["locked_beside"]


@contextlib.contextmanager
def locked_beside(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (made 0600) while the block runs."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
