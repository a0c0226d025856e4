"""A run's files: upload (immutable, content-addressed), list, open, download, logs and snapshot."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from ...errors import InvalidArgumentError, InvalidStateError, NotFoundError
from ..layout import DRIVER_LOG
from ..names import validate_file_name
from .base import RunBase

__all__ = ["SNAPSHOT_PROPERTY", "RunFiles"]


class RunFiles(RunBase):
    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> str:
        """Store a file of the run under ``name`` (a relative path); files are immutable."""
        return self._logging.upload_file(self._id, name, path_or_stream)

    def upload_files(self, names: Sequence[str], paths: Sequence[str | os.PathLike[str]]) -> list[str]:
        if len(names) != len(paths):
            raise InvalidArgumentError("upload_files takes as many names as paths")
        return self._logging.upload_many(self._id, [(n, Path(p)) for n, p in zip(names, paths, strict=True)])

    def upload_folder(self, name: str, path: str | os.PathLike[str], overwrite: bool = False) -> list[str]:
        """Store every file below ``path`` as ``name/<relative path>`` (symlinks are not followed)."""
        return self._logging.upload_folder(self._id, name, path, overwrite)

    def get_file_names(self) -> list[str]:
        return [f.path for f in self._queries.files(self._id)]

    def open_file(self, name: str) -> BinaryIO:
        return self._queries.open_file(self._id, name)

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> str:
        """Write one run file to ``output_file_path`` (a file or a folder; default: its base name here)."""
        record = self._queries.file(self._id, name)
        base = record.path.rsplit("/", 1)[-1]
        target = Path(output_file_path) if output_file_path is not None else Path(base)
        if target.is_dir():
            target = target / base
        self._workspace.artifacts.copy_to(record.digest, target)
        return str(target)

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        append_prefix: bool = True,
    ) -> list[str]:
        """Write the run's files (those under ``prefix``) below ``output_directory`` (default: here)."""
        clean = validate_file_name(prefix) if prefix else None
        files = self._queries.files(self._id, clean)
        if clean:
            files = [f for f in files if f.path == clean or f.path.startswith(clean + "/")]
        out = Path(output_directory) if output_directory is not None else Path.cwd()
        written = []
        for record in files:
            relative = record.path
            if clean and not append_prefix:
                relative = relative[len(clean) :].lstrip("/") or relative.rsplit("/", 1)[-1]
            target = out / relative
            self._workspace.artifacts.copy_to(record.digest, target)
            written.append(str(target))
        return written

    def read_log(self, offset: int = 0, name: str = DRIVER_LOG, max_bytes: int = 1 << 20) -> tuple[bytes, int]:
        """Bytes of a log from ``offset`` (at most ``max_bytes``) and the offset to read on from.

        While a job runs its logs are read live; once it has finished, from the run's files.
        """
        return self._queries.read_log(self._id, offset, name, max_bytes)

    def download_snapshot(self, output_file_path: str | os.PathLike[str] | None = None) -> str:
        """Write the code snapshot taken before this run as a zip; returns its path."""
        target = Path(output_file_path) if output_file_path is not None else Path(f"{self._id}-snapshot.zip")
        if target.is_dir():
            target = target / f"{self._id}-snapshot.zip"
        return str(self._services.snapshots.write_zip(self._id, target))

    # -- snapshots taken during a run (Azure ML v1) ----------------------------------------------------------
    def take_snapshot(self, file_or_folder_path: str | os.PathLike[str]) -> str:
        """Azure ML v1's ``take_snapshot``: capture a folder (ignore rules honoured) or one file as a
        snapshot of this run and return its id. ``restore_snapshot()`` gives the latest one back.

        A job's (or ``start_logging(snapshot_directory=...)``'s) snapshot is taken already; this is
        for interactive runs. The run keeps the ids in the properties ``mlws.snapshots.<n>``.
        """
        if not isinstance(file_or_folder_path, str | os.PathLike):
            raise InvalidArgumentError(f"take_snapshot takes a file or folder path, got {file_or_folder_path!r}")
        snapshot = self._services.snapshots.capture(file_or_folder_path)
        for _ in range(20):
            number = max(_taken_snapshots(self._queries.properties(self._id)), default=0) + 1
            try:
                self._logging.add_properties(self._id, {f"{SNAPSHOT_PROPERTY}{number}": snapshot.id})
            except InvalidStateError:  # another process took one at the same time: try the next number
                continue
            return snapshot.id
        raise InvalidStateError(f"run {self._id}: could not record snapshot {snapshot.id}; try take_snapshot again")

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | os.PathLike[str] | None = None) -> str:
        """Azure ML v1's ``restore_snapshot``: write a snapshot as a zip and return the zip's path.

        ``snapshot_id`` defaults to the run's latest snapshot (the last ``take_snapshot``, else the one
        taken before the run started); ``path`` is the zip file or a folder to put
        ``<snapshot id>.zip`` in (default: the working directory).
        """
        if snapshot_id is None:
            taken = _taken_snapshots(self._queries.properties(self._id))
            snapshot_id = taken[max(taken)] if taken else self._queries.run(self._id).snapshot_id
            if snapshot_id is None:
                raise NotFoundError(
                    f"run {self._id} has no snapshot: take one with run.take_snapshot(folder), or pass snapshot_id="
                )
        elif not isinstance(snapshot_id, str) or not snapshot_id:
            raise InvalidArgumentError(f"restore_snapshot: snapshot_id must be a snapshot id, got {snapshot_id!r}")
        if path is not None and not isinstance(path, str | os.PathLike):
            raise InvalidArgumentError(f"restore_snapshot: path must be a zip file or a folder, got {path!r}")
        target = Path(path) if path is not None else Path.cwd()
        if target.is_dir() or os.fspath(path or "").endswith(("/", os.sep)):  # "new/" names a folder to make
            target = target / f"{snapshot_id}.zip"
        return str(self._services.snapshots.write_snapshot_zip(snapshot_id, target))


SNAPSHOT_PROPERTY = "mlws.snapshots."  # + n: the id of the n-th snapshot taken with take_snapshot


def _taken_snapshots(properties: Mapping[str, str]) -> dict[int, str]:
    taken = {}
    for key, value in properties.items():
        number = key.removeprefix(SNAPSHOT_PROPERTY)
        if key.startswith(SNAPSHOT_PROPERTY) and number.isdigit():
            taken[int(number)] = value
    return taken
