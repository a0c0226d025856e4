"""Local web services end to end (issue 17): a real supervisor and worker per service on loopback.

One workspace per module; services are deployed by the tests and deleted at the end of the module.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import (
    Dataset,
    Environment,
    InferenceConfig,
    LocalWebservice,
    Model,
    Webservice,
    WebserviceException,
    Workspace,
)
from jupyter_mlws.compute.agent import stop as stop_agent
from jupyter_mlws.errors import InvalidArgumentError, InvalidStateError, NotFoundError
from jupyter_mlws.server.sweeper import JobSweeper
from jupyter_mlws.serving import deploy as deployer
from tests.compute.conftest import wait_until
from tests.serving.kit import ROWS, SCORE, body, children, cleanup, kill, make_workspace, post


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serving")


@pytest.fixture(scope="module")
def ws(root: Path) -> Iterator[Workspace]:
    os.environ["MLWS_CAPTURE_PUBLISH_SECONDS"] = "0.5"  # read by the agent this module starts
    workspace = make_workspace(root)
    yield workspace
    cleanup(workspace)
    os.environ.pop("MLWS_CAPTURE_PUBLISH_SECONDS", None)


def inference(root: Path) -> InferenceConfig:
    return InferenceConfig(entry_script="score.py", source_directory=str(root / "src"))


@pytest.fixture(scope="module")
def svc(ws: Workspace, root: Path) -> Webservice:
    service = Model.deploy(
        ws,
        "iris-svc",
        [Model(ws, "iris", version=1)],
        inference(root),
        LocalWebservice.deploy_configuration(enable_data_collection=True, data_collection_sample_rate=1.0),
    )
    service.wait_for_deployment(timeout_sec=60)
    assert isinstance(service, Webservice)
    return service


def test_a_deployed_model_answers_with_its_key_only(svc: Webservice, ws: Workspace) -> None:
    assert isinstance(svc, LocalWebservice) and svc.state == "Healthy" and svc.compute_type == "Local"
    assert svc.scoring_uri == f"http://127.0.0.1:{svc.port}/score"
    answer = svc.run(body())
    assert answer == {"models": "iris:1", "predictions": [0, 2]}
    primary, secondary = svc.get_keys()
    assert primary and secondary and primary != secondary
    for key in (primary, secondary):
        status, reply = post(svc.port, body(), key)  # type: ignore[arg-type]
        assert status == 200 and json.loads(reply)["predictions"] == [0, 2]
    for bad in (None, "wrong-key"):
        status, reply = post(svc.port, body(), bad)  # type: ignore[arg-type]
        assert status == 401 and b"predictions" not in reply
    assert Webservice(ws, "iris-svc").serialize()["state"] == "Healthy"
    assert list(ws.webservices) == ["iris-svc"]
    assert [s.name for s in Webservice.list(ws, model_name="iris")] == ["iris-svc"]
    assert Webservice.list(ws, compute_type="Docker") == []


def test_a_regenerated_key_replaces_the_old_one_without_a_restart(svc: Webservice) -> None:
    _, old = svc.get_keys()
    svc.regen_key("Secondary")
    _, new = svc.get_keys()
    assert new != old
    wait_until(lambda: post(svc.port, body(), new)[0] == 200, what="the new key to be accepted")  # type: ignore[arg-type]
    assert post(svc.port, body(), old)[0] == 401  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="'Primary' or 'Secondary'"):
        svc.regen_key("Tertiary")


def test_a_model_version_in_use_cannot_be_deleted(svc: Webservice, ws: Workspace) -> None:
    with pytest.raises(InvalidStateError, match="used by the web service\\(s\\) 'iris-svc'"):
        Model(ws, "iris", version=1).delete()
    assert Model(ws, "iris", version=1).version == 1


def test_bad_input_and_a_failing_run_get_clear_answers(svc: Webservice) -> None:
    key = svc.get_keys()[0]
    status, reply = post(svc.port, b"{not json", key)  # type: ignore[arg-type]
    assert status == 400 and b"JSON" in reply
    status, reply = post(svc.port, json.dumps({"data": [[1.0]]}), key)  # type: ignore[arg-type]
    assert status == 500
    error = json.loads(reply)["error"]
    assert "Traceback" not in reply.decode() and error["correlation_id"]
    wait_until(lambda: error["correlation_id"] in svc.get_logs(), what="the correlation id in the service log")
    assert "ValueError" in svc.get_logs()  # the traceback went to the log
    with pytest.raises(WebserviceException, match="answered 500"):
        svc.run({"data": [[1.0]]})


def test_every_request_is_a_telemetry_row(svc: Webservice) -> None:
    before = len(svc.get_telemetry())
    post(svc.port, body(), None)  # type: ignore[arg-type]  # a 401
    svc.run(body())

    def rows() -> object:
        frame = svc.get_telemetry()
        return [frame] if len(frame) >= before + 2 else None

    (frame,) = wait_until(rows, what="telemetry rows")
    assert {200, 401} <= set(frame["status"])
    last = frame.iloc[-1]
    assert last["models"] == "iris:1" and last["latency_ms"] > 0 and last["request_bytes"] == len(body())


def test_captured_inputs_become_a_dataset_version(svc: Webservice, ws: Workspace) -> None:
    for _ in range(3):
        svc.run(body())

    def captured() -> object:
        try:
            frame = Dataset.get_by_name(ws, "iris-svc-inputs").to_pandas_dataframe()  # type: ignore[attr-defined]
        except NotFoundError:
            return None
        return [frame] if len(frame) >= 6 else None

    (frame,) = wait_until(captured, what="captured rows in the dataset iris-svc-inputs")
    assert {"feature_0", "feature_3", "prediction"} <= set(frame.columns)
    assert set(frame["feature_0"]) >= {5.1, 6.7}


def test_an_update_under_load_fails_no_request(svc: Webservice, ws: Workspace) -> None:
    key, port, payload = svc.get_keys()[0], svc.port, body()
    counts = {"sent": 0, "answered": 0, "failed": 0}
    seen: set[str] = set()
    lock = threading.Lock()
    done = threading.Event()

    def client() -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not done.is_set():
            with lock:
                counts["sent"] += 1
            try:
                conn.request("POST", "/score", payload, {"Authorization": f"Bearer {key}"})
                response = conn.getresponse()
                data = response.read()
                ok = response.status == 200
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except OSError:
                ok = False
                conn.close()
            with lock:
                counts["answered" if ok else "failed"] += 1
                if ok:
                    seen.add(json.loads(data)["models"])
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: counts["answered"] > 100, what="load on the service")
        svc.update(models=[Model(ws, "iris", version=2)])
        wait_until(lambda: "iris:2" in seen, what="answers of the new version")
    finally:
        done.set()
        for thread in threads:
            thread.join(30)
    assert counts["failed"] == 0 and counts["answered"] == counts["sent"] > 100
    assert seen == {"iris:1", "iris:2"}
    assert svc.generation == 2 and svc.run(body())["models"] == "iris:2"
    Model(ws, "iris", version=1).delete()  # the service holds version 2 now


def test_a_failed_update_leaves_the_serving_version_and_its_record(svc: Webservice, ws: Workspace, root: Path) -> None:
    broken = root / "broken-update"
    broken.mkdir()
    (broken / "score.py").write_text("def init():\n    raise ValueError('bad update')\n\ndef run(raw):\n    return 1\n")
    with pytest.raises(WebserviceException, match=r"(?s)generation 2 goes on serving:.*ValueError: bad update"):
        svc.update(inference_config=InferenceConfig(entry_script="score.py", source_directory=str(broken)))
    svc.update_deployment_state()
    assert (svc.generation, svc.model_ids, svc.entry_script) == (2, ["iris:2"], "score.py")
    assert svc.state == "Healthy" and svc.run(body())["models"] == "iris:2"
    assert not svc._folder.generation_dir(3).exists() and svc._folder.service()["generation"] == 2
    with pytest.raises(InvalidStateError, match="'iris-svc'"):
        Model(ws, "iris", version=2).delete()


def slow_source(root: Path, seconds: float) -> InferenceConfig:
    """The service's entry script with an ``init()`` that takes ``seconds`` longer."""
    folder = root / f"slow-{seconds:g}"
    if not folder.exists():
        folder.mkdir()
        (folder / "score.py").write_text(f"import time\ntime.sleep({seconds})\n" + SCORE)
    return InferenceConfig(entry_script="score.py", source_directory=str(folder))


