"""True content fingerprints for a set of files: a manifest (relative path, size, sha256 per file) and
one digest, and the check that a later read still sees those bytes.

Inputs: a local folder, a file, a glob, or a list of them; or paths on an fsspec filesystem
(``memory://``, ``s3://`` via s3fs, …), given as URLs or as ``fs=`` plus paths.

Local files go through a stat cache (:mod:`jupyter_mlws.core.statcache`, the one snapshots use,
in its own file: :func:`stat_cache_path`): an entry is keyed on the file's path and trusted only while
its size, mtime_ns, inode and ctime_ns are unchanged. An editor that writes a file in place and puts
its mtime back (``os.utime``) still moves its ctime, so the file is hashed again — the case where a
cache keyed on inode, size and mtime alone returns the old digest. The racy-window rule applies to
both timestamps: a file whose mtime or ctime was less than ``RACY_WINDOW_NS`` old when it was hashed
is not cached (unproven), and is read again next time.

Remote files are always read: the digest is a sha256 of the bytes, and object stores offer nothing
local to key a cache on that proves the bytes are the same (an ETag is not a content hash for
multipart uploads, and not every store has one). Nothing is cached for them.

Folders named ``.mlws`` (a workspace's own state: its database, stat caches, an old credentials file)
and ``.git`` are never walked, as snapshots leave them out: registering a project folder that holds the
workspace must neither copy its secrets into every download and job nor fingerprint a database that
changes with the registration itself (a version that could never be read back).

Symlinks (local): a link is followed, file or folder, and recorded under the link's own path with the
bytes it points to — the manifest lists what a reader of the folder sees. A folder already on the
current path is not entered again (no loops); a dangling link is an error naming it.

Speed: files are hashed on a thread pool (hashlib releases the GIL while hashing a buffer) with a
1 MiB read buffer per thread, biggest files first.
"""

from __future__ import annotations

import functools
import glob as _glob
import hashlib
import json
import os
import posixpath
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..core.statcache import StatCache
from ..errors import BackendUnavailableError, DatasetChangedError, InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "BUFFER_SIZE",
    "DataManifest",
    "FileEntry",
    "Fingerprint",
    "fingerprint",
    "is_local_fs",
    "list_files",
    "stat_cache_path",
    "verify",
]

BUFFER_SIZE = 1024 * 1024
MANIFEST_FORMAT = "mlws-data-manifest/1"
_GLOB_MAGIC = frozenset("*?[")
#: Folders a walk never enters (the snapshot rule: a workspace's state and git's).
NEVER_WALKED = frozenset({".mlws", ".git"})

Progress = Callable[[int, int], None]  # (bytes hashed so far, bytes to hash)
_now_ns = time.time_ns  # the clock the racy-window rule reads (a seam for tests)


def stat_cache_path(workspace_dir: str | os.PathLike[str]) -> Path:
    """The workspace's dataset stat cache, beside the snapshot one (``workspace_dir`` is the
    workspace's ``.mlws`` folder). Written 0600 in a 0700 folder."""
    return Path(workspace_dir) / "cache" / "dataset-stat-cache.json"


# -- the manifest -----------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True, slots=True)  # slots: half the cost to make, one per file
class FileEntry:
    path: str  # relative, "/"-separated
    size: int
    sha256: str


def _by_path(entry: FileEntry) -> str:
    return entry.path


def _is_plain_relative(path: str) -> bool:
    # No part is "", "." or "..": with a "/" added at both ends, no "//", "/./" or "/../" (three substring
    # searches, not a split per path: this runs for every file of every fingerprint).
    wrapped = f"/{path}/"
    return "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped


