"""The group commit of a ParallelRunStep's worker (issue 19, ``core.services.held_writes``): a group's
file rows, model versions and ends are written together, after one sync of its blobs; until then the
group's own reads see them, and a crash loses only rows (never a blob a row names)."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jupyter_mlws import Experiment, Model, Workspace
from jupyter_mlws.core import writer
from jupyter_mlws.core.entities import PENDING_VERSION, ModelVersionRecord
from jupyter_mlws.core.locator import workspace_locator
from jupyter_mlws.core.services import held_writes
from jupyter_mlws.core.services.liveness import HOSTNAME
from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.errors import AlreadyExistsError, InvalidStateError
from jupyter_mlws.pipelines import parallel_runner as pr


def _started_child(ws: Workspace, parent_name: str = "group") -> tuple[object, object]:
    """A step run and one child Running, as a worker starts it."""
    step = Experiment(ws, parent_name).start_logging()
    child = step.child_run(name="mini-batch 0")
    return step, child


def _counting(store: object, method: str) -> list[object]:
    """The first arguments of each call of ``store.method`` from now on (this process)."""
    calls: list[object] = []
    real = getattr(store, method)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args[0] if args else None)
        return real(*args, **kwargs)

    setattr(store, method, counted)
    return calls


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


def test_version_numbers_are_taken_when_asked_for_or_by_the_commit(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    model_file = tmp_path / "model.txt"
    model_file.write_text("m")
    _step, child = _started_child(ws)
    reserved = _counting(ws.metadata, "reserve_model_version")
    with held_writes.holding(ws) as group:
        group.hold(child.id)
        child.upload_file("model.txt", str(model_file))
        first = child.register_model("shared", "model.txt")
        assert reserved == [] and first.id == "shared:1"  # asked for: taken now (kept by the commit)
        assert reserved == ["shared"]
        # Another process registers the same name meanwhile: it gets the next number.
        outside = Model.register(ws, str(model_file), "shared")
        second = child.register_model("shared", "model.txt")  # not asked for: taken by the commit
        third = child.register_model("shared", "model.txt")
        child.complete()
    assert reserved == ["shared"]
    assert (first.version, outside.version) == (1, 2)
    assert (third.version, second.version) == (4, 3)  # read back after the commit, in any order
    assert {m.version: m.run_id for m in Model.list(ws, name="shared")} == {
        1: child.id,
        2: None,
        3: child.id,
        4: child.id,
    }


def test_a_held_registrations_number_is_taken_in_any_thread_and_a_lost_one_is_a_clear_error(
    tmp_path: Path,
) -> None:
    ws = Workspace.create(tmp_path / "ws")
    model_file = tmp_path / "model.txt"
    model_file.write_text("m")
    _step, child = _started_child(ws)
    with held_writes.holding(ws) as group:
        group.hold(child.id)
        child.upload_file("model.txt", str(model_file))
        model = child.register_model("held", "model.txt")
        asked: list[int] = []
        thread = threading.Thread(target=lambda: asked.append(model.version))  # another thread of the worker
        thread.start()
        thread.join()
        assert asked == [1]
        child.complete()
    assert Model(ws, "held").version == 1
    # A registration whose group went without writing it (its process died): no number to give.
    pending = ModelVersionRecord(name="held", version=PENDING_VERSION, created_time=1.0, run_id=child.id)
    lost = Model(ws, _record=pending)
    with pytest.raises(InvalidStateError, match="version number of model 'held' registered by run"):
        _ = lost.version


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
    crash = store == int(os.environ.get("CRASH_AT", "-1"))
    if crash and not os.environ.get("CRASH_AFTER_SEEN"):
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
    if crash:
        os._exit(9)
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
    monkeypatch.setattr(held_writes, "MAX_HOLD_S", 3600.0)  # nothing is due before the crash
    ws, task = _task(tmp_path, 4, MODELS)
    (tmp_path / "models").mkdir()
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    handed_out = time.time()
    assert _run_in_child_process(task, {"CRASH_AT": "2"}) == 9
    ids = [run_id for _, run_id, _ in task.items]
    statuses = [ws.services.queries.run(run_id).status for run_id in ids]
    # The three it started are Running (the ends of two were held), the fourth was never started.
    assert statuses == [RunStatus.RUNNING] * 3 + [RunStatus.NOT_STARTED]
    assert _db_rows(ws, "SELECT count(*) FROM run_files") == [(0,)]
    assert _db_rows(ws, "SELECT count(*) FROM model_versions") == [(0,)]
    # Every row that names a blob names a stored one (none do yet; the blobs wait for `mlws gc`).
    assert ws.services.housekeeping.check().clean

    # The pool broke: the runner fails the one that was running (it reached it last) and hands the
    # others, the two whose ends died with the process and the one never started, to a new pool.
    ended, again = pr._salvage_broken(ws, task, handed_out)
    assert [(r.run_id, r.ok) for r in ended] == [(ids[2], False)]
    assert "worker process died" in (ended[0].error or "")
    assert again is not None and [run_id for _, run_id, _ in again.items] == [ids[0], ids[1], ids[3]]
    results = pr.run_mini_batches(again)
    assert [r.ok for r in results] == [True] * 3
    assert [ws.services.queries.run(run_id).status for run_id in ids] == [RunStatus.COMPLETED] * 2 + [
        RunStatus.FAILED,
        RunStatus.COMPLETED,
    ]
    for store in (0, 1, 3):
        (model,) = Model.list(ws, tags=[["store", str(store)]])
        # The killed attempt took no number (its commit would have): the first is the re-run's.
        assert model.run_id == ids[store] and model.version == 1
        assert [f.path for f in ws.services.queries.files(ids[store])] == ["outputs/model.txt"]
    report = ws.services.housekeeping.check()
    assert report.clean and report.checked >= 3, report

    # A task handed out again later: the child this second pool reached last is the one it blames.
    later = time.time()
    ended, again = pr._salvage_broken(ws, task, later)
    assert ended == [
        pr.MiniBatchResult(0, ids[0], True, 0.0, 1),
        pr.MiniBatchResult(1, ids[1], True, 0.0, 1),
        pr.MiniBatchResult(
            2,
            ids[2],
            False,
            0.0,
            1,
            "its worker process died while running it (this mini-batch or one beside it crashed)",
        ),
        pr.MiniBatchResult(3, ids[3], True, 0.0, 1),
    ]
    assert again is None


def test_only_ended_mini_batches_are_written_before_the_group_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer writes a mini-batch whole once it has ended; one still running keeps its file and
    model held (a crash then leaves nothing of it to trip its re-run)."""
    monkeypatch.setattr(held_writes, "MAX_HOLD_S", 0.1)
    ws, task = _task(tmp_path, 3, MODELS)
    (tmp_path / "models").mkdir()
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    env = {"SEEN_FILE": str(seen), "WAIT_FOR_PREVIOUS": "1", "CRASH_AT": "1", "CRASH_AFTER_SEEN": "1"}
    monkeypatch.setenv("DATABASE", str(ws.metadata.sql.engine.url.database))
    assert _run_in_child_process(task, env) == 9
    ids = [run_id for _, run_id, _ in task.items]
    assert seen.read_text() == "0 0\n1 1\n"  # store 1 saw store 0 Completed before it crashed
    assert [ws.services.queries.run(run_id).status for run_id in ids] == [
        RunStatus.COMPLETED,
        RunStatus.RUNNING,
        RunStatus.NOT_STARTED,
    ]
    assert _db_rows(ws, "SELECT r.run_id, f.path FROM run_files f JOIN runs r ON r.key = f.run_key") == [
        (ids[0], "outputs/model.txt")
    ]
    assert _db_rows(ws, "SELECT name, version FROM model_versions") == [("model-0", 1)]
    monkeypatch.setenv("SEEN_FILE", "")
    results = pr.run_mini_batches(task)  # as Dask runs the task again
    assert [r.ok for r in results] == [True] * 3
    assert [m.version for m in Model.list(ws, name="model-1")] == [1]  # the crashed attempt took none
    assert [f.path for f in ws.services.queries.files(ids[1])] == ["outputs/model.txt"]


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


