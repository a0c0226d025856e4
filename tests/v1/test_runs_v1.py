"""Runs the Azure ML v1 way (issue 14, item 3 — the parts landed so far): ``Run.list`` and
``get_details_with_logs``, thin aliases over the experiment's runs and the run's logs."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlws import Experiment, Run, ScriptRunConfig, Workspace
from jupyter_mlws.compute import agent


def test_run_list_is_the_experiments_runs_newest_first_filtered_as_v1(ws: Workspace) -> None:
    exp = Experiment(workspace=ws, name="v1-runs")
    first = exp.start_logging()
    first.tag("fold", "a")
    first.complete()
    second = exp.start_logging()
    child = second.child_run()
    assert [r.id for r in Run.list(exp)] == [second.id, first.id]
    assert [r.id for r in Run.list(exp, tags={"fold": "a"})] == [first.id]
    assert [r.id for r in Run.list(exp, status="Completed")] == [first.id]
    assert [r.id for r in Run.list(exp, include_children=True)] == [child.id, second.id, first.id]
    assert [r.id for r in Run.list(exp, type="azureml.PipelineRun")] == []
    assert all(isinstance(r, Run) for r in Run.list(exp))
    second.complete()


def test_get_details_with_logs_holds_the_logs_text(ws: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "job.py").write_text("print('hello from the job')\n")
    try:
        run = Experiment(ws, "v1-logs").submit(ScriptRunConfig(source_directory=str(src), script="job.py"))
        run.wait_for_completion(timeout=120)
    finally:
        agent.stop(ws)  # leave no dispatcher of this test behind
    details = run.get_details_with_logs()
    assert details["runId"] == run.id and details["status"] == "Completed"
    assert "hello from the job" in details["logFiles"]["user_logs/std_log.txt"]
    assert set(details["logFiles"]) == set(run.get_details()["logFiles"])
