"""REST of deployed web services (issue 17): the list and one service with its live state, its keys,
its log, its traffic in time buckets, and the "Test" route that sends a request to the service with
its primary key. One real local service (and one whose init() fails) is deployed for the module and
deleted at its end. Every reply is validated against openapi.yaml by the ``api`` client, which also
fails on any 5xx."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Webservice, Workspace
from jupyter_mlws.compute.agent import stop as stop_agent
from jupyter_mlws.core.workspace import close_backends
from tests.server.conftest import API, Api, expect_error, poll
from tests.server.test_events import open_stream
from tests.support.serving import SAMPLE, SAMPLE_SCORE, deploy_linear

NAME = "lin-svc"
BROKEN = "broken-svc"


@dataclass
class Deployed:
    root: Path
    service: Webservice
    broken: Webservice


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("serving-ws")
    ws = Workspace.create(root)
    scratch = tmp_path_factory.mktemp("serving-scratch")
    service = deploy_linear(ws, scratch, NAME)
    try:
        broken = deploy_linear(ws, scratch, BROKEN, broken=True)
        yield Deployed(root, service, broken)
    finally:
        for name in (NAME, BROKEN):
            with contextlib.suppress(Exception):
                Webservice(ws, name).delete()
        stop_agent(ws)  # the server's job sweep started it for the services
        close_backends()


@pytest.fixture
def jp_server_config(deployed: Deployed) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_mlws": True}},
        "MlwsApp": {"workspace_path": str(deployed.root)},
    }


async def test_list_and_detail_show_the_live_service(api: Api, deployed: Deployed) -> None:
    page = await api.ok("webservices")
    assert page["next_page_token"] is None
    items = {item["name"]: item for item in page["items"]}
    assert set(items) == {NAME, BROKEN}
    item = items[NAME]
    port = deployed.service.port
    assert item["state"] == "Healthy" and item["error"] is None
    assert item["compute_type"] == "Local" and item["auth_enabled"] is True
    assert item["scoring_uri"] == f"http://127.0.0.1:{port}/score"
    assert item["swagger_uri"] == f"http://127.0.0.1:{port}/swagger.json"
    assert item["models"] == ["lin:1"] and item["generation"] == 1
    assert item["description"] == f"{NAME}: a linear model" and item["tags"] == {"team": "tests"}
    assert item["properties"] == {}
    assert item["created_time"].endswith("Z") and item["updated_time"].endswith("Z")
    assert await api.ok(f"webservices/{NAME}") == item

    failed = await api.ok(f"webservices/{BROKEN}")
    assert failed["state"] == "Failed" and "this model cannot load" in failed["error"]


async def test_keys_are_the_services(api: Api, deployed: Deployed) -> None:
    keys = await api.ok(f"webservices/{NAME}/keys")
    assert (keys["primary"], keys["secondary"]) == deployed.service.get_keys()
    assert keys["primary"] and keys["primary"] != keys["secondary"]


async def test_logs_tail_the_service_log(api: Api) -> None:
    log = await api.ok(f"webservices/{NAME}/logs", params={"num_lines": "50"})
    assert log["name"] == NAME and log["num_lines"] == 50 and log["state"] == "Healthy"
    assert f"serving {NAME}" in log["data"]
    assert (await api.ok(f"webservices/{NAME}/logs", params={"num_lines": "1"}))["data"].count("\n") <= 1
    assert (await api.ok(f"webservices/{NAME}/logs", params={"num_lines": "0"}))["data"] == ""
    broken = await api.ok(f"webservices/{BROKEN}/logs")
    assert "this model cannot load" in broken["data"] and broken["state"] == "Failed"
    expect_error(await api.get(f"webservices/{NAME}/logs", params={"num_lines": "-1"}), 400, "InvalidArgumentError")


async def test_the_test_route_scores_with_the_primary_key(api: Api) -> None:
    reply = await api.post(f"webservices/{NAME}/test", body=SAMPLE)
    assert reply.status == 200, reply
    assert reply.data["status"] == 200 and json.loads(reply.data["body"]) == SAMPLE_SCORE
    assert reply.data["latency_ms"] > 0
    # The scoring script raising is the service's answer (500), reported, not this route's error.
    raised = (await api.post(f"webservices/{NAME}/test", body={"rows": []})).data
    assert raised["status"] == 500 and "see the service log" in raised["body"]
    # Any JSON value is sent as it is: a list is no dict, and run() fails on it (the service's 500).
    assert (await api.post(f"webservices/{NAME}/test", body=[1, 2])).data["status"] == 500

    expect_error(await api.post(f"webservices/{NAME}/test", body=b"{not json"), 400, "InvalidArgumentError", "JSON")
    expect_error(await api.post(f"webservices/{NAME}/test", body=b""), 400, "InvalidArgumentError", "JSON")
    # A service that is not listening: a clear 409, never a 500.
    message = expect_error(await api.post(f"webservices/{BROKEN}/test", body=SAMPLE), 409, "InvalidStateError")
    assert BROKEN in message and "not listening" in message and "Failed" in message


async def test_telemetry_buckets_count_the_requests(api: Api) -> None:
    for _ in range(3):
        assert (await api.post(f"webservices/{NAME}/test", body=SAMPLE)).data["status"] == 200
    assert (await api.post(f"webservices/{NAME}/test", body={"rows": []})).data["status"] == 500

    async def summed() -> Any:
        data = (await api.ok(f"webservices/{NAME}/telemetry", params={"since": "-600", "bucket_s": "5"})) or {}
        return data if data["totals"]["requests"] >= 4 and data["totals"]["errors"] >= 1 else None

    data = await poll(summed, timeout=30, what="the requests to show in the telemetry")  # flushed once a second
    assert data["name"] == NAME and data["bucket_s"] == 5.0
    buckets, totals = data["buckets"], data["totals"]
    assert 120 <= len(buckets) <= 122  # every 5-s bucket of the ten minutes, quiet ones too
    assert sum(b["count"] for b in buckets) == totals["requests"]
    assert sum(b["errors"] for b in buckets) == totals["errors"]
    busy = [b for b in buckets if b["count"]]
    assert busy and all(b["p50_ms"] is not None and b["p50_ms"] <= b["p99_ms"] for b in busy)
    assert all(b["p50_ms"] is None for b in buckets if not b["count"])
    assert 0 < totals["error_rate"] < 1 and totals["throughput_rps"] > 0
    assert totals["p50_ms"] > 0 and totals["p99_ms"] >= totals["p50_ms"]
    assert [b["time"] for b in buckets] == sorted(b["time"] for b in buckets)

    # The default window (the last 15 minutes, 10-s buckets) holds the same requests.
    default = await api.ok(f"webservices/{NAME}/telemetry")
    assert default["bucket_s"] == 10.0 and default["totals"]["requests"] >= totals["requests"]
    # An ISO time and epoch seconds are windows too; a window that starts now holds no request.
    start = time.time() - 600
    iso = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for since in (iso, f"{start:.3f}"):
        window = await api.ok(f"webservices/{NAME}/telemetry", params={"since": since, "bucket_s": "5"})
        assert window["totals"]["requests"] >= totals["requests"], since
    future = await api.ok(f"webservices/{NAME}/telemetry", params={"since": "99999999999"})
    assert future["totals"]["requests"] == 0 and len(future["buckets"]) == 1

    url = f"webservices/{NAME}/telemetry"
    expect_error(await api.get(url, params={"since": "yesterday"}), 400, "InvalidArgumentError", "since")
    expect_error(await api.get(url, params={"bucket_s": "0"}), 400, "InvalidArgumentError", "bucket_s")
    expect_error(await api.get(url, params={"bucket_s": "x"}), 400, "InvalidArgumentError", "bucket_s")
    expect_error(await api.get(url, params={"since": "0", "bucket_s": "1"}), 400, "InvalidArgumentError", "buckets")


async def test_unknown_services_are_404s(api: Api) -> None:
    for path in ("", "/keys", "/logs", "/telemetry"):
        expect_error(await api.get(f"webservices/nope{path}"), 404, "NotFoundError", "nope")
    expect_error(await api.post("webservices/nope/test", body=SAMPLE), 404, "NotFoundError", "nope")


async def test_webservice_events_reach_the_stream(
    api: Api, http_server: Any, jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}{API}/events"
    async with open_stream(url, jp_auth_header, params={"last_event_id": 0}) as stream:
        events = await stream.collect(
            lambda evs: any(e.kind == "webservice.created" and e.data["name"] == BROKEN for e in evs)
        )
    created = [e.data["name"] for e in events if e.kind == "webservice.created"]
    assert created == [NAME, BROKEN]


@pytest.mark.parametrize(
    "jp_server_config", [{"ServerApp": {"jpserver_extensions": {"jupyter_mlws": True}}}], indirect=False
)
async def test_no_workspace_yet_is_an_empty_list(api: Api) -> None:
    assert await api.ok("webservices") == {"items": [], "next_page_token": None}
    expect_error(await api.get(f"webservices/{NAME}"), 404, "NotFoundError", "no workspace")
