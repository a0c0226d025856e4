"""The example notebooks run end to end in a real kernel (nbclient), as a user would run them."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_mlws import Model, Workspace
from jupyter_mlws.compute import agent

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.slow
def test_quickstart_notebook_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    shutil.copy(NOTEBOOKS / "quickstart.ipynb", tmp_path / "quickstart.ipynb")
    nb = nbformat.read(tmp_path / "quickstart.ipynb", as_version=4)
    try:
        NotebookClient(
            nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        if (tmp_path / ".mlws").exists():
            agent.stop(Workspace(tmp_path))
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    ws = Workspace(tmp_path)
    runs = list(ws.search_runs().runs)
    assert sorted(r.type for r in runs) == ["interactive", "script"]
    assert all(r.get_status() == "Completed" for r in runs)
    job = next(r for r in runs if r.type == "script")
    assert len(job.get_metrics()["loss"]) == 20
    model = Model(ws, "quickstart-model")
    assert (model.version, model.run_id, model.tags) == (1, job.id, {"source": "notebook"})
    text = "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", [])
    )
    assert "Execution Summary" in text and "quickstart-model" in text
    widgets = [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(widgets) >= 2  # the interactive run's and the job's RunDetails
