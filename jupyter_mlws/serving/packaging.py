"""v1's model packaging: ``Model.package(ws, models, inference_config)`` → a :class:`ModelPackage`, a
Docker image that serves the models alone (``docker run -p 5001:5001 IMAGE``, no workspace), or with
``generate_dockerfile=True`` the Dockerfile and build context of one (``package.save(dir)``).

The image is built FROM the environment's image, the one a Docker web service runs (built by the
attached Docker target, ``deploy.docker_environment_image``), and adds:

    /var/azureml-app/azureml-models/<name>/<version>/…   the model versions (v1's layout)
    /var/azureml-app/source/                              the inference config's source folder
    /var/azureml-app/config.json                          the worker's configuration (notes/serving.md)
    /opt/mlws/lib/jupyter_mlws/                           this package (PYTHONPATH), for the worker and
                                                          ``Model.get_model_path`` in entry scripts

and serves on 0.0.0.0:5001 with the scoring worker (``--port``: it binds itself). Auth is off unless
``docker run -e MLWS_SERVICE_KEY=<key>[,<second key>]`` gives keys (the worker config's ``key_env``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.environment import Environment
from ..errors import InvalidArgumentError, WebserviceException
from .config import InferenceConfig
from .deploy import (
    IMAGE_PYTHON,
    PACKAGE_MOUNT,
    SERVING_ENVIRONMENT,
    SOURCE_IGNORED,
    check_models,
    copy_source,
    docker_environment_image,
    download_models,
    log_line,
    mlflow_environment_of,
    model_ids,
)

if TYPE_CHECKING:
    from ..core.compute import ComputeTarget
    from ..core.workspace import Workspace

__all__ = ["APP_ROOT", "KEY_VARIABLE", "PORT", "ContainerRegistry", "ModelPackage"]

APP_ROOT = "/var/azureml-app"
MODELS_ROOT = f"{APP_ROOT}/azureml-models"
SOURCE_ROOT = f"{APP_ROOT}/source"
CONFIG_PATH = f"{APP_ROOT}/config.json"
PORT = 5001
KEY_VARIABLE = "MLWS_SERVICE_KEY"
DEFAULT_LABEL = "latest"
BUILD_TIMEOUT_S = 600
_LOG_TAIL_LINES = 30
# Docker's reference grammar: [registry[:port]/]path-component(/path-component)*, tags 1-128 characters.
_IMAGE_NAME = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_STEP_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12,64})$", re.MULTILINE)
_IMAGE_LABEL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class ContainerRegistry:
    """v1's ``package.get_container_registry()``: here the Docker engine of the target that built the
    package (no registry to log in to: ``address`` is the engine, ``username``/``password`` None)."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self.username: str | None = None
        self.password: str | None = None

    def __repr__(self) -> str:
        return f"ContainerRegistry(address={self.address!r})"


