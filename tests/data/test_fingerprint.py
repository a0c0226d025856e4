"""Dataset fingerprints (jupyter_mlws/data/fingerprint.py): the manifest and its digest, the stat cache
that must see an in-place edit with the mtime put back, verification, fsspec filesystems."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import fsspec
import pytest

from jupyter_mlws.core.statcache import RACY_WINDOW_NS
from jupyter_mlws.data import fingerprint as fp
from jupyter_mlws.data.fingerprint import DataManifest, FileEntry, fingerprint, stat_cache_path, verify
from jupyter_mlws.errors import DatasetChangedError, InvalidArgumentError, InvalidStateError, NotFoundError

OLD_NS = time.time_ns() - 3600 * 1_000_000_000


def write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The local files read (hashed) through the module's seam, in call order."""
    calls: list[str] = []
    real = fp._hash_local

    def counting(path: str) -> tuple[str, int]:
        calls.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(fp, "_hash_local", counting)
    return calls


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashing happens a while after the files were written (as for data a user registers), so the
    racy-window rule lets the cache trust them: the module's clock runs ahead by more than the window."""
    monkeypatch.setattr(fp, "_now_ns", lambda: time.time_ns() + RACY_WINDOW_NS + 1_000_000_000)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {"a.csv": b"x,y\n1,2\n", "sub/b.csv": b"x,y\n3,4\n", "sub/deep/c.bin": b"\0" * 5000}
    return write(tmp_path / "data", files)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return stat_cache_path(tmp_path / "ws" / ".mlws")


def next_tick() -> None:
    """Let the file system's timestamp clock move on (it may tick every few ms), so a write now gets a
    ctime different from one a moment ago. Not a timing assertion: only distinct timestamps."""
    time.sleep(0.03)


# -- the manifest and its digest ----------------------------------------------------------------------------
def test_manifest_lists_sorted_relative_paths_sizes_and_sha256(tree: Path) -> None:
    result = fingerprint(tree)
    assert [(e.path, e.size, e.sha256) for e in result.manifest.entries] == [
        ("a.csv", 8, sha(b"x,y\n1,2\n")),
        ("sub/b.csv", 8, sha(b"x,y\n3,4\n")),
        ("sub/deep/c.bin", 5000, sha(b"\0" * 5000)),
    ]
    assert result.root == str(tree)
    assert result.manifest.total_size == 5016
    # The documented canonical encoding, computed independently.
    rows = [[e.path, e.size, e.sha256] for e in result.manifest.entries]
    canonical = json.dumps(["mlws-data-manifest/1", rows], separators=(",", ":"), ensure_ascii=False)
    assert result.digest == sha(canonical.encode("utf-8"))


def test_digest_is_stable_and_independent_of_order(tree: Path) -> None:
    files = [tree / "sub/deep/c.bin", tree / "a.csv", tree / "sub/b.csv"]
    one = fingerprint(files, root=tree)
    two = fingerprint(list(reversed(files)), root=tree)
    assert one.digest == two.digest == fingerprint(tree).digest
    entries = one.manifest.entries
    assert DataManifest(tuple(reversed(entries))).digest == one.digest
    assert DataManifest.from_dict(json.loads(json.dumps(one.manifest.to_dict()))) == one.manifest


def test_digest_changes_with_content_and_with_names(tree: Path) -> None:
    before = fingerprint(tree).digest
    (tree / "a.csv").write_bytes(b"x,y\n1,3\n")
    changed = fingerprint(tree).digest
    (tree / "a.csv").rename(tree / "a2.csv")
    renamed = fingerprint(tree).digest
    assert len({before, changed, renamed}) == 3


def test_a_stored_manifest_whose_entries_were_altered_is_refused(tree: Path) -> None:
    data = fingerprint(tree).manifest.to_dict()
    data["files"][0]["sha256"] = "0" * 64
    with pytest.raises(InvalidArgumentError, match="altered"):
        DataManifest.from_dict(data)


