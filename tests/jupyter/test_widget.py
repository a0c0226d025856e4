"""RunDetails: live status, log tail, metric charts, params, files and children; no leaked threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.core.run_config import ScriptRunConfig
from jupyter_mlws.widgets import RunDetails


def wait_until(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_refresh_shows_every_part_of_an_interactive_run(ws: Workspace, tmp_path: Path) -> None:
    exp = Experiment(ws, "w")
    parent = exp.start_logging(display_name="parent run")
    parent.log_params({"lr": 0.1})
    parent.tag("stage", "dev")
    for i in range(50):
        parent.log("loss", 1 / (i + 1), step=i)
    child = parent.child_run(name="fold-1")
    child.log("acc", 0.75)
    child.complete()
    f = tmp_path / "notes.txt"
    f.write_text("n")
    parent.upload_file("outputs/notes.txt", f)
    details = RunDetails(parent)
    assert details.refresh() is False  # still running
    assert "parent run" in details.header.value and "Running" in details.header.value
    assert "lr" in details.info.value and "stage" in details.info.value
    assert "outputs/notes.txt" in details.files.value
    assert "fold-1" in details.children.value and "0.75" in details.children.value
    [figure] = details.charts.children
    assert list(figure.data[0].y) == [1 / (i + 1) for i in range(50)]
    assert list(figure.data[0].x) == list(range(50))
    parent.log("loss", 0.001, step=50)
    parent.fail(RuntimeError("diverged"))
    assert details.refresh() is True
    assert len(figure.data[0].y) == 51  # the same chart, updated in place
    assert "Failed" in details.header.value and "diverged" in details.info.value


def test_long_series_are_thinned_for_the_browser(ws: Workspace) -> None:
    run = Experiment(ws, "w").start_logging()
    for i in range(20_000):
        run.log("m", float(i), step=i)
    details = RunDetails(run, max_points=500)
    details.refresh()
    [figure] = details.charts.children
    assert len(figure.data[0].y) == 500 and figure.data[0].y[-1] == 19_999.0


def test_live_updates_from_a_job_then_the_thread_stops(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.txt").write_text("")
    (src / "job.py").write_text(
        "import os, time\nfrom jupyter_mlws import Run\nrun = Run.get_context()\n"
        "for i in range(3):\n    run.log('m', i, step=i)\n    run.flush()\n    print('line', i, flush=True)\n"
        "while not os.path.exists(os.environ['RELEASE']):\n    time.sleep(0.05)\n"
    )
    release = tmp_path / "release"
    monkeypatch.setenv("RELEASE", str(release))
    run = Experiment(ws, "live").submit(ScriptRunConfig(source_directory=src, script="job.py"))
    before = {t.name for t in threading.enumerate()}
    details = RunDetails(run, refresh_seconds=0.1)
    details.refresh()
    details.start()
    try:
        assert details.updating
        wait_until(lambda: "line 2" in details.log_view.value)
        wait_until(lambda: len(details.charts.children) == 1 and len(details.charts.children[0].data[0].y) == 3)
        assert "Running" in details.header.value
        release.write_text("go")
        wait_until(lambda: not details.updating)  # stops by itself once the run is terminal
        assert "Completed" in details.header.value
    finally:
        details.stop()
        agent.stop(ws)
    leaked = {t.name for t in threading.enumerate()} - before
    assert not [name for name in leaked if name.startswith("mlws-run-details")]


def test_a_finished_run_starts_no_thread(ws: Workspace) -> None:
    run = Experiment(ws, "w").start_logging()
    run.complete()
    details = RunDetails(run)
    details.refresh()
    details.start()
    assert not details.updating
