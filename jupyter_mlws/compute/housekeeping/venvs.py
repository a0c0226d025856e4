"""Environment venvs no one has used for ``keep_days``: ``<cache>/venvs/<key16>/``.

Each is judged and removed under its build lock (:func:`..environments.locks.try_build_lock`): a
build, or a job taking the venv from the cache, holds that lock and touches the venv's last-used
marker while holding it, so a venv is never removed under a build or a job that is starting (its
marker is fresh when gc looks under the lock; one that is being built is skipped). A venv a process
uses (a running job, a local web service's worker) is kept, whatever its marker says.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection
from pathlib import Path

from ...core.services.reclaim import Reclaimable
from ..environments.keys import cache_root
from ..environments.locks import try_build_lock
from ..environments.usage import USED_MARKER, last_used
from ..environments.venv import BUILT_MARKER
from .files import folder_bytes, remove_tree
from .processes import ProcessUse, process_use
from .sweep import Sweep, unused_since, when

__all__ = ["collect_venvs", "venv_last_used"]


def venv_last_used(folder: Path) -> float:
    """When the venv was last used: its marker, else its build (built before markers existed),
    else the folder's own time (an unfinished build)."""
    found = last_used(folder / USED_MARKER, folder / BUILT_MARKER)
    if found is not None:
        return found
    try:
        return folder.lstat().st_mtime
    except OSError:
        return time.time()  # gone meanwhile: nothing to judge


def collect_venvs(
    keep_days: float,
    grace_seconds: float,
    dry_run: bool = False,
    now: float | None = None,
    processes: Callable[[], ProcessUse | None] = process_use,
    pinned: Collection[str] = (),
) -> Sweep:
    """Remove (``dry_run``: list) the venvs last used before ``keep_days`` (and the grace period).
    ``processes`` tells what the running processes use (asked before each removal); a venv holding
    a ``pinned`` path (a web service's interpreter) is kept."""
    sweep = Sweep()
    root = cache_root() / "venvs"
    cutoff = unused_since(keep_days, grace_seconds, now)
    if not root.is_dir():
        return sweep
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        if venv_last_used(folder) > cutoff:
            continue
        if _holds_any(folder, pinned):
            sweep.kept.append(f"venv {folder}: a web service of this workspace runs on it")
            continue
        with try_build_lock(root, folder.name) as held:
            if not held:
                sweep.kept.append(f"venv {folder}: being built or taken from the cache right now")
                continue
            used = venv_last_used(folder)  # again, under the lock: a job may have taken it just now
            if used > cutoff:
                continue
            # Looked at under the lock, for each venv: a process started just before is seen.
            seen = processes()
            if seen is None:
                sweep.kept.append(f"venv {folder}: the processes of this machine cannot be seen to tell it is unused")
                continue
            if seen.uses(folder):
                sweep.kept.append(f"venv {folder}: a running process uses it")
                continue
            finished = (folder / BUILT_MARKER).is_file()
            size = folder_bytes(folder)
            detail = f"last used {when(used)}" if finished else f"an unfinished build of {when(used)}"
            if not dry_run:
                # The marker first: if removal stops half-way, the next build redoes the folder.
                with contextlib.suppress(FileNotFoundError):
                    (folder / BUILT_MARKER).unlink()
                if not remove_tree(folder):
                    sweep.kept.append(f"venv {folder}: could not be removed completely (see its permissions)")
                    continue
            sweep.items.append(Reclaimable("venv", str(folder), size, detail))
    return sweep


def _holds_any(folder: Path, paths: Collection[str]) -> bool:
    return any(Path(path) == folder or folder in Path(path).parents for path in paths)