@dataclass(frozen=True)
class DataManifest:
    """The files of a dataset version, sorted by path, and their digest.

    The digest is the sha256 of the canonical encoding (:meth:`canonical_bytes`): the UTF-8 JSON text,
    without spaces, of ``["mlws-data-manifest/1", [[path, size, sha256], ...]]`` with the entries
    sorted by path (code point order) — so it depends on the files and their bytes only, never on the
    order they were listed or found in.
    """

    entries: tuple[FileEntry, ...]

    def __post_init__(self) -> None:
        # A manifest read back from storage could be tampered with: a path that leaves its root would make
        # verify() read files the version never held.
        outside = [e.path for e in self.entries if not _is_plain_relative(e.path)]
        if outside:
            raise InvalidArgumentError(
                f"a dataset manifest lists {', '.join(repr(p) for p in outside[:5])}: manifest paths are relative, "
                "'/'-separated and stay below their root (no '..', no leading '/', no empty parts)"
            )
        ordered = tuple(sorted(self.entries, key=_by_path))
        paths = [e.path for e in ordered]
        if len(set(paths)) != len(paths):
            dupes = sorted({p for p in paths if paths.count(p) > 1})
            raise InvalidArgumentError(f"a manifest lists {', '.join(dupes[:5])} more than once")
        object.__setattr__(self, "entries", ordered)

    def canonical_bytes(self) -> bytes:
        rows = [[e.path, e.size, e.sha256] for e in self.entries]
        return json.dumps([MANIFEST_FORMAT, rows], separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @functools.cached_property
    def digest(self) -> str:
        # Computed once: the entries of a frozen manifest never change, and registering reads it often.
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @property
    def file_count(self) -> int:
        return len(self.entries)

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "digest": self.digest,
            "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in self.entries],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataManifest:
        """The manifest ``to_dict`` wrote; its stored digest must match its entries."""
        try:
            entries = tuple(FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in data["files"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"not a dataset manifest ({type(exc).__name__}: {exc})") from None
        manifest = cls(entries)
        stored = data.get("digest")
        if stored is not None and stored != manifest.digest:
            raise InvalidArgumentError(
                f"a dataset manifest's digest {stored} does not match its entries ({manifest.digest}): "
                "the stored manifest was altered"
            )
        return manifest


@dataclass(frozen=True)
class Fingerprint:
    """What :func:`fingerprint` found: the manifest, the folder its paths are relative to (a local
    path, or a path on ``fs``), and how much was read this time (the rest came from the stat cache)."""

    manifest: DataManifest
    root: str
    fs: AbstractFileSystem | None
    hashed_files: int
    hashed_bytes: int

    @property
    def digest(self) -> str:
        return self.manifest.digest


# -- hashing ----------------------------------------------------------------------------------------------
_buffers = threading.local()


def _buffer() -> memoryview:
    view: memoryview | None = getattr(_buffers, "view", None)
    if view is None:
        view = _buffers.view = memoryview(bytearray(BUFFER_SIZE))
    return view


def _hash_local(path: str) -> tuple[str, int]:
    """``(sha256, size)`` of a local file's bytes. The seam tests count calls through."""
    sha = hashlib.sha256()
    view = _buffer()
    size = 0
    with open(path, "rb", buffering=0) as stream:
        while n := stream.readinto(view):
            sha.update(view[:n])
            size += n
    return sha.hexdigest(), size


def _hash_remote(fs: AbstractFileSystem, path: str) -> tuple[str, int]:
    """``(sha256, size)`` of a file on ``fs``, streamed."""
    sha = hashlib.sha256()
    size = 0
    with fs.open(path, "rb") as stream:
        while chunk := stream.read(4 * BUFFER_SIZE):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def _workers(workers: int | None) -> int:
    if workers is not None:
        if workers < 1:
            raise InvalidArgumentError(f"workers must be at least 1, not {workers}")
        return workers
    return min(16, 2 * (os.cpu_count() or 1))


def _hash_all(
    jobs: Sequence[tuple[int, Callable[[], tuple[str, int]]]], workers: int, progress: Progress | None
) -> list[tuple[str, int]]:
    """Run the hash jobs ``(expected size, call)`` in parallel, biggest first; results in input order."""
    results: list[tuple[str, int]] = [("", 0)] * len(jobs)
    if not jobs:
        return results
    total = sum(size for size, _ in jobs)
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0])
    done = 0
    lock = threading.Lock()

    def run(i: int) -> None:
        nonlocal done
        results[i] = jobs[i][1]()
        if progress is not None:
            with lock:
                done += results[i][1]
                progress(done, total)

    if workers == 1 or len(jobs) == 1:
        for i in order:
            run(i)
        return results
    # One task per thread, each taking the next file from the shared biggest-first order (balanced
    # for skewed sizes, and no future per file: thousands of small files are common).
    pending = iter(order)
    take = threading.Lock()

    def drain() -> None:
        while True:
            with take:
                i = next(pending, None)
            if i is None:
                return
            run(i)

    n = min(workers, len(jobs))
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="mlws-hash") as pool:
        for future in [pool.submit(drain) for _ in range(n)]:
            future.result()
    return results


