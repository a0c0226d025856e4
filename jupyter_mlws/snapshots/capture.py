"""Capture a source folder into the artifact store as a content-addressed snapshot.

Fast on re-capture: a stat cache (:mod:`jupyter_mlws.core.statcache`: path -> size, mtime, inode,
ctime, digest) lets unchanged files skip hashing. A changed file is never missed: any change of
content moves mtime and ctime, and an entry is only trusted if the file had not been modified within
``RACY_WINDOW_NS`` of when it was hashed (the "racily clean" problem git solves the same way), so
coarse timestamps cannot hide an edit made right after hashing.

Secret-like files (``.env``, keys, credentials: :data:`.ignore.SECRET_PATTERNS`) are left out unless
an ``.amlignore`` negation names them; the capture warns with their names and records them in the
manifest (``excluded_secrets``).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.interfaces import ArtifactStore
from ..core.names import validate_file_name
from ..core.statcache import StatCache
from ..errors import InvalidArgumentError, NotFoundError
from .ignore import IgnoreRules, Verdict
from .manifest import Manifest, ManifestEntry

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_FILES", "SecretFilesExcludedWarning", "Snapshot", "capture_snapshot"]

DEFAULT_MAX_FILES = 2000  # Azure ML's limits
DEFAULT_MAX_BYTES = 300 * 1024 * 1024
ENV_MAX_FILES = "MLWS_SNAPSHOT_MAX_FILES"
ENV_MAX_MB = "MLWS_SNAPSHOT_MAX_MB"
_NAMES_IN_WARNING = 20


class SecretFilesExcludedWarning(UserWarning):
    """A capture left secret-like files out of a snapshot; the message names them and the way to
    bring one back (a negation in ``.amlignore``)."""


@dataclass(frozen=True)
class Snapshot:
    id: str  # sha256 of the manifest
    manifest: Manifest
    source: Path
    hashed_files: int  # files read this time (the rest came from the stat cache)
    new_bytes: int  # bytes of files read this time

    @property
    def file_count(self) -> int:
        return len(self.manifest.files)

    @property
    def total_size(self) -> int:
        return self.manifest.total_size

    @property
    def excluded_secrets(self) -> tuple[str, ...]:
        """Secret-like files (folders end in "/") the capture left out."""
        return self.manifest.excluded_secrets


@dataclass
class _Found:
    rel: str
    path: str  # a plain string: pathlib costs more than the stat on this path
    st: os.stat_result


def _limits(max_files: int | None, max_bytes: int | None) -> tuple[int, int]:
    if max_files is None:
        max_files = int(os.environ.get(ENV_MAX_FILES, DEFAULT_MAX_FILES))
    if max_bytes is None:
        mb = os.environ.get(ENV_MAX_MB)
        max_bytes = int(float(mb) * 1024 * 1024) if mb else DEFAULT_MAX_BYTES
    return max_files, max_bytes


@dataclass
class _Tree:
    files: list[_Found]
    links: list[tuple[str, str]]  # in-tree symlinks (rel, target)
    skipped: list[str]  # symlinks pointing outside, never followed
    secrets: list[str]  # secret-like files and folders ("name/") left out


def _walk(root: Path, rules_apply: bool = True) -> _Tree:
    """The files and links a snapshot of ``root`` takes, ignore rules and secret patterns applied
    (``rules_apply=False``: every file and in-tree link, for data such as a pipeline step's outputs)."""
    tree = _Tree([], [], [], [])
    stack: list[tuple[Path, str, IgnoreRules]] = [(root, "", IgnoreRules())]
    while stack:
        folder, rel, parent_rules = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except PermissionError as exc:
            raise InvalidArgumentError(f"cannot read {folder} for the snapshot: {exc.strerror}") from None
        rules = parent_rules.descend(folder, rel, {e.name for e in entries}) if rules_apply else parent_rules
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            verdict = rules.verdict(child, is_dir=is_dir) if rules_apply else Verdict.INCLUDE
            if verdict is Verdict.WITHHELD:
                tree.secrets.append(child + "/" if is_dir else child)
                continue
            if verdict is Verdict.IGNORE:
                continue
            if entry.is_symlink():
                target = os.readlink(entry.path)
                if _link_stays_inside(root, Path(entry.path), target):
                    tree.links.append((child, target))
                else:
                    tree.skipped.append(child)  # never followed outside the source folder
            elif is_dir:
                stack.append((Path(entry.path), child, rules))
            elif entry.is_file():
                tree.files.append(_Found(child, entry.path, entry.stat()))
    tree.secrets.sort()
    return tree


def _link_stays_inside(root: Path, link: Path, target: str) -> bool:
    if os.path.isabs(target):
        return False
    # Resolve the whole chain (a link may point through other links), not just the text.
    resolved = os.path.realpath(link)
    return resolved == str(root) or resolved.startswith(str(root) + os.sep)


def _check_limits(root: Path, files: list[_Found], max_files: int, max_bytes: int) -> None:
    total = sum(f.st.st_size for f in files)
    if len(files) <= max_files and total <= max_bytes:
        return
    biggest = sorted(files, key=lambda f: f.st.st_size, reverse=True)[:5]
    by_folder: dict[str, list[int]] = {}
    for f in files:
        top = f.rel.split("/", 1)[0] + ("/" if "/" in f.rel else "")
        entry = by_folder.setdefault(top, [0, 0])
        entry[0] += 1
        entry[1] += f.st.st_size
    folders = sorted(by_folder.items(), key=lambda kv: (kv[1][1], kv[1][0]), reverse=True)[:5]
    largest = ", ".join(f"{f.rel} ({_mb(f.st.st_size)})" for f in biggest)
    heavy = ", ".join(f"{name} ({count} files, {_mb(size)})" for name, (count, size) in folders)
    raise InvalidArgumentError(
        f"the snapshot of {root} has {len(files)} files and {_mb(total)}, over the limit of {max_files} files "
        f"and {_mb(max_bytes)}. Largest files: {largest}. Largest folders: {heavy}. "
        f"List what the job does not need in {root / '.amlignore'} (gitignore syntax, e.g. 'data/'), "
        f"or raise the limits with {ENV_MAX_FILES} / {ENV_MAX_MB}"
    )


def _warn_secrets(root: Path, secrets: list[str]) -> None:
    shown = ", ".join(secrets[:_NAMES_IN_WARNING])
    more = f" and {len(secrets) - _NAMES_IN_WARNING} more" if len(secrets) > _NAMES_IN_WARNING else ""
    warnings.warn(
        SecretFilesExcludedWarning(
            f"left {len(secrets)} secret-like file(s) out of the snapshot of {root}: {shown}{more}. "
            f"To capture one anyway, add a negation for it (e.g. '!{secrets[0].rstrip('/')}') to "
            f"{root / '.amlignore'}"
        ),
        stacklevel=3,
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def capture_snapshot(
    source: str | os.PathLike[str],
    artifacts: ArtifactStore,
    *,
    cache_file: str | os.PathLike[str] | None = None,
    max_files: int | None = None,
    max_bytes: int | None = None,
    extra_files: Mapping[str, bytes] | None = None,
    warn: bool = True,
    ignore_rules: bool = True,
) -> Snapshot:
    """Capture ``source`` (ignore files honoured) and store its files and manifest in ``artifacts``.

    ``extra_files`` adds generated files (e.g. a notebook cell run as a script) to the snapshot;
    they replace a file of the same name in the folder. ``warn=False``: secret-like files left out
    are only recorded (``Snapshot.excluded_secrets``), for callers that report them themselves.
    ``ignore_rules=False`` takes every file (data, not code: no ignore files, no secret patterns).
    """
    root = Path(source).expanduser().resolve()
    if not root.is_dir():
        raise NotFoundError(f"the snapshot source folder {root} does not exist")
    max_files, max_bytes = _limits(max_files, max_bytes)
    tree = _walk(root, ignore_rules)
    files = tree.files
    _check_limits(root, files, max_files, max_bytes)
    if tree.secrets and warn:
        _warn_secrets(root, tree.secrets)

    cache = StatCache(cache_file)
    digests: dict[str, str] = {}
    to_hash: list[_Found] = []
    for found in files:
        digest = cache.lookup(found.path, found.st)
        if digest is not None:
            digests[found.rel] = digest
        else:
            to_hash.append(found)
    # A cached digest counts only while its blob is still stored (garbage collection may remove it).
    artifacts.refresh(set(digests.values()))  # reused blobs count as fresh for `mlws gc`
    gone = artifacts.missing(set(digests.values()))
    if gone:
        by_rel = {f.rel: f for f in files}
        for rel in [rel for rel, digest in digests.items() if digest in gone]:
            del digests[rel]
            to_hash.append(by_rel[rel])
    hashed_at = time.time_ns()
    stored = artifacts.put_files([f.path for f in to_hash])
    new_bytes = 0
    sizes: dict[str, int] = {}
    for found, (digest, size) in zip(to_hash, stored, strict=True):
        digests[found.rel] = digest
        sizes[found.rel] = size
        new_bytes += size
        # Changed while read, or too fresh to trust: not cached. Snapshots apply the racy window to the
        # mtime only (a dataset fingerprint applies it to the ctime too, see core/statcache.py).
        cache.record(found.path, found.st, digest, size, hashed_at, ctime_racy=False)

    entries = [
        # Permission bits only: a setuid/setgid/sticky bit is never carried into a snapshot (issue 13).
        ManifestEntry(f.rel, "file", sizes.get(f.rel, f.st.st_size), f.st.st_mode & 0o777, digest=digests[f.rel])
        for f in files
    ]
    entries += [ManifestEntry(rel, "link", target=target) for rel, target in tree.links]
    if extra_files:
        names = {validate_file_name(name, "extra file"): data for name, data in extra_files.items()}
        entries = [e for e in entries if e.path not in names]
        for name, data in names.items():
            digest, size = artifacts.put_bytes(data)
            entries.append(ManifestEntry(name, "file", size, 0o644, digest=digest))
    manifest = Manifest(tuple(entries), tuple(tree.skipped), tuple(tree.secrets))
    snapshot_id, _ = artifacts.put_bytes(manifest.to_bytes())
    cache.save()
    return Snapshot(snapshot_id, manifest, root, len(to_hash), new_bytes)