def test_glob_and_list_inputs(tree: Path) -> None:
    globbed = fingerprint(str(tree / "**" / "*.csv"))
    assert [e.path for e in globbed.manifest.entries] == ["a.csv", "sub/b.csv"]
    sub = fingerprint(str(tree / "sub" / "*.csv"))
    assert sub.root == str(tree / "sub") and [e.path for e in sub.manifest.entries] == ["b.csv"]
    listed = fingerprint([tree / "a.csv", tree / "sub"])
    assert [e.path for e in listed.manifest.entries] == ["a.csv", "sub/b.csv", "sub/deep/c.bin"]
    everything = fingerprint(str(tree / "**"))  # matches every folder too: each file listed once
    assert everything.digest == fingerprint(tree).digest
    (tree / "run[1].csv").write_bytes(b"r")  # an existing name is taken as it is, not as a pattern
    assert [e.path for e in fingerprint(tree / "run[1].csv").manifest.entries] == ["run[1].csv"]


# -- bad input ----------------------------------------------------------------------------------------------
def test_empty_input_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgumentError, match="matches no files"):
        fingerprint(tmp_path / "empty")
    with pytest.raises(InvalidArgumentError, match=r"matches no files.*'\*\*'"):
        fingerprint(str(tmp_path / "*.parquet"))
    with pytest.raises(InvalidArgumentError, match="list of files is empty"):
        fingerprint([])
    with pytest.raises(NotFoundError, match=r"nope\.csv does not exist"):
        fingerprint(tmp_path / "nope.csv")


def test_a_file_outside_the_root_is_refused(tree: Path, tmp_path: Path) -> None:
    other = write(tmp_path / "other", {"z.csv": b"z"})
    with pytest.raises(InvalidArgumentError, match="outside the fingerprint's root"):
        fingerprint([other / "z.csv"], root=tree)


# -- symlinks: followed, recorded under the link's name; loops not entered; dangling ones refused ----------
def test_symlinks_policy(tree: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "elsewhere", {"shared.csv": b"shared\n"})
    (tree / "link.csv").symlink_to(tree / "a.csv")
    (tree / "ext").symlink_to(outside)
    (tree / "sub" / "loop").symlink_to(tree)  # a folder link back up: not walked twice
    entries = {e.path: e for e in fingerprint(tree).manifest.entries}
    assert entries["link.csv"].sha256 == entries["a.csv"].sha256
    assert entries["ext/shared.csv"].sha256 == sha(b"shared\n")
    assert not any(p.startswith("sub/loop/sub") for p in entries)
    (tree / "broken.csv").symlink_to(tree / "gone.csv")
    with pytest.raises(InvalidArgumentError, match=r"broken\.csv is a symlink to .*gone\.csv.*does not exist"):
        fingerprint(tree)


# -- the stat cache -------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("later")
def test_unchanged_tree_reuses_the_cache(tree: Path, cache: Path, hashed: list[str]) -> None:
    first = fingerprint(tree, cache_file=cache)
    assert sorted(hashed) == ["a.csv", "b.csv", "c.bin"] and first.hashed_files == 3
    hashed.clear()
    again = fingerprint(tree, cache_file=cache)
    assert hashed == [] and again.hashed_files == 0 and again.hashed_bytes == 0
    assert again.digest == first.digest
    # Private like the rest of the workspace: the cache lists the data's paths.
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert cache.parent == cache.parent.parent / "cache" and cache.parent.parent.name == ".mlws"


@pytest.mark.usefixtures("later")
def test_one_touched_file_is_the_only_one_rehashed(tree: Path, cache: Path, hashed: list[str]) -> None:
    first = fingerprint(tree, cache_file=cache)
    next_tick()
    (tree / "sub" / "b.csv").write_bytes(b"x,y\n3,5\n")  # same size
    hashed.clear()
    again = fingerprint(tree, cache_file=cache)
    assert hashed == ["b.csv"] and again.hashed_bytes == 8
    assert again.digest != first.digest
    assert {e.path: e.sha256 for e in again.manifest.entries}["sub/b.csv"] == sha(b"x,y\n3,5\n")


@pytest.mark.usefixtures("later")
def test_in_place_edit_with_the_mtime_restored_is_caught(tree: Path, cache: Path, hashed: list[str]) -> None:
    """The DVC case: same inode, same size, same mtime — only the ctime says the bytes changed."""
    path = tree / "a.csv"
    os.utime(path, ns=(OLD_NS, OLD_NS))
    first = fingerprint(tree, cache_file=cache)
    before = path.stat()
    next_tick()
    with open(path, "r+b") as stream:  # in place: the same inode
        stream.write(b"X")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # the editor puts the mtime back
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    assert after.st_ctime_ns != before.st_ctime_ns
    hashed.clear()
    again = fingerprint(tree, cache_file=cache)
    assert hashed == ["a.csv"]
    assert again.digest != first.digest
    with pytest.raises(DatasetChangedError, match=r"a\.csv"):
        verify(first.manifest, tree, cache_file=cache)


