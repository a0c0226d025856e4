"""Measuring and removing folders for ``mlws gc``: symbolic links are never followed."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

__all__ = ["folder_bytes", "remove_tree"]


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under ``folder`` (each file once, however many links it has; a
    symbolic link counts as itself: a venv links its interpreter and the package, which stay)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in [*files, *dirs]:
            try:
                info = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode) or (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += info.st_size
    return total


def remove_tree(folder: Path) -> bool:
    """Remove ``folder`` and everything in it, write-protected parts too (a job's staged inputs are
    read-only); whether it is gone."""
    # Removing an entry needs write access to its folder, listing it read access: give both back to
    # every folder first (top-down, so each is opened after it was made readable). Links not followed.
    _owner_access(folder)
    for top, dirs, _files in os.walk(folder, followlinks=False):
        for name in dirs:
            _owner_access(Path(top) / name)
    shutil.rmtree(folder, ignore_errors=True)
    return not os.path.lexists(folder)


def _owner_access(path: Path) -> None:
    try:
        info = os.lstat(path)
        if stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IRWXU != stat.S_IRWXU:
            os.chmod(path, stat.S_IMODE(info.st_mode) | stat.S_IRWXU)
    except OSError:
        pass  # someone else's, or gone: rmtree then leaves it, and the caller sees it is not gone