# -- listing ----------------------------------------------------------------------------------------------
Source = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def _has_magic(text: str) -> bool:
    return any(c in _GLOB_MAGIC for c in text)


def _glob_base(pattern: str, sep: str) -> str:
    """The folder part of a glob before its first wildcard."""
    parts = pattern.split(sep)
    base: list[str] = []
    for part in parts[:-1]:
        if _has_magic(part):
            break
        base.append(part)
    return sep.join(base) or (sep if pattern.startswith(sep) else ".")


def _as_list(source: Source) -> list[str]:
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    out = [os.fspath(s) for s in items]
    if not out:
        raise InvalidArgumentError("nothing to fingerprint: the list of files is empty; pass a folder, files or a glob")
    return out


def _is_remote(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def _strip_file_url(text: str) -> str:
    return text[len("file://") :] if text.startswith("file://") else text


class _Local(NamedTuple):  # a tuple: one is made per file, and a tuple is the cheapest to make
    rel: str
    path: str  # as found (a link keeps its own path)
    st: os.stat_result  # of what it points to


# Each folder is listed through a descriptor where the platform allows it (POSIX), so that each file's
# stat resolves its name in that folder, not its whole path again: the stat of every file is most of an
# unchanged fingerprint.
_SCANDIR_FD = os.scandir in os.supports_fd
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


def _walk_local(root: str, into: dict[str, _Local], base: str) -> None:
    """Every file below ``root`` (links followed, loops not), keyed by its path relative to ``base``."""
    top = _relative(root, base, allow_root=True)
    st = os.stat(root)
    stack: list[tuple[str, str, frozenset[tuple[int, int]]]] = [(root, top, frozenset({(st.st_dev, st.st_ino)}))]
    while stack:
        folder, rel, seen = stack.pop()
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        fd: int | None = None
        try:
            fd = os.open(folder, _OPEN_DIR) if _SCANDIR_FD else None
            entries = list(os.scandir(folder if fd is None else fd))
        except PermissionError as exc:
            if fd is not None:
                os.close(fd)
            raise InvalidArgumentError(f"cannot read the folder {folder}: {exc.strerror}") from None
        try:
            for entry in entries:
                name = entry.name
                path = prefix + name
                child = f"{rel}/{name}" if rel else name
                try:
                    st = entry.stat()  # follows links; relative to the folder's descriptor where there is one
                except FileNotFoundError:
                    raise InvalidArgumentError(
                        f"{path} is a symlink to {os.readlink(path)!r}, which does not exist: "
                        "remove the link or restore its target"
                    ) from None
                if entry.is_dir():
                    if name in NEVER_WALKED:
                        continue
                    ident = (st.st_dev, st.st_ino)
                    if ident not in seen:  # a link back to a folder being walked: a loop
                        stack.append((path, child, seen | {ident}))
                elif entry.is_file():
                    if child in into:  # a second file under this name (through a link): _add checks it
                        _add(into, _Local(child, path, st))
                    else:
                        into[child] = _Local(child, path, st)
        finally:
            if fd is not None:
                os.close(fd)


def _relative(path: str, base: str, allow_root: bool = False) -> str:
    """``path`` relative to ``base``, "/"-separated ("" for the base itself, where allowed)."""
    rel = os.path.relpath(path, base)
    if rel == os.curdir and allow_root:
        return ""
    if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        raise InvalidArgumentError(f"{path} is outside the fingerprint's root folder {base}: pass a root that holds it")
    return rel.replace(os.sep, "/")


def _add(into: dict[str, _Local], found: _Local) -> None:
    known = into.get(found.rel)
    if known is not None and os.path.realpath(known.path) != os.path.realpath(found.path):
        raise InvalidArgumentError(
            f"two different files would be listed as {found.rel!r}: {known.path} and {found.path}"
        )
    into[found.rel] = found


def _list_local(items: list[str], root: str | None) -> tuple[str, list[_Local]]:
    plans: list[tuple[str, str, str]] = []  # (kind, path, base)
    for raw in items:
        item = os.path.abspath(os.path.expanduser(_strip_file_url(raw)))
        if os.path.isdir(item):  # an existing name is taken as it is, even with "[" in it
            plans.append(("dir", item, item))
        elif os.path.isfile(item):
            plans.append(("file", item, os.path.dirname(item)))
        elif _has_magic(item):
            plans.append(("glob", item, _glob_base(item, os.sep)))
        elif os.path.islink(item):
            raise InvalidArgumentError(f"{raw} is a symlink to {os.readlink(item)!r}, which does not exist")
        else:
            raise NotFoundError(f"{raw} does not exist: pass an existing folder, file or glob")
    if root is not None:
        base = os.path.abspath(os.path.expanduser(_strip_file_url(root)))
    elif len(plans) == 1:
        base = plans[0][2]
    else:
        base = os.path.commonpath([b for _, _, b in plans])
    found: dict[str, _Local] = {}
    for kind, item, _ in plans:
        if kind == "dir":
            _walk_local(item, found, base)
        elif kind == "file":
            _add(found, _Local(_relative(item, base), item, os.stat(item)))
        else:
            walked: list[str] = []  # folders matched and walked ("dir/**" matches every folder below too)
            for match in sorted(_glob.glob(item, recursive=True)):
                try:
                    st = os.stat(match)
                except FileNotFoundError:
                    raise InvalidArgumentError(f"{match} is a symlink to a file that does not exist") from None
                if os.path.isdir(match):
                    if not any(match.startswith(w + os.sep) for w in walked):
                        _walk_local(match, found, base)
                        walked.append(match)
                else:
                    _add(found, _Local(_relative(match, base), match, st))
    if not found:
        raise InvalidArgumentError(
            f"{', '.join(items[:5])} matches no files: check the path or the pattern "
            "(a glob needs '**' to reach into subfolders)"
        )
    return base, list(found.values())


def _list_remote(fs: AbstractFileSystem, items: list[str], root: str | None) -> tuple[str, dict[str, str]]:
    """``(root, {rel: path})`` of the files the items name on ``fs``."""
    plans: list[tuple[str, str, str]] = []
    for raw in items:
        item = fs._strip_protocol(raw).rstrip("/") or "/"
        if fs.isdir(item):
            plans.append(("dir", item, item))
        elif fs.isfile(item):
            plans.append(("file", item, posixpath.dirname(item)))
        elif _has_magic(item):
            plans.append(("glob", item, _glob_base(item, "/")))
        else:
            raise NotFoundError(f"{raw} does not exist on {_fs_name(fs)}: pass an existing folder, file or glob")
    if root is not None:
        base = fs._strip_protocol(root).rstrip("/") or "/"
    elif len(plans) == 1:
        base = plans[0][2]
    else:
        base = posixpath.commonpath([b for _, _, b in plans])
    files: dict[str, str] = {}
    for kind, item, _ in plans:
        matches = [item] if kind == "file" else fs.find(item) if kind == "dir" else fs.glob(item)
        for match in matches:
            if kind == "glob" and fs.isdir(match):
                paths = fs.find(match)
            else:
                paths = [match]
            for path in paths:
                path = fs._strip_protocol(path)
                rel = posixpath.relpath(path, base) if base != "/" else path.lstrip("/")
                if rel in (".", "..") or rel.startswith("../"):
                    raise InvalidArgumentError(
                        f"{path} is outside the fingerprint's root folder {base}: pass a root that holds it"
                    )
                files[rel] = path
    if not files:
        raise InvalidArgumentError(
            f"{', '.join(items[:5])} matches no files on {_fs_name(fs)}: check the path or the pattern "
            "(a glob needs '**' to reach into subfolders)"
        )
    return base, files


def _fs_name(fs: AbstractFileSystem) -> str:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return f"{protocol}://"


def _resolve_fs(items: list[str], fs: AbstractFileSystem | None) -> AbstractFileSystem | None:
    """The filesystem the items live on: ``fs`` if given, the URLs' one if remote, else None (local)."""
    if fs is not None:
        return None if is_local_fs(fs) else fs
    remote = [i for i in items if _is_remote(i)]
    if not remote:
        return None
    if len(remote) != len(items):
        raise InvalidArgumentError("mix of local paths and URLs: fingerprint them separately")
    from fsspec.core import url_to_fs

    try:
        found, _ = url_to_fs(remote[0])
    except ImportError as exc:  # the protocol's package (s3fs, gcsfs, adlfs …) is not installed
        raise BackendUnavailableError(f"cannot read {remote[0]}: {exc}") from None
    except ValueError as exc:  # fsspec: "Protocol not known: …"
        raise InvalidArgumentError(f"cannot read {remote[0]}: {exc}") from None
    protocols = {i.split("://", 1)[0] for i in remote}
    if len(protocols) > 1:
        raise InvalidArgumentError(f"files on different filesystems ({', '.join(sorted(protocols))}): one at a time")
    return found


def is_local_fs(fs: AbstractFileSystem) -> bool:
    """Whether ``fs`` is fsspec's local filesystem (its paths are this machine's files)."""
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return "file" in protocols or "local" in protocols


# -- fingerprint and verify -------------------------------------------------------------------------------
def fingerprint(
    source: Source,
    *,
    fs: AbstractFileSystem | None = None,
    root: str | os.PathLike[str] | None = None,
    cache_file: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Fingerprint:
    """The manifest of the files ``source`` names: a folder (every file below it), a file, a glob
    (``**`` reaches into subfolders; names starting with "." are left out, as by the shell), a URL of
    any of those, or a list of them.

    Paths in the manifest are relative to ``root``: by default the folder itself, a glob's folder
    before its first wildcard, a file's folder, or for a list the folder those have in common.
    ``fs`` (an fsspec filesystem) reads the paths there. ``cache_file`` (local files only; see
    :func:`stat_cache_path`) lets unchanged files skip hashing. ``progress(done, total)`` is called
    with the bytes hashed so far after each file.
    """
    items = _as_list(source)
    remote_fs = _resolve_fs(items, fs)
    n = _workers(workers)
    if remote_fs is not None:
        base, files = _list_remote(remote_fs, items, None if root is None else os.fspath(root))
        rels = sorted(files)
        sizes = dict.fromkeys(rels, 0)
        if progress is not None:  # a total to report against: one metadata call per file
            for rel in rels:
                sizes[rel] = int(remote_fs.size(files[rel]) or 0)
        jobs = [(sizes[rel], _bind_remote(remote_fs, files[rel])) for rel in rels]
        hashed = _hash_all(jobs, n, progress)
        entries = [FileEntry(rel, size, digest) for rel, (digest, size) in zip(rels, hashed, strict=True)]
        return Fingerprint(DataManifest(tuple(entries)), base, remote_fs, len(rels), sum(s for _, s in hashed))

    base, found = _list_local(items, None if root is None else os.fspath(root))
    digests, hashed_files, hashed_bytes = _digests_local([(f.path, f.st) for f in found], cache_file, n, progress)
    entries = [FileEntry(f.rel, size, digest) for f, (digest, size) in zip(found, digests, strict=True)]
    return Fingerprint(DataManifest(tuple(entries)), base, None, hashed_files, hashed_bytes)


def list_files(
    source: Source, *, fs: AbstractFileSystem | None = None, root: str | os.PathLike[str] | None = None
) -> tuple[str, list[tuple[str, str]], AbstractFileSystem | None]:
    """The files ``source`` names, as :func:`fingerprint` would find them, without reading them:
    ``(root, [(relative path, path)] sorted by relative path, the remote filesystem or None)``."""
    items = _as_list(source)
    remote_fs = _resolve_fs(items, fs)
    if remote_fs is not None:
        base, files = _list_remote(remote_fs, items, None if root is None else os.fspath(root))
        return base, sorted(files.items()), remote_fs
    base, found = _list_local(items, None if root is None else os.fspath(root))
    return base, sorted((f.rel, f.path) for f in found), None


def _bind_remote(fs: AbstractFileSystem, path: str) -> Callable[[], tuple[str, int]]:
    return lambda: _hash_remote(fs, path)


def _bind_local(path: str) -> Callable[[], tuple[str, int]]:
    return lambda: _hash_local(path)


def _digests_local(
    files: Sequence[tuple[str, os.stat_result]],
    cache_file: str | os.PathLike[str] | None,
    workers: int,
    progress: Progress | None,
) -> tuple[list[tuple[str, int]], int, int]:
    """``[(sha256, size)]`` for each ``(path, stat)``, from the stat cache where it is proven, else read;
    and how many files and bytes were read."""
    cache = StatCache(cache_file)
    out: list[tuple[str, int]] = [("", 0)] * len(files)
    todo: list[int] = []
    lookup = cache.lookup  # once per file: the loop is most of an unchanged fingerprint after the walk
    for i, (path, st) in enumerate(files):
        digest = lookup(path, st)
        if digest is None:
            todo.append(i)
        else:
            out[i] = (digest, st.st_size)
    hashed_at = _now_ns()
    results = _hash_all([(files[i][1].st_size, _bind_local(files[i][0])) for i in todo], workers, progress)
    for i, (digest, size) in zip(todo, results, strict=True):
        path, st = files[i]
        out[i] = (digest, size)
        # Trusted next time only if nothing moved while it was read and it is older than the racy window.
        cache.record(path, st, digest, size, hashed_at, ctime_racy=True)
    cache.save()
    return out, len(todo), sum(size for _, size in results)


def verify(
    manifest: DataManifest,
    root_or_fs: str | os.PathLike[str] | tuple[AbstractFileSystem, str],
    validate: bool = True,
    *,
    cache_file: str | os.PathLike[str] | None = None,
    workers: int | None = None,
) -> None:
    """Check that the files of ``manifest`` below ``root_or_fs`` (a local folder, a URL, or
    ``(fs, root)``) still hold the fingerprinted bytes; local files through the stat cache.

    Raises :class:`DatasetChangedError` naming the first changed or missing file (by path), its expected
    and found digests, and how many others differ. Files below the root that the manifest does not
    list are not looked at (a reader of this version does not read them). ``validate=False`` skips
    the check (nothing is read).
    """
    if not validate:
        return
    n = _workers(workers)
    if isinstance(root_or_fs, tuple):
        fs, root = root_or_fs
        remote: AbstractFileSystem | None = None if is_local_fs(fs) else fs
        root = fs._strip_protocol(root) if remote is not None else _strip_file_url(root)
    else:
        text = os.fspath(root_or_fs)
        remote = _resolve_fs([text], None)
        root = remote._strip_protocol(text) if remote is not None else _strip_file_url(text)
    if remote is not None:
        base = root.rstrip("/") or "/"
        found = _found_remote(remote, base, manifest, n)
        where = f"{_fs_name(remote)}{base.lstrip('/')}"
    else:
        base = os.path.abspath(os.path.expanduser(root))
        found = _found_local(base, manifest, cache_file, n)
        where = base
    changed = [(e, got) for e, got in zip(manifest.entries, found, strict=True) if got != e.sha256]
    if changed:
        entry, got = changed[0]
        others = f" ({len(changed) - 1} more file(s) differ too)" if len(changed) > 1 else ""
        what = (
            f"is missing (expected sha256 {entry.sha256}, found no file)"
            if got is None
            else f"changed since it was fingerprinted: expected sha256 {entry.sha256}, found {got}"
        )
        raise DatasetChangedError(
            f"dataset file {entry.path!r} in {where} {what}{others}. The version's bytes are not there "
            "any more: register the data again for a new version, or read with validate=False to accept "
            "the files as they are",
            path=entry.path,
            expected=entry.sha256,
            found=got,
        )


def _found_local(
    base: str, manifest: DataManifest, cache_file: str | os.PathLike[str] | None, workers: int
) -> list[str | None]:
    present: list[tuple[int, str, os.stat_result]] = []
    found: list[str | None] = [None] * manifest.file_count
    for i, entry in enumerate(manifest.entries):
        path = os.path.join(base, *entry.path.split("/"))
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if os.path.isdir(path):
            continue  # a folder where a file was: missing
        present.append((i, path, st))
    digests, _, _ = _digests_local([(p, st) for _, p, st in present], cache_file, workers, None)
    for (i, _, _), (digest, _) in zip(present, digests, strict=True):
        found[i] = digest
    return found


def _found_remote(fs: AbstractFileSystem, base: str, manifest: DataManifest, workers: int) -> list[str | None]:
    paths = [posixpath.join(base, e.path) for e in manifest.entries]
    present = [i for i, p in enumerate(paths) if fs.isfile(p)]
    results = _hash_all([(0, _bind_remote(fs, paths[i])) for i in present], workers, None)
    found: list[str | None] = [None] * manifest.file_count
    for i, (digest, _) in zip(present, results, strict=True):
        found[i] = digest
    return found
