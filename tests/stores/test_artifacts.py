"""One contract suite for every artifact store back end (STYLE 14): a local folder and fsspec memory://.

Back-end specifics (blob files on disk, read-only modes, object keys) are checked through small
helpers that look at the storage itself, not through the store under test.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
import pytest

from jupyter_mlws.core.interfaces import ArtifactStore
from jupyter_mlws.core.registry import open_artifact_store
from jupyter_mlws.errors import BackendUnavailableError, InvalidArgumentError, NotFoundError
from jupyter_mlws.stores.artifacts.fsspec_store import FsspecArtifactStore
from jupyter_mlws.stores.artifacts.local import LocalArtifactStore
from tests.support.s3 import S3Server, s3_server, use_test_keys  # noqa: F401 - the module's S3 server

MiB = 1 << 20


# -- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A unique memory:// prefix, wiped afterwards (the memory filesystem is process-global)."""
    url = f"memory://mlws-test-{uuid.uuid4().hex}/artifacts"
    yield url
    fs, root = fsspec.core.url_to_fs(url)
    bucket = root.rstrip("/").rsplit("/", 1)[0]
    if fs.exists(bucket):
        fs.rm(bucket, recursive=True)


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path, memory_url: str) -> Iterator[ArtifactStore]:
    s: ArtifactStore
    if request.param == "local":
        s = LocalArtifactStore(tmp_path / "store")
    else:
        spool = tmp_path / "spool"
        spool.mkdir()
        s = FsspecArtifactStore(memory_url, spool_dir=spool)
    yield s
    s.close()


def blob_files(s: ArtifactStore) -> list[str]:
    """Every file under ``blobs/``, read from the storage itself."""
    if isinstance(s, LocalArtifactStore):
        return sorted(str(p.relative_to(s.root)) for p in (s.root / "blobs").rglob("*") if p.is_file())
    assert isinstance(s, FsspecArtifactStore)
    blobs = f"{s.root}/blobs"
    return sorted(s.fs.find(blobs)) if s.fs.exists(blobs) else []


def temp_files(s: ArtifactStore) -> list[str]:
    """Leftovers of puts: the local tmp/ folder, or the remote tmp/ keys plus the local spool folder."""
    if isinstance(s, LocalArtifactStore):
        return sorted(p.name for p in (s.root / "tmp").iterdir())
    assert isinstance(s, FsspecArtifactStore)
    tmp = f"{s.root}/tmp"
    remote = s.fs.find(tmp) if s.fs.exists(tmp) else []
    spool = s._spool_dir
    assert spool is not None
    return sorted([*remote, *os.listdir(spool)])


