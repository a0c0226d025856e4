"""``mlws pipelines list | runs | show | run | publish | disable | enable | schedules`` and
``%mlws pipelines`` / ``pipeline ID`` / ``schedules`` (issue 16, part 6), on real pipelines.

One workspace for the module (``pws``) holds a run of the shared fan-in pipeline, a published
one-step pipeline whose ``fail`` parameter makes its step exit 3, and a schedule of it that starts in
2099 (nothing fires). The CLI contract (DESIGN §6): every list has ``--json``; errors are one line on
stderr with exit 1, usage errors exit 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlws import (
    Experiment,
    Pipeline,
    PipelineParameter,
    PublishedPipeline,
    PythonScriptStep,
    Schedule,
    ScheduleRecurrence,
    Workspace,
)
from jupyter_mlws.cli.pipelines import parameter_values
from jupyter_mlws.magics.magics import Table
from tests.support.pipelines import STEPS, fan_in_pipeline
from tests.test_cli import Result, assert_one_line_error, mlws, mlws_process

GATE = """\
import sys
print("fail =", sys.argv[2])
sys.exit(3 if sys.argv[2].lower() == "true" else 0)
"""


@dataclass
class World:
    ws: Workspace
    root: Path  # where the fan-in pipeline's scripts are
    run_id: str  # a completed run of the fan-in pipeline
    step_run_id: str  # one of its steps
    pipeline_id: str  # the published gate pipeline
    schedule_id: str


@pytest.fixture(scope="module")
def world(pws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("cli")
    run = Experiment(pws, "cli-fan-in").submit(fan_in_pipeline(pws, root, "cli-pipe"))
    assert run.wait_for_completion(show_output=False) == "Completed"
    (root / "gate").mkdir()
    (root / "gate" / "gate.py").write_text(GATE)
    step = PythonScriptStep(
        "gate.py",
        name="gate",
        arguments=["--fail", PipelineParameter("fail", default_value=False)],
        source_directory=str(root / "gate"),
    )
    published = Pipeline(pws, [step]).publish("gate", description="fails on request", version="1.0")
    schedule = Schedule.create(
        pws,
        "far-future",
        published.id,
        "cli-scheduled",
        recurrence=ScheduleRecurrence("Day", 1, start_time="2099-01-01T00:00:00"),
    )
    return World(pws, root, run.id, run.find_step_run("train")[0].id, published.id, schedule.id)


def cli(capsys: pytest.CaptureFixture[str], world: World, *argv: str) -> Result:
    return mlws(capsys, "--workspace", str(world.ws.root), *argv)


def test_list_shows_published_pipelines_and_disable_enable(capsys: pytest.CaptureFixture[str], world: World) -> None:
    listed = cli(capsys, world, "pipelines", "list", "--json").json()
    gate = next(p for p in listed if p["id"] == world.pipeline_id)
    assert set(gate) == {
        "id", "name", "description", "version", "status", "created_time", "total_run_steps", "parameters", "endpoint",
    }  # fmt: skip
    assert (gate["name"], gate["version"], gate["status"], gate["total_run_steps"]) == ("gate", "1.0", "Active", 1)
    assert gate["parameters"] == {"fail": False} and gate["created_time"].endswith("Z")
    text = cli(capsys, world, "pipelines", "list").out
    assert text.splitlines()[0].split() == ["ID", "NAME", "VERSION", "STATUS", "STEPS", "CREATED"]
    assert world.pipeline_id in text and "Active" in text

    out = cli(capsys, world, "pipelines", "disable", world.pipeline_id)
    assert out.code == 0 and out.out.strip() == f"{world.pipeline_id} (gate): Disabled", out
    try:
        assert world.pipeline_id not in cli(capsys, world, "pipelines", "list").out
        everything = cli(capsys, world, "pipelines", "list", "--all", "--json").json()
        assert [p["status"] for p in everything if p["id"] == world.pipeline_id] == ["Disabled"]
        refused = cli(capsys, world, "pipelines", "run", world.pipeline_id, "-e", "cli-refused")
        assert "is disabled" in assert_one_line_error(refused) and "mlws pipelines enable" in refused.err
    finally:
        out = cli(capsys, world, "pipelines", "enable", world.pipeline_id)
    assert out.code == 0 and out.out.strip().endswith("(gate): Active"), out
    assert PublishedPipeline.get(world.ws, world.pipeline_id).status == "Active"


def test_runs_lists_pipeline_runs_with_their_step_counts(capsys: pytest.CaptureFixture[str], world: World) -> None:
    items = cli(capsys, world, "pipelines", "runs", "--experiment", "cli-fan-in", "--json").json()
    assert [i["id"] for i in items] == [world.run_id]
    item = items[0]
    assert {"id", "experiment", "status", "start_time", "end_time", "step_count", "step_counts"} <= set(item)
    assert (item["status"], item["step_count"], item["step_counts"]) == ("Completed", 4, {"Completed": 4})
    everywhere = cli(capsys, world, "pipelines", "runs", "--json").json()
    assert world.run_id in [i["id"] for i in everywhere]
    assert world.step_run_id not in [i["id"] for i in everywhere]  # steps are not pipeline runs
    text = cli(capsys, world, "pipelines", "runs").out
    assert text.splitlines()[0].split() == ["RUN", "EXPERIMENT", "STATUS", "STEPS", "STARTED", "DURATION"]
    assert world.run_id in text and "4 (4 Completed)" in text
    line = assert_one_line_error(cli(capsys, world, "pipelines", "runs", "-e", "no-such-experiment"))
    assert "no-such-experiment" in line and "mlws experiments list" in line


def test_show_a_pipeline_run_steps_reuse_and_edges(capsys: pytest.CaptureFixture[str], world: World) -> None:
    view = cli(capsys, world, "pipelines", "show", world.run_id, "--json").json()
    assert view["type"] == "pipeline_run" and view["id"] == world.run_id and view["status"] == "Completed"
    assert sorted(n["name"] for n in view["nodes"]) == sorted(STEPS)
    node = next(n for n in view["nodes"] if n["name"] == "train")
    assert node["id"] == world.step_run_id and node["reuse"]["reused"] is False and node["reuse"]["reason"]
    names = {n["id"]: n["name"] for n in view["nodes"]}
    assert sorted((names[e["source"]], names[e["target"]], e["data"]) for e in view["edges"]) == [
        ("features", "train", "features"), ("load", "train", "raw"), ("train", "report", "model"),
    ]  # fmt: skip

    text = cli(capsys, world, "pipelines", "show", world.run_id).out
    assert f"pipeline run:  {world.run_id}" in text and "status:        Completed" in text
    header = next(line for line in text.splitlines() if line.startswith("STEP"))
    assert header.split() == ["STEP", "STATUS", "REUSED", "REASON", "DURATION", "RUN"]
    assert world.step_run_id in text and "load -> train (raw)" in text and "train -> report (model)" in text

    # The same pipeline again: each step reused, and the table says so.
    again = Experiment(world.ws, "cli-fan-in").submit(fan_in_pipeline(world.ws, world.root, "cli-pipe"))
    again.wait_for_completion(show_output=False)
    rows = [line.split() for line in cli(capsys, world, "pipelines", "show", again.id).out.splitlines()]
    assert {r[0]: r[2] for r in rows if r and r[0] in STEPS and r[1] == "Completed"} == dict.fromkeys(STEPS, "yes")


def test_show_a_published_pipeline_definition(capsys: pytest.CaptureFixture[str], world: World) -> None:
    view = cli(capsys, world, "pipelines", "show", world.pipeline_id, "--json").json()
    assert view["type"] == "published_pipeline" and view["name"] == "gate"
    assert view["parameters"] == {"fail": False} and view["edges"] == []
    assert [(s["name"], s["kind"], s["runs"], s["allow_reuse"]) for s in view["steps"]] == [
        ("gate", "script", "gate.py", True)
    ]
    text = cli(capsys, world, "pipelines", "show", world.pipeline_id).out
    assert "name:          gate" in text and "fail = False" in text and "gate.py" in text


def test_run_a_published_pipeline_with_parameters_and_wait(capsys: pytest.CaptureFixture[str], world: World) -> None:
    out = cli(capsys, world, "pipelines", "run", world.pipeline_id, "-e", "cli-run", "-p", "fail=false", "--wait")
    assert out.code == 0, out
    first = out.out.splitlines()[0]
    assert first.startswith("Submitted ") and "'gate'" in first and "'cli-run'" in first
    assert "step 'gate': Completed" in out.out and out.out.rstrip().endswith(": Completed")

    failed = cli(capsys, world, "pipelines", "run", world.pipeline_id, "-e", "cli-run", "-p", "fail=true", "--wait")
    assert failed.code == 1 and "step 'gate': Failed" in failed.out and "Traceback" not in failed.out + failed.err

    submitted = cli(capsys, world, "pipelines", "run", world.pipeline_id, "-e", "cli-run", "--json").json()
    assert set(submitted) == {"id", "experiment", "status", "pipeline_id"}
    assert submitted["experiment"] == "cli-run" and submitted["pipeline_id"] == world.pipeline_id
    waited = cli(capsys, world, "pipelines", "run", world.pipeline_id, "-e", "cli-run", "--wait", "--json").json()
    assert waited["type"] == "pipeline_run" and waited["status"] == "Completed"
    assert [n["name"] for n in waited["nodes"]] == ["gate"]

    line = assert_one_line_error(
        cli(capsys, world, "pipelines", "run", world.pipeline_id, "-e", "cli-run", "-p", "rate=1")
    )
    assert "'rate'" in line and "'fail'" in line
    assert_one_line_error(cli(capsys, world, "pipelines", "run", world.pipeline_id), 2, "mlws pipelines run: usage")
    line = assert_one_line_error(cli(capsys, world, "pipelines", "run", "no-such-id", "-e", "cli-run"))
    assert "no-such-id" in line and "mlws pipelines list --all" in line


def test_parameter_values_are_typed_unless_the_default_is_text() -> None:
    declared = {"rate": 0.1, "name": "a", "flag": False}
    values = parameter_values(["rate=0.5", "name=007", "flag=true", "n=3", "s=x y"], declared)
    assert values == {"rate": 0.5, "name": "007", "flag": True, "n": 3, "s": "x y"}
    with pytest.raises(Exception, match="name=value"):
        parameter_values(["oops"], declared)


def test_publish_the_pipeline_a_run_ran(capsys: pytest.CaptureFixture[str], world: World) -> None:
    out = cli(capsys, world, "pipelines", "publish", world.run_id, "--name", "fan-in", "--version", "2", "-d", "four")
    assert out.code == 0 and out.out.startswith("Published 'fan-in' version 2 as "), out
    new_id = out.out.split(" as ", 1)[1].split()[0]
    assert f"mlws pipelines run {new_id}" in out.out
    shown = cli(capsys, world, "pipelines", "show", new_id, "--json").json()
    assert (shown["name"], shown["version"], shown["description"], shown["total_run_steps"]) == (
        "fan-in",
        "2",
        "four",
        4,
    )
    assert sorted(s["name"] for s in shown["steps"]) == sorted(STEPS)
    assert {"after": ["load", "features"], "name": "train"}.items() <= next(
        s for s in shown["steps"] if s["name"] == "train"
    ).items()
    as_json = cli(capsys, world, "pipelines", "publish", world.run_id, "--name", "fan-in-b", "--json").json()
    assert as_json["name"] == "fan-in-b" and as_json["version"] is None

    line = assert_one_line_error(cli(capsys, world, "pipelines", "publish", world.step_run_id, "--name", "x"))
    assert "not a pipeline run" in line
    assert_one_line_error(cli(capsys, world, "pipelines", "publish", "no-such-run", "--name", "x"))
    assert_one_line_error(cli(capsys, world, "pipelines", "publish", world.run_id), 2, "mlws pipelines publish: usage")


def test_schedules_list_disable_enable(capsys: pytest.CaptureFixture[str], world: World) -> None:
    listed = cli(capsys, world, "pipelines", "schedules", "--json").json()
    item = next(s for s in listed if s["id"] == world.schedule_id)
    assert {"id", "name", "status", "pipeline_id", "recurrence", "next_fire_time", "last_run_id"} <= set(item)
    assert item["next_fire_time"].startswith("2099-01-01T00:00:00") and item["last_run_id"] is None
    assert item["pipeline_id"] == world.pipeline_id and item["recurrence"]["frequency"] == "Day"
    assert cli(capsys, world, "pipelines", "schedules", "list", "--json").json() == listed
    text = cli(capsys, world, "pipelines", "schedules").out
    assert text.splitlines()[0].split() == [
        "NAME",
        "ID",
        "PIPELINE",
        "TRIGGER",
        "STATUS",
        "NEXT",
        "FIRE",
        "LAST",
        "RUN",
    ]
    row = next(line for line in text.splitlines() if world.schedule_id in line)
    assert "far-future" in row and " gate " in row and "every 1 Day from 2099-01-01" in row
    assert "2099-01-01 00:00:00" in row.split("Active", 1)[1]

    out = cli(capsys, world, "pipelines", "schedules", "disable", world.schedule_id)
    assert out.code == 0 and out.out.strip() == f"{world.schedule_id} (far-future): Disabled", out
    try:
        assert world.schedule_id not in cli(capsys, world, "pipelines", "schedules").out
        everything = cli(capsys, world, "pipelines", "schedules", "--all", "--json").json()
        assert [(s["status"], s["next_fire_time"]) for s in everything if s["id"] == world.schedule_id] == [
            ("Disabled", None)
        ]
        assert world.schedule_id in cli(capsys, world, "pipelines", "schedules", "list", "--all").out
    finally:
        out = cli(capsys, world, "pipelines", "schedules", "enable", world.schedule_id)
    assert out.code == 0 and "(far-future): Active, next fire 2099-01-01 00:00:00 UTC" in out.out, out
    assert Schedule.get(world.ws, world.schedule_id).status == "Active"

    line = assert_one_line_error(cli(capsys, world, "pipelines", "schedules", "disable", "no-such-schedule"))
    assert "no-such-schedule" in line and "mlws pipelines schedules --all" in line
    assert_one_line_error(cli(capsys, world, "pipelines", "schedules", "pause"), 2, "mlws pipelines schedules: usage")
    assert_one_line_error(cli(capsys, world, "pipelines", "schedules", "enable"), 2, "mlws pipelines schedules enable")


def test_bad_ids_and_usage_errors(capsys: pytest.CaptureFixture[str], world: World) -> None:
    line = assert_one_line_error(cli(capsys, world, "pipelines", "show", "no-such-id"))
    assert "no-such-id" in line and "mlws pipelines runs" in line
    line = assert_one_line_error(cli(capsys, world, "pipelines", "show", world.step_run_id))
    assert "not a pipeline run" in line and f"mlws runs show {world.step_run_id}" in line
    for action in ("disable", "enable"):
        assert_one_line_error(cli(capsys, world, "pipelines", action, "no-such-id"))
    assert_one_line_error(cli(capsys, world, "pipelines"), 2, "mlws pipelines: usage error")
    assert_one_line_error(cli(capsys, world, "pipelines", "launch"), 2, "mlws pipelines: usage error")
    assert_one_line_error(cli(capsys, world, "pipelines", "show"), 2, "mlws pipelines show: usage error")
    # The installed command, as a user runs it: one line, exit 1, no traceback.
    result = mlws_process("--workspace", str(world.ws.root), "pipelines", "show", "no-such-id")
    assert "no-such-id" in assert_one_line_error(result)


# -- the magic --------------------------------------------------------------------------------------------------
@pytest.fixture
def shell(world: World) -> Iterator[InteractiveShell]:
    """The session's IPython shell with the magics, its workspace the module's."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "jupyter_mlws")
    ip.run_line_magic("mlws", f"workspace {world.ws.root}")
    yield ip
    magics: Any = ip.magics_manager.registry["MlwsMagics"]
    magics._workspace = None


