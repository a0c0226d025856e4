"""``mlws sweep`` (issue 18) through the CLI's ``main``: a real small sweep on the local target, watched
until its ranking; ``mlws sweep show``; mistakes as one line (exit 2 for the command line's)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, HyperDriveRun, Workspace
from jupyter_mlws.cli import main
from jupyter_mlws.cli.sweeps import split_sweep
from jupyter_mlws.compute import agent
from jupyter_mlws.core.status import RunStatus

TRAIN = """\
import argparse
from jupyter_mlws import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--scale", type=float, default=1.0)
args = parser.parse_args()
run = Run.get_context()
for epoch in range(args.epochs):
    run.log("acc", args.scale * args.lr * (epoch + 1))
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


def mlws(*argv: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # usage errors leave through argparse
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


def one_line_error(result: Result, code: int) -> str:
    assert result.code == code, result
    assert "Traceback" not in result.err + result.out, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


@dataclass
class Swept:
    ws: Workspace
    root: Path
    result: Result
    run_id: str
    no_wait: Result


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swept]:
    """One real sweep through `mlws sweep`, shared by the module's tests."""
    root = tmp_path_factory.mktemp("cli-sweep")
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text(TRAIN)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
        mp.chdir(root)
        ws = Workspace.create(root)
        try:
            # a sweep submitted without waiting, which runs alongside the one watched
            no_wait = mlws(
                "-w", str(root), "sweep", "train.py", "--source", str(root / "src"), "-e", "later",
                "-p", "lr=choice(0.5)", "-p", "epochs=choice(1)", "--metric", "acc", "--goal", "min", "--runs", "1",
                "--sampling", "grid", "--no-wait",
            )  # fmt: skip
            result = mlws(
                "-w", str(root), "sweep", "train.py", "--source", "src",
                "--param", "lr=uniform(0.01, 0.1)", "--param", "--epochs=choice(2, 3)",
                "--metric", "acc", "--goal", "max", "--runs", "4", "--concurrent", "2", "--seed", "11",
                "--policy", "bandit:slack_factor=0.5", "--experiment", "cli-sweep", "--", "--scale", "2",
            )  # fmt: skip
            assert result.code == 0, result
            run_id = result.out.split()[2]
            yield Swept(ws, root, result, run_id, no_wait)
        finally:
            agent.stop(ws)


def test_a_sweep_is_watched_to_its_ranking(swept: Swept) -> None:
    out = swept.result.out
    assert out.startswith(f"Submitted sweep {swept.run_id} (experiment 'cli-sweep'): up to 4 trials")
    run = HyperDriveRun(Experiment(swept.ws, "cli-sweep"), swept.run_id)
    assert run.get_status() == "Completed"
    hyper = run.get_hyperparameters()
    assert len(hyper) == 4
    for index, (trial_id, values) in enumerate(hyper.items()):
        assert trial_id == f"{swept.run_id}_{index}"
        # each trial seen arriving with its values (a quick one may be first seen already ended) ...
        arrival = next(line for line in out.splitlines() if line.startswith(f"trial {index} {trial_id}: "))
        assert arrival.split(": ")[1].split()[0] in {status.value for status in RunStatus}, arrival
        assert set(values) == {"--lr", "--epochs"}
        assert f"--epochs={values['--epochs']}" in arrival
    # ... and the ranking: a table of every trial, best first, and the best run's id
    table = out[out.index("RANK") :]
    header = table.splitlines()[0].split()
    assert header == ["RANK", "TRIAL", "RUN", "STATUS", "--lr", "--epochs", "ACC", "(MAX)", "STOPPED"]
    ranked = run.get_children_sorted_by_primary_metric()
    rows = [line.split() for line in table.splitlines()[2:6]]
    assert [row[2] for row in rows] == [r["run_id"] for r in ranked]
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    best = run.get_best_run_by_primary_metric()
    assert best is not None and f"Best run: {best.id} (acc=" in out
    # the fixed argument after `--` reached every trial: acc = 2 * lr * epochs at best
    top = ranked[0]
    expected = 2 * top["hyperparameters"]["--lr"] * top["hyperparameters"]["--epochs"]
    assert top["best_primary_metric"] == pytest.approx(expected)


