"""A ParallelRunStep's worker task (``run_mini_batches``) called in this process on a plain workspace:
how it starts each child run (issue 19's many-models path) and what it makes of children that are not
NotStarted as created (an earlier attempt's work, a cancel)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.core.locator import workspace_locator
from jupyter_mlws.core.services.liveness import HOSTNAME
from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.pipelines import parallel_runner as pr

ENTRY = """
from jupyter_mlws import Run

def run(mini_batch):
    store = int(mini_batch["store"].iloc[0])
    Run.get_context().log("rows", len(mini_batch))
    return [[store, len(mini_batch)]]
"""


def _task(tmp_path: Path, stores: int) -> tuple[Workspace, pr.MiniBatchTask]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "entry.py").write_text(ENTRY)
    ws = Workspace.create(tmp_path / "ws")
    step = Experiment(ws, "tasks").start_logging()
    frame = pd.DataFrame({"store": [s for s in range(stores) for _ in range(3)], "x": range(stores * 3)})
    batches = pr._split_tabular([frame], {"partition_keys": ["store"]})
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
        **pr._children(step, batches),
    )
    return ws, task


def test_children_start_by_compare_and_set_and_others_are_read(tmp_path: Path) -> None:
    ws, task = _task(tmp_path, 5)
    ids = [run_id for _, run_id, _ in task.items]
    tracking = ws.services.tracking
    # An earlier attempt of the task completed the first child and started the second; the step
    # was canceled before the third ran. The records the task carries still say NotStarted.
    assert tracking.try_transition(ids[0], RunStatus.NOT_STARTED, RunStatus.RUNNING, start_time=time.time())
    assert tracking.try_transition(ids[0], RunStatus.RUNNING, RunStatus.COMPLETED, end_time=time.time())
    assert tracking.try_transition(ids[1], RunStatus.NOT_STARTED, RunStatus.RUNNING, start_time=time.time())
    assert tracking.try_transition(ids[2], RunStatus.NOT_STARTED, RunStatus.CANCELED, end_time=time.time())
    before = time.time()

    results = pr.run_mini_batches(task)

    assert [(r.ok, r.attempts) for r in results] == [(True, 0), (True, 1), (False, 0), (True, 1), (True, 1)]
    assert results[2].error == "not run: the mini-batch was Canceled"
    assert [r.rows for r in results] == [[], ["1 3"], [], ["3 3"], ["4 3"]]
    records = [ws.metadata.get_run(run_id) for run_id in ids]
    assert [r.status for r in records] == [RunStatus.COMPLETED] * 2 + [RunStatus.CANCELED] + [RunStatus.COMPLETED] * 2
    for record in records[3:]:  # started here: Running with its start time, then Completed
        assert record.start_time is not None and record.start_time >= before
        assert record.end_time is not None and record.end_time >= record.start_time
    assert ws.services.queries.metrics(ids[4]) == {"rows": 3}


def test_a_task_without_the_records_reads_each_child(tmp_path: Path) -> None:
    ws, task = _task(tmp_path, 2)
    task.created = {}  # a task made before the records travelled with it
    results = pr.run_mini_batches(task)
    assert [(r.ok, r.rows) for r in results] == [(True, ["0 3"]), (True, ["1 3"])]
    assert {ws.metadata.get_run(run_id).status for _, run_id, _ in task.items} == {RunStatus.COMPLETED}
