"""Capture: content addressing, the manifest, the stat cache (fast and never missing a change), limits."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.errors import InvalidArgumentError, NotFoundError
from jupyter_mlws.snapshots import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FILES,
    Manifest,
    Snapshot,
    capture_snapshot,
    load_manifest,
)
from jupyter_mlws.stores.artifacts.local import LocalArtifactStore
from tests.snapshots.conftest import OLD_NS, age_tree, file_paths, write_tree


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests_by_path(snapshot: Snapshot) -> dict[str, str | None]:
    return {e.path: e.digest for e in snapshot.manifest.files}


# -- content addressing and the manifest ----------------------------------------------------------------


def test_manifest_records_path_size_mode_and_digest(ws: Workspace, src: Path) -> None:
    write_tree(src, {"train.py": "print('hi')\n", "pkg/util.py": "X = 1\n", "run.sh": "#!/bin/sh\necho hi\n"})
    os.chmod(src / "run.sh", 0o755)
    os.chmod(src / "train.py", 0o644)
    os.chmod(src / "pkg" / "util.py", 0o600)
    snap = capture_snapshot(src, ws.artifacts)
    entries = {e.path: e for e in snap.manifest.entries}
    assert set(entries) == {"train.py", "pkg/util.py", "run.sh"}
    for rel, entry in entries.items():
        data = (src / rel).read_bytes()
        assert entry.kind == "file"
        assert entry.size == len(data)
        assert entry.digest == sha(data)
        assert ws.artifacts.read_bytes(entry.digest) == data
    assert entries["run.sh"].mode == 0o755
    assert entries["run.sh"].mode & stat.S_IXUSR
    assert entries["train.py"].mode == 0o644
    assert entries["pkg/util.py"].mode == 0o600
    assert snap.file_count == 3
    assert snap.total_size == sum(len((src / r).read_bytes()) for r in entries)
    assert snap.source == src.resolve()


def test_the_manifest_is_stored_and_its_hash_is_the_snapshot_id(ws: Workspace, src: Path) -> None:
    write_tree(src, {"a.txt": "a", "b/c.txt": "c"})
    snap = capture_snapshot(src, ws.artifacts)
    raw = ws.artifacts.read_bytes(snap.id)
    assert sha(raw) == snap.id
    loaded = load_manifest(ws.artifacts, snap.id)
    assert {e.path: (e.digest, e.size, e.mode) for e in loaded.entries} == {
        e.path: (e.digest, e.size, e.mode) for e in snap.manifest.entries
    }
    assert Manifest.from_bytes(raw).to_bytes() == raw


def test_recapturing_an_unchanged_tree_adds_no_bytes(ws: Workspace, src: Path) -> None:
    write_tree(src, {"train.py": "print(1)\n", "data/x.bin": os.urandom(50_000), "a/b/c.txt": "c"})
    first = capture_snapshot(src, ws.artifacts)
    blobs = set(ws.artifacts.iter_digests())
    assert len(blobs) == 4  # three files and the manifest
    second = capture_snapshot(src, ws.artifacts)  # no stat cache: every file is hashed again
    assert second.id == first.id
    assert set(ws.artifacts.iter_digests()) == blobs
    assert second.manifest.to_bytes() == first.manifest.to_bytes()


def test_the_same_tree_in_another_folder_has_the_same_id(ws: Workspace, tmp_path: Path) -> None:
    tree = {"train.py": "print(1)\n", "lib/helpers.py": "def f():\n    return 2\n"}
    one = capture_snapshot(write_tree(tmp_path / "one", tree), ws.artifacts)
    blobs = set(ws.artifacts.iter_digests())
    two = capture_snapshot(write_tree(tmp_path / "two", tree), ws.artifacts)
    assert one.id == two.id
    assert set(ws.artifacts.iter_digests()) == blobs


def test_identical_files_are_stored_once(ws: Workspace, src: Path) -> None:
    payload = os.urandom(10_000)
    write_tree(src, {"a/model.bin": payload, "b/copy.bin": payload, "c/d/again.bin": payload, "other": "x"})
    snap = capture_snapshot(src, ws.artifacts)
    digests = digests_by_path(snap)
    assert digests["a/model.bin"] == digests["b/copy.bin"] == digests["c/d/again.bin"] == sha(payload)
    assert set(ws.artifacts.iter_digests()) == {sha(payload), sha(b"x"), snap.id}


def test_changing_one_file_adds_only_that_file(ws: Workspace, src: Path) -> None:
    write_tree(src, {"a.txt": "alpha", "b.txt": "beta", "big.bin": os.urandom(100_000)})
    first = capture_snapshot(src, ws.artifacts)
    before = set(ws.artifacts.iter_digests())
    (src / "a.txt").write_text("ALPHA, edited")
    second = capture_snapshot(src, ws.artifacts)
    assert second.id != first.id
    assert set(ws.artifacts.iter_digests()) - before == {sha(b"ALPHA, edited"), second.id}


def test_empty_folder_and_empty_files(ws: Workspace, src: Path) -> None:
    empty = capture_snapshot(src, ws.artifacts)
    assert empty.manifest.entries == ()
    assert empty.file_count == 0
    write_tree(src, {"empty.txt": b"", "sub/also-empty": b""})
    snap = capture_snapshot(src, ws.artifacts)
    assert {(e.path, e.size, e.digest) for e in snap.manifest.files} == {
        ("empty.txt", 0, sha(b"")),
        ("sub/also-empty", 0, sha(b"")),
    }


def test_missing_source_folder_is_a_clear_error(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        capture_snapshot(tmp_path / "nope", ws.artifacts)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotFoundError):
        capture_snapshot(tmp_path / "file.txt", ws.artifacts)


# -- the stat cache -------------------------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "stat-cache.json"


def test_unchanged_old_files_are_not_hashed_again(ws: Workspace, src: Path, cache: Path) -> None:
    write_tree(src, {f"f{i}.txt": f"content {i}" for i in range(20)} | {"sub/x.py": "x = 1\n"})
    age_tree(src)
    first = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert first.hashed_files == 21
    assert first.new_bytes == first.total_size
    assert cache.is_file()
    blobs = set(ws.artifacts.iter_digests())
    second = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert second.hashed_files == 0
    assert second.new_bytes == 0
    assert second.id == first.id
    assert second.manifest.to_bytes() == first.manifest.to_bytes()
    assert set(ws.artifacts.iter_digests()) == blobs


def test_only_the_changed_file_is_hashed(ws: Workspace, src: Path, cache: Path) -> None:
    write_tree(src, {"a.txt": "aaaa", "b.txt": "bbbb", "c.txt": "cccc"})
    age_tree(src)
    capture_snapshot(src, ws.artifacts, cache_file=cache)
    (src / "b.txt").write_text("a longer new content")
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert snap.hashed_files == 1
    assert digests_by_path(snap)["b.txt"] == sha(b"a longer new content")
    assert digests_by_path(snap)["a.txt"] == sha(b"aaaa")


def test_same_size_edit_with_the_old_mtime_restored_is_detected(ws: Workspace, src: Path, cache: Path) -> None:
    write_tree(src, {"params.txt": "lr=0.1", "other.txt": "x"})
    age_tree(src)
    first = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert capture_snapshot(src, ws.artifacts, cache_file=cache).hashed_files == 0  # the cache is live
    before = os.stat(src / "params.txt")
    (src / "params.txt").write_text("lr=0.9")  # same size
    os.utime(src / "params.txt", ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
    after = os.stat(src / "params.txt")
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert digests_by_path(snap)["params.txt"] == sha(b"lr=0.9")
    assert snap.id != first.id
    assert ws.artifacts.read_bytes(digests_by_path(snap)["params.txt"] or "") == b"lr=0.9"


def test_a_file_replaced_by_another_with_the_same_stat_is_detected(ws: Workspace, src: Path, cache: Path) -> None:
    # An editor's "write a new file, rename it over the old one": new inode, same size and mtime.
    write_tree(src, {"conf.txt": "aaaa"})
    age_tree(src)
    capture_snapshot(src, ws.artifacts, cache_file=cache)
    tmp = src / ".conf.txt.swp"
    tmp.write_text("bbbb")
    os.utime(tmp, ns=(OLD_NS, OLD_NS))
    os.replace(tmp, src / "conf.txt")
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert digests_by_path(snap) == {"conf.txt": sha(b"bbbb")}


def test_files_fresher_than_the_racy_window_are_not_trusted(ws: Workspace, src: Path, cache: Path) -> None:
    write_tree(src, {"old.txt": "old", "fresh.txt": "fresh"})
    age_tree(src)
    future = time.time_ns() + 3600 * 1_000_000_000  # always "modified just now" for the cache
    os.utime(src / "fresh.txt", ns=(future, future))
    assert capture_snapshot(src, ws.artifacts, cache_file=cache).hashed_files == 2
    again = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert again.hashed_files == 1  # fresh.txt is hashed every time until it is old enough
    assert digests_by_path(again) == {"old.txt": sha(b"old"), "fresh.txt": sha(b"fresh")}


def test_a_file_modified_right_after_capture_is_detected(ws: Workspace, src: Path, cache: Path) -> None:
    write_tree(src, {"train.py": "epochs = 1\n", "old.txt": "o"})
    age_tree(src)
    (src / "train.py").write_text("epochs = 1\n")  # just written: inside the racy window
    st = os.stat(src / "train.py")
    capture_snapshot(src, ws.artifacts, cache_file=cache)
    (src / "train.py").write_text("epochs = 9\n")  # same size, in the same clock tick as far as mtime goes
    os.utime(src / "train.py", ns=(st.st_atime_ns, st.st_mtime_ns))
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert digests_by_path(snap)["train.py"] == sha(b"epochs = 9\n")


def test_deleted_and_new_files(ws: Workspace, src: Path, cache: Path) -> None:
    write_tree(src, {"keep.txt": "k", "gone.txt": "g", "sub/gone2.txt": "g2"})
    age_tree(src)
    first = capture_snapshot(src, ws.artifacts, cache_file=cache)
    (src / "gone.txt").unlink()
    (src / "sub" / "gone2.txt").unlink()
    write_tree(src, {"new.txt": "n", "sub/new2.txt": "n2"})
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert file_paths(snap) == {"keep.txt", "new.txt", "sub/new2.txt"}
    assert snap.hashed_files == 2
    assert snap.id != first.id
    # A file recreated at a deleted path with the same size is hashed, not taken from the cache.
    (src / "new.txt").unlink()
    write_tree(src, {"gone.txt": "G"})
    os.utime(src / "gone.txt", ns=(OLD_NS, OLD_NS))
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert digests_by_path(snap)["gone.txt"] == sha(b"G")


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\xff\xfe garbage \x80",
        b'{"truncated": [1, 2',
        b"[1, 2, 3]",
        b'"a string"',
        b"null",
        b"",
    ],
    ids=["binary", "truncated", "list", "string", "null", "empty"],
)
def test_a_garbage_cache_file_is_ignored(ws: Workspace, src: Path, cache: Path, garbage: bytes) -> None:
    write_tree(src, {"a.txt": "a", "b.txt": "b"})
    age_tree(src)
    reference = capture_snapshot(src, ws.artifacts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(garbage)
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert snap.id == reference.id
    assert snap.hashed_files == 2
    # The cache is rewritten and works again.
    assert capture_snapshot(src, ws.artifacts, cache_file=cache).hashed_files == 0


def test_cache_entries_of_the_wrong_shape_are_ignored(ws: Workspace, src: Path, cache: Path) -> None:
    # A cache from another version, or damaged in a way that is still valid JSON.
    write_tree(src, {"a.txt": "a", "b.txt": "b", "c.txt": "c", "d.txt": "d"})
    age_tree(src)
    reference = capture_snapshot(src, ws.artifacts)
    root = src.resolve()
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps(
            {
                str(root / "a.txt"): 12,
                str(root / "b.txt"): None,
                str(root / "c.txt"): {"size": 1},
                str(root / "d.txt"): [1, 2],
            }
        )
    )
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert snap.id == reference.id
    assert snap.hashed_files == 4


def test_a_cached_digest_whose_blob_was_deleted_is_rehashed(ws: Workspace, src: Path, cache: Path) -> None:
    write_tree(src, {"model.bin": b"weights" * 100, "train.py": "fit()\n"})
    age_tree(src)
    first = capture_snapshot(src, ws.artifacts, cache_file=cache)
    digest = sha(b"weights" * 100)
    ws.artifacts.delete(digest)  # e.g. garbage-collected
    assert not ws.artifacts.exists(digest)
    snap = capture_snapshot(src, ws.artifacts, cache_file=cache)
    assert snap.hashed_files == 1
    assert snap.id == first.id
    assert ws.artifacts.exists(digest)
    assert ws.artifacts.read_bytes(digest) == b"weights" * 100


def test_a_cache_shared_by_two_stores_does_not_leave_blobs_missing(src: Path, tmp_path: Path, cache: Path) -> None:
    write_tree(src, {"a.txt": "a"})
    age_tree(src)
    one = LocalArtifactStore(tmp_path / "store1")
    two = LocalArtifactStore(tmp_path / "store2")
    capture_snapshot(src, one, cache_file=cache)
    snap = capture_snapshot(src, two, cache_file=cache)
    assert snap.hashed_files == 1
    for entry in snap.manifest.files:
        assert two.read_bytes(entry.digest or "") == b"a"


# -- limits ---------------------------------------------------------------------------------------------


def test_default_limits_are_azure_mls() -> None:
    assert DEFAULT_MAX_FILES == 2000
    assert DEFAULT_MAX_BYTES == 300 * 1024 * 1024


def test_default_file_count_limit(ws: Workspace, src: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLWS_SNAPSHOT_MAX_FILES", raising=False)
    monkeypatch.delenv("MLWS_SNAPSHOT_MAX_MB", raising=False)
    for i in range(2000):
        (src / f"f{i:04d}").touch()
    assert capture_snapshot(src, ws.artifacts).file_count == 2000  # exactly at the limit
    (src / "one-too-many").touch()
    with pytest.raises(InvalidArgumentError, match=r"2001 files.*limit of 2000 files"):
        capture_snapshot(src, ws.artifacts)


def test_default_size_limit(ws: Workspace, src: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLWS_SNAPSHOT_MAX_FILES", raising=False)
    monkeypatch.delenv("MLWS_SNAPSHOT_MAX_MB", raising=False)
    with open(src / "huge.bin", "wb") as f:  # sparse: costs no disk
        f.truncate(DEFAULT_MAX_BYTES + 1)
    (src / "train.py").write_text("print(1)\n")
    before = set(ws.artifacts.iter_digests())
    with pytest.raises(InvalidArgumentError) as info:
        capture_snapshot(src, ws.artifacts)
    message = str(info.value)
    assert "huge.bin" in message
    assert ".amlignore" in message
    assert set(ws.artifacts.iter_digests()) == before  # refused before storing anything


def test_too_many_files_names_the_largest_and_suggests_amlignore(ws: Workspace, src: Path) -> None:
    write_tree(src, {f"data/part-{i}.csv": "x" * (10 + i) for i in range(8)})
    write_tree(src, {"train.py": "print(1)\n", "model.ckpt": b"m" * 5000})
    before = set(ws.artifacts.iter_digests())
    with pytest.raises(InvalidArgumentError) as info:
        capture_snapshot(src, ws.artifacts, max_files=5)
    message = str(info.value)
    assert "10 files" in message
    assert "5 files" in message
    assert "model.ckpt" in message  # the largest file
    assert "data/" in message  # the heaviest folder by count
    assert ".amlignore" in message
    assert "MLWS_SNAPSHOT_MAX_FILES" in message
    assert set(ws.artifacts.iter_digests()) == before


def test_too_many_bytes_names_the_largest_files_and_folders(ws: Workspace, src: Path) -> None:
    write_tree(
        src,
        {
            "checkpoints/epoch1.pt": b"\0" * 400_000,
            "checkpoints/epoch2.pt": b"\0" * 300_000,
            "data/raw.csv": b"1," * 200_000,
            "train.py": "print(1)\n",
        },
    )
    with pytest.raises(InvalidArgumentError) as info:
        capture_snapshot(src, ws.artifacts, max_bytes=500_000)
    message = str(info.value)
    assert "checkpoints/epoch1.pt" in message
    assert "checkpoints/" in message
    assert "data/" in message
    assert message.index("checkpoints/epoch1.pt") < message.index("checkpoints/epoch2.pt")  # largest first
    assert ".amlignore" in message


def test_limits_from_environment_variables(ws: Workspace, src: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(src, {f"f{i}.txt": "x" for i in range(6)})
    monkeypatch.setenv("MLWS_SNAPSHOT_MAX_FILES", "5")
    with pytest.raises(InvalidArgumentError, match="limit of 5 files"):
        capture_snapshot(src, ws.artifacts)
    monkeypatch.setenv("MLWS_SNAPSHOT_MAX_FILES", "6")
    assert capture_snapshot(src, ws.artifacts).file_count == 6
    # An explicit argument wins over the environment.
    assert capture_snapshot(src, ws.artifacts, max_files=100).file_count == 6

    monkeypatch.delenv("MLWS_SNAPSHOT_MAX_FILES")
    (src / "big.bin").write_bytes(b"\0" * (3 * 1024 * 1024))
    monkeypatch.setenv("MLWS_SNAPSHOT_MAX_MB", "2")
    with pytest.raises(InvalidArgumentError, match=r"big\.bin"):
        capture_snapshot(src, ws.artifacts)
    monkeypatch.setenv("MLWS_SNAPSHOT_MAX_MB", "3.5")  # fractions allowed
    assert capture_snapshot(src, ws.artifacts).file_count == 7
    monkeypatch.setenv("MLWS_SNAPSHOT_MAX_MB", "2.5")
    with pytest.raises(InvalidArgumentError):
        capture_snapshot(src, ws.artifacts)
    assert capture_snapshot(src, ws.artifacts, max_bytes=4 * 1024 * 1024).file_count == 7


def test_ignored_files_do_not_count_toward_the_limits(ws: Workspace, src: Path) -> None:
    write_tree(src, {f"data/{i}.bin": b"\0" * 1000 for i in range(50)})
    write_tree(src, {".amlignore": "data/\n*.ckpt\n", "train.py": "print(1)\n", "m.ckpt": b"\0" * 100_000})
    snap = capture_snapshot(src, ws.artifacts, max_files=2, max_bytes=1000)
    assert file_paths(snap) == {".amlignore", "train.py"}
    (src / ".amlignore").unlink()
    with pytest.raises(InvalidArgumentError, match=r"\.amlignore"):
        capture_snapshot(src, ws.artifacts, max_files=2, max_bytes=1000)


def test_symlinks_do_not_count_toward_the_file_limit(ws: Workspace, src: Path) -> None:
    write_tree(src, {"a.txt": "a"})
    for i in range(5):
        os.symlink("a.txt", src / f"link{i}")
    snap = capture_snapshot(src, ws.artifacts, max_files=1)
    assert snap.file_count == 1
    assert len(snap.manifest.entries) == 6
