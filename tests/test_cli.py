"""The ``mlws`` command (DESIGN §3, §6 CLI): in-process through ``main(argv)``, and as a real process.

Contract: list commands have ``--json``; ``runs list --json`` prints an array of objects with ``id``,
``experiment``, ``status``, ``display_name``, ``start_time``, ``end_time`` and ``metrics`` (latest
scalar values). Errors print one line on stderr and exit 1 (2 for usage errors), never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Model, Workspace
from jupyter_mlws.cli import main
from jupyter_mlws.compute import agent
from jupyter_mlws.core.workspace import close_backends

RUN_KEYS = {"id", "experiment", "status", "display_name", "start_time", "end_time", "metrics"}


# -- helpers ------------------------------------------------------------------------------------------
@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def mlws(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run ``mlws argv`` in-process; usage errors (argparse) exit through SystemExit."""
    try:
        code: int | str | None = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return Result(code if isinstance(code, int) else (0 if code is None else 1), captured.out, captured.err)


def assert_one_line_error(result: Result, code: int = 1, prefix: str = "mlws: error:") -> str:
    """The error contract: the exit code, one line on stderr, no traceback. Returns that line."""
    assert result.code == code, result
    assert "Traceback" not in result.err and "Traceback" not in result.out, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {result.err!r}"
    if prefix:
        assert lines[0].startswith(prefix), lines[0]
    return lines[0]


def mlws_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m jupyter_mlws.cli``."""
    script = shutil.which("mlws", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "jupyter_mlws.cli"]


def mlws_process(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run(
        [*mlws_command(), *argv],
        cwd=cwd,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def strict_json(text: str) -> Any:
    """Parse as RFC 8259 JSON: ``NaN``/``Infinity`` are not JSON (jq, JavaScript and others reject them)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"not valid JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


# -- a seeded workspace, shared by the read-only tests of this module -------------------------------------
@dataclass
class Seeded:
    root: Path
    runs: dict[str, str]  # label -> run id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Two experiments, four runs (Completed, Completed + file, Failed, Running), two models."""
    root = tmp_path_factory.mktemp("cli") / "seeded"
    ws = Workspace.create(root)
    files = root / "src"
    files.mkdir()
    train = Experiment(ws, "train")
    other = Experiment(ws, "other")

    first = train.start_logging(display_name="first")
    first.log("accuracy", 0.3, step=0)
    first.log("accuracy", 0.4, step=1)
    first.log("loss", 1.0)
    first.log_param("lr", "0.1")
    first.complete()

    second = train.start_logging(display_name="second")
    second.log("accuracy", 0.9)
    second.log("loss", 0.2)
    second.tag("best", "yes")
    (files / "model.pkl").write_bytes(b"weights")
    second.upload_file("outputs/model.pkl", files / "model.pkl")
    second.complete()

    failed = train.start_logging(display_name="broken")
    failed.log("accuracy", 0.7)
    failed.fail("diverged")

    running = other.start_logging(display_name="live")
    running.log("accuracy", 0.6)
    running.flush()

    (files / "v1.txt").write_text("version one")
    (files / "v2.txt").write_text("version two")
    clf1 = Model.register(ws, files / "v1.txt", "clf", tags={"kind": "tree"})
    Model.register(ws, files / "v2.txt", "clf", run=None)
    clf1.set_alias("prod")
    folder = files / "bundle"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    Model.register(ws, folder, "bundle")

    runs = {"first": first.id, "second": second.id, "failed": failed.id, "running": running.id}
    close_backends()
    yield Seeded(root, runs)
    close_backends()


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


# -- init -------------------------------------------------------------------------------------------------
def test_init_creates_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "proj"
    result = mlws(capsys, "init", str(target))
    assert result.code == 0, result
    config = target / ".mlws" / "config.json"
    assert config.is_file()
    assert json.loads(config.read_text())["name"] == "proj"
    assert str(target) in result.out
    assert Workspace(target).root == target.resolve()


