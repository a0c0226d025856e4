"""POST models/{name}/versions: register a model version from a run's file or folder (the JupyterLab
"Register as model…" action). Every reply is validated against openapi.yaml by the ``api`` client, which
also fails on any 5xx."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from jupyter_mlws import Model
from tests.server.apispec import validate_schema
from tests.server.conftest import API, Api, Seed, expect_error

WAIT = 30.0


def _body(seed: Seed, path: str = "outputs/model.txt", **extra: Any) -> dict[str, Any]:
    return {"run_id": seed.files_run, "path": path, **extra}


def _stored(seed: Seed) -> tuple[list[str], int]:
    """Every model version and the newest change-feed entry: what a failed registration must leave alone."""
    return [m.id for m in Model.list(seed.ws)], seed.ws.metadata.latest_event_id()


async def test_register_a_run_file_then_a_second_version(api: Api, seed: Seed) -> None:
    before = seed.ws.metadata.latest_event_id()
    reply = await api.post(
        "models/reg/versions",
        body=_body(seed, tags={"stage": "dev"}, properties={"framework": "none"}, description="from the UI"),
    )
    assert reply.status == 201, reply
    first = reply.data
    validate_schema("ModelVersionDetail", first)
    assert first["id"] == "reg:1"
    assert first["name"] == "reg"
    assert first["version"] == 1
    assert first["run_id"] == seed.files_run
    assert first["tags"] == {"stage": "dev"}
    assert first["properties"] == {"framework": "none"}
    assert first["description"] == "from the UI"
    assert first["aliases"] == []
    assert first["files"] == [{"path": "model.txt", "size": len(seed.files["outputs/model.txt"])}]
    # The reply is what GET answers for the version.
    assert await api.ok("models/reg/versions/1") == first

    # The change feed (read by GET events) has model.version.created for it.
    events = [e for e in seed.ws.metadata.read_events(before) if e.kind == "model.version.created"]
    assert [(e.data["name"], e.data["version"]) for e in events] == [("reg", 1)]

    second = await api.post("models/reg/versions", body=_body(seed))
    assert second.status == 201, second
    assert second.data["version"] == 2
    assert second.data["tags"] == {}
    assert second.data["properties"] == {}
    assert second.data["description"] is None
    model = await api.ok("models/reg")
    assert model["latest_version"] == 2
    assert [v["version"] for v in model["versions"]] == [2, 1]

    # The registered file downloads with the run file's bytes (no bytes were copied: same blob).
    for version in ("1", "2", "latest"):
        download = await api.get(f"models/reg/versions/{version}/files/model.txt")
        assert download.status == 200, download
        assert download.body == seed.files["outputs/model.txt"]


async def test_register_a_run_folder(api: Api, seed: Seed) -> None:
    reply = await api.post("models/folder-model/versions", body=_body(seed, path="outputs/sub"))
    assert reply.status == 201, reply
    assert reply.data["files"] == [{"path": "sub/info.json", "size": len(seed.files["outputs/sub/info.json"])}]
    whole = await api.post("models/folder-model/versions", body=_body(seed, path="outputs/"))
    assert whole.status == 201, whole
    assert whole.data["version"] == 2
    assert sorted(f["path"] for f in whole.data["files"]) == [
        "outputs/data.bin",
        "outputs/model.txt",
        "outputs/sub/info.json",
    ]
    page = await api.ok("models/folder-model/versions/2/files")
    assert sorted(f["path"] for f in page["items"]) == sorted(f["path"] for f in whole.data["files"])
    data = await api.get("models/folder-model/versions/2/files/outputs/data.bin")
    assert data.status == 200, data
    assert data.body == seed.files["outputs/data.bin"]
    info = await api.get("models/folder-model/versions/1/files/sub/info.json")
    assert info.body == seed.files["outputs/sub/info.json"]


async def test_the_event_reaches_the_events_stream(
    api: Api, seed: Seed, http_server: Any, jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}{API}/events"
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(WAIT)) as client,
        client.stream("GET", url, headers=jp_auth_header) as response,
    ):
        assert response.status_code == 200
        lines: Any = response.aiter_lines()

        async def model_event() -> dict[str, Any]:
            kind = None
            async for line in lines:
                if line.startswith("event:"):
                    kind = line.partition(":")[2].strip()
                elif line.startswith("data:") and kind == "model.version.created":
                    return dict(json.loads(line.partition(":")[2]))
            raise AssertionError("the stream ended")

        waiter = asyncio.ensure_future(asyncio.wait_for(model_event(), WAIT))
        await asyncio.sleep(0.3)  # subscribed
        reply = await api.post("models/streamed/versions", body=_body(seed))
        assert reply.status == 201, reply
        data = await waiter
        await lines.aclose()
    validate_schema("ModelVersionCreatedEvent", data)
    assert (data["name"], data["version"]) == ("streamed", 1)
    gc.collect()  # finalise httpx's async generators while the loop runs
    await asyncio.sleep(0.05)


async def test_unknown_run_or_file(api: Api, seed: Seed) -> None:
    before = _stored(seed)
    reply = await api.post("models/reg/versions", body={"run_id": "train_1_deadbeef", "path": "outputs/model.txt"})
    expect_error(reply, 404, "NotFoundError", "train_1_deadbeef")
    reply = await api.post("models/reg/versions", body=_body(seed, path="outputs/missing.pkl"))
    message = expect_error(reply, 404, "NotFoundError", "outputs/missing.pkl", seed.files_run)
    assert "outputs/model.txt" in message  # names the run's files
    # A prefix of a file name is not a folder.
    expect_error(await api.post("models/reg/versions", body=_body(seed, path="outputs/mod")), 404, "NotFoundError")
    assert _stored(seed) == before


async def test_no_workspace_yet(api: Api, jp_root_dir: Path) -> None:
    reply = await api.post("models/reg/versions", body={"run_id": "r1", "path": "outputs/model.pkl"})
    expect_error(reply, 404, "NotFoundError", "workspace")
    assert not (Path(jp_root_dir) / ".mlws").exists()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"run_id": "RUN"}, ["'path'", "outputs/model.pkl"]),
        ({"run_id": "RUN", "path": None}, ["'path'", "string"]),
        ({"run_id": "RUN", "path": 3}, ["'path'", "string"]),
        ({"run_id": "RUN", "path": ["outputs/model.txt"]}, ["'path'", "string"]),
        ({"run_id": "RUN", "path": ""}, ["'path'"]),
        ({"run_id": "RUN", "path": "../outputs/model.txt"}, ["'path'", ".."]),
        ({"run_id": "RUN", "path": "outputs/../../x"}, ["'path'", ".."]),
        ({"run_id": "RUN", "path": "/etc/passwd"}, ["'path'", "absolute"]),
        ({"run_id": "RUN", "path": "C:\\model.pkl"}, ["'path'", "absolute"]),
        ({"run_id": "RUN", "path": "outputs/\x00"}, ["'path'", "control"]),
        ({"path": "outputs/model.txt"}, ["'run_id'"]),
        ({"run_id": 7, "path": "outputs/model.txt"}, ["'run_id'", "string"]),
        ({"run_id": "", "path": "outputs/model.txt"}, ["'run_id'"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "tags": ["a"]}, ["'tags'", "object"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "tags": None}, ["'tags'", "object"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "tags": {"n": 1}}, ["'tags'", "'n'", "string"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "tags": {"n": None}}, ["'tags'", "'n'"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "tags": {"": "x"}}, ["tag"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "properties": "x=1"}, ["'properties'", "object"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "properties": {"k": {"v": 1}}}, ["'properties'", "'k'"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "description": 5}, ["'description'"]),
        ({"run_id": "RUN", "path": "outputs/model.txt", "model_path": "x"}, ["model_path"]),
    ],
)
async def test_bad_requests(api: Api, seed: Seed, body: dict[str, Any], words: list[str]) -> None:
    before = _stored(seed)
    if body.get("run_id") == "RUN":
        body = {**body, "run_id": seed.files_run}
    expect_error(await api.post("models/reg/versions", body=body), 400, "InvalidArgumentError", *words)
    assert _stored(seed) == before


async def test_bad_model_names_and_bodies(api: Api, seed: Seed) -> None:
    before = _stored(seed)
    for name in (".hidden", "-dash", "a%20b", "x" * 256):
        reply = await api.post(f"models/{name}/versions", body=_body(seed))
        expect_error(reply, 400, "InvalidArgumentError", "model name")
    # The name is checked before the run is looked up.
    reply = await api.post("models/.bad/versions", body={"run_id": "nope", "path": "outputs/model.txt"})
    expect_error(reply, 400, "InvalidArgumentError", "model name")
    for raw in (b"", b"not json", b"[1, 2]", b'"outputs/model.txt"', b"null"):
        reply = await api.post("models/reg/versions", body=raw)
        expect_error(reply, 400, "InvalidArgumentError")
    # A lone surrogate (valid JSON, not encodable text) is a 400, not a server error.
    reply = await api.post("models/reg/versions", body=b'{"run_id": "r\\ud800", "path": "outputs/model.txt"}')
    expect_error(reply, 400, "InvalidArgumentError")
    assert _stored(seed) == before


async def test_other_methods_are_not_routes(api: Api, seed: Seed) -> None:
    # GET of the collection is not offered (the model itself lists its versions); the version route still works.
    reply = await api.get("models/clf/versions", documented=False)
    assert reply.status == 405, reply
    assert reply.data["error"]["type"] == "HTTPError"
    assert (await api.ok("models/clf/versions/1"))["version"] == 1


async def test_registration_needs_credentials(api: Api, seed: Seed) -> None:
    before = _stored(seed)
    reply = await api.post("models/reg/versions", body=_body(seed), auth=False)
    assert reply.status == 403, reply
    assert _stored(seed) == before
