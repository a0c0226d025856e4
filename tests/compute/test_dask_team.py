"""A team workspace (real PostgreSQL + a real S3 server) with a Dask worker that stands for another
machine: its own mount, UTS and pid namespaces, the test's folders hidden under an empty tmpfs, another
host name. The job reports to PostgreSQL and writes its files to S3 directly (no Jupyter server, no shared
folder), its log streams while it runs; a SQLite workspace's job is refused by that worker with the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import ComputeTarget, DaskCompute, Experiment, ScriptRunConfig, Workspace
from jupyter_mlws.compute import dask as dask_target
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from jupyter_mlws.core.locator import workspace_locator
from jupyter_mlws.core.services.liveness import HOSTNAME
from tests.compute.conftest import wait_until
from tests.support.dask_cluster import elsewhere_wrapper, start_cluster
from tests.support.s3 import KEY, SECRET, S3Server, s3_server, use_test_keys  # noqa: F401 - the module's S3 server

pytestmark = pytest.mark.postgres
TIMEOUT = 120.0

SCRIPT = """\
import time
from pathlib import Path
from jupyter_mlws import Run

run = Run.get_context()
run.log("rows", 42)
print("first line, from", __import__("socket").gethostname(), flush=True)
deadline = time.monotonic() + 120
while "go" not in run.get_tags() and time.monotonic() < deadline:  # the test says when
    time.sleep(0.1)
Path("outputs").mkdir(exist_ok=True)
Path("outputs/model.txt").write_text("weights")
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def hidden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the test's workspaces and sources live in: invisible to the worker elsewhere."""
    return tmp_path_factory.mktemp("here")


@pytest.fixture(scope="module")
def elsewhere(
    hidden: Path,
    tmp_path_factory: pytest.TempPathFactory,
    s3_server: S3Server,  # noqa: F811 - the fixture
) -> Iterator[LocalDaskCluster]:
    env = {
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("worker-cache")),
    }
    cluster = start_cluster(workers=1, env=env, worker_wrapper=elsewhere_wrapper([hidden]))
    yield cluster
    dask_target.close_clients()
    cluster.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_keys(monkeypatch)


def _source(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "job.py").write_text(SCRIPT)
    return folder


def test_a_job_elsewhere_reports_to_postgres_and_s3_directly(
    hidden: Path,
    elsewhere: LocalDaskCluster,
    s3_server: S3Server,  # noqa: F811 - the fixture
    postgres_url: str,
    aws: None,
) -> None:
    bucket = s3_server.create_bucket()
    ws = Workspace.create(
        hidden / "team",
        metadata_url=postgres_url,
        artifact_url=f"s3://{bucket}/workspace",
        artifact_options={"endpoint_url": s3_server.endpoint_url},
    )
    ComputeTarget.attach(ws, "elsewhere", DaskCompute.attach_configuration(elsewhere.address))
    run = Experiment(ws, "team").submit(
        ScriptRunConfig(str(_source(hidden / "src")), "job.py", compute_target="elsewhere")
    )

    def streamed() -> bool:
        try:
            return b"first line" in ws.services.queries.read_log(run.id)[0]
        except Exception:
            return False

    # While it runs, its log is read from the run's files in S3: this machine has no folder of the job.
    wait_until(streamed, TIMEOUT, "the job's first log line to reach the object store")
    assert run.status == "Running"
    record = ws.metadata.get_run(run.id)
    assert record.supervisor_host is not None and record.supervisor_host != HOSTNAME
    run.tag("go")
    run.wait_for_completion(timeout=TIMEOUT)
    assert run.status == "Completed"
    assert run.get_metrics() == {"rows": 42}
    assert "outputs/model.txt" in run.get_file_names()
    out = hidden / "download"
    run.download_file("outputs/model.txt", str(out))
    assert out.read_text() == "weights"
    log = ws.services.queries.read_log(run.id)[0].decode()
    assert "first line, from elsewhere" in log and "done" in log
    # The worker's copy of the workspace is its config, never a password.
    config = json.dumps(workspace_locator(ws))
    assert "password" not in config.lower()


def test_a_worker_elsewhere_refuses_a_sqlite_workspace(hidden: Path, elsewhere: LocalDaskCluster) -> None:
    ws = Workspace.create(hidden / "solo")
    ComputeTarget.attach(ws, "elsewhere", DaskCompute.attach_configuration(elsewhere.address))
    source = _source(hidden / "src-solo")
    run = Experiment(ws, "solo").submit(ScriptRunConfig(str(source), "job.py", compute_target="elsewhere"))
    run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert run.status == "Failed"
    message = run.get_details()["error"]["message"]
    assert "SQLite file" in message and "team workspace" in message
