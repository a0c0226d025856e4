"""The job API a Docker job reaches its run through (issue 13, finding 5), without a container: the
supervisor's side (:mod:`jupyter_mlws.compute.job_api`) serves the job's own run and the child runs it
creates, and refuses everything else by name; the job's side (:mod:`jupyter_mlws.core.runs.remote`)
is what ``Run.get_context()`` returns in a Docker job. The container tests are in test_docker.py.
"""

from __future__ import annotations

import io
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Model, Run, Workspace
from jupyter_mlws.compute.job_api import ENV_JOB_API, MAX_LINE, JobApi
from jupyter_mlws.core.runs import remote
from jupyter_mlws.core.runs.remote import REFUSED, RemoteRun
from jupyter_mlws.errors import InvalidArgumentError, InvalidStateError, NotFoundError


@pytest.fixture
def job_api(ws: Workspace, tmp_path: Path) -> Iterator[tuple[JobApi, Run]]:
    run = Experiment(ws, "api").start_logging()
    folder = tmp_path / "api"
    folder.mkdir(mode=0o700)
    api = JobApi(ws, run.id, folder)
    api.start()
    yield api, run
    api.close()


def test_the_job_api_serves_only_the_jobs_own_runs(job_api: tuple[JobApi, Run], ws: Workspace) -> None:
    api, run = job_api
    other = Experiment(ws, "private").start_logging()
    other.log_param("secret", "x")
    connection = remote._Connection(str(api.socket_path))
    proxy = RemoteRun(connection, run.id)
    proxy.log("loss", 0.5)
    proxy.log_param("lr", 0.1)
    child = proxy.child_run("c1")
    child.log("score", 1.0)
    child.complete()
    proxy.upload_file("outputs/model.bin", io.BytesIO(b"weights"))
    model = proxy.register_model("api-model", "outputs/model.bin")
    proxy.flush()
    assert run.get_metrics() == {"loss": 0.5} and run.get_params() == {"lr": "0.1"}
    assert (model.id, Model(ws, "api-model").run_id) == ("api-model:1", run.id)
    with pytest.raises(InvalidStateError, match="not this job's run"):
        connection.call("register_model", run_id=other.id, model_name="stolen", model_path="outputs")
    assert [(c.id, c.status) for c in run.get_children()] == [(child.id, "Completed")]

    # Another run, through a proxy or a hand-made request: refused, saying why and what to do instead.
    with pytest.raises(InvalidStateError, match="Docker target keeps jobs away from the workspace") as caught:
        RemoteRun(connection, other.id).get_params()
    assert other.id in str(caught.value) and "local compute target" in str(caught.value)
    with pytest.raises(InvalidStateError, match="not this job's run"):
        connection.call("log_batch", run_id=other.id, params={"injected": 1})
    with pytest.raises(InvalidStateError, match="'submit' is not available to a job on the Docker target"):
        connection.call("submit", run_id=run.id, script="evil.py", compute_target="local")
    with pytest.raises(InvalidStateError, match="own run"):
        proxy.fail("no")  # the supervisor ends the job's run
    with pytest.raises(InvalidStateError, match="the Docker target"):
        proxy.workspace  # noqa: B018
    with pytest.raises(InvalidStateError, match="the Docker target"):
        proxy.experiment.workspace  # noqa: B018
    assert other.get_params() == {"secret": "x"}
    assert [r.id for r in ws.search_runs(include_children=True).runs if r.id not in (run.id, other.id)] == [child.id]

    # Garbage and oversized requests are answered with an error, never a dropped supervisor.
    with pytest.raises(InvalidArgumentError, match="unexpected keyword"):
        connection.call("get_params", run_id=run.id, path="/etc/passwd")
    raw = remote._Connection(str(api.socket_path))
    with pytest.raises(InvalidArgumentError, match="longer than"):
        raw.call("log_batch", run_id=run.id, params={"big": "x" * MAX_LINE})
    raw.close(run.id)
    assert proxy.get_status() == "Running"
    connection.close(run.id)


def test_the_proxy_run_offers_the_run_api_or_refuses_it_by_name() -> None:
    public = {n for n in dir(Run) if not n.startswith("_")}
    offered = {n for n in dir(RemoteRun) if not n.startswith("_")}
    missing = public - offered - set(REFUSED) - {"get_context"}
    assert not missing, f"Run methods a Docker job neither gets nor is told about: {sorted(missing)}"


