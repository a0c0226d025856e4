"""Artifacts in any fsspec filesystem: ``s3://bucket/prefix``, ``gs://…``, ``az://…``, ``memory://…``.

Same layout as the local store (see :mod:`..artifacts`). A put works in two steps:

1. the bytes are spooled to a local temporary file while being hashed. The key of a blob is its
   digest, which is known only after the last byte, and the source stream may not be seekable, so
   the data has to land somewhere first; a local file keeps memory flat for large artifacts.
2. if the blob exists already nothing is uploaded (deduplication costs one ``exists`` request).
   Otherwise it is uploaded so that readers never see part of it: on object stores an object becomes
   visible only when its upload completes, so it goes straight to its final key; on other
   filesystems (sftp, hdfs, fsspec's memory filesystem, …) a file is visible while being written,
   so it is uploaded to ``tmp/`` and then moved onto its final name.

Errors from the filesystem or the network become :class:`BackendUnavailableError` naming the URL.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import math
import os
import posixpath
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

import fsspec

from ...core.interfaces import ArtifactStore
from ...errors import BackendUnavailableError, InvalidArgumentError, MlwsError, NotFoundError
from . import BLOBS_DIR, TMP_DIR, blob_key, copy_and_hash, is_digest

__all__ = ["FsspecArtifactStore"]

# Protocols whose uploads are atomic (an object appears whole or not at all).
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"})


class FsspecArtifactStore(ArtifactStore):
    """Content-addressed blobs under any fsspec URL.

    ``spool_dir`` is where puts are staged locally (default: the system temporary folder).
    ``atomic_uploads`` says whether an upload is invisible until complete; by default it is guessed
    from the protocol (true for object stores). Other keyword arguments are fsspec storage options.
    """

    def __init__(
        self,
        url: str,
        *,
        spool_dir: str | os.PathLike[str] | None = None,
        atomic_uploads: bool | None = None,
        **storage_options: Any,
    ) -> None:
        self.url = url.rstrip("/")
        self._given_url = url  # as given: "memory://" must not lose its slashes
        self._storage_options = storage_options
        fs, root = self._connect()
        self._fs: Any = fs
        self._pid = os.getpid()
        self.root: str = root.rstrip("/")
        self._spool_dir = spool_dir
        if atomic_uploads is None:
            protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
            atomic_uploads = bool(protocols & _OBJECT_STORES)
        self._atomic_uploads = atomic_uploads

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def _connect(self) -> tuple[Any, str]:
        try:
            fs, root = fsspec.core.url_to_fs(self._given_url, **self._storage_options)
        except ImportError as exc:  # e.g. "Install s3fs to access S3"
            raise BackendUnavailableError(f"cannot open the artifact store {self.url}: {exc}") from exc
        except ValueError as exc:  # "Protocol not known: …" — a typo in the URL
            raise InvalidArgumentError(f"invalid artifact store URL {self.url!r}: {exc}") from exc
        except Exception as exc:  # credentials, unreachable endpoints, …
            raise BackendUnavailableError(f"cannot open the artifact store {self.url}: {exc}") from exc
        return fs, str(root)

    @property
    def fs(self) -> Any:
        """The fsspec filesystem, made again in a forked child: async filesystems (s3fs, gcsfs) are
        not fork-safe, and the dispatcher agent forks every job's supervisor from a warm process."""
        if self._pid != os.getpid():
            self._fs, _root = self._connect()
            self._pid = os.getpid()
        return self._fs

    @fs.setter
    def fs(self, value: Any) -> None:
        self._fs, self._pid = value, os.getpid()

    def _key(self, digest: str) -> str:
        return f"{self.root}/{blob_key(digest)}"

    @contextlib.contextmanager
    def _backend(self, action: str) -> Iterator[None]:
        """Translate whatever the filesystem raises into one error that names the store."""
        try:
            yield
        except (MlwsError, FileNotFoundError):
            raise  # already meaningful; callers turn FileNotFoundError into NotFoundError
        except Exception as exc:  # fsspec back ends raise anything: OSError, botocore, aiohttp, …
            raise BackendUnavailableError(
                f"artifact store {self.url} failed to {action}: {type(exc).__name__}: {exc}"
            ) from exc

    def _fresh_exists(self, key: str) -> bool:
        # Listing caches (s3fs, gcsfs) may predate a blob that another process wrote since; dropping
        # the entry is local and cheap, a stale "absent" would cause a spurious NotFoundError.
        self.fs.invalidate_cache(key)
        return bool(self.fs.exists(key))

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        fd, spool = tempfile.mkstemp(prefix="mlws-put-", suffix=".part", dir=self._spool_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size = copy_and_hash(stream, out)  # errors of the source stream pass as-is
            key = self._key(digest)
            with self._backend(f"store blob {digest}"):
                if not self._fresh_exists(key):
                    self._upload(spool, key)
            return digest, size
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(spool)

    def _upload(self, spool: str, key: str) -> None:
        if self._atomic_uploads:
            self.fs.put_file(spool, key)
            return
        tmp_key = f"{self.root}/{TMP_DIR}/{uuid.uuid4().hex}.part"
        try:
            self.fs.makedirs(posixpath.dirname(tmp_key), exist_ok=True)
            self.fs.put_file(spool, tmp_key)
            self.fs.makedirs(posixpath.dirname(key), exist_ok=True)
            # A concurrent put of the same bytes may have landed meanwhile: moving over it is
            # harmless, the content is identical.
            self.fs.mv(tmp_key, key)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp_key)
            raise

    def open(self, digest: str) -> BinaryIO:
        key = self._key(digest)
        with self._backend(f"read blob {digest}"):
            self.fs.invalidate_cache(key)
            try:
                stream = self.fs.open(key, "rb")
            except FileNotFoundError:
                raise NotFoundError(f"artifact blob {digest} not found in {self.url}") from None
            if isinstance(stream, io.BytesIO):
                # fsspec's memory filesystem hands every reader the same BytesIO (one shared
                # position); give each reader its own so concurrent reads cannot interfere.
                return io.BytesIO(stream.getvalue())
            return cast(BinaryIO, stream)

    def exists(self, digest: str) -> bool:
        key = self._key(digest)
        with self._backend(f"look up blob {digest}"):
            return self._fresh_exists(key)

    def delete(self, digest: str) -> None:
        key = self._key(digest)
        with self._backend(f"delete blob {digest}"), contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(key)

    def iter_digests(self) -> Iterator[str]:
        for digest, _size, _mtime in self.list_blobs():
            yield digest

    def list_blobs(self) -> Iterator[tuple[str, int, float]]:
        blobs = f"{self.root}/{BLOBS_DIR}"
        with self._backend("list blobs"):
            self.fs.invalidate_cache(blobs)
            try:
                found: dict[str, dict[str, Any]] = dict(self.fs.find(blobs, detail=True))
            except FileNotFoundError:
                return
        for key in sorted(found):
            # ``…/blobs/ab/cdef…``: only names that form a digest count (ignores stray objects).
            parts = key.rsplit("/", 2)
            if len(parts) == 3 and len(parts[1]) == 2 and is_digest(parts[1] + parts[2]):
                info = found[key]
                yield parts[1] + parts[2], int(info.get("size") or 0), _mtime(info)


def _mtime(info: dict[str, Any]) -> float:
    """When an object was written, from whichever field its filesystem reports (``inf`` if none)."""
    for field in ("mtime", "LastModified", "last_modified", "updated", "created", "timeCreated"):
        value = info.get(field)
        if value is None:
            continue
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        with contextlib.suppress(ValueError):
            return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    return math.inf
