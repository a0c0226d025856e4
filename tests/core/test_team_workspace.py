"""A team workspace (issue 19): PostgreSQL + a real S3 server (moto), used by two processes that
share nothing but the URLs — each its own workspace folder, the other one a subprocess with its own
environment (the database URL, the S3 keys and endpoint in the standard AWS variables, its own
HOME). Each writes runs with metrics and files, a model, a dataset, an environment and a job with a
snapshot, and reads everything the other wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.core.locator import open_located, workspace_locator
from tests.core.team_workspace_helpers import describe, write
from tests.support.agent_workspace import stop_processes
from tests.support.s3 import KEY, SECRET, S3Server, s3_server, use_test_keys  # noqa: F401 - the module's S3 server

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """This process has the S3 keys in the standard variables, and no endpoint there: its endpoint
    comes from the workspace's artifact options."""
    use_test_keys(monkeypatch)
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "20")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # where open_located materialises it
    yield


def test_two_members_share_everything_through_the_urls(
    tmp_path: Path,
    postgres_url: str,
    s3_server: S3Server,  # noqa: F811 - the fixture imported above
    aws_keys: None,
) -> None:
    bucket = s3_server.create_bucket()
    artifact_url = f"s3://{bucket}/team"
    alice = Workspace.create(
        tmp_path / "alice",
        metadata_url=postgres_url,
        artifact_url=artifact_url,
        artifact_options={"endpoint_url": s3_server.endpoint_url},
    )
    bob_root = tmp_path / "bob"
    try:
        write(alice, "alice", tmp_path / "alice-work")
        alice_view = describe(alice, "alice")

        home = tmp_path / "bob-home"
        home.mkdir()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "PYTHONPATH": str(ROOT),
            "MLWS_AGENT_IDLE_SECONDS": "20",
            "MLWS_ENV_CACHE": str(tmp_path / "bob-env-cache"),
            **s3_server.environment(),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.core.team_workspace_helpers",
                str(bob_root),
                postgres_url,
                artifact_url,
                "bob",
                "alice",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        bob_says = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        stop_processes(alice, tmp_path)

    # Bob read all of Alice's work as she sees it, and she reads all of his as he sees it.
    assert bob_says["theirs"] == alice_view
    assert describe(alice, "bob") == bob_says["mine"]

    # What the descriptions hold is the real thing, not two equal empties.
    for who, view in (("alice", alice_view), ("bob", bob_says["mine"])):
        interactive, job = view["runs"]
        assert interactive["metrics"]["acc"] == [0.5, 0.9] and interactive["params"] == {"lr": "0.01"}
        assert interactive["files"]["outputs/notes.txt"] == f"notes of {who}\n"
        assert job["status"] == "Completed", job
        assert job["metrics"]["job_metric"] == 0.75
        assert job["files"]["outputs/model.txt"] == f"trained by {who}"
        assert f"job of {who} done" in job["files"]["user_logs/std_log.txt"]
        assert set(job["snapshot"]) >= {"train.py", "helper.txt"}
        assert view["model"]["content"] == f"notes of {who}\n" and view["model"]["run_id"] == interactive["id"]
        assert view["dataset"]["frame"] == {"store": ["1042", "7"], "sales": [10.5, 3.0]}
        assert view["environment"]["variables"] == {"MEMBER": who}
        pipeline = view["pipeline"]
        assert pipeline["status"] == "Completed" and [s["name"] for s in pipeline["steps"]] == ["make", "use"]
        make, use = pipeline["steps"]
        assert make["outputs"] == {"part": {"part.txt": f"made by {who}"}}
        assert use["metrics"] == {"used_chars": len(f"made by {who}")}
    # In a team workspace the default datastore is in the object store, beside the artifacts.
    assert alice.get_default_datastore().url.startswith(artifact_url + "/")
    # One database: run numbers and versions are handed out once, whoever asks.
    assert {alice_view["model"]["version"], bob_says["mine"]["model"]["version"]} == {1}

    # The workspace config holds the endpoint, never a key.
    config = (alice.path / "config.json").read_text()
    assert s3_server.endpoint_url in config and SECRET not in config and KEY not in config

    # A worker elsewhere (a folder that is not Alice's) opens it from her locator, options and all.
    located = workspace_locator(alice)
    located["root"] = str(tmp_path / "elsewhere")
    worker = open_located(located)
    assert worker.root != alice.root and worker.artifact_options == {"endpoint_url": s3_server.endpoint_url}
    assert describe(worker, "bob") == bob_says["mine"]
