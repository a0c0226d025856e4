"""Copy a workspace into an empty team workspace (issue 19: ``mlws workspace migrate``).

The order makes every step safe to repeat or to fail: first every blob of the workspace's artifact
store is copied into the target store (content-addressed: a blob there already is skipped); then the
metadata is copied in one transaction of the target database (:class:`MetadataCopier`: keys, run
numbers, model versions and digests kept), which is refused when that database holds a workspace's
data already; then the blobs the copied rows name that are not there yet (logged meanwhile) follow.
``workspaceblobstore``, the default datastore, is a folder in ``.mlws/`` of a local workspace: its files
go beside the team's artifacts and its record points there, so every member reads the same data.

Then the copy is verified, and a failed check is an error: the row count of every table is the
same on both sides, every blob the target database names is in the target store, and every copied
blob read back from the target store has its digest. The workspace itself is left as it was, unless
``switch`` rewrites its ``config.json`` to the team workspace (its SQLite file and artifact folder
stay, untouched, as a backup).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, InvalidStateError
from .interfaces import ArtifactStore
from .registry import open_artifact_store, open_metadata_copier
from .storage_options import check_artifact_options, is_local_url
from .workspace import (
    CONFIG_DIR,
    CONFIG_FILE,
    CONFIG_FORMAT,
    _passwords,
    _split_password,
    _with_password,
    _write_atomic,
)

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["MigrationReport", "migrate_workspace"]

#: Blobs copied (and verified) at once: object stores answer each request slowly, not each byte.
PARALLEL_BLOBS = 8
#: The name of the default datastore whose folder lives in a local workspace's ``.mlws/``.
BUILTIN_DATASTORE = "workspaceblobstore"


@dataclass(frozen=True)
class MigrationReport:
    """What :func:`migrate_workspace` copied and verified."""

    source_root: Path
    metadata_url: str  # without a password
    artifact_url: str
    artifact_options: dict[str, Any]
    rows: dict[str, int]  # per table, the same on both sides
    blobs: int  # blobs in the target store that came from the workspace (verified by digest)
    blob_bytes: int
    datastore_files: int  # files of workspaceblobstore copied beside the team's artifacts
    switched: bool
    notes: list[str] = field(default_factory=list)

    def open_code(self, folder: str = "<folder>") -> str:
        """The Python call that opens the team workspace from another folder."""
        args = f"{folder!r}, metadata_url={self.metadata_url!r}, artifact_url={self.artifact_url!r}"
        if self.artifact_options:
            args += f", artifact_options={self.artifact_options!r}"
        return f"Workspace.create({args})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source_root),
            "metadata_url": self.metadata_url,
            "artifact_url": self.artifact_url,
            "artifact_options": self.artifact_options,
            "rows": self.rows,
            "blobs": self.blobs,
            "blob_bytes": self.blob_bytes,
            "datastore_files": self.datastore_files,
            "switched": self.switched,
            "notes": self.notes,
            "open": self.open_code(),
        }


def migrate_workspace(
    ws: Workspace,
    metadata_url: str,
    artifact_url: str,
    artifact_options: dict[str, Any] | None = None,
    *,
    switch: bool = False,
    progress: Callable[[str], None] | None = None,
) -> MigrationReport:
    """Copy ``ws`` (its database and every blob) into the empty team workspace at ``metadata_url`` and
    ``artifact_url``, verify the copy, and (``switch``) point ``ws``'s config at it. A database password
    in ``metadata_url`` is used, never written down."""
    say = progress or (lambda _message: None)
    if not isinstance(metadata_url, str) or "://" not in metadata_url:
        raise InvalidArgumentError(
            f"the target database is a URL such as postgresql+psycopg://user@host/dbname, got {metadata_url!r}"
        )
    if not isinstance(artifact_url, str) or not artifact_url:
        raise InvalidArgumentError(
            f"the target artifact store is a URL such as s3://bucket/prefix, got {artifact_url!r}"
        )
    options = check_artifact_options(artifact_options or {}, artifact_url)
    target_url, password = _split_password(metadata_url)
    if target_url == ws.metadata_url:
        raise InvalidArgumentError(f"{target_url} is this workspace's own database: name an empty one to copy into")
    active = ws.services.queries.active_jobs()
    if active:
        raise InvalidStateError(
            f"the workspace {ws.root} has {len(active)} active job(s) (e.g. {active[0].run_id}): wait for them to "
            "end or cancel them, then migrate, so that nothing is written during the copy"
        )
    interactive = ws.services.queries.active_interactive_runs()
    if interactive:
        raise InvalidStateError(
            f"the workspace {ws.root} has {len(interactive)} run(s) still logging (e.g. {interactive[0].run_id}, "
            "started with start_logging or a child run): complete them (run.complete()), then migrate"
        )
    ws.flush()
    source = ws.artifacts
    target = open_artifact_store(artifact_url, options)
    try:
        copier = open_metadata_copier(target_url)
        source_full = _with_password(ws.metadata_url, _passwords.get(ws.metadata_url))
        target_full = _with_password(target_url, password)
        # Checked before anything is written anywhere: a failure later would leave a target that a
        # second try refuses (it holds data).
        lost = sorted(source.missing(copier.referenced_digests(source_full)))
        if lost:
            raise InvalidStateError(
                f"{len(lost)} blob(s) the workspace names are missing from {ws.artifact_url}, e.g. {lost[0]}: "
                "restore them (or run `mlws workspace check`) before migrating; nothing was copied"
            )
        say(f"copying the blobs of {ws.artifact_url} to {artifact_url}")
        copied = _copy_blobs(source, target, list(source.iter_digests()))
        say(f"copying the metadata of {ws.metadata_url} to {target_url}")
        rows = copier.copy(source_full, target_full)
        referenced = copier.referenced_digests(target_full)
        late = sorted(d for d in target.missing(referenced) if source.exists(d))
        copied |= _copy_blobs(source, target, late)

        say("verifying the copy")
        counts = copier.count_rows(target_full)
        if counts != rows:
            raise InvalidStateError(f"verification failed: rows per table differ after the copy: {_diff(rows, counts)}")
        now = copier.count_rows(source_full)
        if now != rows:
            raise InvalidStateError(
                f"verification failed: the workspace changed during the copy ({_diff(rows, now)}); migrate again "
                "into a new empty database when nothing writes to it"
            )
        notes: list[str] = []
        datastore_files = 0
        if rows.get("datastores"):  # after the count: moving workspaceblobstore rewrites its row
            datastore_files = _move_builtin_datastore(ws, target_full, artifact_url, options, notes, say)
        missing = sorted(target.missing(referenced))
        if missing:
            raise InvalidStateError(
                f"verification failed: {len(missing)} blob(s) the workspace names are in neither store, e.g. "
                f"{missing[0]} (the workspace was missing them before the copy)"
            )
        sizes = _verify_blobs(target, sorted(copied))
    finally:
        target.close()
    report = MigrationReport(
        source_root=ws.root,
        metadata_url=target_url,
        artifact_url=artifact_url,
        artifact_options=options,
        rows=rows,
        blobs=len(sizes),
        blob_bytes=sum(sizes),
        datastore_files=datastore_files,
        switched=switch,
        notes=notes,
    )
    if switch:
        _switch(ws, target_url, password, artifact_url, options)
    return report


def _copy_blobs(source: ArtifactStore, target: ArtifactStore, digests: list[str]) -> set[str]:
    """Copy ``digests`` that the target lacks; every one of them is in the target afterwards."""
    wanted = sorted(target.missing(digests)) if digests else []

    def copy(digest: str) -> None:
        with source.open(digest) as stream:
            stored, _size = target.put_stream(stream)
        if stored != digest:
            raise InvalidStateError(
                f"the blob {digest} of the workspace's artifact store holds other bytes (their digest is {stored}): "
                "it is damaged; run `mlws gc` or restore it before migrating"
            )

    _parallel(copy, wanted)
    return set(digests)


def _verify_blobs(target: ArtifactStore, digests: list[str]) -> list[int]:
    def check(digest: str) -> int:
        hasher = hashlib.sha256()
        size = 0
        with target.open(digest) as stream:
            while chunk := stream.read(1 << 20):
                hasher.update(chunk)
                size += len(chunk)
        if hasher.hexdigest() != digest:
            raise InvalidStateError(f"verification failed: the blob {digest} in the target store has other bytes")
        return size

    return _parallel(check, digests)


def _parallel(fn: Callable[[str], Any], items: Iterable[str]) -> list[Any]:
    items = list(items)
    if len(items) < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=PARALLEL_BLOBS) as pool:
        return list(pool.map(fn, items))


def _move_builtin_datastore(
    ws: Workspace,
    target_url: str,
    artifact_url: str,
    options: dict[str, Any],
    notes: list[str],
    say: Callable[[str], None],
) -> int:
    """Copy ``workspaceblobstore``'s folder (inside ``.mlws/``) beside the team's artifacts and point its
    record there; note other local folder datastores, which other members cannot read."""
    from .. import Datastore
    from .workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="mlws-migrate-") as scratch:
        # The team workspace as a member opens it (its artifact options reach the datastore).
        team = Workspace.create(scratch, metadata_url=target_url, artifact_url=artifact_url, artifact_options=options)
        copied = 0
        for name, datastore in Datastore.list(team).items():
            if not datastore.url.startswith("file://"):
                continue
            folder = Path(datastore.url.removeprefix("file://"))
            if name != BUILTIN_DATASTORE or is_local_url(artifact_url) or ws.path not in folder.parents:
                notes.append(
                    f"the datastore {name!r} is the local folder {folder}: other members cannot read it; "
                    "register a shared one (Datastore.register(ws, name, 's3://…'))"
                )
                continue
            destination = f"{artifact_url.rstrip('/')}/datastores/{BUILTIN_DATASTORE}"
            moved = Datastore.register(team, name, destination, overwrite=True)  # the default stays the default
            files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
            if files:
                say(f"copying the datastore {name} to {destination}")
                try:
                    moved.upload(folder, overwrite=True, show_progress=False)
                except BaseException:
                    # Not left pointing at a half-filled prefix: back to the folder, which still has it all.
                    Datastore.register(team, name, datastore.url, overwrite=True)
                    raise
            copied += len(files)
        return copied


def _switch(ws: Workspace, metadata_url: str, password: str | None, artifact_url: str, options: dict[str, Any]) -> None:
    config_path = ws.root / CONFIG_DIR / CONFIG_FILE
    config: dict[str, Any] = {
        "format": CONFIG_FORMAT,
        "name": ws.name,
        "metadata_url": metadata_url,
        "artifact_url": artifact_url,
    }
    if options:
        config["artifact_options"] = options
    _write_atomic(config_path, json.dumps(config, indent=2) + "\n")
    if password is not None:
        _passwords[metadata_url] = password
    # This object follows its config; other processes read the new one when they open the workspace.
    ws._metadata_url, ws._artifact_url, ws._artifact_options = metadata_url, artifact_url, dict(options)
    ws._experiments.clear()
    ws.__dict__.pop("_services", None)


def _diff(expected: dict[str, int], found: dict[str, int]) -> str:
    names = sorted(set(expected) | set(found))
    return ", ".join(
        f"{name}: {expected.get(name)} != {found.get(name)}" for name in names if expected.get(name) != found.get(name)
    )