def test_racy_window_files_too_fresh_are_not_trusted(
    tree: Path, cache: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [p for p in tree.rglob("*") if p.is_file()]
    # Hashing happens half a window after the newest change (a fixed clock: no dependence on load).
    half_window_later = lambda: max(p.stat().st_ctime_ns for p in files) + RACY_WINDOW_NS // 2  # noqa: E731
    monkeypatch.setattr(fp, "_now_ns", half_window_later)
    # Just written: mtime and ctime inside the window, so nothing is cached.
    fingerprint(tree, cache_file=cache)
    hashed.clear()
    fingerprint(tree, cache_file=cache)
    assert sorted(hashed) == ["a.csv", "b.csv", "c.bin"]
    # An old mtime is not enough: the utime itself moved the ctime, which is still inside the window.
    for path in files:
        os.utime(path, ns=(OLD_NS, OLD_NS))
    fingerprint(tree, cache_file=cache)
    hashed.clear()
    fingerprint(tree, cache_file=cache)
    assert sorted(hashed) == ["a.csv", "b.csv", "c.bin"]
    # Once the window has passed since the last change, the entries are trusted.
    monkeypatch.setattr(fp, "_now_ns", lambda: max(p.stat().st_ctime_ns for p in files) + RACY_WINDOW_NS + 1)
    fingerprint(tree, cache_file=cache)
    hashed.clear()
    fingerprint(tree, cache_file=cache)
    assert hashed == []


def test_a_damaged_cache_is_ignored(tree: Path, cache: Path, hashed: list[str], later: None) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    first = fingerprint(tree, cache_file=cache)
    assert first.hashed_files == 3
    data = json.loads(cache.read_text())
    data[str(tree / "a.csv")] = ["bad"]
    cache.write_text(json.dumps(data))
    hashed.clear()
    assert fingerprint(tree, cache_file=cache).digest == first.digest
    assert hashed == ["a.csv"]


def _fingerprint_many(root: str, cache: str, rounds: int) -> None:
    fp._now_ns = lambda: time.time_ns() + 2 * RACY_WINDOW_NS  # the files count as old (see `later`)
    for i in range(rounds):
        Path(root, f"f{i % 5}.txt").write_text(f"{root} round {i}\n")  # keeps the cache changing
        fingerprint(root, cache_file=cache)


def test_two_processes_writing_the_cache_at_once_do_not_corrupt_it(tmp_path: Path, cache: Path) -> None:
    roots = [write(tmp_path / name, {f"f{i}.txt": name.encode() * 100 for i in range(20)}) for name in "pq"]
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_fingerprint_many, args=(str(r), str(cache), 30)) for r in roots]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [proc.exitcode for proc in procs] == [0, 0]
    entries = json.loads(cache.read_text())  # whole JSON, never a torn write
    for root in roots:  # both processes' entries survived the other's saves (merged, not overwritten)
        assert {str(root / f"f{i}.txt") for i in range(5, 20)} <= set(entries)
    assert [p.name for p in cache.parent.iterdir() if p.name.endswith(".tmp")] == []


# -- verify ----------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("later")
def test_verify_reads_nothing_for_an_unchanged_tree(tree: Path, cache: Path, hashed: list[str]) -> None:
    manifest = fingerprint(tree, cache_file=cache).manifest
    hashed.clear()
    verify(manifest, tree, cache_file=cache)
    assert hashed == []


def test_changed_file_error_names_the_file_and_both_digests(tree: Path) -> None:
    manifest = fingerprint(tree).manifest
    (tree / "sub" / "b.csv").write_bytes(b"other")
    (tree / "a.csv").write_bytes(b"other too")
    with pytest.raises(DatasetChangedError) as caught:
        verify(manifest, tree)
    error = caught.value
    assert error.path == "a.csv"
    assert error.expected == sha(b"x,y\n1,2\n") and error.found == sha(b"other too")
    message = str(error)
    assert "'a.csv'" in message and error.expected in message and error.found in message
    assert "1 more file(s) differ" in message and "validate=False" in message
    assert isinstance(error, InvalidStateError) and error.http_status == 409
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.expected, copy.found, str(copy)) == (error.path, error.expected, error.found, message)


