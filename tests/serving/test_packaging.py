"""v1's model packaging on a real Docker engine: ``Model.package(...)`` builds an image FROM the
environment's image that serves the models alone (``docker run -p PORT:5001 IMAGE``, no workspace),
or writes its Dockerfile and build context (``save(dir)``).

The engine is the session fixture of tests/support/docker.py: skipped without one locally, a failure
with ``MLWS_REQUIRE_DOCKER=1`` (CI).
"""

from __future__ import annotations

import contextlib
import json
import pickle
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import (
    ComputeTarget,
    DockerCompute,
    Environment,
    InferenceConfig,
    Model,
    ModelPackage,
    WebserviceException,
    Workspace,
)
from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.serving.deploy import mlflow_environment
from tests.support.docker import TEST_IMAGE

pytestmark = pytest.mark.docker

BUILD_TIMEOUT = 600.0  # the environment's image installs scikit-learn with pip inside a container
START_TIMEOUT = 60.0

SCORE = """\
import json
import pickle

from jupyter_mlws import Model

model = None


def init():
    global model
    with open(Model.get_model_path("iris"), "rb") as f:
        model = pickle.load(f)


def run(raw):
    return {"predictions": model.predict(json.loads(raw)["data"]).tolist()}
"""
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def _tiny_model(path: Path) -> list[int]:
    from sklearn.linear_model import LogisticRegression

    x = [[5.1, 3.5, 1.4, 0.2], [4.9, 3.0, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [6.3, 2.5, 5.0, 1.9]]
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    path.write_bytes(pickle.dumps(model))
    return [int(v) for v in model.predict(ROWS)]


class Kit:
    def __init__(self, ws: Workspace, model: Model, src: Path, env: Environment, expected: list[int]) -> None:
        self.ws, self.model, self.src, self.env, self.expected = ws, model, src, env, expected

    def inference(self) -> InferenceConfig:
        return InferenceConfig(entry_script="score.py", source_directory=self.src, environment=self.env)


@pytest.fixture(scope="module")
def kit(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Kit:
    import sklearn

    root = tmp_path_factory.mktemp("packaging")
    ws = Workspace.create(root / "ws")
    ComputeTarget.attach(ws, "docker", DockerCompute.attach_configuration(base_image=TEST_IMAGE))
    expected = _tiny_model(root / "model.pkl")
    model = Model.register(
        ws,
        str(root / "model.pkl"),
        "iris",
        model_framework=Model.Framework.SCIKITLEARN,
        model_framework_version=sklearn.__version__,
    )
    src = root / "src"
    src.mkdir()
    (src / "score.py").write_text(SCORE)
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "score.cpython-311.pyc").write_bytes(b"stale")
    # The packages of a package without an entry script (the MLflow default): one environment image.
    env = Environment("package-sklearn")
    env.python.pip_packages = list(mlflow_environment("ScikitLearn", sklearn.__version__).python.pip_packages)
    assert f"scikit-learn=={sklearn.__version__}" in env.python.pip_packages
    return Kit(ws, model, src, env, expected)


@contextlib.contextmanager
def _removed_after(engine: Any, package: ModelPackage) -> Iterator[ModelPackage]:
    try:
        yield package
    finally:
        with contextlib.suppress(Exception):
            package.wait_for_creation(timeout_sec=BUILD_TIMEOUT)
        for container in engine.containers.list(all=True, filters={"ancestor": package.location}):
            container.remove(force=True)
        with contextlib.suppress(Exception):
            engine.images.remove(package.location, force=True)


@pytest.fixture(scope="module")
def built(kit: Kit, engine: Any) -> Iterator[ModelPackage]:
    """The image package, built once; its containers and image are removed afterwards."""
    name = f"mlws-test-package-{uuid.uuid4().hex[:8]}"
    with _removed_after(engine, Model.package(kit.ws, [kit.model], kit.inference(), image_name=name)) as package:
        package.wait_for_creation(timeout_sec=BUILD_TIMEOUT)
        yield package


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextlib.contextmanager
def _container(engine: Any, image: str, **options: Any) -> Iterator[tuple[str, Any]]:
    """``docker run -d -p <free>:5001 IMAGE``; yields its URL (once GET / answers) and the container."""
    port = _free_port()
    container = engine.containers.run(image, detach=True, ports={"5001/tcp": ("127.0.0.1", port)}, **options)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                status, body = _request(url + "/")
                if status == 200:
                    assert body == b"Healthy"
                    break
            except OSError:
                pass
            container.reload()
            if container.status == "exited" or time.monotonic() > deadline:
                pytest.fail(f"the container did not answer: {container.status}\n{container.logs().decode()}")
            time.sleep(0.1)
        yield url, container
    finally:
        container.remove(force=True)


def test_the_image_serves_the_model_alone(kit: Kit, built: ModelPackage, engine: Any) -> None:
    assert built.state == "Succeeded" and built.error is None
    assert built.location.startswith("mlws-test-package-") and built.location.endswith(":latest")
    image = engine.images.get(built.location)
    assert image.attrs["Config"]["ExposedPorts"] == {"5001/tcp": {}}
    assert "building image" in built.get_logs() and built.location in built.get_logs()
    assert built.serialize()["state"] == "Succeeded" and built.serialize()["models"] == ["iris:1"]

    with _container(engine, built.location) as (url, container):
        status, body = _request(url + "/score", {"data": ROWS})
        assert (status, json.loads(body)) == (200, {"predictions": kit.expected})
        assert _request(url + "/swagger.json")[0] == 200
        started = time.monotonic()
        container.stop(timeout=30)  # `docker stop`: the worker (PID 1) drains on SIGTERM and exits 0
        assert container.wait()["StatusCode"] == 0 and time.monotonic() - started < 10
        assert "drained; exiting" in container.logs().decode()

    # A key given at `docker run` turns auth on.
    with _container(engine, built.location, environment={"MLWS_SERVICE_KEY": "k1,k2"}) as (url, _):
        assert _request(url + "/score", {"data": ROWS})[0] == 401
        assert _request(url + "/score", {"data": ROWS}, {"Authorization": "Bearer wrong"})[0] == 401
        status, body = _request(url + "/score", {"data": ROWS}, {"Authorization": "Bearer k2"})
        assert (status, json.loads(body)) == (200, {"predictions": kit.expected})


def test_save_writes_the_dockerfile_and_its_build_context(
    kit: Kit, built: ModelPackage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = Model.package(kit.ws, [kit.model], kit.inference(), generate_dockerfile=True, image_label="v1")
    package.wait_for_creation(show_output=True)  # the environment's image: a cache hit, no second build
    printed = capsys.readouterr().out
    assert "cache hit: image " + str(built.base_image) in printed and "done: Dockerfile package" in printed
    assert package.state == "Succeeded" and package.base_image == built.base_image
    assert package.image_name.startswith("package-") and package.location == f"{package.image_name}:v1"
    assert package.serialize()["packageType"] == "Dockerfile"

    out = tmp_path / "imagefiles"
    package.save(out)
    dockerfile = (out / "Dockerfile").read_text()
    lines = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert lines[0] == f"FROM {built.base_image}" and built.base_image.startswith("mlws-env:")
    assert "COPY mlws/ /opt/mlws/lib/" in lines
    assert "COPY azureml-models/ /var/azureml-app/azureml-models/" in lines
    assert "COPY source/ /var/azureml-app/source/" in lines
    assert "COPY config.json /var/azureml-app/config.json" in lines
    assert 'ENV PYTHONPATH="/opt/mlws/lib" \\' in lines
    assert '    MLWS_MODEL_DIR="/var/azureml-app/azureml-models/iris/1" \\' in lines
    assert '    MLWS_MODELS="iris:1"' in lines
    assert "EXPOSE 5001" in lines and "WORKDIR /var/azureml-app/source" in lines
    assert json.loads(lines[-1].removeprefix("CMD ")) == [
        "/opt/mlws/venv/bin/python",
        "-m",
        "jupyter_mlws.serving.worker",
        "--config",
        "/var/azureml-app/config.json",
        "--port",
        "5001",
        "--host",
        "0.0.0.0",
    ]
    config = json.loads((out / "config.json").read_text())
    assert config["entry_script"] == "score.py" and config["source_dir"] == "/var/azureml-app/source"
    assert config["model_dir"] == "/var/azureml-app/azureml-models/iris/1" and config["models"] == ["iris:1"]
    assert config["auth"] is False and config["key_env"] == "MLWS_SERVICE_KEY"
    assert config["telemetry_dir"] is None and config["capture_dir"] is None
    assert config["environment_variables"]["AZUREML_MODEL_DIR"] == "/var/azureml-app/azureml-models/iris/1"
    model_file = out / "azureml-models" / "iris" / "1" / "model.pkl"
    assert model_file.read_bytes() == (kit.src.parent / "model.pkl").read_bytes()
    assert (out / "source" / "score.py").read_text() == SCORE
    assert not (out / "source" / "__pycache__").exists()
    assert (out / "mlws" / "jupyter_mlws" / "serving" / "worker.py").is_file()
    assert not list((out / "mlws").rglob("__pycache__"))

    with pytest.raises(InvalidArgumentError, match="not an empty folder"):
        package.save(out)


def test_without_an_inference_config_the_package_serves_one_pickled_model(
    kit: Kit, built: ModelPackage, engine: Any, tmp_path: Path
) -> None:
    with _removed_after(engine, Model.package(kit.ws, ["iris:1"])) as package:
        package.wait_for_creation(timeout_sec=BUILD_TIMEOUT)
        assert package.base_image == built.base_image  # the same packages: the same environment image
        assert package.serialize()["environment"] == {"name": "mlws-serving-mlflow", "version": None}
        package.save(tmp_path / "out")
        config = json.loads((tmp_path / "out" / "config.json").read_text())
        assert config["entry_script"] is None and config["model_dir"] == "/var/azureml-app/azureml-models/iris/1"
        assert list((tmp_path / "out" / "source").iterdir()) == []
        with _container(engine, package.location) as (url, _):
            status, body = _request(url + "/score", {"instances": ROWS})
            assert (status, json.loads(body)) == (200, {"predictions": kit.expected})

    other = Model.register(kit.ws, str(kit.src / "score.py"), "other")
    with pytest.raises(InvalidArgumentError, match="exactly one pickled model"):
        Model.package(kit.ws, [kit.model, other])


def test_clear_errors(kit: Kit, tmp_path: Path) -> None:
    bare = Workspace.create(tmp_path / "bare")
    Model.register(bare, str(kit.src / "score.py"), "m")
    with pytest.raises(WebserviceException, match=r"no Docker compute target is attached: attach one with") as e:
        Model.package(bare, ["m"])
    assert "DockerCompute.attach_configuration()) and package again" in str(e.value)
    with pytest.raises(InvalidArgumentError, match="not a Docker image name"):
        Model.package(kit.ws, [kit.model], kit.inference(), image_name="Bad Name")
    with pytest.raises(InvalidArgumentError, match="not a Docker tag"):
        Model.package(kit.ws, [kit.model], kit.inference(), image_label="-x")


def test_a_failed_build_raises_with_the_end_of_its_log(kit: Kit) -> None:
    env = Environment("package-broken")
    env.python.pip_packages = ["mlws-no-such-package==0.0.1"]
    package = Model.package(
        kit.ws, [kit.model], InferenceConfig(entry_script="score.py", source_directory=kit.src, environment=env)
    )
    with pytest.raises(WebserviceException, match="failed") as raised:
        package.wait_for_creation(timeout_sec=BUILD_TIMEOUT)
    assert package.state == "Failed" and "mlws-no-such-package" in str(raised.value)
    assert "the end of the log" in str(raised.value)


def test_a_failed_image_build_raises_with_the_end_of_the_build_log(
    kit: Kit, built: ModelPackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    dockerfile = ModelPackage._dockerfile
    monkeypatch.setattr(
        ModelPackage, "_dockerfile", lambda self, d: dockerfile(self, d) + "RUN echo step-output && exit 3\n"
    )
    name = f"mlws-test-broken-{uuid.uuid4().hex[:8]}"
    package = Model.package(kit.ws, [kit.model], kit.inference(), image_name=name)
    with pytest.raises(WebserviceException, match=f"the image {name}:latest failed to build") as raised:
        package.wait_for_creation(timeout_sec=BUILD_TIMEOUT)
    assert "the end of the build log" in str(raised.value) and "step-output" in str(raised.value)
    assert "returned a non-zero code: 3" in str(raised.value)
