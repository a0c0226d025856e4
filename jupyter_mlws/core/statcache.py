"""A stat cache: a file's sha256 remembered under its stat key, so an unchanged file is not read again.

Shared by snapshots (``snapshots/capture.py``) and dataset fingerprints (``data/fingerprint.py``),
each with its own cache file under the workspace's ``.mlws/`` folder.

An entry is ``path -> [size, mtime_ns, inode, ctime_ns, sha256]`` and is trusted only while all four
stat fields are the same. Any write to a file moves its ctime, even when an editor (or ``os.utime``)
puts the mtime back, so an in-place edit with the old size and mtime is still seen — unless it
happened within the file system's timestamp granularity of the moment the file was hashed (the
"racily clean" problem git solves the same way). Hence the racy-window rule: an entry is recorded
only if the file's timestamps were already ``RACY_WINDOW_NS`` old when hashing began; a younger one
stays unproven (not cached) and the file is read again next time. ``RACY_WINDOW_NS`` is 2 s, the
coarsest granularity in use (FAT); ext4, XFS, btrfs and APFS are far finer.

The cache is only ever an optimisation: a damaged file or entry is ignored. It is written atomically
(a temporary file renamed over it, mode 0600: it lists the workspace's paths), and ``save`` merges
this process's changes into what is on disk under an advisory lock, so two processes saving at once
neither corrupt the file nor drop each other's entries.

Loading is the dominant cost of an unchanged re-fingerprint after the stat walk itself, so a process
keeps the entries it last loaded or saved for each cache file (a few files), with the file's identity
(device, inode, size, mtime_ns, ctime_ns): while the file on disk still has that identity it is the same file
(every save renames a new one into place, and any other write moves its ctime), and the entries are
taken from memory instead of parsing it again. Any other identity, or none, reads the file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from .filelock import locked_beside

__all__ = ["RACY_WINDOW_NS", "StatCache", "stat_key"]

RACY_WINDOW_NS = 2_000_000_000

_Entry = list[int | str]
_Identity = tuple[int, int, int, int, int]

# The entries last loaded or saved per cache file, with the identity of the file they are: see the
# module docstring. Never mutated once stored (a StatCache works on a copy); a few files at most.
_MEMO_FILES = 4
_memo: dict[Path, tuple[_Identity, dict[str, object]]] = {}
_memo_lock = threading.Lock()


def stat_key(st: os.stat_result) -> list[int]:
    """The fields an entry must match: ``[size, mtime_ns, inode, ctime_ns]``."""
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]


class StatCache:
    """The entries of one cache file (``path=None``: an empty cache that is never saved)."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self._loaded_from = _identity(self.path)
        self._entries = _load_remembered(self.path, self._loaded_from)
        self._changes: dict[str, _Entry | None] = {}  # what save() writes: an entry, or None to drop one
        self._hashed = False  # a file was hashed: save() writes the file even if no entry changed

    @property
    def changed(self) -> bool:
        """Whether :meth:`save` has something to write: a new or updated entry, or a first file after a
        hash. Dropped entries alone are not worth a rewrite (a stale entry never matches its file's new
        stat key); they go with the next write — which keeps "one file touched" at a stat walk plus
        that file's hash."""
        if any(entry is not None for entry in self._changes.values()):
            return True
        return self._hashed and self.path is not None and not self.path.exists()

    def lookup(self, path: str, st: os.stat_result) -> str | None:
        """The cached sha256 of ``path`` if its entry is well formed and its stat key matches ``st``."""
        entry = self._entries.get(path)
        # stat_key(st) field by field: called once per file, and no list is built for the comparison.
        if (
            type(entry) is list
            and len(entry) == 5
            and entry[0] == st.st_size
            and entry[1] == st.st_mtime_ns
            and entry[2] == st.st_ino
            and entry[3] == st.st_ctime_ns
            and type(entry[4]) is str
        ):
            return entry[4]
        return None

    def record(
        self,
        path: str,
        st: os.stat_result,
        digest: str,
        read_size: int,
        hashed_at_ns: int,
        *,
        ctime_racy: bool = True,
    ) -> bool:
        """Remember ``digest`` for ``path`` as stat'ed (``st``, taken before reading) if that is proven:
        as many bytes read as the stat said, and the file's mtime — and ctime, with ``ctime_racy`` —
        older than the racy window when hashing began (``hashed_at_ns``). Otherwise forget any entry.
        Returns whether the entry was recorded."""
        self._hashed = True
        newest = max(st.st_mtime_ns, st.st_ctime_ns) if ctime_racy else st.st_mtime_ns
        if read_size == st.st_size and newest < hashed_at_ns - RACY_WINDOW_NS:
            entry: _Entry = [*stat_key(st), digest]
            if self._entries.get(path) != entry:
                self._entries[path] = entry
                self._changes[path] = entry
            return True
        self.forget(path)
        return False

    def forget(self, path: str) -> None:
        if self._entries.pop(path, None) is not None or path in self._changes:
            self._changes[path] = None

    def save(self) -> None:
        """Write this process's changes into the cache file (nothing to do unless :attr:`changed`).
        Errors are swallowed: a cache that cannot be written only costs a re-hash next
        time."""
        if self.path is None or not self.changed:
            return
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with locked_beside(self.path):
                # Another process may have saved since we loaded: merge into what is there now. Every save
                # renames a new file into place, so an unchanged identity means nobody has.
                current = _identity(self.path)
                merged = self._entries if current == self._loaded_from else _load(self.path)
                for path, entry in self._changes.items():
                    if entry is None:
                        merged.pop(path, None)
                    else:
                        merged[path] = entry
                _write(self.path, merged)
                self._loaded_from = _identity(self.path)
                _remember(self.path, self._loaded_from, merged)
            self._entries = merged
            self._changes.clear()
            self._hashed = False
        except OSError:
            pass


def _identity(path: Path | None) -> _Identity | None:
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return None
    return None if st is None else (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _load_remembered(path: Path | None, identity: _Identity | None) -> dict[str, object]:
    """The entries of ``path`` as :func:`_load` reads them, from memory while its identity is the one
    remembered. ``identity`` was taken before reading: if the file is replaced in between, the entries
    are remembered under the older identity and the next use reads the file again."""
    if path is None or identity is None:
        return _load(path)
    with _memo_lock:
        known = _memo.get(path)
    if known is not None and known[0] == identity:
        return dict(known[1])
    entries = _load(path)
    _remember(path, identity, entries)
    return entries


def _remember(path: Path, identity: _Identity | None, entries: dict[str, object]) -> None:
    with _memo_lock:
        _memo.pop(path, None)
        if identity is None:
            return
        _memo[path] = (identity, dict(entries))
        while len(_memo) > _MEMO_FILES:
            del _memo[next(iter(_memo))]  # the least recently stored


def _load(path: Path | None) -> dict[str, object]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    # Entries are checked where they are used (lookup): a damaged one is simply not trusted.
    return data if isinstance(data, dict) else {}


def _write(path: Path, entries: dict[str, object]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(entries, separators=(",", ":")))  # dumps: the C encoder, many times faster
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
