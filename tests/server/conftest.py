"""Fixtures for the server extension tests: a Jupyter server (pytest-jupyter) with jupyter_mlws, a client
that validates every response against openapi.yaml and refuses any 5xx, and a seeded workspace.

pytest-jupyter's fixtures and hooks are imported here (not listed in ``pytest_plugins``, which pytest
refuses outside the top-level conftest): they apply to the tests of this folder only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403  (fixtures and the async test hooks)
from tornado.httputil import HTTPHeaders

from jupyter_mlws import Environment, Experiment, Model, Workspace
from jupyter_mlws.core.activities import ActivityRecorder
from jupyter_mlws.core.status import TERMINAL_STATUSES
from tests.server.apispec import check_response

API = "mlws/api/v1"
TIMEOUT = 60.0  # generous upper bound for a job on a loaded machine

# A 1x1 PNG for the image metric.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_mlws": True}}}


# -- the client ---------------------------------------------------------------------------------------------
@dataclass
class Reply:
    method: str
    url: str
    status: int
    headers: HTTPHeaders
    body: bytes
    data: Any = None  # the parsed JSON body, if JSON

    @property
    def content_type(self) -> str:
        return str(self.headers.get("Content-Type", ""))

    def __repr__(self) -> str:
        return f"<{self.method} {self.url} -> {self.status} {self.body[:500]!r}>"


class Api:
    """Calls ``<base_url>mlws/api/v1/<path>``. Every reply is checked: never a 5xx, and (unless
    ``documented=False``, for requests the API does not offer) status, content type and body as documented
    in openapi.yaml. ``path`` is sent as given (already URL-encoded)."""

    def __init__(self, fetch: Any, client: Any, base_url: str, auth: dict[str, str]) -> None:
        self._fetch = fetch
        self._client = client
        self.base_url = base_url
        self.auth = auth
        self.replies: list[Reply] = []

    async def __call__(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        documented: bool = True,
    ) -> Reply:
        path = path.lstrip("/")
        raw_body: bytes | None = None
        if body is not None:
            raw_body = body if isinstance(body, bytes) else json.dumps(body).encode()
        elif method == "POST":
            raw_body = b""
        all_headers = dict(headers or {})
        if raw_body is not None and "Content-Type" not in all_headers:
            all_headers["Content-Type"] = "application/json"
        simple = isinstance(params, dict | None) and all(not isinstance(v, list) for v in (params or {}).values())
        if auth and simple and "%" not in path:
            # The ordinary way: pytest-jupyter's jp_fetch (adds the token, escapes the path).
            response = await self._fetch(
                API, path, method=method, params=params, body=raw_body, headers=all_headers, raise_error=False
            )
        else:
            query = urllib.parse.urlencode(params or {}, doseq=True)
            url = f"{self.base_url}{API}/{path}" + (f"?{query}" if query else "")
            if auth:
                for key, value in self.auth.items():
                    all_headers.setdefault(key, value)
            response = await self._client.fetch(
                url,
                method=method,
                body=raw_body,
                headers=all_headers,
                raise_error=False,
                request_timeout=60,
                allow_nonstandard_methods=True,
            )
        reply = Reply(method, response.effective_url, response.code, response.headers, response.body or b"")
        self.replies.append(reply)
        assert reply.status < 500, f"server error: {reply!r}"
        if documented:
            api_path = "/" + urllib.parse.unquote(path.split("?", 1)[0])
            reply.data = check_response(method, api_path, reply.status, reply.content_type, reply.body)
        elif reply.content_type.startswith("application/json"):
            reply.data = json.loads(reply.body)
        return reply

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self("POST", path, **kwargs)

    async def ok(self, path: str, **kwargs: Any) -> Any:
        """GET that must answer 200: its JSON body."""
        reply = await self.get(path, **kwargs)
        assert reply.status == 200, reply
        return reply.data


def expect_error(reply: Reply, status: int, kind: str, *words: str) -> str:
    """Assert a JSON error of ``status`` and ``kind`` whose message names each of ``words``."""
    assert reply.status == status, reply
    assert reply.content_type.startswith("application/json"), reply
    error = reply.data["error"]
    assert error["type"] == kind, reply
    for word in words:
        assert word in error["message"], (word, reply)
    return str(error["message"])


@pytest.fixture
def api(jp_fetch: Any, http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str]) -> Api:
    return Api(jp_fetch, http_server_client, jp_base_url, jp_auth_header)


async def poll(
    fn: Callable[[], Awaitable[Any]], timeout: float = TIMEOUT, what: str = "condition", interval: float = 0.1
) -> Any:
    """Await ``fn()`` until it returns something truthy (returned); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fn()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


