"""A name the store refuses (another process used it for text or a table) costs only that name's points."""

from __future__ import annotations

import pytest

from jupyter_mlws import Experiment, Run, Workspace
from jupyter_mlws.errors import InvalidArgumentError


def test_a_refused_name_does_not_take_the_runs_other_metrics_along(ws: Workspace) -> None:
    run = Experiment(ws, "clash").start_logging()
    other_process = Run(Experiment(Workspace(ws.root), "clash"), run.id)  # its own writer and kind cache
    other_process.log("note", "written as text first")
    other_process.flush()

    for step in range(3):
        run.log("acc", 0.5 + step / 10, step=step)
        run.log("note", float(step))  # this process thinks "note" is new: the store refuses it
    with pytest.raises(InvalidArgumentError, match=r"3 points of metric 'note' of run .*holds text or booleans"):
        run.flush()
    assert [p.value for p in run.get_metric_history("acc")] == [0.5, 0.6, 0.7]
    assert run.get_metrics()["note"] == "written as text first"
    run.flush()  # reported once, nothing left queued


def test_a_deleted_or_unknown_run_still_rejects_its_points_in_one_message(ws: Workspace) -> None:
    run = Experiment(ws, "gone").start_logging()
    ghost = Run(Experiment(ws, "gone"), run.id)
    ghost._id = "no-such-run"  # as if the run had been deleted under the writer
    ghost.log("a", 1.0)
    with pytest.raises(InvalidArgumentError, match=r"1 points of run no-such-run"):
        ghost.flush()
