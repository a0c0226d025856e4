"""The default artifact store: a folder on the local filesystem (layout in :mod:`..artifacts`).

How a put stays atomic and cheap:

1. the bytes stream into a fresh temporary file in ``<root>/tmp/`` while being hashed, so the data is
   read exactly once and the temporary file is on the same filesystem as the blobs;
2. the file is fsync'ed ("nothing acknowledged is ever lost", DESIGN §5) and made read-only, because a
   blob never changes — and readable by its owner only (0400; folders 0700), because blobs hold
   run files, models and snapshots of code (issue 13);
3. if a blob with that digest exists already the temporary file is simply dropped (deduplication
   costs one ``stat``); otherwise ``os.replace`` moves it into place in one atomic step and the folder
   is fsync'ed so the new name survives a power cut.

Concurrent puts of the same bytes, from threads or processes, each write their own temporary file and
rename it onto the same name: both carry identical bytes, so whichever lands last is still correct.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ...core.interfaces import ArtifactStore
from ...errors import BackendUnavailableError, InvalidArgumentError, NotFoundError
from . import BLOBS_DIR, TMP_DIR, blob_key, copy_and_hash, is_digest

__all__ = ["LocalArtifactStore"]

_READ_ONLY = stat.S_IRUSR  # 0o400: immutable, and private to the owner
_PRIVATE_DIR = 0o700


def _path_from_url(url: str | os.PathLike[str]) -> Path:
    """A plain path, or a ``file://`` URL (``file:///abs``, ``file://localhost/abs``), as a Path."""
    text = os.fspath(url)
    parts = urlsplit(text)
    if parts.scheme.lower() != "file":
        return Path(text)  # a plain path (including Windows ``C:\\…``, whose "scheme" is the drive)
    if parts.netloc not in ("", "localhost"):
        raise InvalidArgumentError(
            f"artifact_url {text!r} names the remote host {parts.netloc!r}; a file:// URL must be "
            f"local (file:///path) — use an fsspec URL such as sftp:// for remote folders"
        )
    return Path(url2pathname(parts.path))


def _fsync_dir(path: Path) -> None:
    # Makes a rename durable on POSIX; Windows cannot open folders, and NTFS journals renames anyway.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_all(root: Path, files: Sequence[Path]) -> None:
    """Make ``files`` (and their folder entries) durable: one syncfs(2) on Linux, else fsync each."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(root, os.O_RDONLY)
            try:
                if libc.syncfs(fd) == 0:
                    return
            finally:
                os.close(fd)
        except (OSError, AttributeError):
            pass
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for folder in {p.parent for p in files} | {root / BLOBS_DIR}:
        _fsync_dir(folder)


def _unlink(path: str | Path) -> None:
    """Remove a file even if it is read-only (Windows refuses to delete read-only files)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except PermissionError:
        os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
        os.unlink(path)


