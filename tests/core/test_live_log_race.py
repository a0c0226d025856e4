"""A run's log file list while its job ends: the live folder may vanish between the check and the walk
(the supervisor stores it and removes it); the list then comes from the stored files, never an error."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.core.layout import live_dir


def test_a_live_folder_removed_mid_walk_gives_the_stored_log_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.create(tmp_path / "ws")
    run = Experiment(ws, "race").start_logging()
    source = tmp_path / "log.txt"
    source.write_text("done\n")
    run.upload_file("user_logs/std_log.txt", source)  # what the supervisor stores as the job ends
    live = live_dir(ws.path, run.id)
    (live / "user_logs").mkdir(parents=True)
    (live / "user_logs" / "std_log.txt").write_text("done\n")
    queries = ws.services.queries
    record = dataclasses.replace(ws.metadata.get_run(run.id), compute_target="local")

    real_rglob = Path.rglob

    def vanishing(self: Path, pattern: str) -> Iterator[Path]:
        if self == live:
            shutil.rmtree(live)  # removed after is_dir() said it was there
            raise FileNotFoundError(2, "No such file or directory", str(live))
        return real_rglob(self, pattern)

    monkeypatch.setattr(Path, "rglob", vanishing)
    assert queries.log_files(record) == ["user_logs/std_log.txt"]
    run.complete()
