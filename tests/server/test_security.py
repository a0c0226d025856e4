"""The issue's required refusals: unauthenticated requests (403, no data) on every route, path escapes,
unknown ids (404 with a JSON body), bad filters (400 naming the problem), bad bodies, and never a 500
(the ``api`` client fails on any 5xx)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Workspace
from tests.server.conftest import Api, Reply, Seed, expect_error


def every_route(seed: Seed, running: str) -> list[tuple[str, str, dict[str, Any] | None, Any]]:
    """(method, path, params, body) for every route, with ids that exist."""
    run = seed.files_run
    return [
        ("GET", "workspace", None, None),
        ("GET", "experiments", None, None),
        ("GET", "experiments/train/runs", None, None),
        ("GET", "runs", {"include_children": "true"}, None),
        ("GET", f"runs/{run}", None, None),
        ("GET", f"runs/{run}/metrics", None, None),
        ("GET", f"runs/{run}/metrics", {"name": "acc"}, None),
        ("GET", f"runs/{run}/files", None, None),
        ("GET", f"runs/{run}/files/outputs/model.txt", None, None),
        ("GET", f"runs/{run}/logs", None, None),
        ("GET", f"runs/{run}/snapshot", None, None),
        ("POST", f"runs/{running}/cancel", None, None),
        ("POST", "snapshots", None, {"path": "."}),
        ("POST", "submissions", None, {"script": "job.py"}),
        ("GET", "models", None, None),
        ("GET", "models/clf", None, None),
        ("GET", "models/clf/versions/1", None, None),
        ("GET", "models/clf/versions/latest/files", None, None),
        ("GET", "models/clf/versions/1/files/clf/model.pkl", None, None),
        ("GET", "computes", None, None),
        ("GET", "computes/local", None, None),
        ("GET", "events", None, None),
    ]


def assert_refused(reply: Reply, seed: Seed) -> None:
    assert reply.status == 403, reply
    assert reply.content_type.startswith("application/json"), reply
    assert reply.data == {"error": {"type": "HTTPError", "message": reply.data["error"]["message"]}}, reply
    for secret in (seed.files_run, "weights", "clf", "train", "pickled", str(seed.ws.root)):
        assert secret.encode() not in reply.body, (secret, reply)


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({}, id="none"),
        pytest.param({"headers": {"Authorization": "token wrong-token"}}, id="wrong-token-header"),
        pytest.param({"query": {"token": "wrong-token"}}, id="wrong-token-query"),
        pytest.param({"headers": {"Authorization": "Bearer "}}, id="empty-bearer"),
    ],
)
async def test_unauthenticated_requests_are_refused_on_every_route(
    api: Api, seed: Seed, jp_root_dir: Path, credentials: dict[str, Any]
) -> None:
    (Path(jp_root_dir) / "job.py").write_text("print('must not run')\n")
    running = Experiment(Workspace(seed.ws.root), "live").start_logging()
    runs_before = seed.ws.search_runs(include_children=True, max_results=1000).runs
    routes = every_route(seed, running.id)
    assert len({(m, p.split("/", 1)[0]) for m, p, _, _ in routes}) >= 8
    for method, path, params, body in routes:
        query = {**(params or {}), **credentials.get("query", {})}
        reply = await api(method, path, params=query, body=body, headers=credentials.get("headers"), auth=False)
        assert_refused(reply, seed)
    # Nothing happened: no cancel, no snapshot, no job.
    assert running.status == "Running"
    assert len(seed.ws.search_runs(include_children=True, max_results=1000).runs) == len(runs_before)
    running.complete()


async def test_the_token_is_accepted_as_header_and_query(api: Api, seed: Seed, jp_serverapp: Any) -> None:
    token = jp_serverapp.identity_provider.token
    assert (await api.get("workspace", headers={"Authorization": f"token {token}"}, auth=False)).status == 200
    assert (await api.get("workspace", params={"token": token}, auth=False)).status == 200


# -- path escapes ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "outputs%2F..%2F..%2F.mlws%2Fmlws.db",
        "outputs/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "%2Fetc%2Fpasswd",
        "%2F%2Fetc%2Fpasswd",
        "..%5C..%5Cetc%5Cpasswd",
        "C:%5Cwindows%5Cwin.ini",
        "outputs%00model.txt",
    ],
)
async def test_file_path_escapes_are_refused(api: Api, seed: Seed, name: str) -> None:
    for path in (f"runs/{seed.files_run}/files/{name}", f"models/clf/versions/1/files/{name}"):
        reply = await api.get(path)
        expect_error(reply, 400, "InvalidArgumentError")
        assert b"root:" not in reply.body


async def test_literal_dot_dot_segments_do_not_escape(api: Api, seed: Seed) -> None:
    reply = await api.get(f"runs/{seed.files_run}/files/outputs/../../../../../../etc/passwd")
    assert reply.status in (400, 404), reply
    assert b"root:" not in reply.body


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "user_logs/../../../x", "C:\\x.txt", "  "])
async def test_log_name_escapes_are_refused(api: Api, seed: Seed, name: str) -> None:
    reply = await api.get(f"runs/{seed.files_run}/logs", params={"name": name})
    expect_error(reply, 400, "InvalidArgumentError")


@pytest.fixture
def outside(tmp_path: Path, jp_root_dir: Path) -> Path:
    """A folder next to the server root with a script and a secret, and symlinks to it from inside the root."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "evil.py").write_text("print('escaped')\n")
    (folder / "secret.txt").write_text("secret\n")
    root = Path(jp_root_dir)
    (root / "proj").mkdir()
    (root / "proj" / "train.py").write_text("print('ok')\n")
    os.symlink(folder, root / "link")
    return folder


