"""A run driver's loop (``core.jobs.drive_until_ended``, the pipeline scheduler's and the sweep
controller's) acts on changes of its own run and of its children, not on the rest of the feed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.core import jobs


def test_a_driver_passes_on_its_childrens_changes_and_not_on_its_grandchildrens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "DRIVE_FULL_PASS_S", 3600.0)  # no timed passes: each pass is the feed's doing
    ws = Workspace.create(tmp_path / "ws")
    parent = Experiment(ws, "drive").start_logging()
    child = parent.child_run()
    grandchildren = [child.child_run() for _ in range(5)]
    other = Experiment(ws, "elsewhere").start_logging()
    passes: list[float] = []
    done = threading.Event()

    def advance() -> bool:
        passes.append(time.monotonic())
        return done.is_set()

    driver = threading.Thread(target=jobs.drive_until_ended, args=(ws, parent.id, advance, lambda exc: None))
    driver.start()
    try:
        _wait_for(lambda: len(passes) == 1)  # the first pass, at once
        for run in [*grandchildren, other]:
            run.complete()
        time.sleep(0.3)  # thirty ticks of the driver's loop
        assert len(passes) == 1, "a grandchild's or another run's change made the driver pass"
        done.set()
        child.complete()
        _wait_for(lambda: len(passes) == 2)
    finally:
        done.set()
        parent.complete()  # its own change: a pass that returns True, if the one above did not come
        driver.join(30)
    assert not driver.is_alive()


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
