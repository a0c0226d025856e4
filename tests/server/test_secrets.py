"""REST routes of workspace secrets (issue 21): ``GET secrets`` (names and times), ``PUT secrets/{name}``
with ``{"value": ...}`` and ``DELETE secrets/{name}`` (204, no body). No reply ever holds a value: every
reply of each test is scanned for it (and its base64). The ``api`` client validates each reply against
openapi.yaml and fails on any 5xx.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.core import secret_key
from tests.server.conftest import Api, expect_error, poll

VALUE = "rest-secret-value-4b1c"


@pytest.fixture(autouse=True)
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(secret_key, "_keyring", lambda: None)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "jupyter-mlws" / "secret.key"


def assert_no_value(api: Api, *values: str) -> None:
    assert api.replies
    for reply in api.replies:
        for value in values:
            for needle in (value.encode(), base64.b64encode(value.encode()), base64.urlsafe_b64encode(value.encode())):
                assert needle not in reply.body, reply
            assert value not in str(dict(reply.headers))


async def test_no_workspace_lists_none(api: Api) -> None:
    assert await api.ok("secrets") == {"secrets": []}
    expect_error(await api("PUT", "secrets/a", body={"value": VALUE}), 404, "NotFoundError", "no workspace")


async def test_set_list_delete(api: Api, jp_root_dir: Path) -> None:
    ws = Workspace.create(jp_root_dir)
    reply = await api("PUT", "secrets/API-KEY", body={"value": VALUE})
    assert reply.status == 204 and reply.body == b""
    assert (await api("PUT", "secrets/other", body={"value": "x" + VALUE})).status == 204
    listed = await api.ok("secrets")
    assert [s["name"] for s in listed["secrets"]] == ["API-KEY", "other"]
    assert set(listed["secrets"][0]) == {"name", "updated_time"}
    assert ws.get_default_keyvault().get_secret("API-KEY") == VALUE
    assert (await api("PUT", "secrets/API-KEY", body={"value": VALUE + "2"})).status == 204
    assert ws.get_default_keyvault().get_secret("API-KEY") == VALUE + "2"
    reply = await api("DELETE", "secrets/other")
    assert reply.status == 204 and reply.body == b""
    assert [s["name"] for s in (await api.ok("secrets"))["secrets"]] == ["API-KEY"]
    expect_error(await api("DELETE", "secrets/other"), 404, "NotFoundError", "'other'")
    assert_no_value(api, VALUE, "x" + VALUE, VALUE + "2")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, ("value",)),
        ({"value": ""}, ("value",)),
        ({"value": 3}, ("value",)),
        ({"value": VALUE, "extra": 1}, ("extra",)),
        (b"[1]", ("JSON object",)),
        (b"{not json", ("not valid JSON",)),
    ],
)
async def test_a_bad_body_is_a_400(api: Api, jp_root_dir: Path, body: object, words: tuple[str, ...]) -> None:
    ws = Workspace.create(jp_root_dir)
    expect_error(await api("PUT", "secrets/a", body=body), 400, "InvalidArgumentError", *words)
    assert ws.get_default_keyvault().list_secrets() == []
    assert_no_value(api, VALUE)


async def test_a_bad_name_is_a_400(api: Api, jp_root_dir: Path) -> None:
    Workspace.create(jp_root_dir)
    expect_error(await api("PUT", "secrets/a_b", body={"value": VALUE}), 400, "InvalidArgumentError", "1-127")
    expect_error(await api("DELETE", "secrets/" + "x" * 128), 400, "InvalidArgumentError", "1-127")
    assert_no_value(api, VALUE)


async def test_a_team_key_problem_is_a_409_without_the_value(
    api: Api, jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Workspace.create(jp_root_dir)
    monkeypatch.setenv("MLWS_SECRET_KEY", "malformed")
    expect_error(await api("PUT", "secrets/a", body={"value": VALUE}), 409, "SecretKeyError", "malformed")
    assert_no_value(api, VALUE)


JOB = """\
from jupyter_mlws import Run

run = Run.get_context()
value = run.get_secret("API-KEY")
print("printing", value, flush=True)
run.tag("api", value)
run.log("message", "sent " + value)
child = run.child_run(name=value)
child.tag("k", value)
child.complete()
raise RuntimeError("failing with " + value)
"""


@pytest.mark.slow
async def test_no_reply_about_a_job_that_used_a_secret_holds_it(api: Api, jobs: Path) -> None:
    """A job prints, tags, logs and fails with a secret: the run, its children, metrics, logs, files and
    the events feed, as REST serves them, hold only the mask."""
    ws = Workspace.create(jobs)
    ws.get_default_keyvault().set_secret("API-KEY", VALUE)
    (jobs / "proj").mkdir()
    (jobs / "proj" / "job.py").write_text(JOB)
    reply = await api.post("submissions", body={"script": "proj/job.py"})
    assert reply.status == 201, reply
    run_id = reply.data["id"]

    async def ended() -> Any:
        run = await api.ok(f"runs/{run_id}")
        return run if run["status"] in {"Completed", "Failed", "Canceled"} else None

    run = await poll(ended, what="the job to end")
    assert run["status"] == "Failed" and run["tags"]["api"] == "***"
    assert "printing ***" in (await api.ok(f"runs/{run_id}/logs"))["data"]
    await api.ok(f"runs/{run_id}/metrics", params={"name": "message"})
    listed = await api.ok("runs", params={"experiment": "proj", "include_children": "true"})
    assert len(listed["items"]) == 2  # the job's run and its child
    for item in listed["items"]:
        await api.ok(f"runs/{item['id']}")
    for item in (await api.ok(f"runs/{run_id}/files"))["items"]:
        await api.get(f"runs/{run_id}/files/{item['path']}")
    assert_no_value(api, VALUE)