def test_init_is_idempotent_and_keeps_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "proj"
    assert mlws(capsys, "init", str(target)).code == 0
    config = target / ".mlws" / "config.json"
    before = config.read_text()
    ws = Workspace(target)
    run = Experiment(ws, "e").start_logging()
    run.log("m", 1.0)
    run.complete()
    close_backends()

    again = mlws(capsys, "init", str(target))
    assert again.code == 0, again
    assert config.read_text() == before
    listed = mlws(capsys, "--workspace", str(target), "runs", "list", "--json").json()
    assert [r["id"] for r in listed] == [run.id]


def test_init_defaults_to_the_working_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert mlws(capsys, "init").code == 0
    assert (tmp_path / ".mlws" / "config.json").is_file()
    # ...and later commands in that folder, or below it, find the workspace without --workspace.
    sub = tmp_path / "notebooks" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    result = mlws(capsys, "experiments", "list", "--json")
    assert result.code == 0, result
    assert result.json() == []


# -- quickstart -------------------------------------------------------------------------------------------
def test_quickstart_logs_a_run_and_registers_a_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    target = tmp_path / "qs"
    result = mlws(capsys, "quickstart", str(target), "--epochs", "3")
    ws = Workspace(target)
    agent.stop(ws)
    assert result.code == 0, result
    assert result.err == ""

    runs = list(Experiment(ws, "quickstart").get_runs())
    assert len(runs) == 2  # the interactive run and the same training as a job
    run = next(r for r in runs if r.type == "interactive")
    job = next(r for r in runs if r.type == "script")
    assert job.id in result.out and job.get_status() == "Completed"
    assert len(job.get_metrics()["accuracy"]) == 3
    assert "outputs/model.json" in job.get_file_names()
    assert run.id in result.out
    assert "quickstart-model:1" in result.out
    assert str(target) in result.out  # where everything is
    assert run.get_status() == "Completed"
    metrics = run.get_metrics()
    assert len(metrics["loss"]) == 3
    assert len(metrics["accuracy"]) == 3
    assert all(0.0 <= a <= 1.0 for a in metrics["accuracy"])
    model = Model(ws, "quickstart-model")
    assert model.version == 1
    assert model.run_id == run.id
    assert model.get_file_names()

    listed = mlws(capsys, "--workspace", str(target), "runs", "list", "--json").json()
    assert listed[0]["status"] == "Completed"
    assert set(listed[0]["metrics"]) >= {"loss", "accuracy"}


def test_quickstart_without_path_uses_a_new_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = tmp_path / "made-by-mkdtemp"

    def fake_mkdtemp(*args: Any, **kwargs: Any) -> str:
        made.mkdir()
        return str(made)

    monkeypatch.setattr("jupyter_mlws.cli.workspace.tempfile.mkdtemp", fake_mkdtemp)
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    result = mlws(capsys, "quickstart", "--epochs", "2")
    agent.stop(Workspace(made))
    assert result.code == 0, result
    assert (made / ".mlws" / "config.json").is_file()
    assert str(made) in result.out