def test_get_context_in_a_docker_job_is_the_proxy(monkeypatch: pytest.MonkeyPatch, job_api: tuple[JobApi, Run]) -> None:
    api, run = job_api
    monkeypatch.setenv("MLWS_RUN_ID", run.id)
    monkeypatch.setenv(ENV_JOB_API, str(api.socket_path))
    monkeypatch.delenv("MLWS_WORKSPACE", raising=False)
    context = Run.get_context()
    assert isinstance(context, RemoteRun) and context.id == run.id and context.experiment.name == "api"
    context.log("loss", 1.0)
    remote._connections.pop((str(api.socket_path), os.getpid())).close(run.id)  # what atexit does
    assert run.get_metrics() == {"loss": 1.0}


def test_a_forked_child_gets_its_own_connection(job_api: tuple[JobApi, Run]) -> None:
    """A data loader's worker forked after the job logged must not talk over its parent's socket."""
    api, run = job_api
    connection = remote._Connection(str(api.socket_path))
    remote._connections[("forked-test", os.getpid())] = connection
    proxy = RemoteRun(connection, run.id)
    proxy.log_param("parent", 1)
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit code
            code = 1
            try:
                proxy.log_param("child", 2)
                proxy.log("child_metric", 1.0)
                proxy.flush()
                code = 0
            finally:
                os._exit(code)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        proxy.log_param("after", 3)  # the parent's connection still answers in order
        assert run.get_params() == {"parent": "1", "child": "2", "after": "3"}
        assert run.get_metrics() == {"child_metric": 1.0}
    finally:
        remote._connections.pop(("forked-test", os.getpid()))
        connection.close(run.id)


def test_a_docker_job_asking_for_the_workspace_is_told_why_not(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_JOB_API, str(tmp_path / "api.sock"))
    monkeypatch.delenv("MLWS_WORKSPACE", raising=False)
    with pytest.raises(NotFoundError, match=r"Docker job has no workspace.*Run\.get_context\(\)"):
        Workspace.from_config(tmp_path)


def _raw(api: JobApi) -> tuple[socket.socket, Any]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(api.socket_path))
    return sock, sock.makefile("rb")


def test_points_a_store_would_refuse_are_refused_before_they_wedge_the_writer(job_api: tuple[JobApi, Run]) -> None:
    """Before: a point with a NaN or infinite time, or a step beyond 64 bits, was queued as is; the
    store refused it in the supervisor's background writer, which retries forever — every point logged
    after it was lost, and each flush told the job the workspace database's path on the host."""
    api, run = job_api
    sock, reader = _raw(api)
    now = time.time()
    poisons = [
        '[["a", 1.0, 0, NaN]]',
        '[["a", 1.0, 0, Infinity]]',
        f'[["a", 1.0, 0, "{now}"]]',
        f'[["a", 1.0, {2**63}, {now}]]',
        f'[["a", 1.0, {-(2**63) - 1}, {now}]]',
    ]
    with sock, reader:
        for points in poisons:
            sock.sendall(f'{{"op": "log_metrics", "run_id": "{run.id}", "points": {points}}}\n'.encode())
            answer = json.loads(reader.readline())
            assert (answer["ok"], answer["type"]) == (False, "InvalidArgumentError"), (points, answer)
            assert "time is a finite number" in answer["message"] or "64-bit" in answer["message"], answer
        for request in (
            {"op": "log_metrics", "run_id": run.id, "points": [["a", float("nan"), 2**63 - 1, now]]},
            {"op": "flush", "run_id": run.id},
        ):
            sock.sendall((json.dumps(request) + "\n").encode())
            answer = json.loads(reader.readline())
            assert answer["ok"], answer
            assert ".mlws" not in json.dumps(answer)
    api.workspace.flush()  # the writer is not held up
    [point] = run.get_metric_history("a")
    assert point.step == 2**63 - 1 and point.timestamp == now


def test_a_childs_error_details_are_strict_shallow_json(job_api: tuple[JobApi, Run]) -> None:
    api, run = job_api
    connection = remote._Connection(str(api.socket_path))
    child = RemoteRun(connection, run.id).child_run("c")
    sock, reader = _raw(api)
    with sock, reader:
        for details in ('{"loss": NaN}', "[" * 40 + "]" * 40, json.dumps({"x": "y" * (128 << 10)})):
            sock.sendall(f'{{"op": "fail", "run_id": "{child.id}", "details": {details}}}\n'.encode())
            answer = json.loads(reader.readline())
            assert (answer["ok"], answer["type"]) == (False, "InvalidArgumentError"), answer
    child.fail("diverged", {"loss": 12.5})
    assert child.status == "Failed"
    connection.close(run.id)


def test_an_oversized_request_says_how_to_send_less(job_api: tuple[JobApi, Run]) -> None:
    api, run = job_api
    connection = remote._Connection(str(api.socket_path))
    with pytest.raises(InvalidArgumentError, match="upload large values as a file"):
        RemoteRun(connection, run.id).log_params({"big": "x" * MAX_LINE})
    connection.close(run.id)