def test_a_missing_file_is_reported(tree: Path) -> None:
    manifest = fingerprint(tree).manifest
    (tree / "sub" / "deep" / "c.bin").unlink()
    with pytest.raises(DatasetChangedError, match=r"'sub/deep/c.bin' .* is missing") as caught:
        verify(manifest, tree)
    assert caught.value.found is None and caught.value.expected == sha(b"\0" * 5000)


def test_validate_false_skips_the_check(tree: Path, hashed: list[str]) -> None:
    manifest = fingerprint(tree).manifest
    (tree / "a.csv").write_bytes(b"changed")
    hashed.clear()
    verify(manifest, tree, validate=False)
    assert hashed == []
    verify(fingerprint(tree).manifest, tree)  # the new bytes' own manifest passes


# -- fsspec filesystems ---------------------------------------------------------------------------------------
@pytest.fixture
def memory() -> Iterator[fsspec.AbstractFileSystem]:
    fs = fsspec.filesystem("memory")
    bucket = f"/fp-{os.getpid()}-{time.time_ns()}"
    fs.pipe({f"{bucket}/data/a.csv": b"x,y\n1,2\n", f"{bucket}/data/sub/b.csv": b"x,y\n3,4\n"})
    fs.bucket = bucket  # type: ignore[attr-defined]
    yield fs
    fs.rm(bucket, recursive=True)


def test_memory_filesystem_by_url_and_by_fs(memory: fsspec.AbstractFileSystem, tree: Path) -> None:
    bucket: str = memory.bucket  # type: ignore[attr-defined]
    by_url = fingerprint(f"memory://{bucket}/data")
    by_fs = fingerprint([f"{bucket}/data"], fs=memory)
    globbed = fingerprint(f"memory://{bucket}/data/**/*.csv")
    local = fingerprint(tree / "**" / "*.csv")  # the same bytes on disk: the same digest
    assert by_url.digest == by_fs.digest == globbed.digest == local.digest
    assert [e.path for e in by_url.manifest.entries] == ["a.csv", "sub/b.csv"]
    assert by_url.hashed_files == 2 and by_url.hashed_bytes == 16 and by_url.fs is not None
    verify(by_url.manifest, f"memory://{bucket}/data")
    memory.pipe(f"{bucket}/data/sub/b.csv", b"x,y\n3,5\n")
    with pytest.raises(DatasetChangedError, match=r"'sub/b\.csv' in memory://") as caught:
        verify(by_url.manifest, (memory, f"{bucket}/data"))
    assert caught.value.found == sha(b"x,y\n3,5\n")
    memory.rm(f"{bucket}/data/a.csv")
    with pytest.raises(DatasetChangedError, match=r"'a\.csv' .* is missing"):
        verify(by_url.manifest, f"memory://{bucket}/data")
    with pytest.raises(InvalidArgumentError, match="matches no files on memory://"):
        fingerprint(f"memory://{bucket}/data/*.parquet")
    with pytest.raises(NotFoundError, match="does not exist on memory://"):
        fingerprint(f"memory://{bucket}/nothing")
    with pytest.raises(InvalidArgumentError, match=r"nosuchproto://x.*Protocol not known"):
        fingerprint("nosuchproto://x/y")


def test_progress_reports_the_bytes_hashed(tree: Path) -> None:
    seen: list[tuple[int, int]] = []
    report: Callable[[int, int], None] = lambda done, total: seen.append((done, total))  # noqa: E731
    fingerprint(tree, progress=report, workers=1)
    assert seen[-1] == (5016, 5016) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_file_entry_and_manifest_refuse_duplicates() -> None:
    entry = FileEntry("a.csv", 1, "0" * 64)
    with pytest.raises(InvalidArgumentError, match=r"a\.csv more than once"):
        DataManifest((entry, entry))


@pytest.mark.parametrize("bad", ["../outside.csv", "a/../../b.csv", "/etc/passwd", "a//b.csv", "./a.csv", ""])
def test_a_manifest_path_that_leaves_its_root_is_refused(tree: Path, bad: str) -> None:
    data = fingerprint(tree).manifest.to_dict()
    data["files"][0]["path"] = bad
    del data["digest"]  # a tamperer would recompute it: the paths themselves must be refused
    with pytest.raises(InvalidArgumentError, match="stay below their root"):
        DataManifest.from_dict(data)