# -- experiments ------------------------------------------------------------------------------------------
def test_experiments_list(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    result = mlws(capsys, "-w", str(seeded.root), "experiments", "list")
    assert result.code == 0, result
    assert "train" in result.out and "other" in result.out


def test_experiments_list_json(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    items = mlws(capsys, "-w", str(seeded.root), "experiments", "list", "--json").json()
    assert isinstance(items, list)
    assert {item["name"] for item in items} == {"train", "other"}


# -- runs list --------------------------------------------------------------------------------------------
def test_runs_list_table_covers_every_experiment(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    result = mlws(capsys, "-w", str(seeded.root), "runs", "list")
    assert result.code == 0, result
    for run_id in seeded.runs.values():
        assert run_id in result.out
    for word in ("Completed", "Failed", "Running", "train", "other", "accuracy"):
        assert word in result.out


def test_runs_list_json_shape(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    result = mlws(capsys, "-w", str(seeded.root), "runs", "list", "--json")
    assert result.code == 0, result
    items = result.json()
    assert isinstance(items, list)
    assert ids(items) == set(seeded.runs.values())  # every experiment's runs
    for item in items:
        assert isinstance(item, dict)
        assert RUN_KEYS <= set(item), f"missing keys {RUN_KEYS - set(item)}"
        assert isinstance(item["metrics"], dict)
    by_id = {item["id"]: item for item in items}

    first = by_id[seeded.runs["first"]]
    assert first["experiment"] == "train"
    assert first["status"] == "Completed"
    assert first["display_name"] == "first"
    assert first["metrics"] == {"accuracy": 0.4, "loss": 1.0}  # the latest value of each series
    assert isinstance(first["start_time"], str) and isinstance(first["end_time"], str)
    assert first["start_time"] <= first["end_time"]

    live = by_id[seeded.runs["running"]]
    assert live["experiment"] == "other"
    assert live["status"] == "Running"
    assert live["end_time"] is None
    assert live["metrics"] == {"accuracy": 0.6}

    assert by_id[seeded.runs["failed"]]["status"] == "Failed"


def test_runs_list_by_experiment(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    train = mlws(capsys, "-w", str(seeded.root), "runs", "list", "--experiment", "train", "--json").json()
    assert ids(train) == {seeded.runs["first"], seeded.runs["second"], seeded.runs["failed"]}
    other = mlws(capsys, "-w", str(seeded.root), "runs", "list", "-e", "other", "--json").json()
    assert ids(other) == {seeded.runs["running"]}


def test_runs_list_by_status(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    done = mlws(capsys, "-w", str(seeded.root), "runs", "list", "--status", "Completed", "--json").json()
    assert ids(done) == {seeded.runs["first"], seeded.runs["second"]}
    failed = mlws(capsys, "-w", str(seeded.root), "runs", "list", "--status", "Failed", "--json").json()
    assert ids(failed) == {seeded.runs["failed"]}


def test_runs_list_filter(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    root = str(seeded.root)
    good = mlws(capsys, "-w", root, "runs", "list", "--filter", "metrics.accuracy > 0.5", "--json").json()
    assert ids(good) == {seeded.runs["second"], seeded.runs["failed"], seeded.runs["running"]}

    in_train = mlws(
        capsys, "-w", root, "runs", "list", "-e", "train", "--filter", "metrics.accuracy > 0.5", "--json"
    ).json()
    assert ids(in_train) == {seeded.runs["second"], seeded.runs["failed"]}

    tagged = mlws(capsys, "-w", root, "runs", "list", "--filter", "tags.best = 'yes'", "--json").json()
    assert ids(tagged) == {seeded.runs["second"]}

    by_param = mlws(capsys, "-w", root, "runs", "list", "--filter", "params.lr = '0.1'", "--json").json()
    assert ids(by_param) == {seeded.runs["first"]}

    named = mlws(capsys, "-w", root, "runs", "list", "--filter", "attributes.display_name = 'second'", "--json").json()
    assert ids(named) == {seeded.runs["second"]}


def test_runs_list_status_binds_tighter_than_an_or_in_the_filter(
    capsys: pytest.CaptureFixture[str], seeded: Seeded
) -> None:
    """``--status S --filter "A or B"`` means ``status = S and (A or B)``, not ``(status = S and A) or B``."""
    result = mlws(
        capsys,
        "-w",
        str(seeded.root),
        "runs",
        "list",
        "--status",
        "Failed",
        "--filter",
        "metrics.accuracy > 0.8 or metrics.accuracy < 0.5",
        "--json",
    )
    assert result.code == 0, result
    assert result.json() == []


def test_runs_list_json_is_strict_json_with_nan_and_inf(capsys: pytest.CaptureFixture[str], ws: Workspace) -> None:
    """NaN/inf are stored faithfully, but ``--json`` output must still be JSON a strict parser accepts."""
    run = Experiment(ws, "e").start_logging()
    run.log("nan_metric", float("nan"))
    run.log("inf_metric", float("inf"))
    run.log("fine", 1.5)
    run.complete()
    close_backends()
    result = mlws(capsys, "-w", str(ws.root), "runs", "list", "--json")
    assert result.code == 0, result
    items = strict_json(result.out)
    assert items[0]["metrics"]["fine"] == 1.5
    shown = mlws(capsys, "-w", str(ws.root), "runs", "show", run.id, "--json")
    assert shown.code == 0, shown
    strict_json(shown.out)


def test_runs_list_empty_workspace(capsys: pytest.CaptureFixture[str], ws: Workspace) -> None:
    result = mlws(capsys, "-w", str(ws.root), "runs", "list", "--json")
    assert result.code == 0, result
    assert result.json() == []
    table = mlws(capsys, "-w", str(ws.root), "runs", "list")
    assert table.code == 0, table
    assert "RUN" in table.out


# -- runs show --------------------------------------------------------------------------------------------
def test_runs_show_text(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    run_id = seeded.runs["second"]
    result = mlws(capsys, "-w", str(seeded.root), "runs", "show", run_id)
    assert result.code == 0, result
    for word in (run_id, "Completed", "accuracy", "loss", "outputs/model.pkl", "best"):
        assert word in result.out


def test_runs_show_failed_run_shows_the_error(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    result = mlws(capsys, "-w", str(seeded.root), "runs", "show", seeded.runs["failed"])
    assert result.code == 0, result
    assert "Failed" in result.out
    assert "diverged" in result.out


def test_runs_show_json(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    data = mlws(capsys, "-w", str(seeded.root), "runs", "show", seeded.runs["second"], "--json").json()
    assert data["runId"] == seeded.runs["second"]
    assert data["status"] == "Completed"
    assert data["metrics"] == {"accuracy": 0.9, "loss": 0.2}
    assert data["files"] == ["outputs/model.pkl"]
    first = mlws(capsys, "-w", str(seeded.root), "runs", "show", seeded.runs["first"], "--json").json()
    assert first["metrics"]["accuracy"] == [0.3, 0.4]  # several values -> a list (Azure ML's shape)
    assert first["params"] == {"lr": "0.1"}


# -- models -----------------------------------------------------------------------------------------------
def test_models_list(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    result = mlws(capsys, "-w", str(seeded.root), "models", "list")
    assert result.code == 0, result
    assert "clf" in result.out and "bundle" in result.out and "prod" in result.out


def test_models_list_json(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    items = mlws(capsys, "-w", str(seeded.root), "models", "list", "--json").json()
    assert ids(items) == {"clf:1", "clf:2", "bundle:1"}
    by_id = {item["id"]: item for item in items}
    assert by_id["clf:1"]["name"] == "clf"
    assert by_id["clf:1"]["version"] == 1
    assert by_id["clf:1"]["aliases"] == ["prod"]
    assert by_id["clf:1"]["tags"] == {"kind": "tree"}


def test_models_list_latest_and_name(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    root = str(seeded.root)
    latest = mlws(capsys, "-w", root, "models", "list", "--latest", "--json").json()
    assert ids(latest) == {"clf:2", "bundle:1"}
    named = mlws(capsys, "-w", root, "models", "list", "--name", "clf", "--json").json()
    assert [item["id"] for item in named] == ["clf:2", "clf:1"]  # newest first
    both = mlws(capsys, "-w", root, "models", "list", "--name", "clf", "--latest", "--json").json()
    assert ids(both) == {"clf:2"}
    table = mlws(capsys, "-w", root, "models", "list", "--latest")
    assert table.code == 0 and "bundle" in table.out


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("clf", "clf:2"), ("clf:1", "clf:1"), ("clf:2", "clf:2"), ("clf:prod", "clf:1")],
)
def test_models_show(capsys: pytest.CaptureFixture[str], seeded: Seeded, spec: str, expected: str) -> None:
    text = mlws(capsys, "-w", str(seeded.root), "models", "show", spec)
    assert text.code == 0, text
    assert expected in text.out
    data = mlws(capsys, "-w", str(seeded.root), "models", "show", spec, "--json").json()
    assert data["id"] == expected
    assert [f["path"] for f in data["files"]] == [f"v{expected[-1]}.txt"]


def test_models_show_version_flag(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    data = mlws(capsys, "-w", str(seeded.root), "models", "show", "clf", "--version", "1", "--json").json()
    assert data["id"] == "clf:1"
    assert data["aliases"] == ["prod"]


@pytest.mark.parametrize("spec", ["missing", "clf:9", "clf:staging"])
def test_models_show_unknown(capsys: pytest.CaptureFixture[str], seeded: Seeded, spec: str) -> None:
    line = assert_one_line_error(mlws(capsys, "-w", str(seeded.root), "models", "show", spec))
    assert spec.split(":")[-1] in line


def test_models_download(capsys: pytest.CaptureFixture[str], seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "dl"
    result = mlws(capsys, "-w", str(seeded.root), "models", "download", "clf:prod", "-o", str(out))
    assert result.code == 0, result
    assert (out / "v1.txt").read_text() == "version one"
    assert str(out / "v1.txt") in result.out


def test_models_download_folder_model(capsys: pytest.CaptureFixture[str], seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "dl"
    result = mlws(capsys, "-w", str(seeded.root), "models", "download", "bundle", "--output", str(out))
    assert result.code == 0, result
    assert (out / "bundle" / "a.txt").read_text() == "a"
    assert (out / "bundle" / "sub" / "b.txt").read_text() == "b"


def test_models_download_refuses_an_existing_target(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, tmp_path: Path
) -> None:
    out = tmp_path / "dl"
    out.mkdir()
    (out / "v2.txt").write_text("mine")
    line = assert_one_line_error(mlws(capsys, "-w", str(seeded.root), "models", "download", "clf", "-o", str(out)))
    assert "v2.txt" in line
    assert (out / "v2.txt").read_text() == "mine"  # untouched
    # The fix named must be the one a CLI user can apply.
    assert "--overwrite" in line, f"the error should tell a CLI user to pass --overwrite: {line!r}"


def test_models_download_overwrite(capsys: pytest.CaptureFixture[str], seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "dl"
    out.mkdir()
    (out / "v2.txt").write_text("mine")
    result = mlws(capsys, "-w", str(seeded.root), "models", "download", "clf", "-o", str(out), "--overwrite")
    assert result.code == 0, result
    assert (out / "v2.txt").read_text() == "version two"


# -- errors -----------------------------------------------------------------------------------------------
def test_unknown_run(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    result = mlws(capsys, "-w", str(seeded.root), "runs", "show", "no_such_run_123")
    line = assert_one_line_error(result)
    assert "no_such_run_123" in line
    assert result.out == ""


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("metrics.accuracy >", "filter"),
        ("foo.bar = 1", "foo.bar"),
        ("metrics.accuracy > 'high'", "metrics.accuracy"),
        ("metrics.accuracy >> 1", "filter"),
    ],
)
def test_bad_filter(capsys: pytest.CaptureFixture[str], seeded: Seeded, text: str, named: str) -> None:
    line = assert_one_line_error(mlws(capsys, "-w", str(seeded.root), "runs", "list", "--filter", text))
    assert named in line


def test_bad_status(capsys: pytest.CaptureFixture[str], seeded: Seeded) -> None:
    line = assert_one_line_error(mlws(capsys, "-w", str(seeded.root), "runs", "list", "--status", "Sleeping"))
    assert "Sleeping" in line


def test_unknown_experiment_is_an_error_and_is_not_created(capsys: pytest.CaptureFixture[str], ws: Workspace) -> None:
    line = assert_one_line_error(mlws(capsys, "-w", str(ws.root), "runs", "list", "--experiment", "nope"))
    assert "nope" in line
    assert mlws(capsys, "-w", str(ws.root), "experiments", "list", "--json").json() == []


@pytest.mark.parametrize(
    "argv",
    [
        ["bogus"],
        [],
        ["runs"],
        ["runs", "show"],
        ["runs", "frobnicate"],
        ["runs", "list", "--max", "many"],
        ["models", "show", "clf", "--version", "x"],
        ["runs", "list", "--no-such-flag"],
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], seeded: Seeded, argv: list[str]) -> None:
    line = assert_one_line_error(mlws(capsys, "-w", str(seeded.root), *argv), code=2, prefix="mlws")
    assert "usage" in line or "error" in line


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    result = mlws(capsys, "--help")
    assert result.code == 0
    for command in ("init", "quickstart", "experiments", "runs", "models"):
        assert command in result.out


def test_no_workspace_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    if any((folder / ".mlws" / "config.json").exists() for folder in (empty, *empty.parents)):
        pytest.skip("a workspace exists above the temporary folder")
    monkeypatch.chdir(empty)
    for argv in (["runs", "list"], ["experiments", "list", "--json"], ["models", "list"]):
        line = assert_one_line_error(mlws(capsys, *argv))
        assert "mlws init" in line


def test_unexpected_exception_is_one_line(
    capsys: pytest.CaptureFixture[str], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(args: Any) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("jupyter_mlws.cli.runs.cmd_runs_list", boom)
    monkeypatch.delenv("MLWS_DEBUG", raising=False)
    line = assert_one_line_error(mlws(capsys, "-w", str(seeded.root), "runs", "list"))
    assert "disk on fire" in line
    assert "MLWS_DEBUG" in line


# -- selecting the workspace ----------------------------------------------------------------------------------
def _only_run(result: Result) -> str:
    assert result.code == 0, result
    items = result.json()
    assert len(items) == 1, items
    return str(items[0]["id"])


@pytest.fixture
def two_workspaces(tmp_path: Path) -> tuple[Path, str, Path, str]:
    made: dict[str, tuple[Path, str]] = {}
    for label in ("alpha", "beta"):
        ws = Workspace.create(tmp_path / label)
        run = Experiment(ws, label).start_logging()
        run.complete()
        made[label] = (ws.root, run.id)
    close_backends()
    return (*made["alpha"], *made["beta"])


def test_workspace_flag(
    capsys: pytest.CaptureFixture[str],
    two_workspaces: tuple[Path, str, Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alpha, alpha_run, beta, beta_run = two_workspaces
    monkeypatch.chdir(tmp_path)  # no workspace here
    assert _only_run(mlws(capsys, "--workspace", str(alpha), "runs", "list", "--json")) == alpha_run
    assert _only_run(mlws(capsys, "-w", str(beta / ".mlws"), "runs", "list", "--json")) == beta_run


@pytest.mark.parametrize("point_at", ["root", "dot-mlws"])
def test_workspace_env_var(
    capsys: pytest.CaptureFixture[str],
    two_workspaces: tuple[Path, str, Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    point_at: str,
) -> None:
    alpha, alpha_run, beta, _ = two_workspaces
    monkeypatch.chdir(beta)  # the env var overrides the folder we are in
    monkeypatch.setenv("MLWS_WORKSPACE", str(alpha if point_at == "root" else alpha / ".mlws"))
    assert _only_run(mlws(capsys, "runs", "list", "--json")) == alpha_run


def test_workspace_flag_beats_env_var(
    capsys: pytest.CaptureFixture[str], two_workspaces: tuple[Path, str, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, _, beta, beta_run = two_workspaces
    monkeypatch.setenv("MLWS_WORKSPACE", str(alpha))
    assert _only_run(mlws(capsys, "-w", str(beta), "runs", "list", "--json")) == beta_run


def test_workspace_that_does_not_exist(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    line = assert_one_line_error(mlws(capsys, "-w", str(missing), "runs", "list"))
    assert str(missing) in line
    assert "mlws init" in line


# -- the real console script ------------------------------------------------------------------------------------
def test_process_success_and_json(seeded: Seeded) -> None:
    result = mlws_process("--workspace", str(seeded.root), "runs", "list", "--json")
    assert result.code == 0, result
    assert ids(json.loads(result.out)) == set(seeded.runs.values())
    assert result.err == ""


def test_process_unknown_run_exits_1_without_traceback(seeded: Seeded) -> None:
    result = mlws_process("--workspace", str(seeded.root), "runs", "show", "no_such_run_123")
    line = assert_one_line_error(result)
    assert "no_such_run_123" in line
    assert result.out == ""


def test_process_usage_error_exits_2(seeded: Seeded) -> None:
    assert_one_line_error(mlws_process("--workspace", str(seeded.root), "runs", "bogus"), code=2, prefix="mlws")


def test_process_no_workspace_and_env_var(tmp_path: Path, seeded: Seeded) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MLWS_WORKSPACE", "MLWS_DEBUG")}
    if not any((folder / ".mlws" / "config.json").exists() for folder in (empty, *empty.parents)):
        line = assert_one_line_error(mlws_process("runs", "list", cwd=empty, env=env))
        assert "mlws init" in line
    env["MLWS_WORKSPACE"] = str(seeded.root / ".mlws")
    result = mlws_process("runs", "list", "--json", cwd=empty, env=env)
    assert result.code == 0, result
    assert ids(json.loads(result.out)) == set(seeded.runs.values())