def test_a_mini_batch_logs_files_and_models_with_one_transaction_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mini-batch that logs a metric, uploads a file and registers a model from it writes only its
    start on its own: its run is kept alive by the runner that created it (no heartbeat to join it),
    its held files are listed without a query, its model's number is taken by the commit (the entry
    script does not ask for it), and its metric points are written with the group's (the metric
    writer waits for the group commit's flush)."""
    monkeypatch.setattr(held_writes, "MAX_HOLD_S", 3600.0)
    monkeypatch.setattr(writer, "HELD_FLUSH_INTERVAL_S", 3600.0)
    ws, task = _task(tmp_path, 3, MODELS)
    (tmp_path / "models").mkdir()
    counts = tmp_path / "calls.json"

    def worker() -> None:  # a pool worker: another process than the runner that made the children
        os.environ["MODELS_DIR"] = str(tmp_path / "models")
        store = pr._entry(task).ws.metadata  # loaded first, as warm_entry does
        calls = {
            "heartbeat": 0,
            "list_run_files": 0,
            "write_held": 0,
            "log_points": 0,
            "log_batch": 0,
            "reserve_model_version": 0,
        }
        for name in calls:
            real = getattr(store, name)

            def counted(*args: object, _name: str = name, _real: Any = real, **kwargs: object) -> object:
                calls[_name] += 1
                return _real(*args, **kwargs)

            setattr(store, name, counted)
        results = pr.run_mini_batches(task)
        counts.write_text(json.dumps({"ok": [r.ok for r in results], "calls": calls}))

    process = multiprocessing.get_context("fork").Process(target=worker)
    process.start()
    process.join(120)
    assert process.exitcode == 0
    # Three mini-batches: no heartbeat, no listing; their files, models and ends in one commit, their
    # points in one batch just before it.
    assert json.loads(counts.read_text()) == {
        "ok": [True, True, True],
        "calls": {
            "heartbeat": 0,
            "list_run_files": 0,
            "write_held": 1,
            "log_points": 1,
            "log_batch": 0,
            "reserve_model_version": 0,
        },
    }
    for _index, run_id, _data in task.items:
        assert [f.path for f in ws.services.queries.files(run_id)] == ["outputs/model.txt"]
        assert ws.services.queries.metrics(run_id) == {"rows": 2}
    assert sorted(m.name for m in Model.list(ws)) == ["model-0", "model-1", "model-2"]


