"""When a built environment was last used: a marker file whose time is touched on every use.

A venv's marker is ``<venv>/.mlws-used``; an image's is ``<cache>/images/<key16>.used`` (the engine
keeps no time of use). Touched under the build lock on every cache hit and build, so ``mlws gc``
(which takes the same lock) sees a use that happened before it looked, and a job that got its
environment just before gc started has a fresh marker. Cheap: one ``utime`` per use.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .keys import cache_root

__all__ = ["USED_MARKER", "image_marker", "last_used", "mark_used"]

USED_MARKER = ".mlws-used"


def image_marker(key: str) -> Path:
    """The marker of the image built for ``key`` (a cache key, or the 16 characters of its tag)."""
    return cache_root() / "images" / f"{key[:16]}.used"


def mark_used(marker: Path) -> None:
    """Set ``marker``'s time to now, creating it. Best effort: a read-only cache must not fail a job
    (its environment is then judged by its build time)."""
    with contextlib.suppress(OSError):
        marker.touch()
        os.utime(marker)


def last_used(*candidates: Path) -> float | None:
    """The newest modification time among the markers that exist (None: none does)."""
    times = []
    for path in candidates:
        with contextlib.suppress(OSError):
            times.append(path.stat().st_mtime)
    return max(times) if times else None