class LocalArtifactStore(ArtifactStore):
    """Content-addressed blobs in a local folder, given as a path or a ``file://`` URL."""

    def __init__(self, url: str | os.PathLike[str]) -> None:
        self.root = _path_from_url(url).expanduser().absolute()
        self.url = self.root.as_uri()
        self._blobs = self.root / BLOBS_DIR
        self._tmp = self.root / TMP_DIR
        try:
            # Explicit modes, not the umask (a kernel shares it with the user's code).
            self.root.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
            self._blobs.mkdir(mode=_PRIVATE_DIR, exist_ok=True)
            self._tmp.mkdir(mode=_PRIVATE_DIR, exist_ok=True)
        except OSError as exc:
            raise BackendUnavailableError(f"cannot create the artifact store at {self.root}: {exc}") from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"

    def _path(self, digest: str) -> Path:
        return self.root / blob_key(digest)

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        digest, size, _final = self._put(stream, sync=True)
        return digest, size

    def put_files(self, paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, int]]:
        """Store many files with one flush to disk at the end instead of one fsync per file.

        A snapshot of thousands of small files is dominated by fsync otherwise; the batch is
        acknowledged (returned) only once everything it wrote is durable.
        """
        results: list[tuple[str, int]] = []
        written: list[Path] = []
        for path in paths:
            with open(path, "rb") as stream:
                digest, size, final = self._put(stream, sync=False)
            results.append((digest, size))
            if final is not None:
                written.append(final)
        if written:
            _sync_all(self.root, written)
        return results

    def put_file_unsynced(self, path: str | os.PathLike[str]) -> tuple[str, int, object]:
        with open(path, "rb") as stream:
            digest, size, _final = self._put(stream, sync=False)
        # The blob's path even when it was already stored: its writer may not have synced it yet.
        return digest, size, self._path(digest)

    def sync_puts(self, handles: Sequence[object]) -> None:
        written = [h for h in handles if isinstance(h, Path)]
        if written:
            _sync_all(self.root, written)

    def _put(self, stream: BinaryIO, sync: bool) -> tuple[str, int, Path | None]:
        """Stage, hash and move into place; returns the new blob's path (None if deduplicated)."""
        fd, tmp = tempfile.mkstemp(prefix="put-", suffix=".part", dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size = copy_and_hash(stream, out)
                if sync:
                    out.flush()
                    os.fsync(out.fileno())
            final = self._path(digest)
            # A put of stored bytes counts as fresh for `mlws gc`; refreshed before looking, so a blob
            # gc takes meanwhile is found absent and written again.
            self.refresh([digest])
            if final.exists():
                if sync:  # it may be a put not synced yet (a group commit's, issue 19): cheap if it is
                    _fsync_dir(final)  # fsyncs a file as well as a folder
                return digest, size, None  # deduplicated: the finally clause drops the temporary file
            if not final.parent.is_dir():
                final.parent.mkdir(mode=_PRIVATE_DIR, exist_ok=True)
                if sync:
                    _fsync_dir(self._blobs)  # the new fan-out folder must survive a power cut too
            os.chmod(tmp, _READ_ONLY)  # read-only before it gets its name: no writable window
            try:
                os.replace(tmp, final)
            except PermissionError:
                # Windows will not replace a read-only file: a concurrent put of the same bytes won.
                if not final.exists():
                    raise
            if sync:
                _fsync_dir(final.parent)
            return digest, size, final
        finally:
            _unlink(tmp)

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self._path(digest), "rb")  # the caller closes it
        except FileNotFoundError:
            raise NotFoundError(f"artifact blob {digest} not found in {self.url}") from None

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def missing(self, digests: Iterable[str]) -> set[str]:
        # Plain strings and os.path: a snapshot re-capture asks about thousands of blobs at once.
        base = os.fspath(self._blobs)
        isfile = os.path.isfile
        return {d for d in set(digests) if not (is_digest(d) and isfile(f"{base}/{d[:2]}/{d[2:]}"))}

    def delete(self, digest: str) -> None:
        _unlink(self._path(digest))

    def iter_digests(self) -> Iterator[str]:
        # Sorted for stable output; only names that form a valid digest count (ignores e.g. .DS_Store).
        for fan in sorted(self._blobs.iterdir()):
            if len(fan.name) != 2 or not fan.is_dir():
                continue
            for blob in sorted(fan.iterdir()):
                if is_digest(fan.name + blob.name):
                    yield fan.name + blob.name

    def refresh(self, digests: Iterable[str]) -> None:
        for digest in digests:
            # Best effort: a blob gone meanwhile, or a store this process may read but not write (a
            # read-only mount, another owner), is simply not refreshed.
            with contextlib.suppress(OSError):
                os.utime(self._path(digest))

    def collect(self, digest: str, written_before: float) -> bool:
        """Take the blob out of its name first (one rename), then look at its time: a put that
        refreshed it before the rename is seen (the blob goes back), one after finds it absent and
        writes it again. Either way the bytes a registration names stay stored."""
        final = self._path(digest)
        claimed = self._tmp / f"gc-{digest}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.rename(final, claimed)
        except FileNotFoundError:
            return False
        if claimed.stat().st_mtime > written_before:
            if final.exists():  # written again meanwhile: identical bytes
                _unlink(claimed)
            else:
                os.replace(claimed, final)
            return False
        _unlink(claimed)
        return True

    def list_blobs(self) -> Iterator[tuple[str, int, float]]:
        for digest in self.iter_digests():
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                info = self._path(digest).stat()
                yield digest, info.st_size, info.st_mtime

    def remove_stale_temp_files(self, older_than: float = 24 * 3600) -> int:
        """Delete temporary files left in ``tmp/`` by writers killed mid-put; return how many.

        Only files older than ``older_than`` seconds go, so puts still in progress are left alone.
        Meant for garbage collection (``mlws gc``); a stray temporary file is never read.
        """
        return len(self.collect_temp_files(time.time() - older_than))

    def collect_temp_files(self, written_before: float, dry_run: bool = False) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for entry in sorted(self._tmp.iterdir()):
            with contextlib.suppress(FileNotFoundError):  # a put finished (renamed it) meanwhile
                info = entry.lstat()
                if stat.S_ISDIR(info.st_mode):
                    continue  # not a put's: puts write files
                # Strictly older: a put in progress keeps its file's time fresh as it writes.
                if info.st_mtime < written_before:
                    if not dry_run:
                        _unlink(entry)
                    found.append((entry.name, info.st_size))
        return found