def test_show_prints_the_table_and_json(swept: Swept) -> None:
    result = mlws("-w", str(swept.root), "sweep", "show", swept.run_id)
    assert result.code == 0, result
    assert f"sweep:        {swept.run_id}" in result.out and "status:       Completed" in result.out
    assert "metric:       acc (maximize)" in result.out and "sampling:     random, seed 11" in result.out
    assert "policy:       Bandit" in result.out and "trials:       4 of at most 4, 2 at a time" in result.out
    rows = [line for line in result.out.splitlines() if f"{swept.run_id}_" in line and line.split()[1].isdigit()]
    assert len(rows) == 4
    assert "Best run: " in result.out
    view = json.loads(mlws("-w", str(swept.root), "sweep", "show", swept.run_id, "--json").out)
    assert view["run_id"] == swept.run_id and len(view["children"]) == 4 and view["best_run_id"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--param", "lr=uniform(0.1)"], "parameter 'lr=uniform(0.1)'"),
        (["--param", "lr=gauss(0, 1)"], "use one of choice, randint"),
        (["--param", "lr"], "write NAME=EXPRESSION"),
        (["--param", "lr=uniform(0, 1)", "--policy", "hyperband"], "policy type 'hyperband' is unknown"),
        (["--param", "lr=uniform(0, 1)", "--sampling", "grid"], "grid sampling takes only choice"),
        (["--param", "lr=uniform(0, 1)", "--", "--lr", "3"], "already give ['--lr']"),
    ],
)
def test_command_line_mistakes_are_one_line_and_exit_2(swept: Swept, args: list[str], says: str) -> None:
    base = ["-w", str(swept.root), "sweep", "train.py", "--source", str(swept.root / "src")]
    result = mlws(*base, "--metric", "acc", "--goal", "max", "--runs", "2", *args)
    line = one_line_error(result, 2)
    assert line.startswith("mlws sweep: usage error:") and says in line, line


def test_missing_options_and_unknown_runs(swept: Swept) -> None:
    line = one_line_error(mlws("-w", str(swept.root), "sweep", "train.py", "--param", "x=randint(3)"), 2)
    assert "sweep needs --metric, --goal, --runs, e.g. mlws sweep train.py" in line
    line = one_line_error(mlws("-w", str(swept.root), "sweep", "show", "nope"), 1)
    assert line == "mlws: error: no run has the id 'nope'; see `mlws runs list`"
    trial = f"{swept.run_id}_0"
    line = one_line_error(mlws("-w", str(swept.root), "sweep", "show", trial), 1)
    assert "not a sweep" in line
    assert one_line_error(mlws("-w", str(swept.root), "sweep", "show"), 2).endswith("(see mlws sweep --help)")
    assert "sweep needs a SCRIPT (or: sweep show RUN_ID)" in one_line_error(mlws("sweep", "--runs", "2"), 2)


def test_no_wait_returns_at_once(swept: Swept) -> None:
    result = swept.no_wait
    assert result.code == 0, result
    run_id = result.out.split()[2]
    assert f"Follow it with: mlws sweep show {run_id}" in result.out
    run = HyperDriveRun(Experiment(swept.ws, "later"), run_id)
    run.wait_for_completion(timeout=60)
    assert run.get_metrics() == {f"{run_id}_0": {"acc": 0.5}}


def test_options_stand_anywhere_and_values_may_look_like_options() -> None:
    argv = ["-w", "ws", "sweep", "--runs", "3", "train.py", "--param", "--C=loguniform(-3,2)", "-p=x=randint(2)"]
    assert split_sweep([*argv, "--no-wait", "--", "--data", "d.csv"]) == [
        "-w", "ws", "sweep", "--runs=3", "--param=--C=loguniform(-3,2)", "-p=x=randint(2)", "--no-wait",
        "--", "train.py", "--data", "d.csv",
    ]  # fmt: skip
    assert split_sweep(["sweep", "show", "abc"]) == ["sweep", "--", "show", "abc"]
    # the script's own options after it are its fixed arguments, as for `mlws submit`
    assert split_sweep(["sweep", "train.py", "--epochs", "3", "--runs", "2", "--data=x"]) == [
        "sweep", "--runs=2", "--", "train.py", "--epochs", "3", "--data=x",
    ]  # fmt: skip
    assert split_sweep(["submit", "sweep.py"]) is None