@pytest.mark.parametrize(
    "path", ["..", "../", "../outside", "proj/../..", "/..", "/../outside", "link", "link/", "proj/../link"]
)
async def test_snapshot_paths_outside_the_root_are_refused(
    api: Api, jp_root_dir: Path, outside: Path, path: str
) -> None:
    reply = await api.post("snapshots", body={"path": path})
    expect_error(reply, 400, "InvalidArgumentError", "outside the server root")
    assert not (Path(jp_root_dir) / ".mlws").exists()  # refused before any workspace is made


async def test_absolute_snapshot_paths_stay_under_the_root(api: Api, jp_root_dir: Path, outside: Path) -> None:
    for path in (str(outside), "/etc", "/proc/self"):
        reply = await api.post("snapshots", body={"path": path})
        assert reply.status in (400, 404), reply
    assert not (Path(jp_root_dir) / ".mlws").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"script": "../outside/evil.py"},
        {"script": "link/evil.py"},
        {"script": "proj/../../outside/evil.py"},
        {"script": "/../outside/evil.py"},
        {"script": "proj/train.py", "source_directory": ".."},
        {"script": "proj/train.py", "source_directory": "link"},
        {"notebook": "../outside/nb.ipynb"},
    ],
)
async def test_submission_paths_outside_the_root_are_refused(
    api: Api, jp_root_dir: Path, outside: Path, body: dict[str, Any]
) -> None:
    reply = await api.post("submissions", body=body)
    expect_error(reply, 400, "InvalidArgumentError")
    assert not (Path(jp_root_dir) / ".mlws").exists()


async def test_absolute_submission_paths_stay_under_the_root(api: Api, jp_root_dir: Path, outside: Path) -> None:
    reply = await api.post("submissions", body={"script": str(outside / "evil.py")})
    assert reply.status in (400, 404), reply
    reply = await api.post("submissions", body={"script": "proj/train.py", "source_directory": str(outside)})
    assert reply.status in (400, 404), reply
    assert not (Path(jp_root_dir) / ".mlws").exists()


# -- unknown ids ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "params", "named"),
    [
        ("GET", "runs/no-such-run", None, "no-such-run"),
        ("GET", "runs/no-such-run/metrics", None, "no-such-run"),
        ("GET", "runs/no-such-run/metrics", {"name": "acc"}, "no-such-run"),
        ("GET", "runs/no-such-run/files", None, "no-such-run"),
        ("GET", "runs/no-such-run/files/outputs/model.txt", None, "no-such-run"),
        ("GET", "runs/no-such-run/logs", None, "no-such-run"),
        ("GET", "runs/no-such-run/snapshot", None, "no-such-run"),
        ("POST", "runs/no-such-run/cancel", None, "no-such-run"),
        ("GET", "experiments/no-such-exp/runs", None, "no-such-exp"),
        ("GET", "models/no-such-model", None, "no-such-model"),
        ("GET", "models/no-such-model/versions/1", None, "no-such-model"),
        ("GET", "models/no-such-model/versions/latest/files", None, "no-such-model"),
        ("GET", "models/no-such-model/versions/1/files/a.txt", None, "no-such-model"),
        ("GET", "models/clf/versions/7", None, "7"),
        ("GET", "models/clf/versions/no-such-alias", None, "no-such-alias"),
        ("GET", "models/clf/versions/1/files/no-such-file", None, "no-such-file"),
    ],
)
async def test_unknown_ids_are_404_with_a_json_body(
    api: Api, seed: Seed, method: str, path: str, params: dict[str, str] | None, named: str
) -> None:
    expect_error(await api(method, path, params=params), 404, "NotFoundError", named)


