"""A team workspace (real PostgreSQL + a real S3 server) with a Dask worker that stands for another
machine: its own mount, UTS and pid namespaces, the test's folders hidden under an empty tmpfs, another
host name. The job reports to PostgreSQL and writes its files to S3 directly (no Jupyter server, no shared
folder), its log streams while it runs; a SQLite workspace's job is refused by that worker with the reason.
A job's input on a datastore registered with credentials is staged by the worker, which reads them from
the workspace vault with the team's ``MLWS_SECRET_KEY`` of its own environment (issue 21)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import ComputeTarget, DaskCompute, Dataset, Datastore, Experiment, Run, ScriptRunConfig, Workspace
from jupyter_mlws.compute import dask as dask_target
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from jupyter_mlws.core.locator import workspace_locator
from jupyter_mlws.core.services.liveness import HOSTNAME
from tests.compute.conftest import wait_until
from tests.support.dask_cluster import elsewhere_wrapper, start_cluster
from tests.support.s3 import KEY, SECRET, S3Server, s3_server, use_test_keys  # noqa: F401 - the module's S3 server
from tests.support.vault import new_key

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
def team_key() -> str:
    """The team's vault key: every member and the worker set it in MLWS_SECRET_KEY."""
    return new_key()


@pytest.fixture(scope="module")
def elsewhere(
    hidden: Path,
    tmp_path_factory: pytest.TempPathFactory,
    s3_server: S3Server,  # noqa: F811 - the fixture
    team_key: str,
) -> Iterator[LocalDaskCluster]:
    env = {
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("worker-cache")),
        "MLWS_SECRET_KEY": team_key,
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


READ_INPUT = """\
from pathlib import Path
from jupyter_mlws import Run

folder = Run.get_context().input_datasets["lake_files"]
Path("outputs").mkdir(exist_ok=True)
Path("outputs/seen.txt").write_text((Path(folder) / "in.txt").read_text())
"""


def _submit_reading_a_lake(hidden: Path, name: str, cluster: LocalDaskCluster, s3: S3Server, postgres_url: str) -> Run:
    """A team workspace with an S3 datastore registered with credentials, and a job on ``cluster`` whose
    input is a file dataset on it."""
    bucket = s3.create_bucket()
    ws = Workspace.create(
        hidden / name,
        metadata_url=postgres_url,
        artifact_url=f"s3://{bucket}/workspace",
        artifact_options={"endpoint_url": s3.endpoint_url},
    )
    # The datastore's endpoint is inside client_kwargs, a secret option: the worker (no AWS_ENDPOINT_URL)
    # reaches the data only through the credentials it reads from the vault.
    credentials = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": s3.endpoint_url}}
    lake = Datastore.register(ws, "lake", f"s3://{bucket}/data", credentials=credentials)
    lake.filesystem.pipe(f"{bucket}/data/in/in.txt", b"staged elsewhere")
    files = Dataset.File.from_files(lake.path("in")).register(ws, "lake-files")
    assert SECRET not in json.dumps(workspace_locator(ws))  # the worker gets the URLs, never the credentials
    ComputeTarget.attach(ws, "elsewhere", DaskCompute.attach_configuration(cluster.address))
    source = hidden / f"src-{name}"
    source.mkdir()
    (source / "job.py").write_text(READ_INPUT)
    config = ScriptRunConfig(
        str(source), "job.py", arguments=[files.as_named_input("lake_files").as_download()], compute_target="elsewhere"
    )
    return Experiment(ws, name).submit(config)


def test_a_worker_elsewhere_stages_an_input_with_the_datastores_credentials_from_the_vault(
    hidden: Path,
    elsewhere: LocalDaskCluster,
    s3_server: S3Server,  # noqa: F811 - the fixture
    postgres_url: str,
    aws: None,
    team_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLWS_SECRET_KEY", team_key)
    run = _submit_reading_a_lake(hidden, "team-data", elsewhere, s3_server, postgres_url)
    run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert run.status == "Completed", run.get_details().get("error")
    out = hidden / "seen.txt"
    run.download_file("outputs/seen.txt", str(out))
    assert out.read_text() == "staged elsewhere"


def test_a_worker_with_another_key_fails_the_job_naming_the_datastore_and_the_fix(
    hidden: Path,
    tmp_path_factory: pytest.TempPathFactory,
    s3_server: S3Server,  # noqa: F811 - the fixture
    postgres_url: str,
    aws: None,
    team_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLWS_SECRET_KEY", team_key)
    env = {
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("worker-cache")),
        "MLWS_SECRET_KEY": new_key(),  # not the team's
    }
    cluster = start_cluster(workers=1, env=env, worker_wrapper=elsewhere_wrapper([hidden]))
    try:
        run = _submit_reading_a_lake(hidden, "wrong-key", cluster, s3_server, postgres_url)
        run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    finally:
        dask_target.close_clients()
        cluster.stop()
    assert run.status == "Failed"
    error = run.get_details()["error"]
    message = error["message"]
    assert "datastore 'lake'" in message and "key from MLWS_SECRET_KEY" in message
    assert "set MLWS_SECRET_KEY to the key they were written with" in message and "overwrite=True" in message
    assert "traceback" not in error and SECRET not in json.dumps(error)
