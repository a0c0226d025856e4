"""A workspace's artifact options (issue 19): non-secret fsspec storage options of its object store,
kept in ``config.json``; secrets refused with the environment variables to use instead. Against a real
S3 server (moto)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.core.locator import workspace_locator
from jupyter_mlws.core.registry import open_artifact_store
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError
from tests.support.s3 import KEY, SECRET, S3Server, s3_server, use_test_keys  # noqa: F401 - the module's S3 server


@pytest.fixture(autouse=True)
def aws_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    use_test_keys(monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield


def test_options_are_kept_in_the_config_and_used(tmp_path: Path, s3_server: S3Server) -> None:  # noqa: F811
    url = f"s3://{s3_server.create_bucket()}/ws"
    options = {"endpoint_url": s3_server.endpoint_url, "client_kwargs": {"region_name": "us-east-1"}}
    ws = Workspace.create(tmp_path / "a", artifact_url=url, artifact_options=options)
    assert ws.artifact_options == options
    config = json.loads((ws.path / "config.json").read_text())
    assert config["artifact_options"] == options
    digest, _ = ws.artifacts.put_bytes(b"shared bytes")

    again = Workspace(tmp_path / "a")
    assert again.artifact_options == options and again.artifacts.read_bytes(digest) == b"shared bytes"
    assert Workspace.create(tmp_path / "a", artifact_url=url, artifact_options=options) == ws
    assert Workspace.create(tmp_path / "a") == ws  # options left out: whatever the workspace has
    with pytest.raises(AlreadyExistsError, match="artifact_options"):
        Workspace.create(tmp_path / "a", artifact_url=url, artifact_options={"endpoint_url": "http://elsewhere:1"})
    assert ws.get_details()["artifact_options"] == options
    ws.artifact_options["endpoint_url"] = "changed"  # a copy
    assert ws.artifact_options == options

    # A worker elsewhere gets them with the locator.
    located = workspace_locator(ws)
    assert located["config"]["artifact_options"] == options


def test_default_is_empty_and_the_endpoint_may_come_from_the_environment(
    tmp_path: Path,
    s3_server: S3Server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Workspace.create(tmp_path / "local").artifact_options == {}
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)  # botocore reads it on its own
    ws = Workspace.create(tmp_path / "b", artifact_url=f"s3://{s3_server.create_bucket()}/ws")
    assert ws.artifact_options == {} and "artifact_options" not in json.loads((ws.path / "config.json").read_text())
    digest, _ = ws.artifacts.put_bytes(b"via AWS_ENDPOINT_URL")
    assert ws.artifacts.read_bytes(digest) == b"via AWS_ENDPOINT_URL"


@pytest.mark.parametrize(
    "options",
    [
        {"key": KEY},
        {"secret": SECRET},
        {"token": "t"},
        {"client_kwargs": {"aws_secret_access_key": SECRET}},
        {"password": "p"},
    ],
)
def test_secrets_are_refused_with_the_variables_to_use(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError, match="AWS_ACCESS_KEY_ID") as caught:
        Workspace.create(tmp_path / "ws", artifact_url="s3://bucket/ws", artifact_options=options)
    assert SECRET not in str(caught.value)
    assert not (tmp_path / "ws" / ".mlws").exists()


def test_bad_options_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="artifact_url"):
        Workspace.create(tmp_path / "ws", artifact_options={"endpoint_url": "http://x:1"})
    with pytest.raises(InvalidArgumentError, match="dict"):
        Workspace.create(tmp_path / "ws", artifact_url="s3://b/p", artifact_options="endpoint_url=x")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="JSON"):
        Workspace.create(tmp_path / "ws", artifact_url="s3://b/p", artifact_options={"endpoint_url": object()})
    with pytest.raises(InvalidArgumentError, match="local folder"):
        open_artifact_store(str(tmp_path / "blobs"), {"endpoint_url": "http://x:1"})


def test_an_object_store_opened_before_a_fork_works_in_the_child(tmp_path: Path, s3_server: S3Server) -> None:  # noqa: F811
    """The dispatcher agent forks supervisors from a warm process: s3fs is not fork-safe, so the store
    makes its filesystem again in the child."""
    store = open_artifact_store(f"s3://{s3_server.create_bucket()}/ws", {"endpoint_url": s3_server.endpoint_url})
    digest, _ = store.put_bytes(b"before the fork")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it read (or the error) through the pipe
        try:
            os.write(write, store.read_bytes(digest))
        except BaseException as exc:
            os.write(write, f"error: {exc}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    assert answer == b"before the fork"


def test_mlws_init_takes_artifact_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jupyter_mlws.cli import main

    argv = ["init", str(tmp_path / "ws"), "--artifact-url", "s3://bucket/x"]
    options = ["--artifact-option", "endpoint_url=http://127.0.0.1:9", "--artifact-option", "use_ssl=false"]
    assert main([*argv, *options, "--artifact-option", 'client_kwargs={"region_name": "eu-west-1"}']) == 0
    config = json.loads((tmp_path / "ws" / ".mlws" / "config.json").read_text())
    assert config["artifact_options"] == {
        "client_kwargs": {"region_name": "eu-west-1"},
        "endpoint_url": "http://127.0.0.1:9",
        "use_ssl": False,
    }
    assert (
        main(["init", str(tmp_path / "other"), "--artifact-url", "s3://b/x", "--artifact-option", f"secret={SECRET}"])
        == 1
    )
    err = capsys.readouterr().err
    assert "AWS_SECRET_ACCESS_KEY" in err and SECRET not in err
