"""The group commit of a ParallelRunStep's worker (issue 19, ``core.services.held_writes``): a group's
file rows, model versions and ends are written together, after one sync of its blobs; until then the
group's own reads see them, and a crash loses only rows (never a blob a row names)."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

from jupyter_mlws import Experiment, Model, Workspace
from jupyter_mlws.core.locator import workspace_locator
from jupyter_mlws.core.services import held_writes
from jupyter_mlws.core.services.liveness import HOSTNAME
from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.errors import AlreadyExistsError
from jupyter_mlws.pipelines import parallel_runner as pr


def _started_child(ws: Workspace, parent_name: str = "group") -> tuple[object, object]:
    """A step run and one child Running, as a worker starts it."""
    step = Experiment(ws, parent_name).start_logging()
    child = step.child_run(name="mini-batch 0")
    return step, child


def _db_rows(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    """What another process reading the database sees (not this process's held writes)."""
    database = ws.metadata.sql.engine.url.database
    with sqlite3.connect(database) as conn:
        return conn.execute(sql).fetchall()


def test_held_rows_are_seen_by_the_group_and_written_at_its_commit(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    model_file = tmp_path / "model.json"
    model_file.write_text('{"coef": [1.5]}')
    _step, child = _started_child(ws)
    with held_writes.holding(ws) as group:
        group.hold(child.id)
        child.log("r2", 0.9)
        child.upload_file("outputs/model.json", str(model_file))
        # The group's own reads see the held file: get_file_names, and register_model's listing.
        assert "outputs/model.json" in child.get_file_names()
        model = child.register_model("sales-1042", "outputs/model.json", tags={"store": "1042"})
        assert model.version == 1
        with pytest.raises(AlreadyExistsError, match=r"outputs/model\.json"):
            child.upload_file("outputs/model.json", str(model_file))
        child.complete()
        # Nothing of it is in the database yet: the run is Running there, without file or model.
        assert _db_rows(ws, f"SELECT status FROM runs WHERE run_id = '{child.id}'") == [("Running",)]
        assert _db_rows(ws, "SELECT path FROM run_files") == []
        assert _db_rows(ws, "SELECT name FROM model_versions") == []
    # Committed when the block ended: Completed, with its metric, file and model, in one go.
    assert _db_rows(ws, f"SELECT status FROM runs WHERE run_id = '{child.id}'") == [("Completed",)]
    assert ws.services.queries.metrics(child.id) == {"r2": 0.9}
    (found,) = Model.list(ws, tags=[["store", "1042"]])
    assert (found.name, found.version, found.run_id) == ("sales-1042", 1, child.id)
    out = tmp_path / "download"
    found.download(str(out))
    assert json.loads((out / "model.json").read_text()) == {"coef": [1.5]}
    assert ws.services.queries.run(child.id).end_time is not None


def test_version_numbers_are_taken_at_once_and_kept(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    model_file = tmp_path / "model.txt"
    model_file.write_text("m")
    _step, child = _started_child(ws)
    with held_writes.holding(ws) as group:
        group.hold(child.id)
        child.upload_file("model.txt", str(model_file))
        first = child.register_model("shared", "model.txt")
        # Another process registers the same name meanwhile: it gets the next number.
        outside = Model.register(ws, str(model_file), "shared")
        second = child.register_model("shared", "model.txt")
        child.complete()
    assert (first.version, outside.version, second.version) == (1, 2, 3)
    assert sorted(m.version for m in Model.list(ws, name="shared")) == [1, 2, 3]
    assert {m.version: m.run_id for m in Model.list(ws, name="shared")} == {1: child.id, 2: None, 3: child.id}


def test_an_end_that_no_longer_applies_is_reported_and_the_rest_is_written(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    source = tmp_path / "rows.txt"
    source.write_text("rows")
    _step, child = _started_child(ws)
    with held_writes.holding(ws) as group:
        group.hold(child.id)
        child.upload_file("rows.txt", str(source))
        child.complete()
        # The step was canceled meanwhile: its runner ended the child Canceled.
        assert ws.services.tracking.try_transition(child.id, RunStatus.RUNNING, RunStatus.CANCELED, end_time=1.0)
        group.commit()
        assert group.moved == {child.id}
    assert ws.services.queries.run(child.id).status == RunStatus.CANCELED
    assert [f.path for f in ws.services.queries.files(child.id)] == ["rows.txt"]


def test_runs_the_group_does_not_hold_are_written_through(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    source = tmp_path / "a.txt"
    source.write_text("a")
    step, child = _started_child(ws)
    with held_writes.holding(ws) as group:
        group.hold(child.id)
        step.upload_file("a.txt", str(source))  # the step run: not held
        assert _db_rows(ws, "SELECT path FROM run_files") == [("a.txt",)]
        with pytest.raises(RuntimeError, match="do not nest"), held_writes.holding(ws):
            pass


def _task(tmp_path: Path, stores: int, entry: str) -> tuple[Workspace, pr.MiniBatchTask]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "entry.py").write_text(entry)
    ws = Workspace.create(tmp_path / "ws")
    step = Experiment(ws, "tasks").start_logging()
    frame = pd.DataFrame({"store": [s for s in range(stores) for _ in range(2)], "x": range(stores * 2)})
    task = pr.MiniBatchTask(
        locator=workspace_locator(ws),
        step_run_id=step.id,
        experiment="tasks",
        source=str(src),
        snapshot_id=None,
        host=HOSTNAME,
        entry_script="entry.py",
        arguments=[],
        output_action="append_row",
        run_invocation_timeout=60,
        run_max_try=1,
        **pr._children(step, pr._split_tabular([frame], {"partition_keys": ["store"]})),
    )
    return ws, task


MODELS = """
import os, sqlite3, time
from pathlib import Path
from jupyter_mlws import Run

def run(mini_batch):
    store = int(mini_batch["store"].iloc[0])
    run = Run.get_context()
    run.log("rows", len(mini_batch))
    path = Path(os.environ["MODELS_DIR"]) / f"model-{store}.txt"
    path.write_text(f"model of store {store}")
    run.upload_file("outputs/model.txt", str(path))
    run.register_model(f"model-{store}", "outputs/model.txt", tags={"store": str(store)})
    if store == int(os.environ.get("CRASH_AT", "-1")):
        os._exit(9)  # killed mid-group: the held rows of this task die with the process
    if os.environ.get("SEEN_FILE"):  # what another reader of the database sees as this one ends
        deadline = time.monotonic() + (10 if os.environ.get("WAIT_FOR_PREVIOUS") else 0)
        while True:
            with sqlite3.connect(os.environ["DATABASE"]) as conn:
                done = conn.execute("SELECT count(*) FROM runs WHERE status = 'Completed'").fetchone()[0]
            if done >= store or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        with open(os.environ["SEEN_FILE"], "a") as seen:
            seen.write(f"{store} {done}\\n")
    return [[store]]
"""


def _run_in_child_process(task: pr.MiniBatchTask, env: dict[str, str]) -> int | None:
    """``run_mini_batches`` in a forked process (as a pool worker runs it); its exit code."""

    def target() -> None:
        os.environ.update(env)
        pr.run_mini_batches(task)

    process = multiprocessing.get_context("fork").Process(target=target)
    process.start()
    process.join(120)
    return process.exitcode


def test_a_worker_killed_mid_group_leaves_no_row_naming_a_missing_blob_and_its_mini_batches_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, task = _task(tmp_path, 4, MODELS)
    (tmp_path / "models").mkdir()
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    assert _run_in_child_process(task, {"CRASH_AT": "2"}) == 9
    ids = [run_id for _, run_id, _ in task.items]
    statuses = [ws.services.queries.run(run_id).status for run_id in ids]
    # The three it started are Running (their ends were held), the fourth was never started.
    assert statuses == [RunStatus.RUNNING] * 3 + [RunStatus.NOT_STARTED]
    assert _db_rows(ws, "SELECT count(*) FROM run_files") == [(0,)]
    assert _db_rows(ws, "SELECT count(*) FROM model_versions") == [(0,)]
    # Every row that names a blob names a stored one (none do yet; the blobs wait for `mlws gc`).
    assert ws.services.housekeeping.check().clean

    # The task runs again (Dask retries it; a new pool gets it): the Running ones are run again.
    results = pr.run_mini_batches(task)
    assert [r.ok for r in results] == [True] * 4
    assert [ws.services.queries.run(run_id).status for run_id in ids] == [RunStatus.COMPLETED] * 4
    for store, run_id in enumerate(ids):
        (model,) = Model.list(ws, tags=[["store", str(store)]])
        # The number taken by the killed attempt is skipped, never reused.
        assert model.run_id == run_id and model.version == (2 if store <= 2 else 1)
        assert [f.path for f in ws.services.queries.files(run_id)] == ["outputs/model.txt"]
    report = ws.services.housekeeping.check()
    assert report.clean and report.checked >= 4, report


def test_a_slow_group_is_written_as_it_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The held rows wait at most MAX_HOLD_S, whatever the thread does meanwhile: with a short hold and
    a slow mini-batch, each end is written before the next mini-batch ends (as another process sees it)."""
    monkeypatch.setattr(held_writes, "MAX_HOLD_S", 0.1)
    ws, task = _task(tmp_path, 4, MODELS)
    (tmp_path / "models").mkdir()
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("SEEN_FILE", str(seen))
    monkeypatch.setenv("WAIT_FOR_PREVIOUS", "1")  # each mini-batch waits (at most 10 s) for the previous end
    monkeypatch.setenv("DATABASE", str(ws.metadata.sql.engine.url.database))
    results = pr.run_mini_batches(task)
    assert all(r.ok for r in results)
    assert seen.read_text().split("\n")[:4] == ["0 0", "1 1", "2 2", "3 3"]


def test_a_quick_group_is_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default hold, a burst of quick mini-batches ends in one commit: another process sees
    none of them Completed while the task runs, then all of them."""
    monkeypatch.setattr(held_writes, "MAX_HOLD_S", 3600.0)
    ws, task = _task(tmp_path, 4, MODELS)
    (tmp_path / "models").mkdir()
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("SEEN_FILE", str(seen))
    monkeypatch.setenv("DATABASE", str(ws.metadata.sql.engine.url.database))
    started = time.time()
    results = pr.run_mini_batches(task)
    assert all(r.ok for r in results)
    assert seen.read_text().split("\n")[:4] == ["0 0", "1 0", "2 0", "3 0"]
    ends = {ws.services.queries.run(r.run_id).end_time for r in results}
    assert len(ends) == 4 and all(e is not None and e >= started for e in ends)
    assert _db_rows(ws, "SELECT count(*) FROM model_versions") == [(4,)]