def worker_of(supervisor: int, generation: int) -> int | None:
    for pid in children(supervisor):
        with contextlib.suppress(OSError):
            if f"gen-{generation}/".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
    return None


def test_an_update_given_up_never_takes_over_and_its_number_is_not_reused(
    svc: Webservice, ws: Workspace, root: Path
) -> None:
    svc.update_deployment_state()
    serving = svc.generation
    with pytest.raises(WebserviceException, match=r"did not finish within 0\.5 s"):
        deployer.update(ws, "iris-svc", None, slow_source(root, 2.0), None, timeout=0.5)
    time.sleep(3.5)  # the given-up worker would have been ready by now
    assert svc._folder.state()["generation"] == serving and svc.state == "Healthy"
    svc.update_deployment_state()
    assert svc.generation == serving and svc.run(body())["models"] == "iris:2"
    svc.update(models=[Model(ws, "iris", version=2)])  # a retry goes through, under a new number
    assert svc.generation > serving + 1 and svc._folder.state()["generation"] == svc.generation


def test_a_crash_of_the_old_worker_during_an_update_does_not_undo_it(
    svc: Webservice, ws: Workspace, root: Path
) -> None:
    svc.update_deployment_state()
    old, supervisor = svc.generation, svc._folder.state()["pid"]
    updating = threading.Thread(target=svc.update, kwargs={"inference_config": slow_source(root, 1.5)})
    updating.start()
    victim = wait_until(lambda: len(children(supervisor)) == 2 and worker_of(supervisor, old), what="the new worker")
    kill(victim)
    updating.join(60)
    new = svc._folder.state()["generation"]
    assert new > old
    time.sleep(2.5)  # past the back-off a restart of the old generation would have waited
    assert svc._folder.state()["generation"] == new and svc.state == "Healthy"
    assert worker_of(supervisor, old) is None and svc.run(body())["predictions"] == [0, 2]


