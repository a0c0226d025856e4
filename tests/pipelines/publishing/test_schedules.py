"""Schedules (issue 16, part 5) driven by ``tick`` with a fake clock: the first fire at once, each fire
once, catch-up after downtime (none | latest | all), disabling and enabling, failures recorded per fire,
and data-change schedules that fire on a change of content — not on a ``touch`` — even when the
rewritten file gets its old mtime back."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import PipelineEndpoint, PublishedPipeline, Schedule, ScheduleRecurrence, Workspace
from jupyter_mlws.errors import InvalidArgumentError, NotFoundError
from jupyter_mlws.pipelines.scheduler import tick
from tests.pipelines.publishing.conftest import DEFINITION

T0 = int(dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC).timestamp())
MINUTE = 60


def every_minute(start: int = T0) -> ScheduleRecurrence:
    return ScheduleRecurrence("Minute", 1, start_time=dt.datetime.fromtimestamp(start, dt.UTC))


def fire_times(ws: Workspace, schedule: Schedule) -> list[int]:
    return sorted(f.fire_time for f in ws.metadata.list_schedule_fires(schedule.id))


def test_create_refuses_what_cannot_run(pws: Workspace, published: PublishedPipeline) -> None:
    make = Schedule.create
    with pytest.raises(InvalidArgumentError, match="either recurrence"):
        make(pws, "s", published.id, "exp")
    with pytest.raises(InvalidArgumentError, match=r"no parameter 'rate'"):
        make(pws, "s", published.id, "exp", recurrence=every_minute(), pipeline_parameters={"rate": 1})
    with pytest.raises(NotFoundError, match="published pipeline"):
        make(pws, "s", "missing-id", "exp", recurrence=every_minute())
    with pytest.raises(InvalidArgumentError, match="catch_up must be one of"):
        make(pws, "s", published.id, "exp", recurrence=every_minute(), catch_up="some")
    with pytest.raises(InvalidArgumentError, match=r"pipeline_id .* or pipeline_endpoint_id"):
        make(pws, "s", None, "exp", recurrence=every_minute())
    with pytest.raises(InvalidArgumentError, match="polling_interval is in minutes"):
        make(pws, "s", published.id, "exp", datastore=pws.get_default_datastore(), polling_interval=0)
    assert Schedule.list(pws) == []


def test_each_fire_runs_once_with_its_parameters_and_the_schedule_finds_its_runs(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    s = Schedule.create(
        pws, "nightly", published.id, "scheduled", recurrence=every_minute(), pipeline_parameters={"lr": 0.3}
    )
    assert s.next_fire_time() == T0
    assert tick(pws, now=T0 - 1) == []
    first = tick(pws, now=T0)  # the start time itself is the first fire
    assert len(first) == 1 and tick(pws, now=T0 + 30) == []  # nothing new is due
    second = tick(pws, now=T0 + MINUTE + 2)
    assert len(second) == 1 and tick(pws, now=T0 + MINUTE + 3) == []
    assert fire_times(pws, s) == [T0, T0 + MINUTE]
    assert [c["values"] for c in engine] == [{"lr": 0.3, "epochs": 3}] * 2
    run = s.get_last_pipeline_run()
    assert run is not None and run.id == second[0]
    assert run.properties["azureml.scheduleid"] == s.id and run.properties["azureml.pipelineid"] == published.id
    assert [r.id for r in s.get_pipeline_runs()] == [second[0], first[0]]
    assert [x.id for x in Schedule.get_schedules_for_pipeline_id(pws, published.id)] == [s.id]
    assert Schedule.get(pws, s.id).next_fire_time() == T0 + 2 * MINUTE


def test_without_a_start_time_the_first_fire_is_immediate(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    s = Schedule.create(pws, "hourly", published.id, "scheduled", recurrence=ScheduleRecurrence("Hour", 1))
    assert len(tick(pws, now=time.time() + 1)) == 1
    assert tick(pws, now=time.time() + 2) == []
    assert len(fire_times(pws, s)) == 1


@pytest.mark.parametrize(
    ("catch_up", "fired_after_downtime"),
    [("all", [1, 2, 3, 4, 5]), ("latest", [5]), ("none", [])],
)
def test_catch_up_after_downtime(
    pws: Workspace,
    published: PublishedPipeline,
    engine: list[dict[str, Any]],
    catch_up: str,
    fired_after_downtime: list[int],
) -> None:
    every5 = ScheduleRecurrence("Minute", 5, start_time=dt.datetime.fromtimestamp(T0, dt.UTC))
    s = Schedule.create(pws, "c", published.id, "scheduled", recurrence=every5, catch_up=catch_up)
    assert len(tick(pws, now=T0 + 1)) == 1
    # Nothing ran for 26.5 minutes: the fires at T0+5m … T0+25m were missed (T0+25m by 90 s).
    fired = tick(pws, now=T0 + 25 * MINUTE + 90)
    assert len(fired) == len(fired_after_downtime)
    assert fire_times(pws, s) == [T0] + [T0 + k * 5 * MINUTE for k in fired_after_downtime]
    assert Schedule.get(pws, s.id).last_fire_time == T0 + 25 * MINUTE  # the missed ones are handled either way
    # Back to normal: the next fire happens under every policy, once.
    assert len(tick(pws, now=T0 + 30 * MINUTE + 1)) == 1
    assert tick(pws, now=T0 + 30 * MINUTE + 2) == []
    assert len(engine) == 2 + len(fired_after_downtime)


def test_disabled_schedules_and_pipelines_do_not_fire_and_enabling_skips_what_was_missed(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    hour_ago = int(time.time()) - 3600
    s = Schedule.create(pws, "c", published.id, "scheduled", recurrence=every_minute(hour_ago), catch_up="all")
    s.disable()
    assert Schedule.list(pws) == [] and s.next_fire_time() is None
    now = time.time()
    assert tick(pws, now=now) == []
    s.enable()  # the hour of fires due while it was disabled is not caught up
    assert [x.id for x in Schedule.list(pws)] == [s.id]
    assert len(tick(pws, now=now + 61)) == 1  # only the next minute's fire
    published.disable()
    assert tick(pws, now=now + 121) == []  # a disabled pipeline's fires are skipped, not kept for later
    published.enable()
    s.update(pipeline_parameters={"epochs": 9}, description="changed")
    assert Schedule.get(pws, s.id).pipeline_parameters == {"epochs": 9}
    assert len(tick(pws, now=now + 181)) == 1
    assert len(engine) == 2 and engine[-1]["values"] == {"lr": 0.1, "epochs": 9}


def test_a_failing_submission_is_recorded_on_its_fire_and_stops_no_other_schedule(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = PublishedPipeline._create(pws, "broken", None, None, {"steps": [], "parameters": {"x": 1}}, None)
    bad = Schedule.create(pws, "bad", broken.id, "scheduled", recurrence=every_minute())
    good = Schedule.create(pws, "good", published.id, "scheduled", recurrence=every_minute())
    import tests.pipelines.publishing.engine_double as double

    real = double.submit_definition

    def failing(ws: Workspace, experiment: str, definition: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if "x" in definition["parameters"]:
            raise RuntimeError("the engine broke")
        return real(ws, experiment, definition, *args, **kwargs)

    monkeypatch.setattr(__import__("sys").modules[double.ENGINE], "submit_definition", failing)
    fired = tick(pws, now=T0)
    assert len(fired) == 1 and good.get_last_pipeline_run() is not None
    (fire,) = pws.metadata.list_schedule_fires(bad.id)
    assert fire.run_id is None and fire.error == "RuntimeError: the engine broke"
    assert tick(pws, now=T0 + 1) == []  # a failed fire is not retried: it was claimed


def test_an_endpoint_schedule_runs_the_default_version_at_each_fire(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    endpoint = PipelineEndpoint.publish(pws, "ep", None, published)
    s = Schedule.create_for_pipeline_endpoint(pws, "ep-schedule", endpoint.id, "scheduled", recurrence=every_minute())
    tick(pws, now=T0)
    v2 = PublishedPipeline._create(pws, "v2", None, None, DEFINITION, None)
    endpoint.add_default(v2)
    tick(pws, now=T0 + MINUTE)
    assert [r.properties["azureml.pipelineid"] for r in s.get_pipeline_runs()] == [v2.id, published.id]
    endpoint.disable()
    assert tick(pws, now=T0 + 2 * MINUTE) == []  # a disabled endpoint fires nothing


# -- data-change schedules ---------------------------------------------------------------------------------
def _write(path: Path, text: str) -> None:
    path.write_text(text)


def test_a_content_change_fires_even_with_mtime_restored_and_a_touch_does_not(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    published_with_path = PublishedPipeline._create(
        pws, "on-data", None, None, {"steps": [], "parameters": {"input_path": ""}}, None
    )
    store = pws.get_default_datastore()
    folder = Path(os.fspath(store.path("raw")))
    folder.mkdir(parents=True)
    data = folder / "train.csv"
    _write(data, "a,b\n1,2\n")
    s = Schedule.create(
        pws, "on-change", published_with_path.id, "scheduled", datastore=store, path_on_datastore="raw",
        polling_interval=5, data_path_parameter_name="input_path",
    )  # fmt: skip
    start = time.time()
    poll = 5 * MINUTE
    assert tick(pws, now=start + 10) == []  # not time to poll yet
    assert tick(pws, now=start + poll + 1) == []  # polled: nothing changed

    os.utime(data, (time.time() + 7, time.time() + 7))  # a touch: new mtime, same bytes
    assert tick(pws, now=start + 2 * poll + 2) == []

    before = data.stat()
    _write(data, "a,b\n1,3\n")  # same size, other bytes, and the old mtime put back
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert data.stat().st_mtime_ns == before.st_mtime_ns and data.stat().st_size == before.st_size
    assert tick(pws, now=start + 2 * poll + 3) == []  # the poll interval holds
    fired = tick(pws, now=start + 3 * poll + 3)
    assert len(fired) == 1
    assert engine[-1]["values"] == {"input_path": {"datastore": store.name, "path": "raw"}}  # a DataPath
    assert tick(pws, now=start + 4 * poll + 4) == []  # the same content does not fire twice

    (folder / "more.csv").write_text("new file\n")  # a new file is a change too
    assert len(tick(pws, now=start + 5 * poll + 5)) == 1
    assert s.get_last_pipeline_run() is not None and len(s.get_pipeline_runs()) == 2


def test_the_agent_fires_schedules_and_stays_up_while_one_is_enabled(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    from jupyter_mlws.compute.agent import Agent

    agent = Agent(pws)  # not started: its periodic tasks are called as its loop calls them
    agent._run_tasks()
    assert agent.tasks_busy is False  # no schedule: nothing keeps an idle agent up
    s = Schedule.create(pws, "hourly", published.id, "scheduled", recurrence=ScheduleRecurrence("Hour", 1))
    agent.next_tasks = 0.0
    agent._run_tasks()
    assert agent.tasks_busy is True and len(engine) == 1 and s.get_last_pipeline_run() is not None
    s.disable()
    agent.next_tasks = 0.0
    agent._run_tasks()
    assert agent.tasks_busy is False and len(engine) == 1


def test_a_path_with_no_files_yet_fires_when_files_appear(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    store = pws.get_default_datastore()
    s = Schedule.create(pws, "incoming", published.id, "scheduled", datastore=store, path_on_datastore="incoming/")
    assert s.path_on_datastore == "incoming" and s.next_fire_time() is not None
    start = time.time()
    assert tick(pws, now=start + 301) == []
    folder = Path(os.fspath(store.path("incoming")))
    folder.mkdir(parents=True)
    assert tick(pws, now=start + 602) == []  # an empty folder holds no files either
    (folder / "batch-1.csv").write_text("x\n1\n")
    assert len(tick(pws, now=start + 903)) == 1
