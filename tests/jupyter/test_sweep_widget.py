"""``RunDetails`` of a sweep (issue 18): the trials' table (sampled values, primary metric, why the
policy stopped one), the primary metric over time per trial and a parallel-coordinates chart, live while
the sweep runs and in the text a front end without widgets shows; and ``%%submit --sweep``."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing import globalipapp

from jupyter_mlws import (
    BanditPolicy,
    Experiment,
    HyperDriveConfig,
    HyperDriveRun,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
    uniform,
)
from jupyter_mlws.compute import agent
from jupyter_mlws.sweeps.views import sweep_view
from jupyter_mlws.widgets import RunDetails

TRAIN = """\
import argparse, os, time
from jupyter_mlws import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
parser.add_argument("--act")
parser.add_argument("--release")
args = parser.parse_args()
run = Run.get_context()
for step in range(3):
    run.log("acc", args.lr * (step + 1) + (0.001 if args.act == "tanh" else 0.0), step=step)
run.flush()
while not os.path.exists(args.release):  # the test looks at the widget while the trials run
    time.sleep(0.05)
"""


def wait_until(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@dataclass
class Swept:
    ws: Workspace
    run: HyperDriveRun
    details: RunDetails
    live_table: str
    live_points: list[int]
    live_figures: tuple[object, object]
    live_ended: bool


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swept]:
    """One real sweep (4 trials, 2 at a time) with its RunDetails: looked at while the first trials
    run, then after the end."""
    root = tmp_path_factory.mktemp("sweep-widget")
    src = root / "src"
    src.mkdir()
    (src / "train.py").write_text(TRAIN)
    release = root / "release"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
        ws = Workspace.create(root / "ws")
        try:
            config = HyperDriveConfig(
                run_config=ScriptRunConfig(src, "train.py", arguments=["--release", str(release)]),
                hyperparameter_sampling=RandomParameterSampling(
                    {"--lr": uniform(0.1, 0.9), "--act": choice("relu", "tanh")}, seed=5
                ),
                primary_metric_name="acc",
                primary_metric_goal="MAXIMIZE",
                max_total_runs=4,
                max_concurrent_runs=2,
                policy=BanditPolicy(slack_factor=0.05),
            )
            run = Experiment(ws, "widget-sweep").submit(config)
            details = RunDetails(run)

            def first_curve_done() -> bool:
                ended = details.refresh()
                assert details.curves_figure is not None
                return ended or any(len(trace.y or ()) == 3 for trace in details.curves_figure.data)

            wait_until(first_curve_done)
            assert details.curves_figure is not None and details.parcoords_figure is not None
            live_table = details.trial_table.value
            live_points = [len(trace.y or ()) for trace in details.curves_figure.data]
            live_ended = details.status is not None and details.status.value == "Completed"
            figures = (details.curves_figure, details.parcoords_figure)
            release.write_text("")
            run.wait_for_completion(timeout=90)
            assert details.refresh() is True
            yield Swept(ws, run, details, live_table, live_points, figures, live_ended)
        finally:
            release.write_text("")
            agent.stop(ws)


def test_the_widget_is_live_while_the_sweep_runs(swept: Swept) -> None:
    assert not swept.live_ended
    assert "Running" in swept.live_table and 3 in swept.live_points
    # the same figures, updated in place at the end
    assert (swept.details.curves_figure, swept.details.parcoords_figure) == swept.live_figures
    assert swept.details.tabs.get_title(0) == "Trials"


def test_the_table_shows_every_trial_best_first(swept: Swept) -> None:
    view = sweep_view(swept.ws, swept.run.id)
    table = swept.details.trial_table.value
    assert "<th style='text-align:left'>--lr</th>" in table and "acc (max)" in table
    ranked = swept.run.get_children_sorted_by_primary_metric()
    assert [table.index(r["run_id"] + "<") for r in ranked] == sorted(table.index(r["run_id"] + "<") for r in ranked)
    for child in view["children"]:
        assert child["run_id"] in table and child["hyperparameters"]["--act"] in table
        assert f"{child['hyperparameters']['--lr']:.4g}" in table
        assert f"{child['best_primary_metric']:.4g}" in table
        if child["stop_reason"]:  # a trial the policy stopped says why
            assert html.escape(child["stop_reason"]) in table
    assert f"best: <b>{view['best_run_id']}</b>" in table
    assert "Bandit: stops a run behind the best run by more than slack factor 0.05" in table


def test_one_curve_per_trial_and_parallel_coordinates(swept: Swept) -> None:
    view = sweep_view(swept.ws, swept.run.id)
    curves = swept.details.curves_figure
    assert curves is not None
    assert [trace.name for trace in curves.data] == [f"trial {c['index']}" for c in view["children"]]
    for trace, child in zip(curves.data, view["children"], strict=True):
        history = swept.ws.get_run(child["run_id"]).get_metric_history("acc")
        assert list(trace.y) == [p.value for p in history] and list(trace.x) == [p.step for p in history]
    parcoords = swept.details.parcoords_figure
    assert parcoords is not None
    [trace] = parcoords.data
    assert isinstance(trace, go.Parcoords)
    lr, act, acc = trace.dimensions
    assert (lr.label, act.label, acc.label) == ("--lr", "--act", "acc")
    scored = [c for c in view["children"] if c["best_primary_metric"] is not None]
    assert list(lr["values"]) == [c["hyperparameters"]["--lr"] for c in scored]
    assert list(acc["values"]) == [c["best_primary_metric"] for c in scored]
    # text choices get an axis of their own values
    assert [act.ticktext[i] for i in act["values"]] == [c["hyperparameters"]["--act"] for c in scored]
    assert list(trace.line.color) == list(acc["values"])


def test_the_text_summary_has_the_table(swept: Swept) -> None:
    text = swept.details.summary_text()
    view = sweep_view(swept.ws, swept.run.id)
    assert "Sweep: acc (maximize), random sampling, Bandit" in text
    assert "Trials (4 of at most 4, 2 at a time), best first:" in text
    header = next(line for line in text.splitlines() if "Rank" in line).split()
    assert header == ["Rank", "Trial", "Run", "Status", "--lr", "--act", "acc", "(max)", "Stopped"]
    for child in view["children"]:
        assert child["run_id"] in text
    assert f"Best run: {view['best_run_id']}" in text


# -- %%submit --sweep ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    ip = globalipapp.start_ipython() or globalipapp.get_ipython()
    assert ip is not None
    ip.run_line_magic("load_ext", "jupyter_mlws")
    return ip


def test_submit_sweep_runs_the_cell_as_the_trials_script(
    shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    magics: Any = shell.magics_manager.registry["MlwsMagics"]
    magics._workspace = None
    spec = {
        "sampling": "grid",
        "parameters": {"units": "choice(1, 2)", "--act": "choice('relu', 'tanh')"},
        "primary_metric": "score",
        "goal": "min",
        "max_total_runs": 4,
        "max_concurrent_runs": 2,
    }
    (tmp_path / "sweep.json").write_text(json.dumps(spec))
    cell = (
        "%%submit --sweep sweep.json --experiment cell-sweep --param offset=10 --no-wait --as hd\n"
        "# units and activations\n"
        "import sys\n"
        "from jupyter_mlws import Run\n"
        "assert '--units' in sys.argv  # the sampled values are the script's arguments ...\n"
        "Run.get_context().log('score', offset + units + (0.5 if act == 'tanh' else 0))  # ... and its variables\n"
    )
    try:
        result = shell.run_cell(cell)
        assert result.success, result.error_in_exec
        hd = shell.user_ns["hd"]
        assert isinstance(hd, HyperDriveRun)
        assert sorted(p.name for p in tmp_path.iterdir()) == [".mlws", "sweep.json"]  # the folder as it was
        hd.wait_for_completion(timeout=90)
        assert hd.get_status() == "Completed"
        ranking = hd.get_children_sorted_by_primary_metric()
        assert [r["best_primary_metric"] for r in ranking] == [11.0, 11.5, 12.0, 12.5]
        # named after the cell's comment line, and so are its trials (issue 22)
        assert hd.display_name == "units and activations"
        assert {c.display_name for c in hd.get_children()} == {f"units and activations trial {i}" for i in range(4)}
        assert ranking[0]["hyperparameters"] == {"--units": 1, "--act": "relu"}
        # a bad spec is one line (IPython's UsageError), no traceback and no run
        (tmp_path / "bad.json").write_text(json.dumps({**spec, "goal": "sideways"}))
        bad = shell.run_cell("%%submit --sweep bad.json\nprint('never')\n")
        assert not bad.success and 'bad.json: "goal" must be "max" or "min"' in str(bad.error_in_exec)
    finally:
        agent.stop(Workspace(tmp_path))