def test_tags_set_through_an_older_object_keep_what_runs(svc: Webservice, ws: Workspace) -> None:
    stale = Webservice(ws, "iris-svc")
    svc.update(models=[Model(ws, "iris", version=2)])
    stale.update(tags={"stage": "prod"})
    fresh = Webservice(ws, "iris-svc")
    assert fresh.tags == {"stage": "prod"} and fresh.generation == svc._folder.state()["generation"]


def test_a_crashed_worker_is_restarted(svc: Webservice) -> None:
    supervisor = svc._folder.state()["pid"]
    (worker,) = wait_until(lambda: len(children(supervisor)) == 1 and children(supervisor), what="one worker")
    kill(worker)
    wait_until(lambda: svc.state == "Unhealthy", what="the service to notice its worker died")
    wait_until(lambda: svc.state == "Healthy", what="the restarted worker")
    assert svc._folder.state()["restarts"] >= 1
    assert svc.run(body())["predictions"] == [0, 2]


def test_the_service_outlives_its_deployer_its_supervisor_and_the_agent(ws: Workspace, root: Path) -> None:
    script = (
        "import sys\n"
        "from jupyter_mlws import Workspace, Model, InferenceConfig, LocalWebservice\n"
        "ws = Workspace(sys.argv[1])\n"
        "svc = Model.deploy(ws, 'kernel-svc', [Model(ws, 'iris')], InferenceConfig(entry_script='score.py',"
        " source_directory=sys.argv[2]), LocalWebservice.deploy_configuration())\n"
        "svc.wait_for_deployment()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(ws.root), str(root / "src")], check=True, timeout=120)
    svc = Webservice(ws, "kernel-svc")  # the deploying "kernel" has exited
    assert svc.run(body())["predictions"] == [0, 2]
    port, supervisor = svc.port, svc._folder.state()["pid"]
    stop_agent(ws)  # as after a reboot: no agent, and the supervisor was stopped (its worker drained)
    os.kill(supervisor, signal.SIGTERM)
    wait_until(lambda: svc._folder.state().get("state") == "Stopped", what="the supervisor to stop")
    JobSweeper(lambda: ws).sweep()  # what a Jupyter server opened on the workspace does every 10 s
    wait_until(lambda: svc._folder.state().get("pid") not in (None, supervisor), what="a new supervisor")
    wait_until(lambda: svc.state == "Healthy", what="the service to come back")
    assert svc.port == port and svc.run(body())["predictions"] == [0, 2]
    svc.delete()
    with pytest.raises(NotFoundError, match="web service 'kernel-svc' does not exist"):
        Webservice(ws, "kernel-svc")


def test_a_failing_init_fails_the_deployment_with_its_traceback(ws: Workspace, root: Path) -> None:
    src = root / "broken"
    src.mkdir()
    (src / "score.py").write_text(
        "def init():\n    raise RuntimeError('no model here')\n\ndef run(raw):\n    return 1\n"
    )
    started = time.monotonic()
    svc = Model.deploy(
        ws, "broken-svc", [Model(ws, "iris")], InferenceConfig(entry_script="score.py", source_directory=str(src))
    )
    with pytest.raises(WebserviceException, match="RuntimeError: no model here"):
        svc.wait_for_deployment(timeout_sec=60)
    assert time.monotonic() - started < 60
    assert svc.state == "Failed" and "no model here" in (svc.error or "")
    assert "Traceback" in svc.get_logs()
    svc.delete()


def test_a_port_in_use_fails_the_deployment_naming_the_port(ws: Workspace, root: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        svc = Model.deploy(
            ws, "port-svc", [Model(ws, "iris")], inference(root), LocalWebservice.deploy_configuration(port=port)
        )
        with pytest.raises(WebserviceException, match=f"port {port} is already in use"):
            svc.wait_for_deployment(timeout_sec=60)
    svc.delete()


def test_a_service_in_an_unregistered_environment_updates_its_models(ws: Workspace, root: Path) -> None:
    env = Environment("serving-here")  # registered by the deployment (as v1 does), so an update finds it
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    config = InferenceConfig(entry_script="score.py", source_directory=str(root / "src"), environment=env)
    svc = Model.deploy(ws, "env-svc", [Model(ws, "iris", version=2)], config)
    svc.wait_for_deployment(timeout_sec=60)
    assert svc._record.inference["environment"] == {"name": "serving-here", "version": 1}
    svc.update(models=[Model(ws, "iris", version=2)])
    assert svc.generation == 2 and svc.run(body())["models"] == "iris:2"
    svc.delete()


def test_a_pickled_model_answers_mlflow_request_shapes(ws: Workspace) -> None:
    svc = Model.deploy(ws, "iris-mlflow", [Model(ws, "iris")], deployment_config=LocalWebservice.deploy_configuration())
    svc.wait_for_deployment(timeout_sec=60)
    assert svc.entry_script is None
    split = {"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": ROWS}}
    assert svc.run(split) == {"predictions": [0, 2]}
    assert svc.run({"instances": ROWS}) == {"predictions": [0, 2]}
    with pytest.raises(WebserviceException, match="400"):
        svc.run({"rows": ROWS})
    svc.delete()


def test_a_pickled_model_is_served_without_code_in_a_chosen_environment(ws: Workspace) -> None:
    env = Environment("no-code-here")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    svc = Model.deploy(ws, "iris-mlflow-env", [Model(ws, "iris")], InferenceConfig(environment=env))
    svc.wait_for_deployment(timeout_sec=60)
    assert svc.run({"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": ROWS}}) == {"predictions": [0, 2]}
    svc.delete()


