"""Artifact stores: content-addressed blobs, named by the sha256 hex digest of their bytes.

Every back end uses the same layout under its root, so a folder copied to a bucket stays a valid
store::

    <root>/blobs/<first 2 hex digits>/<remaining 62 hex digits>   one immutable blob
    <root>/tmp/                                                    writes in progress (never read)

The two-character fan-out keeps directories small (256 of them) on filesystems that slow down with
huge folders. A blob appears under its digest name only once all of its bytes are written, so a
crash mid-write leaves at worst a stray file in ``tmp/`` and never a partial blob.

Back ends: :class:`LocalArtifactStore` (a folder; ``file://`` URLs and plain paths) and
:class:`FsspecArtifactStore` (any fsspec URL: ``s3://``, ``gs://``, ``memory://`` …). They are
imported lazily so that ``import jupyter_mlws`` never pays for fsspec.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, BinaryIO

from ...errors import InvalidArgumentError

if TYPE_CHECKING:
    from .fsspec_store import FsspecArtifactStore
    from .local import LocalArtifactStore

__all__ = [
    "BLOBS_DIR",
    "CHUNK_SIZE",
    "TMP_DIR",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "blob_key",
    "check_digest",
    "copy_and_hash",
    "is_digest",
]

#: Read and hash in 1 MiB pieces: big enough to amortise syscalls, small enough to never hold a
#: large artifact in memory.
CHUNK_SIZE = 1 << 20
BLOBS_DIR = "blobs"
TMP_DIR = "tmp"

# Exactly 64 lowercase hex digits. Digests become paths, so anything else (``../``, separators,
# upper case that would alias on case-insensitive filesystems) is refused before touching storage.
_DIGEST = re.compile(r"[0-9a-f]{64}")


def is_digest(value: object) -> bool:
    """Whether ``value`` is a sha256 hex digest (64 lowercase hex digits)."""
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def check_digest(digest: str) -> str:
    """Return ``digest`` if it is a sha256 hex digest, else raise :class:`InvalidArgumentError`."""
    if not is_digest(digest):
        raise InvalidArgumentError(
            f"invalid artifact digest {digest!r}: expected a sha256 digest of 64 lowercase hex digits"
        )
    return digest


def blob_key(digest: str) -> str:
    """The blob's path relative to the store root, with ``/`` separators (``blobs/ab/cdef…``)."""
    check_digest(digest)
    return f"{BLOBS_DIR}/{digest[:2]}/{digest[2:]}"


def copy_and_hash(stream: BinaryIO, out: BinaryIO) -> tuple[str, int]:
    """Copy ``stream`` to ``out`` chunk by chunk, hashing on the way; return ``(digest, size)``.

    One pass over the data: the bytes are never read twice, and short reads (pipes, sockets) are fine
    because only an empty read means the end.
    """
    sha = hashlib.sha256()
    size = 0
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            break
        if not isinstance(chunk, bytes | bytearray | memoryview):
            # A text stream would fail deep inside hashlib; say what to do instead.
            raise InvalidArgumentError(
                f"artifact streams must be binary (open files with 'rb'); read() returned {type(chunk).__name__}"
            )
        sha.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def __getattr__(name: str) -> Any:
    # Lazy re-exports (PEP 562): the classes live in modules that import optional machinery.
    if name == "LocalArtifactStore":
        from .local import LocalArtifactStore

        return LocalArtifactStore
    if name == "FsspecArtifactStore":
        from .fsspec_store import FsspecArtifactStore

        return FsspecArtifactStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
