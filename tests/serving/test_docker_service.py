"""A web service in a container of a real Docker engine (issue 17): the supervisor on this machine owns
the port and hands the listening socket to the container's worker, so keys, limits, zero-downtime
updates and deletion work as for a local service.

Without an engine this is skipped locally; CI sets ``MLWS_REQUIRE_DOCKER=1`` so that a missing engine
fails the run instead.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import ComputeTarget, DockerCompute, DockerWebservice, InferenceConfig, Model, Workspace
from tests.compute.conftest import wait_until
from tests.serving.kit import cleanup, post
from tests.support.docker import TEST_IMAGE

BUILD_TIMEOUT = 600.0  # the first image build installs the runtime with pip inside a container

# A model the image's runtime can serve without extra packages: weights in JSON.
SCORE = """\
import json, os
from jupyter_mlws import Model

weights = None


def init():
    global weights
    with open(Model.get_model_path("linear")) as f:
        weights = json.load(f)["w"]


def run(raw_data):
    rows = json.loads(raw_data)["data"]
    return {"models": os.environ["MLWS_MODELS"], "predictions": [sum(w * x for w, x in zip(weights, r)) for r in rows]}
"""


@pytest.fixture(scope="module")
def ws(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("docker-serving")
    workspace = Workspace.create(root / "ws")
    ComputeTarget.attach(workspace, "docker", DockerCompute.attach_configuration(base_image=TEST_IMAGE))
    for weights in ([1, 2, 3], [10, 20, 30]):
        (root / "model.json").write_text(json.dumps({"w": weights}))
        Model.register(workspace, str(root / "model.json"), "linear")
    (root / "src").mkdir()
    (root / "src" / "score.py").write_text(SCORE)
    yield workspace
    cleanup(workspace)


def containers(engine: Any, name: str) -> list[Any]:
    """The service's containers. The client lists, then inspects each: one removed in between (a drained
    container going) is a NotFound, and the listing is simply asked again."""
    from docker.errors import NotFound

    for _ in range(20):
        try:
            return list(engine.containers.list(all=True, filters={"label": f"mlws.service={name}"}))
        except NotFound:
            time.sleep(0.05)
    raise AssertionError(f"the containers of {name} kept changing under the listing")


def test_a_docker_service_serves_updates_without_downtime_and_goes_away(engine: Any, ws: Workspace) -> None:
    src = Path(ws.root).parent / "src"
    svc = Model.deploy(
        ws,
        "linear-docker",
        [Model(ws, "linear", version=1)],
        InferenceConfig(entry_script="score.py", source_directory=str(src)),
        DockerWebservice.deploy_configuration(cpu_cores=1, memory_gb=0.5),
    )
    assert isinstance(svc, DockerWebservice)
    svc.wait_for_deployment(timeout_sec=BUILD_TIMEOUT)
    assert svc.state == "Healthy" and svc.compute_type == "Docker"
    assert svc.run({"data": [[1, 1, 1]]}) == {"models": "linear:1", "predictions": [6]}
    status, _ = post(svc.port, json.dumps({"data": [[1, 1, 1]]}))  # type: ignore[arg-type]
    assert status == 401
    (container,) = containers(engine, "linear-docker")
    host = container.attrs["HostConfig"]
    assert host["NanoCpus"] == 1_000_000_000 and host["Memory"] == 512 * (1 << 20)

    key, port = svc.get_keys()[0], svc.port
    counts = {"sent": 0, "answered": 0}
    seen: set[str] = set()
    lock = threading.Lock()
    done = threading.Event()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # type: ignore[arg-type]
        while not done.is_set():
            with lock:
                counts["sent"] += 1
            try:
                conn.request("POST", "/score", json.dumps({"data": [[1, 1, 1]]}), {"Authorization": f"Bearer {key}"})
                response = conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except OSError:
                conn.close()
                continue
            if response.status == 200:
                with lock:
                    counts["answered"] += 1
                    seen.add(json.loads(data)["models"])
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: counts["answered"] > 50, what="load on the service")
        svc.update(models=[Model(ws, "linear", version=2)])
        wait_until(lambda: "linear:2" in seen, what="answers of the new version")
    finally:
        done.set()
        for thread in threads:
            thread.join(30)
    assert counts["answered"] == counts["sent"] > 50 and seen == {"linear:1", "linear:2"}
    assert svc.run({"data": [[1, 1, 1]]})["predictions"] == [60]
    wait_until(lambda: len(containers(engine, "linear-docker")) == 1, what="the old container to drain and go")

    svc.delete()
    assert containers(engine, "linear-docker") == []
    Model(ws, "linear", version=2).delete()  # the service no longer holds it


def test_a_pickled_model_serves_in_docker_without_an_entry_script(engine: Any, ws: Workspace) -> None:
    import pickle

    from sklearn.linear_model import LinearRegression

    path = Path(ws.root).parent / "linreg.pkl"
    path.write_bytes(pickle.dumps(LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 2.0, 4.0])))
    model = Model.register(ws, str(path), "linreg")
    svc = Model.deploy(ws, "linreg-docker", [model], deployment_config=DockerWebservice.deploy_configuration())
    svc.wait_for_deployment(timeout_sec=BUILD_TIMEOUT)  # its image has what the pickle needs (scikit-learn)
    answer = svc.run({"instances": [[3.0]]})
    assert [round(p, 6) for p in answer["predictions"]] == [6.0]
    svc.delete()
    assert containers(engine, "linreg-docker") == []
