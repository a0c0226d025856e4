"""GET events: a server-sent-events stream read with a real HTTP client (httpx) against the running
server while runs, model versions and dataset versions are made in another thread; Last-Event-ID
resumes."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from jupyter_mlws import Dataset, Experiment, Model, Workspace
from tests.server.apispec import find_operation, validate_schema
from tests.server.conftest import API, Api, Seed, expect_error

SCHEMAS = {
    "run.created": "RunCreatedEvent",
    "run.status": "RunStatusEvent",
    "model.version.created": "ModelVersionCreatedEvent",
    "dataset.version.created": "DatasetVersionCreatedEvent",
    "webservice.created": "WebserviceEvent",
    "webservice.updated": "WebserviceEvent",
    "webservice.state": "WebserviceEvent",
    "webservice.deleted": "WebserviceEvent",
}
WAIT = 30.0


@dataclass
class Event:
    id: int
    kind: str
    data: dict[str, Any]


class EventStream:
    """Parses a text/event-stream response: ``retry:`` lines, ``: comments``, and id/event/data messages."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines: Any = response.aiter_lines()
        self.retry: int | None = None

    async def _block(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        while True:
            line = await self.lines.__anext__()
            if line == "":
                if fields:
                    return fields
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    async def next(self) -> Event | None:
        """The next message (None for a ``retry:`` block)."""
        fields = await self._block()
        if "retry" in fields and "data" not in fields:
            self.retry = int(fields["retry"])
            return None
        event = Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
        schema = SCHEMAS.get(event.kind)
        assert schema is not None, f"an undocumented event kind: {fields}"
        validate_schema(schema, event.data)
        return event

    async def collect(self, done: Any, timeout: float = WAIT) -> list[Event]:
        """Events until ``done(events)`` is true."""
        events: list[Event] = []

        async def read() -> None:
            while not done(events):
                event = await self.next()
                if event is not None:
                    events.append(event)

        try:
            await asyncio.wait_for(read(), timeout)
        except TimeoutError:
            pytest.fail(f"timed out after {timeout} s; events so far: {events}")
        return events


@pytest.fixture
def events_url(http_server: Any, jp_http_port: int, jp_base_url: str) -> str:
    """The stream's URL on the test server (``http_server`` makes it listen)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}{API}/events"


@asynccontextmanager
async def open_stream(
    url: str, headers: dict[str, str], params: dict[str, Any] | None = None
) -> AsyncIterator[EventStream]:
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(WAIT)) as client,
        client.stream("GET", url, headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, (response.status_code, await response.aread())
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache"
        find_operation("GET", "/events")  # documented
        stream = EventStream(response)
        try:
            assert await stream.next() is None  # subscribed: 'retry: 2000' comes first
            assert stream.retry == 2000
            yield stream
        finally:
            await stream.lines.aclose()
    # httpx's inner async generators are finalised by the garbage collector: let that happen while the
    # loop still runs (pytest-jupyter closes it at teardown).
    gc.collect()
    await asyncio.sleep(0.05)


def make_run_and_model(root: Path, tmp: Path) -> tuple[str, int]:
    """In another thread, as a notebook would: a run that logs and completes, then a model version."""
    ws = Workspace(root)
    with Experiment(ws, "evented").start_logging(display_name="live") as run:
        run.log("acc", 0.5)
    weights = tmp / f"weights-{time.monotonic_ns()}.bin"
    weights.write_bytes(b"w")
    model = Model.register(ws, str(weights), "evented-model", run=None)
    return run.id, model.version


def _of(events: list[Event], kind: str, **match: Any) -> list[Event]:
    return [e for e in events if e.kind == kind and all(e.data.get(k) == v for k, v in match.items())]


async def test_events_stream_and_resume(
    seed: Seed, events_url: str, jp_auth_header: dict[str, str], tmp_path: Path
) -> None:
    root = seed.ws.root
    async with open_stream(events_url, jp_auth_header) as stream:
        # Starts at the present: nothing of the seeded history is replayed.
        worker = asyncio.ensure_future(asyncio.to_thread(make_run_and_model, root, tmp_path))
        events = await stream.collect(lambda evs: bool(_of(evs, "model.version.created", name="evented-model")))
        run_id, version = await worker
    assert all(e.data.get("experiment") == "evented" or e.kind == "model.version.created" for e in events), events
    (created,) = _of(events, "run.created", run_id=run_id)
    assert created.data == {
        "status": "Running",
        "parent_run_id": None,
        "display_name": "live",
        "run_id": run_id,
        "experiment": "evented",
    }
    (completed,) = _of(events, "run.status", run_id=run_id)
    assert completed.data == {"status": "Completed", "previous": "Running", "run_id": run_id, "experiment": "evented"}
    (model,) = _of(events, "model.version.created")
    assert (model.data["name"], model.data["version"]) == ("evented-model", version)
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))
    assert created.id < completed.id < model.id

    # Reconnect as EventSource does: Last-Event-ID replays only what came later.
    headers = {**jp_auth_header, "Last-Event-ID": str(created.id)}
    async with open_stream(events_url, headers) as stream:
        replay = await stream.collect(lambda evs: any(e.id >= model.id for e in evs))
    assert [e.id for e in replay] == [completed.id, model.id]
    assert [e.kind for e in replay] == ["run.status", "model.version.created"]

    # The same with the query parameter (for clients that cannot set headers).
    async with open_stream(events_url, jp_auth_header, params={"last_event_id": completed.id}) as stream:
        replay = await stream.collect(lambda evs: any(e.id >= model.id for e in evs))
    assert [e.id for e in replay] == [model.id]


def register_datasets(root: Path, tmp: Path) -> tuple[int, int]:
    """In another thread: a tabular dataset, the same content again (kept: no event), a new version of it
    and a file dataset, then a model version (the marker that everything before it was streamed)."""
    ws = Workspace(root)
    data = tmp / f"data-{time.monotonic_ns()}"
    data.mkdir()
    (data / "a.csv").write_text("x,y\n1,2\n")
    first = Dataset.Tabular.from_delimited_files(str(data / "*.csv")).register(ws, "evented-table")
    kept = Dataset.Tabular.from_delimited_files(str(data / "*.csv")).register(
        ws, "evented-table", create_new_version=True
    )
    assert kept.version == first.version
    (data / "b.csv").write_text("x,y\n3,4\n")
    second = Dataset.Tabular.from_delimited_files(str(data / "*.csv")).register(
        ws, "evented-table", create_new_version=True
    )
    Dataset.File.from_files(str(data / "a.csv")).register(ws, "evented-files")
    weights = tmp / f"weights-{time.monotonic_ns()}.bin"
    weights.write_bytes(b"w")
    Model.register(ws, str(weights), "evented-marker")
    return first.version, second.version


async def test_dataset_versions_are_streamed(
    seed: Seed, events_url: str, jp_auth_header: dict[str, str], tmp_path: Path
) -> None:
    async with open_stream(events_url, jp_auth_header) as stream:
        worker = asyncio.ensure_future(asyncio.to_thread(register_datasets, seed.ws.root, tmp_path))
        events = await stream.collect(lambda evs: bool(_of(evs, "model.version.created", name="evented-marker")))
        first, second = await worker
    # One event per new version, in order; the kept version announced nothing.
    assert [e.data for e in events if e.kind == "dataset.version.created"] == [
        {"name": "evented-table", "version": first, "kind": "tabular"},
        {"name": "evented-table", "version": second, "kind": "tabular"},
        {"name": "evented-files", "version": 1, "kind": "file"},
    ]
    assert (first, second) == (1, 2)


async def test_events_stream_before_the_workspace_exists(
    api: Api, events_url: str, jp_auth_header: dict[str, str], jp_root_dir: Path, tmp_path: Path
) -> None:
    """A sidebar opened on a fresh server sees the first runs once something creates the workspace."""
    assert (await api.ok("workspace"))["exists"] is False
    async with open_stream(events_url, jp_auth_header) as stream:
        worker = asyncio.ensure_future(
            asyncio.to_thread(lambda: (Workspace.create(jp_root_dir), make_run_and_model(jp_root_dir, tmp_path))[1])
        )
        events = await stream.collect(lambda evs: bool(_of(evs, "model.version.created")))
        run_id, _ = await worker
    assert [e.kind for e in events if e.data.get("run_id") == run_id] == ["run.created", "run.status"]


async def test_bad_last_event_id_and_no_credentials(
    api: Api, seed: Seed, events_url: str, jp_auth_header: dict[str, str]
) -> None:
    expect_error(await api.get("events", headers={"Last-Event-ID": "abc"}), 400, "InvalidArgumentError", "abc")
    expect_error(await api.get("events", params={"last_event_id": "x1"}), 400, "InvalidArgumentError", "x1")
    async with httpx.AsyncClient(timeout=httpx.Timeout(WAIT)) as client:
        response = await client.get(events_url)
        assert response.status_code == 403
        assert response.json()["error"]["type"] == "HTTPError"
        response = await client.get(events_url, headers={"Authorization": "token wrong"})
        assert response.status_code == 403
