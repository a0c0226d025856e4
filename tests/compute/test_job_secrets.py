"""Secrets in jobs (issue 21): ``Run.get_context().get_secret`` through the job's own channel, and no
stored byte of the workspace holds the value afterwards — not the database, a log, a blob.

The job prints the value (whole, and split across two writes), tags it, logs it as a text metric, a
property and a child run's tag, fails a child run with it, writes it to a log file of its own, and
asks for a secret that does not exist. Its environment holds neither the vault's key nor any secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from cryptography.fernet import Fernet

from jupyter_mlws import ComputeTarget, DaskCompute, DockerCompute, NotebookRunConfig, Run, Workspace
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from jupyter_mlws.core.layout import DRIVER_LOG
from jupyter_mlws.core.redaction import MASK
from tests.support.docker import TEST_IMAGE
from tests.support.secret_scan import files_holding, sqlite_dump_holds, texts_holding

BUILD_TIMEOUT = 600.0  # the Docker target's first image build installs the job runtime

VALUE = "sk-live-9f8e7d6c5b4a-never-stored"

SCRIPT = """
from jupyter_mlws import Run

run = Run.get_context()
value = run.get_secret("API-KEY")
print("the key is", value, flush=True)
print(value[:7], end="", flush=True)
time.sleep(0.3)  # the rest in another write: the supervisor still masks it whole
print(value[7:], flush=True)
print("key in env:", "MLWS_SECRET_KEY" in os.environ, flush=True)
print("value in env:", any(value in v for v in os.environ.values()), flush=True)
run.tag("api", value)
run.log("message", "sent with " + value)
run.add_properties({"endpoint-key": value})
run.log_table("calls", {"key": [value], "n": [1]})
child = run.child_run(name="child " + value)
child.tag("inherited", value)
child.fail(error="child failed with " + value)
both = run.get_secrets(["API-KEY", "OTHER"])
print("got", sorted(both), both["OTHER"] == "other-value", flush=True)
Path("logs/mine.log").write_text("own log line with " + value + "\\n")
try:
    run.get_secret("NOT-THERE")
except Exception as exc:
    print("missing:", type(exc).__name__, exc, flush=True)
