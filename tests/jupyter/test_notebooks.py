"""The example notebooks run end to end in a real kernel (nbclient), as a user would run them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_mlws import Model, Workspace
from jupyter_mlws.compute import agent

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _execute_example(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cleanup: Callable[[Workspace], None] | None = None
) -> tuple[Any, str]:
    """Execute ``notebooks/<name>`` in ``tmp_path`` as a user would; then stop its workspace's agent
    (after ``cleanup``), check that no cell failed, and answer the notebook and all its output text."""
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    nb = nbformat.read(tmp_path / name, as_version=4)
    try:
        NotebookClient(
            nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        if (tmp_path / ".mlws").exists():
            ws = Workspace(tmp_path)
            if cleanup is not None:
                cleanup(ws)
            agent.stop(ws)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    text = "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", [])
    )
    return nb, text


@pytest.mark.slow
def test_quickstart_notebook_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb, text = _execute_example("quickstart.ipynb", tmp_path, monkeypatch)
    ws = Workspace(tmp_path)
    runs = list(ws.search_runs().runs)
    assert sorted(r.type for r in runs) == ["interactive", "script"]
    assert all(r.get_status() == "Completed" for r in runs)
    job = next(r for r in runs if r.type == "script")
    assert len(job.get_metrics()["loss"]) == 20
    model = Model(ws, "quickstart-model")
    assert (model.version, model.run_id, model.tags) == (1, job.id, {"source": "notebook"})
    assert "Execution Summary" in text and "quickstart-model" in text
    widgets = [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(widgets) >= 2  # the interactive run's and the job's RunDetails


def _executed_text(run: object, target: Path) -> str:
    path = Path(run.download_file("outputs/train.ipynb", target))  # type: ignore[attr-defined]
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_the_example_notebook_runs_as_a_job_with_two_parameter_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the README says: `mlws submit notebooks/train.ipynb -p ...` twice, different parameters."""
    import subprocess
    import sys

    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    project = tmp_path / "project"
    shutil.copytree(NOTEBOOKS, project / "notebooks")
    Workspace.create(project)
    mlws = str(Path(sys.executable).parent / "mlws")
    try:
        for epochs, rate in ((30, "0.3"), (10, "0.8")):
            argv = [mlws, "submit", "notebooks/train.ipynb", "--source", "notebooks", "-p", f"epochs={epochs}"]
            done = subprocess.run(
                [*argv, "-p", f"learning_rate={rate}", "--wait"],
                cwd=project,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stdout + done.stderr
    finally:
        agent.stop(Workspace(project))
    ws = Workspace(project)
    runs = sorted(ws.search_runs().runs, key=lambda r: len(r.get_metrics()["loss"]))
    assert [len(r.get_metrics()["loss"]) for r in runs] == [10, 30]
    for run, epochs, rate in zip(runs, (10, 30), ("0.8", "0.3"), strict=True):
        assert run.status == "Completed" and run.get_metrics()["final_loss"] < 0.01
        assert f"after {epochs} epochs at learning rate {rate}" in _executed_text(run, tmp_path / f"{run.id}.ipynb")
        assert "outputs/model.json" in run.get_file_names()


@pytest.mark.slow
def test_the_getting_started_pipeline_notebook_runs_and_reuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16's new user: prepare → train → evaluate from a notebook; re-submitted, every step is
    reused; after an in-place edit of the CSV, the steps it reaches rerun and say why."""
    _nb, text = _execute_example("pipeline.ipynb", tmp_path, monkeypatch)
    assert "step 'evaluate': Completed (reused" in text
    assert "prepare input 'raw' changed: 1 of 2 files (train.csv)" in text
    assert "train input 'prepared' changed: 1 of 2 files (train.csv)" in text
    ws = Workspace(tmp_path)
    pipeline_runs = [r for r in ws.search_runs().runs if r.type == "azureml.PipelineRun"]
    assert len(pipeline_runs) == 3 and all(r.get_status() == "Completed" for r in pipeline_runs)


@pytest.mark.slow
def test_the_deploy_notebook_serves_calls_updates_and_deletes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17's new user: a scikit-learn model deployed with an entry script, called with its key
    (and refused without), its telemetry read, moved to version 2 without downtime, deleted."""
    from jupyter_mlws import Webservice

    def delete_services(ws: Workspace) -> None:
        for service in Webservice.list(ws):  # left by a failed cell
            service.delete()

    _nb, text = _execute_example("deploy.ipynb", tmp_path, monkeypatch, cleanup=delete_services)
    assert "iris-service: Healthy" in text and "{'predictions': [0, 2]}" in text
    assert "200 {'predictions': [2]}" in text and "401 " in text  # with the key, then without
    assert "iris-classifier:1" in text  # the telemetry's models column
    assert "['iris-classifier:2'] Healthy" in text
    ws = Workspace(tmp_path)
    assert Webservice.list(ws) == [] and not (ws.path / "services" / "iris-service").exists()
    assert [m.version for m in Model.list(ws, name="iris-classifier")] == [2, 1]


@pytest.mark.slow
def test_the_sweep_notebook_tunes_ranks_and_registers_the_best(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18's new user: a scikit-learn script swept with seeded random sampling and a bandit policy,
    watched with RunDetails, ranked, and the best trial's model registered from its run."""
    from jupyter_mlws import HyperDriveRun

    nb, text = _execute_example("sweep.ipynb", tmp_path, monkeypatch)
    ws = Workspace(tmp_path)
    [sweep] = [r for r in ws.search_runs().runs if r.type == "hyperdrive"]
    hd = HyperDriveRun(sweep.experiment, sweep.id)
    assert hd.get_status() == "Completed" and len(hd.get_hyperparameters()) == 6
    best = hd.get_best_run_by_primary_metric()
    assert best is not None
    model = Model(ws, "iris-sweep-best")
    assert (model.version, model.run_id, model.tags) == (1, best.id, {"sweep": hd.id})
    assert f"1. {best.id}  " in text and f"registered iris-sweep-best:1 from run {best.id}" in text
    assert "Trials (" in text and "accuracy (max)" in text  # RunDetails' text, with the trials' table
    widgets = [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(widgets) == 1