def test_the_metric_writer_wakes_less_often_while_a_group_holds_writes(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    assert writer.flush_interval() == writer.FLUSH_INTERVAL_S
    with held_writes.holding(ws):
        assert writer.flush_interval() == writer.HELD_FLUSH_INTERVAL_S > writer.FLUSH_INTERVAL_S
    assert writer.flush_interval() == writer.FLUSH_INTERVAL_S
    with pytest.raises(ZeroDivisionError), held_writes.holding(ws):  # a group that ends by an error too
        assert writer.flush_interval() == writer.HELD_FLUSH_INTERVAL_S
        _ = 1 / 0
    assert writer.flush_interval() == writer.FLUSH_INTERVAL_S
    # A process forked while a group is open has no group of its own: its writers keep their pace.
    answer = tmp_path / "interval.txt"
    with held_writes.holding(ws):
        child = multiprocessing.get_context("fork").Process(
            target=lambda: answer.write_text(str(writer.flush_interval()))
        )
        child.start()
        child.join(60)
    assert child.exitcode == 0 and float(answer.read_text()) == writer.FLUSH_INTERVAL_S


def test_the_workers_load_the_entry_script_before_their_first_task(tmp_path: Path) -> None:
    """warm_entry (sent to each worker as the step starts) loads the entry script and calls init()
    once; the worker's tasks then use it."""
    entry = (
        "import os\nCALLS = []\n"
        "def init():\n    CALLS.append(os.getpid())\n"
        "def run(mini_batch):\n    return [[len(CALLS)]]\n"
    )
    _ws, task = _task(tmp_path, 2, entry)
    empty = pr.MiniBatchTask(**{**task.__dict__, "items": [], "created": {}})
    key = (os.getpid(), task.step_run_id)
    assert key not in pr._entries
    assert pr.warm_entry(empty) is None
    loaded = pr._entries[key]  # loaded by warm_entry, for this step
    assert loaded.module is not None and loaded.module.CALLS == [os.getpid()]
    results = pr.run_mini_batches(task)
    assert [r.rows for r in results] == [["1"], ["1"]]  # init() ran once, before the first mini-batch


def test_files_another_thread_wrote_to_a_held_run_are_listed(tmp_path: Path) -> None:
    """A held run's files are listed without a query, unless some went straight to the store: a
    thread of the worker (outside the group) uploaded one."""
    ws = Workspace.create(tmp_path / "ws")
    source = tmp_path / "model.txt"
    source.write_text("m")
    _step, child = _started_child(ws)
    with held_writes.holding(ws) as group:
        group.hold(child.id)
        child.upload_file("held.txt", str(source))
        thread = threading.Thread(target=child.upload_file, args=("outputs/model.txt", str(source)))
        thread.start()
        thread.join(30)
        assert _db_rows(ws, "SELECT path FROM run_files") == [("outputs/model.txt",)]  # not held
        assert child.get_file_names() == ["held.txt", "outputs/model.txt"]
        model = child.register_model("from-thread", "outputs/model.txt")
        child.complete()
    assert model.version == 1
    assert [f.path for f in ws.services.queries.files(child.id)] == ["held.txt", "outputs/model.txt"]
    assert Model(ws, "from-thread").run_id == child.id


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


def test_a_process_forked_in_a_group_writes_straight_through(tmp_path: Path) -> None:
    """A process the entry script forks has a copy of the group that is not its own: its writes go
    to the store as they are made (none is lost with the copy)."""
    ws = Workspace.create(tmp_path / "ws")
    source = tmp_path / "part.txt"
    source.write_text("part")
    _step, child = _started_child(ws)
    with held_writes.holding(ws) as group:
        group.hold(child.id)

        def target() -> None:
            child.upload_file("from-fork.txt", str(source))

        process = multiprocessing.get_context("fork").Process(target=target)
        process.start()
        process.join(60)
        assert process.exitcode == 0
        assert _db_rows(ws, "SELECT path FROM run_files") == [("from-fork.txt",)]
        child.upload_file("held.txt", str(source))
        assert [f.path for f in ws.services.queries.files(child.id)] == ["from-fork.txt", "held.txt"]
    assert sorted(_db_rows(ws, "SELECT path FROM run_files")) == [("from-fork.txt",), ("held.txt",)]