class ModelPackage:
    """A packaged model (``Model.package(...)``). Creation runs in the background from the start:
    ``wait_for_creation(show_output=True)`` waits (raising on failure with the build log's end);
    ``location`` is the image (``name:label``) on the Docker engine of the target that built it;
    ``save(dir)`` writes the Dockerfile and its build context."""

    def __init__(self, workspace: Workspace, package_id: str, **fields: Any) -> None:
        # Packages live as long as this object: use Model.package(...) to make one.
        self.workspace = workspace
        self.id = package_id
        self.image_name: str = fields["image_name"]
        self.image_label: str = fields["image_label"]
        self.generate_dockerfile: bool = fields["generate_dockerfile"]
        self.models: list[str] = fields["models"]
        self._inference: InferenceConfig = fields["inference"]
        self.environment: Environment | None = fields["environment"]  # None: the serving default
        self._target: ComputeTarget = fields["target"]
        self.created_time = time.time()
        self.base_image: str | None = None
        self.state = "NotStarted"
        self.error: str | None = None
        self.log_file = Path(workspace.path) / "packages" / f"{package_id}.log"
        self._thread: threading.Thread | None = None

    # -- creation ------------------------------------------------------------------------------------------
    @staticmethod
    def _create(
        workspace: Workspace,
        models: Any,
        inference_config: InferenceConfig | None = None,
        generate_dockerfile: bool = False,
        image_name: str | None = None,
        image_label: str | None = None,
    ) -> ModelPackage:
        """``Model.package(...)``: check everything that can be checked at once, then build in the
        background."""
        from .deploy import docker_target

        inference = inference_config if inference_config is not None else InferenceConfig()
        if not isinstance(inference, InferenceConfig):
            raise InvalidArgumentError(f"inference_config must be an InferenceConfig, got {type(inference).__name__}")
        if inference.entry_script is not None:
            inference.script_path()
        ids = model_ids(workspace, models)
        check_models(inference, ids)
        environment = inference.environment
        if inference.entry_script is None and environment is None:  # what the pickle needs
            environment = mlflow_environment_of(workspace, ids)
        try:
            target = docker_target(workspace, None, then="package again")
        except InvalidArgumentError as exc:
            raise WebserviceException(f"Model.package builds with a Docker engine: {exc}") from None
        if image_name is None:
            image_name = f"package-{_content_hash(ids, inference)}"
        elif not isinstance(image_name, str) or not _IMAGE_NAME.match(image_name) or len(image_name) > 255:
            raise InvalidArgumentError(
                f"image_name {image_name!r} is not a Docker image name: lowercase letters, digits and '.', '_', '-' "
                "separated by '/', optionally after a registry host (e.g. 'iris-model' or 'myregistry:5000/iris')"
            )
        label = DEFAULT_LABEL if image_label is None else image_label
        if not isinstance(label, str) or not _IMAGE_LABEL.match(label):
            raise InvalidArgumentError(
                f"image_label {image_label!r} is not a Docker tag: up to 128 letters, digits, '_', '.' and '-', "
                "not starting with '.' or '-'"
            )
        package = ModelPackage(
            workspace,
            f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}",
            image_name=image_name,
            image_label=label,
            generate_dockerfile=bool(generate_dockerfile),
            models=ids,
            inference=inference,
            environment=environment,
            target=target,
        )
        package._start()
        return package

    def _start(self) -> None:
        self.state = "Running"
        self._log(f"packaging {', '.join(self.models)} as {self.location}")
        self._thread = threading.Thread(target=self._run, name=f"mlws-package-{self.id}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            _, self.base_image = docker_environment_image(
                self.workspace, self.environment, self._target.name, self.log_file, "package"
            )
            if not self.generate_dockerfile:
                self._build_image()
            self._log("done: " + (f"image {self.location}" if not self.generate_dockerfile else "Dockerfile package"))
            self.state = "Succeeded"
        except BaseException as exc:  # the thread's end: everything goes into the state
            message = str(exc) or type(exc).__name__
            self.error = message
            with contextlib.suppress(Exception):
                self._log(f"failed: {message}")
            self.state = "Failed"

    def _build_image(self) -> None:
        import docker

        with tempfile.TemporaryDirectory(prefix="mlws-package-") as scratch:
            context = Path(scratch) / "context"
            self._write_context(context)
            self._log(f"building image {self.location} FROM {self.base_image}")
            client = docker.DockerClient(
                base_url=self._target.config.get("docker_host"), version="auto", timeout=BUILD_TIMEOUT_S
            )
            error: str | None = None
            layers: list[str] = []  # the images of the steps that succeeded (classic builder: "---> <id>")
            try:
                labels = {"mlws.package": self.image_name, "mlws.models": ",".join(self.models)}
                stream = client.api.build(
                    path=str(context), tag=self.location, rm=True, forcerm=True, pull=False, decode=True, labels=labels
                )
                for chunk in stream:
                    text = chunk.get("stream") or chunk.get("status")
                    if text:
                        self._append(text)
                        layers += _STEP_IMAGE.findall(text)
                    if "error" in chunk:
                        error = str(chunk.get("error") or chunk.get("errorDetail"))
                        self._append(f"ERROR: {error}\n")
            except docker.errors.APIError as exc:
                error = f"the Docker engine said: {exc.explanation or exc}"
                self._append(f"ERROR: {error}\n")
            finally:
                if error is not None:
                    _remove_untagged(client, layers[1:])  # the first is the environment's image
                client.close()
            if error is not None:
                raise WebserviceException(
                    f"the image {self.location} failed to build: {error}\nthe end of the build log "
                    f"({self.log_file}):\n{self._tail()}"
                )

    # -- the build context ----------------------------------------------------------------------------------
    def _write_context(self, context: Path) -> None:
        """The Dockerfile and everything it copies, into ``context`` (created; must not exist)."""
        if self.base_image is None:
            raise WebserviceException("the package's environment image is not built yet: call wait_for_creation()")
        context.mkdir(parents=True)
        model_dir = download_models(self.workspace, self.models, context / "azureml-models", MODELS_ROOT)
        source = context / "source"
        if self._inference.entry_script is not None:
            src = Path(self._inference.source_directory).resolve()
            copy_source(Path(src), source)
        else:
            source.mkdir()
        package_dir = Path(__file__).resolve().parents[1]
        shutil.copytree(package_dir, context / "mlws" / "jupyter_mlws", ignore=SOURCE_IGNORED)
        config = self._worker_config(model_dir)
        (context / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (context / "Dockerfile").write_text(self._dockerfile(model_dir), encoding="utf-8")
        (context / ".dockerignore").write_text("**/__pycache__\n**/*.pyc\n", encoding="utf-8")

    def _worker_config(self, model_dir: str) -> dict[str, Any]:
        from .deploy import model_variables

        env = self.environment
        variables = dict(env.environment_variables) if env is not None else {}
        variables.update(model_variables(model_dir, self.models, self.image_name.rsplit("/", 1)[-1]))
        return {
            "service": self.image_name.rsplit("/", 1)[-1],
            "generation": 1,
            "entry_script": self._inference.entry_script,
            "source_dir": SOURCE_ROOT,
            "model_dir": model_dir,
            "models": self.models,
            "auth": False,
            "keys_file": None,
            "key_env": KEY_VARIABLE,
            "max_request_bytes": 32 << 20,
            "request_timeout_s": 60.0,
            "telemetry_dir": None,
            "capture_dir": None,
            "capture_sample_rate": 1.0,
            "environment_variables": variables,
            "host": "0.0.0.0",  # noqa: S104 - a container's port is published by `docker run -p`
        }

    def _dockerfile(self, model_dir: str) -> str:
        env = {
            "PYTHONPATH": PACKAGE_MOUNT,
            "PYTHONUNBUFFERED": "1",
            "MLWS_MODEL_DIR": model_dir,
            "AZUREML_MODEL_DIR": model_dir,
            "MLWS_MODELS": ",".join(self.models),
        }
        command = [IMAGE_PYTHON, "-m", "jupyter_mlws.serving.worker", "--config", CONFIG_PATH]
        command += ["--port", str(PORT), "--host", "0.0.0.0"]  # noqa: S104 - published by `docker run -p`
        lines = [
            f"# Generated by jupyter-mlws Model.package(): {', '.join(self.models)}",
            f"# Build: docker build -t {self.location} .    Run: docker run -p {PORT}:{PORT} {self.location}",
            f"# Scoring keys (optional): docker run -e {KEY_VARIABLE}=<key>[,<second key>] ...",
            f"FROM {self.base_image}",
            f"COPY mlws/ {PACKAGE_MOUNT}/",
            f"COPY azureml-models/ {MODELS_ROOT}/",
            f"COPY source/ {SOURCE_ROOT}/",
            f"COPY config.json {CONFIG_PATH}",
            "ENV " + " \\\n    ".join(f"{k}={json.dumps(v)}" for k, v in env.items()),
            f"WORKDIR {SOURCE_ROOT}",
            f"EXPOSE {PORT}",
            f"CMD {json.dumps(command)}",
        ]
        return "\n".join(lines) + "\n"

    # -- v1's API -------------------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """The image, ``name:label``: for a Dockerfile package, the tag ``save()``'s Dockerfile suggests."""
        return f"{self.image_name}:{self.image_label}"

    @property
    def package_type(self) -> str:
        return "Dockerfile" if self.generate_dockerfile else "Image"

    def wait_for_creation(self, show_output: bool = False, timeout_sec: float | None = None) -> None:
        """Wait until the package is built; ``show_output`` prints the build log as it grows. A failed
        build raises ``WebserviceException`` with the end of its log."""
        deadline = None if timeout_sec is None else time.monotonic() + timeout_sec
        lines = self._follow() if show_output else None
        while self._thread is not None and self._thread.is_alive():
            if lines is not None:
                for line in _drain(lines):
                    print(line, end="")
            if deadline is not None and time.monotonic() > deadline:
                raise WebserviceException(
                    f"package {self.location} is still being created after {timeout_sec:g} s; see get_logs()"
                )
            self._thread.join(0.1)
        if lines is not None:
            for line in _drain(lines):
                print(line, end="")
            sys.stdout.flush()
        if self.state == "Failed":
            error = self.error or "unknown error"
            if "build log" not in error:  # an environment build's error: add the end of the log
                error += f"\nthe end of the log ({self.log_file}):\n{self._tail()}"
            raise WebserviceException(f"package {self.location} failed: {error}")

    def get_logs(self, decode: bool = True, offset: int = 0) -> str:
        """The creation log: the environment's image build, then the package image's."""
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return text[offset:]

    def save(self, output_directory: str | Path) -> None:
        """Write the Dockerfile and its whole build context into ``output_directory`` (created; an
        existing folder must be empty). ``docker build -t NAME output_directory`` then builds the image
        on the engine that holds the environment's image."""
        self.wait_for_creation()
        out = Path(output_directory)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise InvalidArgumentError(f"output_directory {str(out)!r} exists and is not an empty folder")
        with contextlib.suppress(FileNotFoundError):
            out.rmdir()
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            self._write_context(tmp)
            tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def pull(self) -> None:
        """v1 pulls the image from the workspace's registry; here it is already on the Docker engine."""
        self.wait_for_creation()
        if self.generate_dockerfile:
            raise WebserviceException("a Dockerfile package has no image: save(dir) it and docker build it")
        print(f"Status: image {self.location} is on the Docker engine of compute target {self._target.name}")

    def get_container_registry(self) -> ContainerRegistry:
        host = self._target.config.get("docker_host")
        return ContainerRegistry(str(host) if host else "local Docker engine")

    def serialize(self) -> dict[str, Any]:
        env = self.environment
        return {
            "id": self.id,
            "packageType": self.package_type,
            "location": self.location,
            "imageName": self.image_name,
            "imageLabel": self.image_label,
            "state": self.state,
            "error": self.error,
            "models": list(self.models),
            "entryScript": self._inference.entry_script,
            "environment": {"name": env.name, "version": env.version}
            if env is not None
            else {"name": SERVING_ENVIRONMENT, "version": None},
            "baseImage": self.base_image,
            "computeTarget": self._target.name,
            "createdTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created_time)),
            "port": PORT,
        }

    def __repr__(self) -> str:
        return f"ModelPackage(location={self.location!r}, state={self.state!r}, models={self.models!r})"

    # -- logs -----------------------------------------------------------------------------------------------
    def _log(self, message: str) -> None:
        log_line(self.log_file, "package", message)

    def _append(self, text: str) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "a", encoding="utf-8") as f:
            f.write(text)

    def _tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return "\n".join(self.get_logs().splitlines()[-lines:])

    def _follow(self) -> Iterator[str]:
        position = 0
        while True:
            try:
                with open(self.log_file, encoding="utf-8", errors="replace") as f:
                    f.seek(position)
                    chunk = f.read()
                    position = f.tell()
            except FileNotFoundError:
                chunk = ""
            yield chunk


def _remove_untagged(client: Any, image_ids: list[str]) -> None:
    """What a failed build left: the untagged images of its steps (newest first; one in use stays)."""
    for image_id in reversed(image_ids):
        with contextlib.suppress(Exception):
            if not client.images.get(image_id).tags:
                client.images.remove(image_id)


def _drain(lines: Iterator[str]) -> list[str]:
    chunk = next(lines)
    return [chunk] if chunk else []


def _content_hash(models: list[str], inference: InferenceConfig) -> str:
    """v1 names packages ``package``; here a name per content (models, script, environment)."""
    payload = json.dumps({"models": models, "inference": inference.to_dict()}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]