def test_deploying_checks_its_arguments(ws: Workspace, root: Path) -> None:
    missing = InferenceConfig("missing.py", source_directory=str(root / "src"))
    cases = [
        ({"name": "Bad_Name", "models": [Model(ws, "iris")]}, "invalid web service name"),
        ({"name": "ok-name", "models": []}, "non-empty list"),
        ({"name": "ok-name", "models": ["nope:1"]}, "nope"),
        ({"name": "ok-name", "models": ["iris"], "inference_config": missing}, "does not exist"),
    ]
    for kwargs, message in cases:
        with pytest.raises((InvalidArgumentError, NotFoundError), match=message):
            Model.deploy(ws, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="port"):
        LocalWebservice.deploy_configuration(port=70000)
    with pytest.raises(InvalidArgumentError, match="sample_rate"):
        LocalWebservice.deploy_configuration(data_collection_sample_rate=2)
    assert [s.name for s in Webservice.list(ws)] == ["iris-svc"]  # nothing half-made was left


def test_a_workspace_deep_in_the_file_system_serves_too(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    workspace = make_workspace(deep)
    try:
        svc = Model.deploy(workspace, "deep-svc", [Model(workspace, "iris")], inference(deep))
        assert len(str(svc._folder.control_socket)) > 108  # longer than a Unix socket address may be
        svc.wait_for_deployment(timeout_sec=60)
        assert svc.run(body())["predictions"] == [0, 2]
    finally:
        cleanup(workspace)


def test_a_client_that_expects_100_continue_is_told_to_go_on(svc: Webservice) -> None:
    payload = body().encode()
    head = (
        f"POST /score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {svc.get_keys()[0]}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as conn:  # type: ignore[arg-type]
        conn.sendall(head.encode())
        assert conn.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the body is sent (as curl waits)
        conn.sendall(payload)
        reply = b""
        while b"predictions" not in reply:
            chunk = conn.recv(4096)
            assert chunk, reply
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200 OK")