class FailingStream(io.RawIOBase):
    """A source that delivers ``good`` bytes, then fails like a dropped connection."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            raise ConnectionResetError("source went away")
        n = min(len(buffer), self.left, 64 * 1024)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


class TricklingStream(io.RawIOBase):
    """A source that returns short reads of odd sizes (like a pipe or socket)."""

    def __init__(self, data: bytes, piece: int = 77_777) -> None:
        self.data = memoryview(data)
        self.piece = piece

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.piece, len(self.data))
        buffer[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the contract -----------------------------------------------------------------------------------


def test_round_trip(store: ArtifactStore) -> None:
    data = b"hello artifacts\n" * 100
    digest, size = store.put_bytes(data)
    assert (digest, size) == (sha256(data), len(data))
    assert store.exists(digest)
    assert store.read_bytes(digest) == data
    with store.open(digest) as f:
        assert f.read(5) == b"hello"
        assert f.read() == data[5:]


def test_empty_blob(store: ArtifactStore) -> None:
    digest, size = store.put_bytes(b"")
    assert (digest, size) == (sha256(b""), 0)
    assert store.read_bytes(digest) == b""


def test_put_file(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(3 * MiB + 5))
    digest, size = store.put_file(src)
    assert (digest, size) == (sha256(src.read_bytes()), src.stat().st_size)
    assert store.read_bytes(digest) == src.read_bytes()


def test_layout_is_blobs_fan_out(store: ArtifactStore) -> None:
    digest, _ = store.put_bytes(b"layout")
    [path] = blob_files(store)
    assert path.replace(os.sep, "/").endswith(f"blobs/{digest[:2]}/{digest[2:]}")


def test_identical_bytes_are_stored_once(store: ArtifactStore) -> None:
    data = os.urandom(10_000)
    first = store.put_bytes(data)
    second = store.put_stream(io.BytesIO(data))
    other = store.put_bytes(data + b"!")
    assert first == second
    assert other[0] != first[0]
    assert len(blob_files(store)) == 2
    assert sorted(store.iter_digests()) == sorted([first[0], other[0]])
    assert temp_files(store) == []


def test_large_stream_with_short_reads(store: ArtifactStore) -> None:
    data = os.urandom(5 * MiB + 123)  # crosses several 1 MiB chunk boundaries, odd tail
    digest, size = store.put_stream(TricklingStream(data))  # type: ignore[arg-type]
    assert digest == hashlib.sha256(data).hexdigest()
    assert size == len(data)
    assert store.read_bytes(digest) == data


def test_copy_to_writes_target_atomically(store: ArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(2 * MiB)
    digest, _ = store.put_bytes(data)
    target = tmp_path / "out" / "deep" / "model.bin"
    store.copy_to(digest, target)  # creates the folders
    assert target.read_bytes() == data

    target.write_bytes(b"old content")
    store.copy_to(digest, target)  # replaces an existing file
    assert target.read_bytes() == data
    assert os.listdir(target.parent) == ["model.bin"]  # no .part file left behind


def test_copy_to_of_missing_blob_leaves_target_untouched(store: ArtifactStore, tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"keep me")
    with pytest.raises(NotFoundError):
        store.copy_to("0" * 64, target)
    assert target.read_bytes() == b"keep me"
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".part")]


def test_missing_digest(store: ArtifactStore) -> None:
    missing = sha256(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(NotFoundError, match=missing) as err:
        store.open(missing)
    assert err.value.http_status == 404
    with pytest.raises(NotFoundError):
        store.read_bytes(missing)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "A" * 64,  # upper case would alias on case-insensitive filesystems
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "../" + "a" * 61,
        "aa/" + "b" * 61,
        "a" * 62 + "\n",
    ],
)
def test_malformed_digest(store: ArtifactStore, bad: str) -> None:
    for call in (store.open, store.exists, store.delete, store.read_bytes):
        with pytest.raises(InvalidArgumentError, match="digest") as err:
            call(bad)
        assert err.value.http_status == 400


def test_iter_digests_and_delete(store: ArtifactStore) -> None:
    assert list(store.iter_digests()) == []
    digests = [store.put_bytes(f"blob {i}".encode())[0] for i in range(5)]
    assert sorted(store.iter_digests()) == sorted(digests)

    store.delete(digests[0])
    assert not store.exists(digests[0])
    with pytest.raises(NotFoundError):
        store.open(digests[0])
    assert sorted(store.iter_digests()) == sorted(digests[1:])
    store.delete(digests[0])  # deleting a missing blob is fine
    assert len(blob_files(store)) == 4

    # A deleted blob can come back.
    assert store.put_bytes(b"blob 0") == (digests[0], 6)
    assert store.read_bytes(digests[0]) == b"blob 0"


def test_concurrent_puts_of_same_content(store: ArtifactStore) -> None:
    data = os.urandom(3 * MiB + 17)
    barrier = threading.Barrier(8)

    def put(_: int) -> tuple[str, int]:
        barrier.wait()  # maximise overlap
        return store.put_stream(io.BytesIO(data))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(put, range(8)))

    assert set(results) == {(sha256(data), len(data))}
    assert len(blob_files(store)) == 1
    assert store.read_bytes(sha256(data)) == data
    assert temp_files(store) == []


def test_concurrent_reads_are_independent(store: ArtifactStore) -> None:
    data = os.urandom(MiB)
    digest, _ = store.put_bytes(data)
    with store.open(digest) as first, store.open(digest) as second:
        assert first.read(10) == data[:10]
        assert second.read() == data  # each reader has its own position
        assert first.read() == data[10:]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.read_bytes(digest), range(32)))
    assert all(r == data for r in results)


def test_no_temp_files_after_puts(store: ArtifactStore) -> None:
    for i in range(10):
        store.put_bytes(os.urandom(1000 + i))
    store.put_bytes(b"same")
    store.put_bytes(b"same")
    assert temp_files(store) == []
    assert len(list(store.iter_digests())) == 11


def test_failure_mid_stream_leaves_nothing(store: ArtifactStore) -> None:
    with pytest.raises(ConnectionResetError, match="source went away"):
        store.put_stream(io.BufferedReader(FailingStream(good=int(2.5 * MiB))))
    assert blob_files(store) == []
    assert list(store.iter_digests()) == []
    assert temp_files(store) == []
    # The store still works afterwards.
    digest, _ = store.put_bytes(b"after the failure")
    assert store.read_bytes(digest) == b"after the failure"


def test_text_stream_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(InvalidArgumentError, match="binary"):
        store.put_stream(io.StringIO("not bytes"))  # type: ignore[arg-type]
    assert blob_files(store) == []
    assert temp_files(store) == []


# -- local specifics --------------------------------------------------------------------------------


def test_local_blobs_are_read_only(tmp_path: Path) -> None:
    s = LocalArtifactStore(tmp_path)
    digest, _ = s.put_bytes(b"immutable")
    mode = (tmp_path / "blobs" / digest[:2] / digest[2:]).stat().st_mode
    assert stat.S_IMODE(mode) & 0o222 == 0
    s.delete(digest)  # read-only does not prevent garbage collection
    assert not s.exists(digest)


def test_local_dedup_keeps_the_existing_blob(tmp_path: Path) -> None:
    s = LocalArtifactStore(tmp_path)
    digest, _ = s.put_bytes(b"once")
    blob = tmp_path / "blobs" / digest[:2] / digest[2:]
    inode = blob.stat().st_ino
    s.put_bytes(b"once")
    assert blob.stat().st_ino == inode  # the second put wrote no new blob


def test_local_accepts_file_urls_and_creates_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "a b" / "store"  # a space: the URL is percent-encoded
    s = LocalArtifactStore(root.as_uri())
    assert s.root == root
    assert (root / "blobs").is_dir() and (root / "tmp").is_dir()
    assert s.url == root.as_uri()
    assert LocalArtifactStore(f"file://localhost{root.as_posix()}").root == root


def test_local_refuses_remote_file_url() -> None:
    with pytest.raises(InvalidArgumentError, match="remote host"):
        LocalArtifactStore("file://fileserver/share/artifacts")


def test_local_unusable_root(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(BackendUnavailableError, match="a-file"):
        LocalArtifactStore(blocker)


def test_local_removes_only_stale_temp_files(tmp_path: Path) -> None:
    s = LocalArtifactStore(tmp_path)
    stale = tmp_path / "tmp" / "put-crashed.part"
    fresh = tmp_path / "tmp" / "put-running.part"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    os.utime(stale, (0, 0))
    assert s.remove_stale_temp_files(older_than=3600) == 1
    assert not stale.exists() and fresh.exists()


# -- fsspec specifics -------------------------------------------------------------------------------


class BrokenFilesystem:
    """Stands in for a filesystem whose network is down."""

    protocol = "broken"

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("connection refused")

        return fail


def test_fsspec_errors_become_backend_unavailable(memory_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s = FsspecArtifactStore(memory_url)
    digest, _ = s.put_bytes(b"before the outage")
    monkeypatch.setattr(s, "fs", BrokenFilesystem())
    for call in (
        lambda: s.put_bytes(b"during the outage"),
        lambda: s.open(digest),
        lambda: s.exists(digest),
        lambda: s.delete(digest),
        lambda: list(s.iter_digests()),
    ):
        with pytest.raises(BackendUnavailableError, match=memory_url) as err:
            call()
        assert err.value.http_status == 503
        assert "connection refused" in str(err.value)


def test_fsspec_unknown_protocol() -> None:
    with pytest.raises(InvalidArgumentError, match="nosuchproto"):
        FsspecArtifactStore("nosuchproto://bucket/x")


@pytest.mark.parametrize("atomic", [True, False])
def test_fsspec_upload_modes(memory_url: str, atomic: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Object stores upload straight to the final key; other filesystems go through tmp/ + mv.
    s = FsspecArtifactStore(memory_url, atomic_uploads=atomic)
    uploads: list[str] = []
    real_put_file = s.fs.put_file

    def spy(lpath: str, rpath: str, **kwargs: Any) -> Any:
        uploads.append(rpath)
        return real_put_file(lpath, rpath, **kwargs)

    monkeypatch.setattr(s.fs, "put_file", spy)
    data = os.urandom(MiB + 1)
    digest, _ = s.put_bytes(data)
    final = f"{s.root}/blobs/{digest[:2]}/{digest[2:]}"
    [target] = uploads
    if atomic:
        assert target == final
    else:
        assert target.startswith(f"{s.root}/tmp/") and target.endswith(".part")
    assert s.read_bytes(digest) == data
    assert s.fs.find(f"{s.root}/tmp") == []
    assert blob_files(s) == [final]

    s.put_bytes(data)  # deduplicated: nothing is uploaded again
    assert len(uploads) == 1


def test_fsspec_guesses_atomic_uploads_from_protocol(memory_url: str) -> None:
    assert FsspecArtifactStore(memory_url)._atomic_uploads is False


# -- opening by URL ---------------------------------------------------------------------------------


def test_open_artifact_store_picks_the_backend(tmp_path: Path, memory_url: str) -> None:
    plain = open_artifact_store(str(tmp_path / "plain"))
    assert type(plain) is LocalArtifactStore
    assert plain.root == tmp_path / "plain"
    assert (tmp_path / "plain" / "blobs").is_dir()

    by_url = open_artifact_store((tmp_path / "by-url").as_uri())
    assert type(by_url) is LocalArtifactStore
    assert by_url.url == (tmp_path / "by-url").as_uri()

    remote = open_artifact_store(memory_url)
    assert type(remote) is FsspecArtifactStore
    assert remote.url == memory_url
    digest, _ = remote.put_bytes(b"through the registry")
    assert open_artifact_store(memory_url).read_bytes(digest) == b"through the registry"


def test_list_blobs_reports_size_and_mtime(store: ArtifactStore) -> None:
    assert list(store.list_blobs()) == []
    before = time.time() - 5
    small = store.put_bytes(b"small")[0]
    large = store.put_bytes(b"x" * 70_000)[0]
    listed = {digest: (size, mtime) for digest, size, mtime in store.list_blobs()}
    assert set(listed) == {small, large}
    assert listed[small][0] == 5 and listed[large][0] == 70_000
    assert all(before <= mtime <= time.time() + 5 for _size, mtime in listed.values())
    store.delete(small)
    assert [d for d, _s, _m in store.list_blobs()] == [large]


def test_list_blobs_on_s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    use_test_keys(monkeypatch)
    s3 = open_artifact_store(f"s3://{s3_server.create_bucket()}/ws", {"endpoint_url": s3_server.endpoint_url})
    try:
        before = time.time() - 60
        digest = s3.put_bytes(b"on s3")[0]
        [(listed, size, mtime)] = list(s3.list_blobs())
        assert (listed, size) == (digest, 5)
        assert before <= mtime <= time.time() + 60
        s3.delete(digest)
        assert list(s3.list_blobs()) == []
    finally:
        s3.close()