async def test_unknown_metric_and_file_of_a_known_run(api: Api, seed: Seed) -> None:
    run = seed.files_run
    expect_error(await api.get(f"runs/{run}/metrics", params={"name": "nope"}), 404, "NotFoundError", "nope")
    expect_error(await api.get(f"runs/{run}/files/outputs/nope.bin"), 404, "NotFoundError", "nope.bin")


# -- bad input --------------------------------------------------------------------------------------------------------
BAD_FILTERS = [
    ("metrics.acc >", "ends too early"),
    ("metrics.acc > 1 and", "ends too early"),
    ("attributes.nope = 1", "nope"),
    ("metrics.acc > 'x'", "metrics.acc is numeric"),
    ("attributes.start_time > 'x'", "start_time"),
    ("bogus = 1", "bogus"),
    ("metrics.acc >> 1", "metrics.acc >> 1"),
    ("(metrics.acc > 1", "missing ')'"),
    ("metrics.acc IN 1", "IN takes a list"),
    ("params.lr = 'open", "'open"),
    ("metrics.acc > 1 metrics.b < 2", "metrics.b"),
    ("metrics. > 1", "metrics."),
    ("))", "))"),
]


@pytest.mark.parametrize(("flt", "named"), BAD_FILTERS)
async def test_bad_filters_are_400_naming_the_problem(api: Api, seed: Seed, flt: str, named: str) -> None:
    for path in ("runs", "experiments/train/runs"):
        expect_error(await api.get(path, params={"filter": flt}), 400, "InvalidArgumentError", named)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"order_by": "bogus"}, "bogus"),
        ({"order_by": "attributes.nope DESC"}, "nope"),
        ({"order_by": "metrics."}, "metrics."),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_token": "garbage"}, "page_token"),
        ({"page_token": "eyJvZmZzZXQiOiAtMX0"}, "page_token"),  # {"offset": -1}
        ({"include_children": "maybe"}, "include_children"),
    ],
)
async def test_bad_search_parameters_are_400(api: Api, seed: Seed, params: dict[str, str], named: str) -> None:
    for path in ("runs", "experiments/train/runs"):
        expect_error(await api.get(path, params=params), 400, "InvalidArgumentError", named)


async def test_page_size_bounds_are_accepted(api: Api, seed: Seed) -> None:
    assert len((await api.ok("runs", params={"page_size": "1"}))["items"]) == 1
    assert len((await api.ok("runs", params={"page_size": "1000", "include_children": "yes"}))["items"]) == 11


HUGE = "99999999999999999999999"
HUGE_OFFSET_TOKEN = "eyJvZmZzZXQiOiA5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5fQ"  # {"offset": 99999999999999999999999999}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("runs", {"page_token": HUGE_OFFSET_TOKEN}),
        ("experiments/train/runs", {"page_token": HUGE_OFFSET_TOKEN}),
        (f"models/clf/versions/{HUGE}", None),
        (f"models/clf/versions/{HUGE}/files/model.txt", None),
    ],
)
async def test_out_of_range_integers_are_not_a_server_error(
    api: Api, seed: Seed, path: str, params: dict[str, str] | None
) -> None:
    """Today: 500 (OverflowError: Python int too large to convert to SQLite INTEGER)."""
    reply = await api.get(path, params=params)
    assert reply.status in (400, 404), reply


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"{", "not valid JSON"),
    ],
)
async def test_bad_bodies_are_400(api: Api, seed: Seed, body: bytes, named: str) -> None:
    for path in ("snapshots", "submissions"):
        expect_error(await api.post(path, body=body), 400, "InvalidArgumentError", named)


