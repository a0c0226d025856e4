"""Snapshot use cases: capture a folder before a run (recorded in the store) and export one."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
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
            # judged by the same rules as in a folder: secret-like by its name or by a folder it is in
            # (.aws/credentials), and a link by what it leads to too. Such a file is left out and named.
            withheld = _secret_like(single.absolute()) or _secret_like(single.resolve())
            with tempfile.TemporaryDirectory(prefix="mlws-snapshot-") as folder:
                if not withheld:
                    shutil.copy2(single, Path(folder) / single.name)
                snapshot = capture_snapshot(folder, self._b.artifacts, extra_files=extra_files, warn=False)
            if withheld and warn:
                from ...snapshots import SecretFilesExcludedWarning

                warnings.warn(
                    SecretFilesExcludedWarning(
                        f"left the secret-like file {single} out of the snapshot (it is empty). To capture it "
                        f"anyway, snapshot its folder with a negation for it (e.g. '!{single.name}') in that "
                        "folder's .amlignore"
                    ),
                    stacklevel=2,
                )
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
            raise NotFoundError(
                f"run {run_id} has no snapshot taken before it started (an interactive run has one only when "
                "started with start_logging(snapshot_directory=folder)); run.restore_snapshot() gives the ones "
                "taken with run.take_snapshot()"
            )
        return self.write_snapshot_zip(record.snapshot_id, target)

    def write_snapshot_zip(self, snapshot_id: str, target: Path) -> Path:
        """Write snapshot ``snapshot_id`` (any snapshot of this workspace) as a zip at ``target``."""
        from ...snapshots import load_manifest, write_zip

        self._b.metadata.get_snapshot(snapshot_id)  # NotFoundError naming it when unknown
        artifacts = self._b.artifacts
        return Path(write_zip(load_manifest(artifacts, snapshot_id), artifacts, target))


def _secret_like(path: Path) -> bool:
    """Whether a snapshot of a folder holding ``path`` would withhold it (the secret patterns, applied to
    each folder on its way and to the file)."""
    from ...snapshots.ignore import IgnoreRules, Verdict

    rules = IgnoreRules()
    parts = path.parts[1:]
    return any(
        rules.verdict("/".join(parts[: i + 1]), is_dir=i < len(parts) - 1) is Verdict.WITHHELD
        for i in range(len(parts))
    )
