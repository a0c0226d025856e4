"""The stat cache (jupyter_mlws/core/statcache.py) kept in memory between uses in one process: taken
from memory only while the file on disk is the one it was loaded from or saved as."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from jupyter_mlws.core import statcache
from jupyter_mlws.core.statcache import RACY_WINDOW_NS, StatCache


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The cache files parsed from disk, in order."""
    calls: list[Path] = []
    real = statcache._load

    def counting(path: Path | None) -> dict[str, object]:
        if path is not None:
            calls.append(path)
        return real(path)

    monkeypatch.setattr(statcache, "_load", counting)
    return calls


def _cached(tmp_path: Path, name: str) -> tuple[str, os.stat_result]:
    path = tmp_path / name
    path.write_text(name)
    return str(path), path.stat()


def _save_one(cache_file: Path, path: str, st: os.stat_result, digest: str) -> None:
    cache = StatCache(cache_file)
    assert cache.record(path, st, digest, st.st_size, time.time_ns() + 2 * RACY_WINDOW_NS)
    cache.save()


def test_an_unchanged_cache_file_is_not_parsed_again(tmp_path: Path, reads: list[Path]) -> None:
    cache_file = tmp_path / "cache.json"
    path, st = _cached(tmp_path, "a")
    _save_one(cache_file, path, st, "d" * 64)
    reads.clear()
    for _ in range(3):
        assert StatCache(cache_file).lookup(path, st) == "d" * 64
    assert reads == []


def test_a_cache_file_written_by_another_process_is_read_again(tmp_path: Path, reads: list[Path]) -> None:
    cache_file = tmp_path / "cache.json"
    path, st = _cached(tmp_path, "a")
    _save_one(cache_file, path, st, "d" * 64)
    # Another process saves (a new file renamed into place): its entries are seen.
    data = json.loads(cache_file.read_text())
    other, other_st = _cached(tmp_path, "b")
    data[other] = [*statcache.stat_key(other_st), "e" * 64]
    tmp = tmp_path / "new.json"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, cache_file)
    reads.clear()
    assert StatCache(cache_file).lookup(other, other_st) == "e" * 64
    assert reads == [cache_file]


def test_a_cache_file_rewritten_in_place_with_its_mtime_put_back_is_read_again(
    tmp_path: Path, reads: list[Path]
) -> None:
    cache_file = tmp_path / "cache.json"
    path, st = _cached(tmp_path, "a")
    _save_one(cache_file, path, st, "d" * 64)
    before = cache_file.stat()
    text = cache_file.read_text()
    time.sleep(0.03)  # a later timestamp tick (not a timing assertion)
    cache_file.write_text(text.replace('"' + "d" * 64 + '"', '"' + "f" * 64 + '"'))  # same size, same inode
    os.utime(cache_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = cache_file.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    reads.clear()
    assert StatCache(cache_file).lookup(path, st) == "f" * 64  # the ctime moved: the file is read
    assert reads == [cache_file]


def test_a_cache_in_memory_is_a_copy(tmp_path: Path) -> None:
    """One use's unsaved changes never reach another's entries."""
    cache_file = tmp_path / "cache.json"
    path, st = _cached(tmp_path, "a")
    _save_one(cache_file, path, st, "d" * 64)
    first = StatCache(cache_file)
    first.forget(path)
    assert first.lookup(path, st) is None
    assert StatCache(cache_file).lookup(path, st) == "d" * 64
