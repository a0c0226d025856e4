"""``RunDetails(run).show()`` where no widget can render (issue 14 item 8): a notebook executed by
nbclient keeps a text summary next to the widget view, and plain Python prints that summary."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_mlws import Experiment, ScriptRunConfig, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.widgets import RunDetails

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

NOTEBOOK_CELLS = [
    "from jupyter_mlws import Experiment, Workspace\nfrom jupyter_mlws.widgets import RunDetails",
    """ws = Workspace.from_config()
with Experiment(ws, "nb").start_logging(display_name="parent") as run:
    run.log("acc", 0.5)
    run.log("acc", 0.75)
    run.log_param("lr", "0.01")
    run.tag("stage", "dev")
    with run.child_run("fold-1") as kid:
        kid.log("loss", 0.25)""",
    "RunDetails(run).show()",
]


def test_a_notebook_run_by_nbclient_shows_the_text_summary(ws: Workspace, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ws.root)}}).execute()
    outputs = nb.cells[-1].outputs
    assert [o.output_type for o in outputs] == ["display_data"]
    data = outputs[0].data
    assert WIDGET_VIEW in data  # a widget front end still gets the live view
    text = data["text/plain"]
    assert "VBox(" not in text
    run = next(Experiment(ws, "nb").get_runs())
    assert text.startswith(f"Run parent ({run.id}) in experiment nb\nStatus: Completed   Elapsed: 0:0")
    assert "Metrics (latest):\n  acc: 0.75" in text
    assert "Params:\n  lr: 0.01" in text and "Tags:\n  stage: dev" in text
    kid = run.get_children()[0]
    assert f"Child runs (1):\n  fold-1 ({kid.id}): Completed  loss=0.25" in text


def test_plain_python_prints_the_summary_of_a_script_run_with_its_log(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    lines = "".join(f"print('line {i}')\n" for i in range(15))
    (src / "train.py").write_text(
        "from jupyter_mlws import Run\nrun = Run.get_context()\nrun.log('loss', 0.5)\n" + lines
    )
    try:
        job = Experiment(ws, "script").submit(ScriptRunConfig(source_directory=str(src), script="train.py"))
        job.wait_for_completion(timeout=120)
    finally:
        agent.stop(ws)
    details = RunDetails(job)
    details.show()  # no IPython shell here: it prints
    out = capsys.readouterr().out
    assert out.startswith(f"Run {job.id} ({job.id}) in experiment script\nStatus: Completed   Elapsed: ")
    assert "Metrics (latest):\n  loss: 0.5" in out
    # The last ten lines of the driver log, in order.
    assert "Log (last 10 lines):\n" + "".join(f"  line {i}\n" for i in range(5, 15)) in out + "\n"
    assert "line 4\n" not in out
    assert not details.updating  # nothing to keep up to date in a terminal
    assert str(details) == out.rstrip("\n")
