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
        self,
        source: str | os.PathLike[str],
        extra_files: Mapping[str, bytes] | None = None,
        *,
        warn: bool = True,
        ignore_rules: bool = True,
    ) -> Snapshot:
        """Capture ``source`` (a folder: ignore rules honoured, unchanged files cost no new bytes; or
        one file) and record it. Secret-like files left out are named in a warning (``warn``) and in
        ``excluded_secrets``. ``ignore_rules=False`` captures a folder of data whole (a pipeline
        step's outputs): no ignore files, no secret patterns."""
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
                ignore_rules=ignore_rules,
            )
        self._b.metadata.add_snapshot(
            SnapshotRecord(snapshot.id, time.time(), snapshot.file_count, snapshot.total_size, str(source))
        )
        return snapshot

    def restore(self, snapshot_id: str, target: str | os.PathLike[str]) -> Path:
        """Materialise snapshot ``snapshot_id`` (any content-addressed tree of this workspace) in ``target``."""
        from ...snapshots import load_manifest, restore_snapshot

        artifacts = self._b.artifacts
        return restore_snapshot(load_manifest(artifacts, snapshot_id), artifacts, target)

    def is_intact(self, snapshot_id: str) -> bool:
        """Whether the snapshot's manifest and every file it lists are still stored (garbage
        collection may have removed them)."""
        from ...snapshots import load_manifest

        artifacts = self._b.artifacts
        if artifacts.missing({snapshot_id}):
            return False
        try:
            manifest = load_manifest(artifacts, snapshot_id)
        except Exception:  # a damaged manifest is as good as none
            return False
        return not artifacts.missing({e.digest for e in manifest.files if e.digest})

    def changed_files(self, old_id: str, new_id: str) -> tuple[list[str], int]:
        """The paths that differ between two stored snapshots (added, removed or changed, sorted) and
        how many paths the newer one holds; ``([], 0)`` when either manifest is gone."""
        from ...snapshots import load_manifest

        artifacts = self._b.artifacts
        try:
            old, new = load_manifest(artifacts, old_id), load_manifest(artifacts, new_id)
        except Exception:
            return [], 0
        before = {e.path: (e.kind, e.digest, e.target) for e in old.entries}
        after = {e.path: (e.kind, e.digest, e.target) for e in new.entries}
        changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
        return changed, len(after)

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
