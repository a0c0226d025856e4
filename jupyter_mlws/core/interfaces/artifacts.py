"""The artifact store interface: content-addressed blobs.

Implemented by ``stores/artifacts/`` (a local folder, or any fsspec URL). Blobs are shared between
runs, models and snapshots, so the metadata store keeps the names and this store keeps the bytes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

__all__ = ["ArtifactStore"]


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once, at import (before threads start).
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


class ArtifactStore(ABC):
    """Content-addressed blobs (sha256). Identical bytes are stored once; a blob never changes."""

    url: str

    @abstractmethod
    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Store the bytes read from ``stream``; return ``(sha256 hex digest, size)``. Atomic."""

    @abstractmethod
    def open(self, digest: str) -> BinaryIO:
        """A binary reader over the blob; :class:`NotFoundError` if it is absent."""

    @abstractmethod
    def exists(self, digest: str) -> bool: ...

    @abstractmethod
    def delete(self, digest: str) -> None:
        """Remove a blob (garbage collection only: blobs are shared between runs and models)."""

    @abstractmethod
    def iter_digests(self) -> Iterator[str]: ...

    @abstractmethod
    def list_blobs(self) -> Iterator[tuple[str, int, float]]:
        """Every blob as ``(digest, size, mtime)`` (seconds since the epoch; when it was written).

        A store that cannot tell when a blob was written reports ``inf``, which ``mlws gc`` never
        collects."""

    def refresh(self, digests: Iterable[str]) -> None:  # noqa: B027 - optional hook
        """Mark stored blobs as just written, so a put that found its bytes already stored protects
        them through ``mlws gc``'s grace period like a new blob. A store whose objects keep their
        write time (an object store) leaves this empty."""

    def collect(self, digest: str, written_before: float) -> bool:
        """Remove the blob if it was last written (or refreshed) at or before ``written_before``;
        whether it was removed. For ``mlws gc``, which has checked that nothing references it: stores
        that can, re-check the time atomically with the removal."""
        self.delete(digest)
        return True

    def collect_temp_files(self, written_before: float, dry_run: bool = False) -> list[tuple[str, int]]:
        """Remove (``dry_run``: only list) the temporary files writers killed mid-put left, last
        written at or before ``written_before``, as ``(name, size)``. A store without any (an object
        store writes in one request) has none."""
        return []

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        with open(path, "rb") as stream:
            return self.put_stream(stream)

    def put_file_unsynced(self, path: str | os.PathLike[str]) -> tuple[str, int, object]:
        """Like :meth:`put_file`, but the bytes may reach the disk only at :meth:`sync_puts` of the
        returned handle (a group commit makes one sync for many puts, issue 19). Nothing may name
        the blob in the metadata store before then. A store whose puts are durable when they return
        (an object store) makes this a plain put."""
        digest, size = self.put_file(path)
        return digest, size, None

    def sync_puts(self, handles: Sequence[object]) -> None:  # noqa: B027 - optional hook
        """Make the blobs of :meth:`put_file_unsynced` handles durable."""

    def missing(self, digests: Iterable[str]) -> set[str]:
        """Which of ``digests`` are not stored (stores may answer many at once cheaply)."""
        return {digest for digest in set(digests) if not self.exists(digest)}

    def put_files(self, paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, int]]:
        """Store several files; stores may make this faster than one ``put_file`` each."""
        return [self.put_file(path) for path in paths]

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        import hashlib
        import io

        digest = hashlib.sha256(data).hexdigest()
        self.refresh([digest])  # before looking: a blob gc removes meanwhile is then found absent
        if self.exists(digest):  # small and in memory: cheaper to look first than to write and drop
            return digest, len(data)
        return self.put_stream(io.BytesIO(data))

    def read_bytes(self, digest: str) -> bytes:
        with self.open(digest) as stream:
            return stream.read()

    def copy_to(self, digest: str, target: str | os.PathLike[str], durable: bool = True) -> None:
        """Write the blob to ``target`` atomically (temporary file in the same folder, then rename).

        ``durable=False`` skips the fsync, for scratch copies such as a job's working folder.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, self.open(digest) as src:
                shutil.copyfileobj(src, out, 1 << 20)
                if durable:
                    out.flush()
                    os.fsync(out.fileno())
            # mkstemp makes 0600 files; a downloaded file gets the usual permissions instead.
            os.chmod(tmp, 0o666 & ~_UMASK)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; most stores hold none."""