@pytest.mark.parametrize("path", [None, 5, ["proj"]])
async def test_a_snapshot_path_that_is_not_a_string_is_400(api: Api, seed: Seed, path: Any) -> None:
    """Today: 404 "no folder None under the server root" (the value is str()-ed, then looked up)."""
    expect_error(await api.post("snapshots", body={"path": path}), 400, "InvalidArgumentError", "path")


NOTEBOOK = (
    '{"cells": [{"cell_type": "code", "execution_count": null, "id": "p", '
    '"metadata": {"tags": ["parameters"]}, "outputs": [], "source": "epochs = 3"}], '
    '"metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, '
    '"nbformat": 4, "nbformat_minor": 5}'
)


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({}, 400, "script"),
        ({"script": 5}, 400, "script"),
        ({"script": ""}, 400, "script"),
        ({"script": "job.py", "arguments": "a b"}, 400, "arguments"),
        ({"script": "job.py", "tags": ["a"]}, 400, "tags"),
        ({"script": "job.py", "tags": {"n": 1}}, 400, "'tags' values must be strings"),
        ({"script": "job.py", "arguments": [{"a": 1}]}, 400, "'arguments' items"),
        ({"notebook": "nb.ipynb", "allow_unknown_parameters": "yes"}, 400, "allow_unknown_parameters"),
        ({"script": "job.py", "experiment": 5}, 400, "experiment"),
        ({"script": "job.py", "experiment": "bad name!"}, 400, "experiment name"),
        ({"script": "job.py", "compute_target": 5}, 400, "compute_target"),
        ({"script": "job.py", "compute_target": "nowhere"}, 404, "nowhere"),
        ({"script": "job.py", "environment": "env:1"}, 404, "environment"),
        ({"script": "job.py", "environment": "env:one"}, 400, "environment"),
        ({"script": "job.py", "max_run_duration_seconds": "soon"}, 400, "max_run_duration_seconds"),
        ({"script": "job.py", "max_run_duration_seconds": -1}, 400, "max_run_duration_seconds"),
        ({"script": "missing.py"}, 404, "missing.py"),
        ({"notebook": "missing.ipynb"}, 404, "missing.ipynb"),
        ({"notebook": "nb.ipynb", "parameters": [1]}, 400, "parameters"),
        ({"notebook": "nb.ipynb", "parameters": {"unknown": 1}}, 400, "unknown"),
        ({"notebook": "nb.ipynb", "parameters": {"epochs": "abc"}}, 400, "epochs"),
        ({"notebook": "nb.ipynb", "kernel_name": "no-such-kernel"}, 404, "no-such-kernel"),
    ],
)
async def test_bad_submissions(api: Api, jp_root_dir: Path, body: dict[str, Any], status: int, named: str) -> None:
    (Path(jp_root_dir) / "job.py").write_text("print('never run')\n")
    (Path(jp_root_dir) / "nb.ipynb").write_text(NOTEBOOK)
    kind = "InvalidArgumentError" if status == 400 else "NotFoundError"
    expect_error(await api.post("submissions", body=body), status, kind, named)
    assert not (Path(jp_root_dir) / ".mlws").exists()  # validated before a workspace is made


async def test_unsupported_methods_answer_json(api: Api, seed: Seed) -> None:
    for method, path in (("POST", "runs"), ("GET", "submissions"), ("GET", f"runs/{seed.files_run}/cancel")):
        reply = await api(method, path, documented=False)
        assert reply.status == 405, reply
        assert reply.content_type.startswith("application/json"), reply


async def test_unknown_api_routes_answer_a_json_404_and_still_need_auth(jp_fetch, jp_serverapp) -> None:  # type: ignore[no-untyped-def]
    import json as _json

    from tornado.httpclient import HTTPClientError

    for method in ("GET", "POST", "DELETE"):
        body = b"{}" if method == "POST" else None
        try:
            await jp_fetch("mlws", "api", "v1", "no-such-route", method=method, body=body)
        except HTTPClientError as exc:
            assert exc.code == 404
            assert exc.response is not None
            assert _json.loads(exc.response.body)["error"]["type"] == "NotFoundError"
        else:
            raise AssertionError("an unknown route answered")
