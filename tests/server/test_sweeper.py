"""The server's job sweep: a job whose supervisor died ends while the server runs, though reading a
run (here through the REST API) never changes it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Run, RunStatus, Workspace
from jupyter_mlws.compute.supervision import HOSTNAME
from jupyter_mlws.server.sweeper import JobSweeper
from tests.server.conftest import Api, poll

EXTENSION = {"ServerApp": {"jpserver_extensions": {"jupyter_mlws": True}}}


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {**EXTENSION, "MlwsApp": {"jobs_sweep_interval": 0.2}}


@pytest.fixture
def dead_job(jp_root_dir: Path) -> Run:
    """A running job whose supervisor, a process of this machine, has exited."""
    ws = Workspace.create(Path(jp_root_dir))
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run = Run.create(
        Experiment(ws, "jobs"),
        status=RunStatus.RUNNING,
        run_type="script",
        compute_target="local",
        job_spec={"kind": "script", "script": "job.py", "arguments": []},
    )
    ws.metadata.update_job(
        run.id, supervisor_pid=int(finished.stdout), supervisor_host=HOSTNAME, heartbeat_time=time.time()
    )
    return run


async def test_the_server_ends_a_job_whose_supervisor_died(dead_job: Run, api: Api) -> None:
    async def ended() -> Any:
        run = await api.ok(f"runs/{dead_job.id}")
        return run if run["status"] == "Failed" else None

    await poll(ended, what="the server's sweep to end the run")
    details = dead_job.get_details()
    assert "supervisor" in details["error"]["message"] and details["error"]["reason"] == "stale"


@pytest.mark.parametrize("jp_server_config", [{**EXTENSION, "MlwsApp": {"jobs_sweep_interval": 0.0}}])
async def test_reading_a_job_through_the_api_changes_nothing(dead_job: Run, api: Api) -> None:
    before = dead_job.workspace.metadata.get_run(dead_job.id)
    for _ in range(3):
        assert (await api.ok(f"runs/{dead_job.id}"))["status"] == "Running"
        assert (await api.ok("runs", params={"filter": "attributes.status = 'Running'"}))["items"]
    assert dead_job.workspace.metadata.get_run(dead_job.id) == before
    # Sweeping is what ends it (here by hand: this server's periodic sweep is off).
    assert JobSweeper(lambda: dead_job.workspace).sweep() == [dead_job.id]
    assert (await api.ok(f"runs/{dead_job.id}"))["status"] == "Failed"


def test_a_sweep_without_a_workspace_does_nothing() -> None:
    assert JobSweeper(lambda: None).sweep() == []
