"""Git state of a source folder, recorded as run properties under Azure ML v1's names."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["GIT_PROPERTIES", "git_properties"]

GIT_PROPERTIES = (
    "azureml.git.repository_uri",
    "azureml.git.branch",
    "azureml.git.commit",
    "azureml.git.dirty",
)


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _maybe_in_work_tree(folder: Path) -> bool:
    """Whether a ``.git`` (a folder, or a file for worktrees and submodules) is in ``folder`` or above
    it, or git is pointed elsewhere by the environment: else git would find no repository either."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return True
    try:
        start = folder.resolve()
    except OSError:
        return True
    return any((level / ".git").exists() for level in (start, *start.parents))


def git_properties(folder: str | Path) -> dict[str, str]:
    """``{"azureml.git.commit": …, …}`` for a folder inside a git work tree; ``{}`` otherwise."""
    if shutil.which("git") is None:
        return {}
    folder = Path(folder)
    if not _maybe_in_work_tree(folder):
        return {}  # no git process to learn that (a submit pays it on every run)
    status = _git(folder, "status", "--porcelain=v2", "--branch")
    if status is None:
        return {}
    props: dict[str, str] = {}
    dirty = False
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2]
            if oid != "(initial)":
                props["azureml.git.commit"] = oid
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[2]
            if head != "(detached)":
                props["azureml.git.branch"] = head
        elif line and not line.startswith("#"):
            dirty = True
    props["azureml.git.dirty"] = str(dirty)
    remotes = _git(folder, "remote")
    if remotes:
        names = remotes.split()
        remote = "origin" if "origin" in names else names[0]
        url = _git(folder, "remote", "get-url", remote)
        if url and url.strip():
            props["azureml.git.repository_uri"] = url.strip()
    return props
