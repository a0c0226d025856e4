"""Snapshot use cases: capture a folder before a run (recorded in the store) and export one."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import NotFoundError
from ..entities import SnapshotRecord
from ..layout import snapshot_stat_cache
from .context import Backends

if TYPE_CHECKING:
    from ...snapshots import Snapshot

__all__ = ["SnapshotService"]


class SnapshotService:
    def __init__(self, backends: Backends) -> None:
        self._b = backends

    def capture(
        self, source: str | os.PathLike[str], extra_files: Mapping[str, bytes] | None = None, *, warn: bool = True
    ) -> Snapshot:
        """Capture ``source`` (a folder: ignore rules honoured, unchanged files cost no new bytes; or
        one file) and record it. Secret-like files left out are named in a warning (``warn``) and in
        ``excluded_secrets``."""
        from ...snapshots import capture_snapshot

        single = Path(source).expanduser()
        if single.is_file():
            # One file (Azure ML v1's run.take_snapshot(file)): a snapshot holding just that file,
            # captured by the same rules (a secret-like file is left out and named).
            with tempfile.TemporaryDirectory(prefix="mlws-snapshot-") as folder:
                shutil.copy2(single, Path(folder) / single.name)
                snapshot = capture_snapshot(folder, self._b.artifacts, extra_files=extra_files, warn=warn)
        else:
            snapshot = capture_snapshot(
                source,
                self._b.artifacts,
                cache_file=snapshot_stat_cache(self._b.path),
                extra_files=extra_files,
                warn=warn,
            )
        self._b.metadata.add_snapshot(
            SnapshotRecord(snapshot.id, time.time(), snapshot.file_count, snapshot.total_size, str(source))
        )
        return snapshot

    def write_zip(self, run_id: str, target: Path) -> Path:
        """Write the snapshot taken before run ``run_id`` as a zip at ``target``."""
        record = self._b.metadata.get_run(run_id)
        if record.snapshot_id is None:
            raise NotFoundError(f"run {run_id} has no snapshot (interactive runs are not snapshotted)")
        return self.write_snapshot_zip(record.snapshot_id, target)

    def write_snapshot_zip(self, snapshot_id: str, target: Path) -> Path:
        """Write snapshot ``snapshot_id`` (any snapshot of this workspace) as a zip at ``target``."""
        from ...snapshots import load_manifest, write_zip

        self._b.metadata.get_snapshot(snapshot_id)  # NotFoundError naming it when unknown
        artifacts = self._b.artifacts
        return Path(write_zip(load_manifest(artifacts, snapshot_id), artifacts, target))
