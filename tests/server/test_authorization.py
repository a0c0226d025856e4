"""Authorisation is applied once, in the handler base: the server's ``Authorizer`` decides ``read``
(GET) and ``write`` (POST …) on the ``mlws`` resource for every route, the JSON 404 of unknown routes
included, before any handler code runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.server.base import MlwsHandler
from jupyter_mlws.server.handlers import API, handlers
from tests.server.conftest import Api, Seed

ALLOWED: set[str] = set()  # the actions the test authorizer grants; set by each test
ASKED: list[tuple[str, str]] = []  # (action, resource) of every question it was asked


class SwitchableAuthorizer(Authorizer):
    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        ASKED.append((action, resource))
        return action in ALLOWED


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_mlws": True},
            "authorizer_class": SwitchableAuthorizer,
        }
    }


@pytest.fixture(autouse=True)
def _reset() -> None:
    ALLOWED.clear()
    ASKED.clear()


def refused(reply: Any) -> bool:
    return reply.status == 403 and reply.data["error"]["type"] == "HTTPError" and "not authorized" in str(reply.data)


async def test_a_read_only_user_reads_but_cannot_write(api: Api, seed: Seed, jp_root_dir: Path) -> None:
    ALLOWED.add("read")
    (Path(jp_root_dir) / "job.py").write_text("print('must not run')\n")
    running = Experiment(Workspace(seed.ws.root), "live").start_logging()
    before = len(seed.ws.search_runs(include_children=True, max_results=1000).runs)
    assert (await api.get("workspace")).status == 200
    assert (await api.get(f"runs/{seed.files_run}")).status == 200
    writes = [
        ("snapshots", {"path": "."}),
        ("submissions", {"script": "job.py"}),
        (f"runs/{running.id}/cancel", None),
        ("models/reg/versions", {"run_id": seed.files_run, "path": "outputs/model.txt"}),
    ]
    for path, body in writes:
        reply = await api.post(path, body=body)
        assert refused(reply), reply
    assert ("write", "mlws") in ASKED and ("read", "mlws") in ASKED
    assert running.status == "Running"
    assert len(seed.ws.search_runs(include_children=True, max_results=1000).runs) == before
    running.complete()


async def test_a_user_with_no_rights_gets_nothing_anywhere(api: Api, seed: Seed) -> None:
    for method, path in [
        ("GET", "workspace"),
        ("GET", "runs"),
        ("GET", f"runs/{seed.files_run}/files/outputs/model.txt"),
        ("GET", "models/clf/versions/1/files/clf/model.pkl"),
        ("GET", "events"),
        ("POST", "snapshots"),
    ]:
        reply = await api(method, path)
        assert refused(reply), reply
        for secret in (b"weights", b"pickled", str(seed.ws.root).encode()):
            assert secret not in reply.body
    # Unknown routes too: a refused user does not learn which routes exist.
    for method in ("GET", "POST"):
        reply = await api(method, "no/such/route", documented=False)
        assert refused(reply), reply


def test_only_the_pipeline_token_routes_authenticate_themselves() -> None:
    """Routes whose method is marked ``__allow_unauthenticated`` skip Jupyter's login and check the
    credentials in their own ``prepare`` (a Jupyter user, or a pipeline's token): only the two
    submission routes of published pipelines (issue 16; tests/server/test_pipelines.py)."""
    marked = {
        (pattern, name)
        for pattern, handler in handlers()
        for name in ("get", "post", "put", "patch", "delete")
        if getattr(vars(handler).get(name), "__allow_unauthenticated", False)
    }
    assert marked == {
        (rf"{API}/pipelines/(?P<pipeline_id>[^/]+)/runs", "post"),
        (rf"{API}/pipeline-endpoints/(?P<name>[^/]+)/runs", "post"),
    }


def test_every_route_goes_through_the_base_handler() -> None:
    for pattern, handler in handlers():
        assert issubclass(handler, MlwsHandler), pattern
        for name in ("get", "post", "put", "patch", "delete"):
            method = vars(handler).get(name)
            # Per-method auth decorators (functools.wraps leaves __wrapped__) would double the check.
            assert method is None or not hasattr(method, "__wrapped__"), (pattern, name)
