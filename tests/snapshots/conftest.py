"""Helpers for the snapshot tests: building source trees and reading what a snapshot captured."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from jupyter_mlws.snapshots import Snapshot, capture_snapshot
from jupyter_mlws.stores.artifacts.local import LocalArtifactStore

# An mtime well outside the stat cache's racy window (one hour ago).
OLD_NS = time.time_ns() - 3600 * 1_000_000_000


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Create ``files`` (relative POSIX path -> content) below ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def age_tree(root: Path, mtime_ns: int = OLD_NS) -> None:
    """Give every regular file below ``root`` an old mtime (older than the racy window)."""
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.utime(path, ns=(mtime_ns, mtime_ns))


def entry_paths(snapshot: Snapshot) -> set[str]:
    return {e.path for e in snapshot.manifest.entries}


def file_paths(snapshot: Snapshot) -> set[str]:
    return {e.path for e in snapshot.manifest.files}


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "store")


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path


@pytest.fixture
def captured(store: LocalArtifactStore) -> Callable[..., set[str]]:
    """``captured(folder, files={...})`` -> the set of file paths the snapshot of ``folder`` holds."""

    def capture(folder: Path, files: Mapping[str, str | bytes] | None = None) -> set[str]:
        if files is not None:
            write_tree(folder, files)
        return file_paths(capture_snapshot(folder, store))

    return capture


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Run git without the machine's configuration, and never find a repository above ``tmp_path``."""
    home = tmp_path / "git-home"
    home.mkdir(exist_ok=True)
    empty = home / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    return dict(os.environ)


def git(folder: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def init_repo(folder: Path, branch: str = "main") -> Path:
    """A git repository in ``folder`` with a local identity (no commit yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q", "-b", branch)
    git(folder, "config", "user.email", "tester@example.invalid")
    git(folder, "config", "user.name", "Tester")
    git(folder, "config", "commit.gpgsign", "false")
    return folder
