"""Two real Jupyter servers on one workspace (issue 16's "done means"): once both run, an hourly
schedule with eleven fires due at once (started ten hours ago, ``catch_up="all"``; the next fire is an
hour away) is fired by their schedule tickers — each fire exactly once, whichever server claimed it.
The servers run the engine stand-in (``engine_double``, installed by a ``sitecustomize`` on their
path): each fire makes a plain run. (tests/pipelines/publishing/test_two_processes.py races claims in lockstep.)"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from jupyter_mlws import Experiment, PublishedPipeline, Schedule, ScheduleRecurrence, Workspace
from jupyter_mlws.core.workspace import close_backends
from tests.pipelines.publishing.conftest import DEFINITION
from tests.support.jupyter_env import isolated_server_env

REPO = Path(__file__).resolve().parents[3]
SITECUSTOMIZE = "from tests.pipelines.publishing import engine_double\nengine_double.install()\n"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two ``jupyter server`` processes on 127.0.0.1 serving one workspace; stopped by pid."""
    base = tmp_path_factory.mktemp("two-servers")
    root = base / "root"
    Workspace.create(root)
    close_backends()
    shim = base / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SITECUSTOMIZE)
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for name in ("a", "b"):
            env = isolated_server_env(base / f"home-{name}")
            env["PYTHONPATH"] = os.pathsep.join([str(shim), str(REPO), env.get("PYTHONPATH", "")])
            token, port = secrets.token_hex(16), _free_port()
            log = base / f"server-{name}.log"
            command = [
                sys.executable, "-m", "jupyter_server", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
                "--ServerApp.allow_root=True", f"--IdentityProvider.token={token}",
            ]  # fmt: skip
            with open(log, "wb") as out:
                procs.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=base))
            logs.append(log)
            _wait_up(procs[-1], f"http://127.0.0.1:{port}/mlws/api/v1/workspace", token, log)
        yield root
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_up(proc: subprocess.Popen[bytes], url: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"a server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(requests.ConnectionError):
            reply = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=5)
            if reply.status_code == 200 and reply.json()["exists"]:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"a server did not answer within 90 s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def test_two_servers_fire_each_due_fire_exactly_once(two_servers: Path) -> None:
    ws = Workspace(two_servers)
    published = PublishedPipeline._create(ws, "p", None, None, DEFINITION, None)
    start = dt.datetime.fromtimestamp(int(time.time()) - 10 * 3600 - 60, dt.UTC)
    recurrence = ScheduleRecurrence("Hour", 1, start_time=start)
    schedule = Schedule.create(ws, "hourly", published.id, "scheduled", recurrence=recurrence, catch_up="all")
    deadline = time.monotonic() + 60
    while True:
        fires = ws.metadata.list_schedule_fires(schedule.id)
        if len(fires) == 11 and all(f.run_id or f.error for f in fires):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"the servers fired {len(fires)} of 11 fires within 60 s: {fires}")
        time.sleep(0.2)
    assert not [f.error for f in fires if f.error]
    first = int(start.timestamp())
    assert sorted(f.fire_time for f in fires) == [first + 3600 * k for k in range(11)]
    run_ids = [f.run_id for f in fires]
    assert len(run_ids) == len(set(run_ids))
    assert sorted(r.id for r in Experiment(ws, "scheduled").get_runs()) == sorted(run_ids)  # type: ignore[type-var]
    print("claimed by:", sorted({f.claimed_by for f in fires}))
