"""Snapshots out of the store: a zip for download, or files restored into a job's working folder.

Restoring never writes outside the target folder: every path is checked (no ``..``, nothing
absolute), regular files are written before any symlink exists, and a symlink is only created when
it points inside the target (the zip-slip and symlink-slip attacks). Modes keep their permission bits
only: setuid, setgid and sticky bits from a manifest or a zip are dropped (issue 13), so a restored
file never runs with its owner's or group's rights.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
import zipfile
from pathlib import Path

from ..core.interfaces import ArtifactStore
from ..core.names import validate_file_name
from ..errors import InvalidArgumentError
from .manifest import Manifest

__all__ = ["PERMISSION_BITS", "extract_zip", "load_manifest", "restore_snapshot", "write_zip"]

#: The mode bits a restored or extracted file keeps (rwx for owner, group, others; no setuid,
#: setgid or sticky bit).
PERMISSION_BITS = 0o777


def load_manifest(artifacts: ArtifactStore, snapshot_id: str) -> Manifest:
    return Manifest.from_bytes(artifacts.read_bytes(snapshot_id))


def write_zip(manifest: Manifest, artifacts: ArtifactStore, output: str | os.PathLike[str]) -> Path:
    """Write the snapshot as a zip (symlinks kept as links, modes kept); atomic."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.part")
    stamp = time.localtime()[:6]
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for entry in sorted(manifest.entries, key=lambda e: e.path):
                info = zipfile.ZipInfo(entry.path, date_time=stamp)
                if entry.kind == "link":
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    zf.writestr(info, entry.target or "")
                    continue
                info.external_attr = (stat.S_IFREG | (entry.mode & PERMISSION_BITS)) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                assert entry.digest is not None
                with artifacts.open(entry.digest) as src, zf.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return output


def _inside(target: Path, rel: str) -> Path:
    clean = validate_file_name(rel, "snapshot entry")
    dest = target / clean
    # Parents must be real folders inside the target, never symlinks someone planted.
    parent = dest.parent
    while parent != target:
        if parent.is_symlink():
            raise InvalidArgumentError(f"snapshot entry {rel!r} goes through a symlink; refusing to restore it")
        parent = parent.parent
    return dest


def _check_link(target: Path, rel: str, link_target: str) -> None:
    if os.path.isabs(link_target):
        raise InvalidArgumentError(f"snapshot symlink {rel!r} -> {link_target!r} is absolute; refusing it")
    resolved = os.path.normpath(os.path.join(target, os.path.dirname(rel), link_target))
    if not (resolved == str(target) or resolved.startswith(str(target) + os.sep)):
        raise InvalidArgumentError(f"snapshot symlink {rel!r} -> {link_target!r} points outside; refusing it")


def _resolve(rel: str, links: dict[str, str]) -> list[str] | None:
    """Where ``rel`` leads inside the tree once every link in ``links`` is followed, as path parts;
    ``None`` if it leaves the tree. Works on the link table alone, before anything is written."""
    parts: list[str] = []
    pending = rel.split("/")
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        here = "/".join([*parts, part])
        if here in links:
            hops += 1
            if hops > 40:  # a loop of links goes nowhere, and nowhere outside
                return parts
            target = links[here]
            if target.startswith("/"):
                return None
            pending = target.split("/") + pending  # relative to the link's folder: `parts`
            continue
        parts.append(part)
    return parts


def _check_links(links: dict[str, str]) -> None:
    for rel, link_target in links.items():
        if os.path.isabs(link_target) or _resolve(rel, links) is None:
            raise InvalidArgumentError(f"snapshot symlink {rel!r} -> {link_target!r} leads outside; refusing it")


def restore_snapshot(
    manifest: Manifest, artifacts: ArtifactStore, target: str | os.PathLike[str], durable: bool = False
) -> Path:
    """Materialise the snapshot's files and links below ``target`` (a scratch copy unless ``durable``)."""
    root = Path(target).resolve()
    root.mkdir(parents=True, exist_ok=True)
    # Check every path before writing anything.
    for entry in manifest.entries:
        validate_file_name(entry.path, "snapshot entry")
        if entry.kind == "link":
            _check_link(root, entry.path, entry.target or "")
    _check_links({e.path: e.target or "" for e in manifest.entries if e.kind == "link"})
    for entry in manifest.files:
        dest = _inside(root, entry.path)
        assert entry.digest is not None
        artifacts.copy_to(entry.digest, dest, durable=durable)
        os.chmod(dest, entry.mode & PERMISSION_BITS)
    _make_links(root, [(e.path, e.target or "") for e in manifest.entries if e.kind == "link"])
    return root


def _make_links(root: Path, links: list[tuple[str, str]]) -> None:
    """Create the links, then check where each really leads (a chain of links can escape even when
    every target looks inside on its own); on any escape remove them all and refuse."""
    made: list[Path] = []
    try:
        for rel, link_target in links:
            dest = _inside(root, rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(link_target, dest)
            made.append(dest)
        for dest in made:
            resolved = os.path.realpath(dest)
            if not (resolved == str(root) or resolved.startswith(str(root) + os.sep)):
                raise InvalidArgumentError(
                    f"snapshot symlink {dest.relative_to(root).as_posix()!r} leads outside through other links; "
                    "refusing it"
                )
    except BaseException:
        for dest in made:
            dest.unlink(missing_ok=True)
        raise


def extract_zip(archive: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Extract a snapshot zip safely: entries that would land outside ``target`` are refused."""
    root = Path(target).resolve()
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        links: list[tuple[str, str]] = []
        for info in members:
            validate_file_name(info.filename.rstrip("/"), "zip entry")
            if stat.S_ISLNK(info.external_attr >> 16):
                link_target = zf.read(info).decode()
                _check_link(root, info.filename, link_target)
                links.append((info.filename, link_target))
        _check_links(dict(links))
        root.mkdir(parents=True, exist_ok=True)
        for info in members:
            if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
                continue
            dest = _inside(root, info.filename)
            dest.parent.mkdir(parents=True, exist_ok=True)
            # A new file renamed into place: never written through a link already at that name.
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
            with zf.open(info) as src, open(tmp, "xb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            mode = (info.external_attr >> 16) & PERMISSION_BITS
            if mode:
                os.chmod(tmp, mode)
            os.replace(tmp, dest)
        _make_links(root, links)
    return root
