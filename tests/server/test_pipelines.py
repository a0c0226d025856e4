"""REST of published pipelines, endpoints and schedules (issue 16): v1's submission call
(``{"ExperimentName", "ParameterAssignments"}`` → the run with ``"Id"``), authenticated by Jupyter's
credentials or by a token scoped to one pipeline (endpoint) — another pipeline's token or none is a
403 — and the lists the sidebar shows. The server's schedule ticker fires a due schedule.

The pipeline engine is the stand-in of ``tests/pipelines/publishing/engine_double.py`` (a plain run per
submission); every reply is validated against openapi.yaml by the ``api`` client, which also fails on
any 5xx."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import PipelineEndpoint, PublishedPipeline, Schedule, ScheduleRecurrence, Workspace
from jupyter_mlws.pipelines import schedules
from tests.pipelines.publishing import engine_double
from tests.server.conftest import Api, expect_error, poll

DEFINITION: dict[str, Any] = {"steps": [{"name": "train"}], "parameters": {"lr": 0.1}}


@pytest.fixture(autouse=True)
def engine(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    monkeypatch.setitem(sys.modules, engine_double.ENGINE, engine_double.module())
    monkeypatch.setattr(schedules, "_wake_agent", lambda ws: None)  # the server's ticker fires them here
    engine_double.calls.clear()
    return engine_double.calls


@dataclass
class Published:
    ws: Workspace
    first: PublishedPipeline
    second: PublishedPipeline
    endpoint: PipelineEndpoint


@pytest.fixture
def published(jp_root_dir: Path) -> Published:
    ws = Workspace.create(Path(jp_root_dir))
    first = PublishedPipeline._create(ws, "first", "the first", "1", DEFINITION, None)
    second = PublishedPipeline._create(ws, "second", None, None, DEFINITION, None)
    endpoint = PipelineEndpoint.publish(ws, "scoring", None, first)
    endpoint.add(second)
    return Published(ws, first, second, endpoint)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_lists_are_empty_before_a_workspace_exists(api: Api) -> None:
    for route in ("pipelines", "pipeline-endpoints", "schedules"):
        assert await api.ok(route) == {"items": [], "next_page_token": None}


async def test_submit_with_jupyter_credentials_answers_v1s_run(api: Api, published: Published) -> None:
    body = {"ExperimentName": "from-rest", "ParameterAssignments": {"lr": 0.7}}
    reply = await api.post(f"pipelines/{published.first.id}/runs", body=body)
    assert reply.status == 200, reply
    data = reply.data
    assert data["ExperimentName"] == "from-rest" and data["PipelineId"] == published.first.id
    run = published.ws.get_run(data["Id"])
    assert run.properties["azureml.pipelineid"] == published.first.id
    assert data["run"]["id"] == data["Id"] and data["Status"] == "Completed"


async def test_a_pipeline_token_opens_that_pipeline_and_nothing_else(api: Api, published: Published) -> None:
    token = published.first.get_token()
    body = {"ExperimentName": "by-token"}
    reply = await api.post(f"pipelines/{published.first.id}/runs", body=body, headers=bearer(token), auth=False)
    assert reply.status == 200, reply
    assert token not in reply.body.decode()
    other = await api.post(f"pipelines/{published.second.id}/runs", body=body, headers=bearer(token), auth=False)
    expect_error(other, 403, "HTTPError")
    assert token not in other.body.decode()
    endpoint = await api.post("pipeline-endpoints/scoring/runs", body=body, headers=bearer(token), auth=False)
    expect_error(endpoint, 403, "HTTPError")
    forged = await api.post(
        f"pipelines/{published.first.id}/runs", body=body, headers=bearer("mlwsp_" + "x" * 43), auth=False
    )
    expect_error(forged, 403, "HTTPError")
    nothing = await api.post(f"pipelines/{published.first.id}/runs", body=body, auth=False)
    expect_error(nothing, 403, "HTTPError")
    missing = await api.post("pipelines/no-such-id/runs", body=body, headers=bearer(token), auth=False)
    expect_error(missing, 403, "HTTPError")  # a token says nothing about other ids
    published.first.revoke_tokens()
    revoked = await api.post(f"pipelines/{published.first.id}/runs", body=body, headers=bearer(token), auth=False)
    expect_error(revoked, 403, "HTTPError")


async def test_an_endpoint_token_submits_its_default_or_a_named_version(api: Api, published: Published) -> None:
    token = published.endpoint.get_token()
    body: dict[str, Any] = {"ExperimentName": "endpoint-runs"}
    reply = await api.post("pipeline-endpoints/scoring/runs", body=body, headers=bearer(token), auth=False)
    assert reply.status == 200 and reply.data["PipelineId"] == published.first.id, reply
    versioned = await api.post(
        "pipeline-endpoints/scoring/runs", body={**body, "PipelineVersion": "1"}, headers=bearer(token), auth=False
    )
    assert versioned.status == 200 and versioned.data["PipelineId"] == published.second.id, versioned
    wrong = await api.post(f"pipelines/{published.first.id}/runs", body=body, headers=bearer(token), auth=False)
    expect_error(wrong, 403, "HTTPError")
    expect_error(
        await api.post("pipeline-endpoints/scoring/runs", body={**body, "PipelineVersion": "7"}),
        404,
        "NotFoundError",
        "no version '7'",
    )


async def test_bad_requests_are_clear_errors(api: Api, published: Published) -> None:
    route = f"pipelines/{published.first.id}/runs"
    expect_error(await api.post(route, body={}), 400, "InvalidArgumentError", "ExperimentName")
    expect_error(
        await api.post(route, body={"ExperimentName": "e", "ParameterAssignments": {"rate": 1}}),
        400,
        "InvalidArgumentError",
        "no parameter 'rate'",
        "'lr'",
    )
    expect_error(
        await api.post(route, body={"ExperimentName": "e", "PipelineVersion": "1"}), 400, "InvalidArgumentError"
    )
    expect_error(await api.post("pipelines/nope/runs", body={"ExperimentName": "e"}), 404, "NotFoundError", "nope")
    expect_error(await api.post("pipeline-endpoints/nope/runs", body={"ExperimentName": "e"}), 404, "NotFoundError")
    published.first.disable()
    message = expect_error(await api.post(route, body={"ExperimentName": "e"}), 409, "InvalidStateError", "disabled")
    assert "enable()" in message


async def test_lists_show_pipelines_endpoints_and_schedules_with_their_next_fire(
    api: Api, published: Published
) -> None:
    published.second.disable()
    pipelines = await api.ok("pipelines")
    assert [p["id"] for p in pipelines["items"]] == [published.first.id]
    first = pipelines["items"][0]
    assert first["endpoint"].endswith(f"/mlws/api/v1/pipelines/{published.first.id}/runs")
    assert first["parameters"] == {"lr": 0.1} and first["created_time"].endswith("Z")
    assert len((await api.ok("pipelines", params={"active_only": "false"}))["items"]) == 2
    endpoints = await api.ok("pipeline-endpoints")
    assert endpoints["items"][0]["versions"] == [
        {"version": "0", "pipeline_id": published.first.id},
        {"version": "1", "pipeline_id": published.second.id},
    ]
    later = ScheduleRecurrence("Day", 1, start_time="2040-01-02T08:00:00", time_zone="UTC")
    schedule = Schedule.create(published.ws, "daily", published.first.id, "scheduled", recurrence=later)
    items = (await api.ok("schedules"))["items"]
    assert [s["id"] for s in items] == [schedule.id]
    assert items[0]["next_fire_time"] == "2040-01-02T08:00:00.000000Z"
    assert items[0]["recurrence"]["frequency"] == "Day" and items[0]["last_run_id"] is None


async def test_the_server_fires_a_due_schedule(api: Api, published: Published, engine: list[dict[str, Any]]) -> None:
    schedule = Schedule.create(
        published.ws, "now", published.first.id, "scheduled", recurrence=ScheduleRecurrence("Hour", 1)
    )

    async def fired() -> Any:
        items = (await api.ok("schedules"))["items"]
        return items[0]["last_run_id"]

    run_id = await poll(fired, what="the server's schedule ticker to fire the schedule")
    assert published.ws.get_run(run_id).properties["azureml.scheduleid"] == schedule.id