raise RuntimeError("giving up with " + value)
"""


#: The vault's key for this module, in MLWS_SECRET_KEY as a team's members keep it (the Dask workers are
#: started with it; a job must never see it).
KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MLWS_SECRET_KEY", KEY)
    return KEY


@pytest.fixture(scope="module")
def keyed_cluster() -> Iterator[LocalDaskCluster]:
    with LocalDaskCluster(workers=1, threads_per_worker=1, dashboard=False, env={"MLWS_SECRET_KEY": KEY}) as cluster:
        yield cluster


@pytest.fixture
def target(request: pytest.FixtureRequest, ws: Workspace) -> str:
    """The compute target the job runs on: local, docker (the real engine) or a real Dask cluster."""
    name: str = request.param
    if name == "docker":
        request.getfixturevalue("engine")
        ComputeTarget.attach(ws, "docker", DockerCompute.attach_configuration(base_image=TEST_IMAGE))
    elif name == "dask":
        cluster = request.getfixturevalue("keyed_cluster")
        ComputeTarget.attach(ws, "dask", DaskCompute.attach_configuration(cluster.address))
    return name


def _driver_log(run: Run) -> str:
    data, _ = run.read_log(name=DRIVER_LOG)
    return data.decode()


@pytest.mark.parametrize("target", ["local", pytest.param("docker", marks=pytest.mark.docker), "dask"], indirect=True)
def test_a_job_gets_its_secret_and_nothing_stored_holds_it(kit: Any, ws: Workspace, target: str) -> None:
    ws.get_default_keyvault().set_secrets({"API-KEY": VALUE, "OTHER": "other-value"})
    kit.script("job.py", SCRIPT)
    run = kit.submit("job.py", compute_target=target)
    details = run.wait_for_completion(timeout=BUILD_TIMEOUT, raise_on_error=False)
    assert details["status"] == "Failed"

    log = _driver_log(run)
    assert f"the key is {MASK}" in log
    assert MASK + "\n" in log  # the split value, masked whole
    assert "key in env: False" in log and "value in env: False" in log
    assert "got ['API-KEY', 'OTHER'] True" in log
    assert "missing: NotFoundError secret 'NOT-THERE' does not exist in this workspace" in log
    assert run.get_tags()["api"] == MASK
    assert run.get_metrics()["message"] == f"sent with {MASK}"
    assert run.get_properties()["endpoint-key"] == MASK
    assert run.get_metrics()["calls"]["key"] == [MASK]
    (child,) = list(run.get_children())
    assert child.get_tags()["inherited"] == MASK
    assert child.display_name == f"child {MASK}"
    assert child.get_details()["error"]["message"] == f"child failed with {MASK}"
    assert details["error"]["message"].endswith(f"RuntimeError: giving up with {MASK}")
    assert f"giving up with {MASK}" in details["error"]["traceback"]
    own, _ = run.read_log(name="logs/mine.log")
    assert own == f"own log line with {MASK}\n".encode()

    assert files_holding(ws.root, VALUE) == []
    assert not sqlite_dump_holds(ws.root / ".mlws" / "mlws.db", VALUE)
    assert texts_holding([str(run.get_details()), str(child.get_details()), log], VALUE) == []


NOTEBOOK_CELLS = [
    "from jupyter_mlws import Run\nrun = Run.get_context()\nvalue = run.get_secret('API-KEY')",
    "print('in a cell:', value)\nvalue",  # a stream output and an execute result
    "run.tag('from-notebook', value)\nraise ValueError('bad key ' + value)",
]


def test_a_notebook_jobs_outputs_are_masked(kit: Any, ws: Workspace, tmp_path: Path) -> None:
    ws.get_default_keyvault().set_secret("API-KEY", VALUE)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    nbformat.write(notebook, kit.src / "nb.ipynb")
    run = kit.exp.submit(NotebookRunConfig(source_directory=kit.src, notebook="nb.ipynb"))
    details = run.wait_for_completion(timeout=BUILD_TIMEOUT, raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["evalue"] == f"bad key {MASK}"
    assert run.get_tags()["from-notebook"] == MASK
    target = tmp_path / "executed.ipynb"
    run.download_file("outputs/nb.ipynb", str(target))
    executed = target.read_text()
    assert f"in a cell: {MASK}" in executed and f"'{MASK}'" in executed
    assert f"in a cell: {MASK}" in _driver_log(run)

    assert files_holding(ws.root, VALUE) == []
    assert not sqlite_dump_holds(ws.root / ".mlws" / "mlws.db", VALUE)


VAULT_IN_JOB = """
from jupyter_mlws import Run, Workspace

run = Run.get_context()
value = Workspace.from_config().get_default_keyvault().get_secret("API-KEY")  # v1 code, ported as is
print("from the vault object:", value, flush=True)
run.tag("vault", value)
for step in range(5):
    run.log("loss", 1.0 / (step + 1))
mark("ready")
wait_for(FLAGS / "never")
"""


def test_a_keyvault_read_in_a_job_is_masked_and_a_cancel_still_keeps_its_metrics(kit: Any, ws: Workspace) -> None:
    """v1 code reading ``ws.get_default_keyvault()`` in a job asks the supervisor too (so its values are
    masked); asking for a secret leaves the job's SIGTERM handling alone (metrics flushed on cancel)."""
    ws.get_default_keyvault().set_secret("API-KEY", VALUE)
    kit.script("vault.py", VAULT_IN_JOB)
    run = kit.submit("vault.py")
    kit.wait_flag("ready")
    run.cancel()
    details = run.wait_for_completion(timeout=BUILD_TIMEOUT, raise_on_error=False)
    assert details["status"] == "Canceled"
    assert f"from the vault object: {MASK}" in _driver_log(run)
    assert run.get_tags()["vault"] == MASK
    assert run.get_metrics()["loss"] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert files_holding(ws.root, VALUE) == []