def test_the_magic_shows_the_same_tables(shell: InteractiveShell, world: World) -> None:
    published: Any = shell.run_line_magic("mlws", "pipelines")
    assert isinstance(published, Table) and published.headers[:2] == ["Id", "Name"]
    assert [world.pipeline_id, "gate", "1.0", "Active", "1"] == published.rows[
        [r[0] for r in published.rows].index(world.pipeline_id)
    ][:5]
    runs: Any = shell.run_line_magic("mlws", "pipelines runs cli-fan-in")
    assert world.run_id in [r[0] for r in runs.rows] and "<table>" in runs._repr_html_()
    steps: Any = shell.run_line_magic("mlws", f"pipeline {world.run_id}")
    assert steps.headers == ["Step", "Status", "Reused", "Reason", "Duration", "Run"]
    assert sorted(r[0] for r in steps.rows) == sorted(STEPS) and world.run_id in steps.title
    definition: Any = shell.run_line_magic("mlws", f"pipeline {world.pipeline_id}")
    assert [r[0] for r in definition.rows] == ["gate"] and "gate" in definition.title
    schedules: Any = shell.run_line_magic("mlws", "schedules")
    assert world.schedule_id in [r[1] for r in schedules.rows] and "Pipeline schedules" in repr(schedules)

    for line in ("pipelines bogus", "pipeline no-such-id", "pipelines runs no-such-experiment", "schedules x"):
        with pytest.raises(UsageError):
            shell.run_line_magic("mlws", line)