# -- a seeded workspace -----------------------------------------------------------------------------------
@dataclass
class Seed:
    """What ``seed_workspace`` made (ids are the run ids)."""

    ws: Workspace
    train: list[str] = field(default_factory=list)  # train runs r0..r4 (acc 0.0 .. 0.4), oldest first
    children: list[str] = field(default_factory=list)  # one child per train run
    files_run: str = ""  # train r2: outputs/model.txt, outputs/data.bin, outputs/sub/info.json
    special_run: str = ""  # experiment "other": NaN/inf values, a table and an image
    files: dict[str, bytes] = field(default_factory=dict)
    model_files: dict[str, bytes] = field(default_factory=dict)  # clf v1 (a folder: clf/...), alias prod
    activities: list[str] = field(default_factory=list)  # builds of train-env: v1 Completed, v2 Failed


def seed_workspace(root: Path) -> Seed:
    ws = Workspace.create(root)
    seed = Seed(ws)
    scratch = root.parent / "seed-scratch"
    scratch.mkdir(exist_ok=True)
    seed.files = {
        "outputs/model.txt": b"weights\n",
        "outputs/data.bin": bytes(range(256)) * 1200 + b"\x00tail",
        "outputs/sub/info.json": b'{"k": 1}',
    }
    train = Experiment(ws, "train")
    for i in range(5):
        with train.start_logging(display_name=f"r{i}") as run:
            run.log("acc", i / 10)
            run.log("loss", 1.0 - i / 10, step=0)
            run.log("loss", 0.5 - i / 20, step=1)
            run.log_param("lr", f"0.0{i + 1}")
            run.tag("fold", str(i % 2))
            if i == 4:
                run.tag("best", "yes")
            if i == 2:
                for name, data in seed.files.items():
                    source = scratch / name.replace("/", "_")
                    source.write_bytes(data)
                    run.upload_file(name, source)
                seed.files_run = run.id
            child = run.child_run()
            child.log("acc", 0.05 + i / 10)
            child.complete()
            seed.children.append(child.id)
        seed.train.append(run.id)
    with Experiment(ws, "other").start_logging(display_name="special") as run:
        for value in (1.0, math.nan, math.inf, -math.inf):
            run.log("special", value)
        run.log("loss", math.nan)
        run.log_row("table", epoch=1, score=0.5)
        run.log_row("table", epoch=2, score=0.75)
        image = scratch / "pixel.png"
        image.write_bytes(PNG)
        run.log_image("picture", path=image)
        seed.special_run = run.id
    folder = scratch / "clf"
    seed.model_files = {"clf/model.pkl": b"pickled", "clf/meta/config.json": b"{}"}
    for name, data in seed.model_files.items():
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_bytes(data)
    v1 = Model.register(ws, str(folder), "clf", tags={"stage": "dev"}, description="first")
    v1.set_alias("prod")
    # v2 from a run's file: the model keeps its base name, model.txt.
    Model.register(ws, "outputs/model.txt", "clf", tags={"stage": "test"}, run=ws.get_run(seed.files_run))
    single = scratch / "other.txt"
    single.write_bytes(b"other")
    Model.register(ws, str(single), "other-model")
    env = Environment("train-env")
    env.python.pip_packages = ["numpy==2.1.0"]
    env.register(ws)
    env.environment_variables = {"OMP_NUM_THREADS": "1"}
    env.register(ws)
    details = {"environment": "train-env", "target_type": "local"}
    built = ActivityRecorder(ws, "environment-build", "train-env:1", details={**details, "version": 1})
    built.progress("installing 1 package(s)")
    built.log("Successfully installed numpy-2.1.0")
    built.finish({**details, "version": 1, "cached": False}, progress="built in 1.0 s")
    broken = ActivityRecorder(ws, "environment-build", "train-env:2", run_id=seed.files_run, details=details)
    broken.progress("installing 1 package(s)")
    broken.log("ERROR: No matching distribution found for numpy==2.1.0")
    broken.fail("environment 'train-env' failed to build: No matching distribution found for numpy==2.1.0")
    seed.activities = [built.activity_id, broken.activity_id]
    return seed


@pytest.fixture
def seed(jp_root_dir: Path) -> Seed:
    return seed_workspace(Path(jp_root_dir))


# -- jobs ----------------------------------------------------------------------------------------------------
def stop_jobs(root: Path) -> None:
    """Cancel what is still active in the workspace under ``root`` (if any) and stop its agent."""
    from jupyter_mlws.compute import agent

    try:
        ws = Workspace(root)
    except Exception:
        return
    active = [
        r for r in ws.search_runs(include_children=True, max_results=1000).runs if r.status not in TERMINAL_STATUSES
    ]
    for run in active:
        with contextlib.suppress(Exception):
            run.cancel()
    deadline = time.monotonic() + 30
    while active and time.monotonic() < deadline:
        active = [r for r in active if ws.get_run(r.id).status not in TERMINAL_STATUSES]
        time.sleep(0.1)
    agent.stop(ws)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(agent.socket_path(ws))


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch, jp_root_dir: Path) -> Iterator[Path]:
    """For tests that submit jobs: short-lived agents, and nothing left running afterwards."""
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    yield Path(jp_root_dir)
    stop_jobs(Path(jp_root_dir))
