"""Deploying, updating and deleting a web service: the files of a generation, the record, the
supervisor.

A deployment is prepared here, in the deploying process (its imports are warm: the cold start is
the worker's alone): the model versions are downloaded into ``gen-<N>/models``, the source folder is
copied to ``gen-<N>/source``, the environment is built (its log goes to the service log), and the
worker's ``config.json`` is written; the folder appears complete or not at all (temp + rename). Then
``service.json`` names the generation and the supervisor is started (a first deployment) or told
(SIGHUP: an update, which it makes without downtime).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.compute import ComputeTarget
from ..core.environment import Environment, build_environment
from ..core.interfaces.webservices import WebserviceRecord
from ..core.model import Framework, Model
from ..errors import InvalidArgumentError, MlwsError, NotFoundError, WebserviceException
from .config import (
    DeploymentConfiguration,
    DockerWebserviceDeploymentConfiguration,
    InferenceConfig,
    LocalWebserviceDeploymentConfiguration,
    validate_service_name,
)
from .inputs import publish_capture
from .layout import ServiceFolder, process_start, write_json

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = [
    "check_models",
    "deploy",
    "docker_environment_image",
    "docker_target",
    "download_models",
    "model_dir_of",
    "model_variables",
    "reload",
    "remove",
    "service_folder",
    "update",
]

# The layout of an environment's image (compute/environments/image.py): its Python, and where the
# running package is mounted.
IMAGE_PYTHON = "/opt/mlws/venv/bin/python"
PACKAGE_MOUNT = "/opt/mlws/lib"
SERVING_ENVIRONMENT = "mlws-serving"  # the environment of a Docker service deployed without one
MLFLOW_ENVIRONMENT = "mlws-serving-mlflow"  # a container serving one pickled model (no entry script)
_MLFLOW_DISTRIBUTIONS = ("joblib", "numpy", "pandas", "scikit-learn")
SOURCE_IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".ipynb_checkpoints", ".mlws", ".venv")


def copy_source(source: Path, target: Path) -> None:
    """Copy a service's source folder: without caches, version control and workspaces, and without
    what a link leads to outside the folder (an image must not carry ``data -> ~/...``)."""
    root = source.resolve()

    def ignored(folder: str, names: list[str]) -> set[str]:
        skipped = set(SOURCE_IGNORED(folder, names))
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                skipped.add(name)
        return skipped

    shutil.copytree(root, target, ignore=ignored, symlinks=False)


STOP_TIMEOUT_S = 40.0

# Double fork: the launcher exits at once, the supervisor is re-parented to init in its own session.
_LAUNCHER = (
    "import os, sys\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    os.execv(sys.executable, [sys.executable, '-m', 'jupyter_mlws.serving.supervisor', sys.argv[1]])\n"
)


def mlflow_environment(framework: str | None = None, framework_version: str | None = None) -> Environment:
    """The environment of a package that serves one pickled model with MLflow's request shapes: what
    its scorer imports (joblib, numpy, pandas) and scikit-learn (unless the model names another
    framework), at this machine's versions (the pickle was most likely made here) or the model's
    ``model_framework_version``. v1 chose a no-code deployment's environment from the framework, too."""
    env = Environment(MLFLOW_ENVIRONMENT)
    pins = []
    for name in _MLFLOW_DISTRIBUTIONS:
        if name == "scikit-learn":
            if framework not in (None, Framework.SCIKITLEARN):
                continue
            if framework_version:
                pins.append(f"{name}=={framework_version}")
                continue
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    env.python.pip_packages = pins
    return env


def service_folder(workspace: Workspace, name: str) -> ServiceFolder:
    return ServiceFolder.of(workspace.path, name)


def model_ids(workspace: Workspace, models: Any) -> list[str]:
    """``"name:version"`` of each model given as a ``Model``, ``"name:version"`` or ``"name"`` (its
    newest version); each must exist."""
    if models is None or isinstance(models, str | bytes) or not isinstance(models, Sequence) or not models:
        raise InvalidArgumentError("models must be a non-empty list of Model objects (or 'name:version' ids)")
    ids: list[str] = []
    registry = workspace.services.registry
    for model in models:
        if isinstance(model, str):
            name, _, version = model.partition(":")
            if version and not version.isdigit():
                raise InvalidArgumentError(f"model id {model!r} must be 'name' or 'name:version'")
            record = registry.model(name, int(version) if version else None)
        elif hasattr(model, "name") and hasattr(model, "version"):
            record = registry.model(model.name, int(model.version))
        else:
            raise InvalidArgumentError(f"models must hold Model objects or 'name:version' ids, got {model!r}")
        ids.append(f"{record.name}:{record.version}")
    if len(set(ids)) != len(ids):
        raise InvalidArgumentError(f"models names the same version twice: {ids}")
    return ids


def docker_target(workspace: Workspace, name: str | None, then: str = "deploy again") -> ComputeTarget:
    """The Docker target ``name``, else the first attached one (none: an error saying how to attach
    one, and ``then`` what to do)."""
    if name is not None:
        target = ComputeTarget(workspace, name)
        if target.type != "docker":
            raise InvalidArgumentError(f"compute target {name!r} is a {target.type!r} target, not a Docker one")
        return target
    for target in ComputeTarget.list(workspace):
        if target.type == "docker":
            return target
    raise InvalidArgumentError(
        "no Docker compute target is attached: attach one with ComputeTarget.attach(ws, 'docker', "
        f"DockerCompute.attach_configuration()) and {then}"
    )


def _log(folder: ServiceFolder, message: str) -> None:
    log_line(folder.log_file, "deploy", message)


def log_line(log_file: Path, source: str, message: str) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a", encoding="utf-8") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{source}] {message}\n")


def docker_environment_image(
    workspace: Workspace, environment: Environment | None, compute_target: str | None, log_file: Path, source: str
) -> tuple[ComputeTarget, str]:
    """The Docker target (named, else the first attached) and the image of ``environment`` built
    for it (None: the serving default, the target's base image with the runtime), its log appended to
    ``log_file``. A Docker web service runs this image; a model package is built FROM it."""
    target = docker_target(workspace, compute_target)
    env = environment if environment is not None else Environment(SERVING_ENVIRONMENT)
    log_line(log_file, source, f"building the image of environment {env.name} on {target.name}")
    result = build_environment(
        workspace, env.name, env.version, env.definition(), "docker", target.config, log_file=log_file
    )
    return target, result.location


def download_models(workspace: Workspace, models: list[str], root: Path, final_root: str | None = None) -> str:
    """Download each ``name:version`` to ``root/<name>/<version>/``; returns the model folder as the
    worker sees it (under ``final_root``, default ``root``): one model → its version folder, several →
    the root (``MLWS_MODEL_DIR``, v1's ``AZUREML_MODEL_DIR``)."""
    registry = workspace.services.registry
    for model_id in models:
        name, _, version = model_id.rpartition(":")
        registry.download_model(name, int(version), root / name / version, exist_ok=True)
    return model_dir_of(final_root if final_root is not None else str(root), models)


def model_dir_of(root: str, models: list[str]) -> str:
    if len(models) == 1:
        name, _, version = models[0].rpartition(":")
        return f"{root.rstrip('/')}/{name}/{version}"
    return root


def model_variables(model_dir: str, models: list[str], service: str) -> dict[str, str]:
    """The variables a worker's entry script sees: where its models are and which they are."""
    return {
        "MLWS_MODEL_DIR": model_dir,
        "AZUREML_MODEL_DIR": model_dir,
        "MLWS_MODELS": ",".join(models),
        "MLWS_SERVICE_NAME": service,
    }


def mlflow_environment_of(workspace: Workspace, models: list[str]) -> Environment:
    name, _, number = models[0].rpartition(":")
    model = Model(workspace, name, int(number))
    return mlflow_environment(model.model_framework, model.model_framework_version)


def _build(
    workspace: Workspace,
    folder: ServiceFolder,
    inference: InferenceConfig,
    deployment: DeploymentConfiguration,
    models: list[str],
) -> dict[str, Any]:
    """The environment's interpreter (local) or image (Docker), as ``service.json`` fields."""
    env = inference.environment
    if isinstance(deployment, DockerWebserviceDeploymentConfiguration):
        if inference.entry_script is None and env is None:  # the container needs what the pickle needs
            env = mlflow_environment_of(workspace, models)
        target, image = docker_environment_image(workspace, env, deployment.compute_target, folder.log_file, "deploy")
        return {
            "docker": {
                "host": target.config.get("docker_host"),
                "image": image,
                "python": IMAGE_PYTHON,
                "package_mount": PACKAGE_MOUNT,
                "cpu_cores": deployment.cpu_cores,
                "memory_gb": deployment.memory_gb,
                "target": target.name,
            }
        }
    if env is None:
        return {"python": sys.executable}
    _log(folder, f"building environment {env.name}")
    result = build_environment(
        workspace, env.name, env.version, env.definition(), "local", {}, log_file=folder.log_file
    )
    return {"python": result.location}


def _prepare(
    workspace: Workspace,
    folder: ServiceFolder,
    generation: int,
    models: list[str],
    inference: InferenceConfig,
    deployment: DeploymentConfiguration,
) -> None:
    """Write ``gen-<generation>/`` complete, or leave nothing."""
    final = folder.generation_dir(generation)
    tmp = final.with_name(f".{final.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(final, ignore_errors=True)  # left by a deployment that failed after its rename
    try:
        model_dir = download_models(workspace, models, tmp / "models", str(final / "models"))
        source = tmp / "source"
        if inference.entry_script is not None:
            copy_source(Path(inference.source_directory), source)
        else:
            source.mkdir(parents=True)
        env = inference.environment
        variables = dict(getattr(env, "environment_variables", None) or {}) if env is not None else {}
        variables.update(model_variables(str(model_dir), models, folder.name))
        config = {
            "service": folder.name,
            "generation": generation,
            "entry_script": inference.entry_script,
            "source_dir": str(final / "source"),
            "model_dir": str(model_dir),
            "models": models,
            "auth": deployment.auth_enabled,
            "keys_file": str(folder.keys_file),
            "max_request_bytes": int(deployment.max_request_size_mb * (1 << 20)),
            "request_timeout_s": deployment.scoring_timeout_ms / 1000.0,
            "telemetry_dir": str(folder.telemetry_dir),
            "capture_dir": str(folder.capture_dir) if deployment.enable_data_collection else None,
            "capture_sample_rate": float(deployment.data_collection_sample_rate),
            "environment_variables": variables,
        }
        write_json(tmp / "config.json", config)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _service_fields(
    folder: ServiceFolder,
    generation: int,
    deployment: DeploymentConfiguration,
    runtime: dict[str, Any],
) -> dict[str, Any]:
    docker = isinstance(deployment, DockerWebserviceDeploymentConfiguration)
    return {
        "name": folder.name,
        "generation": generation,
        "compute_type": "docker" if docker else "local",
        "host": "127.0.0.1",
        "port": int(deployment.port or 0),
        **runtime,
    }


def _start_supervisor(workspace: Workspace, folder: ServiceFolder) -> None:
    with open(folder.log_file, "ab") as log:
        subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(folder.root)],
            env={**os.environ, **workspace.database_environment()},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            close_fds=True,
            cwd=folder.root,
            check=True,
            timeout=60,
        )
    # The dispatcher agent restarts the supervisor if it dies (the ``serving`` agent task).
    with contextlib.suppress(MlwsError):
        ComputeTarget(workspace, "local").backend().ensure_dispatching()


def start_supervisor(workspace: Workspace, folder: ServiceFolder) -> None:
    """Start the service's supervisor unless it runs (the agent task's restart, too)."""
    if not folder.supervisor_alive():
        _start_supervisor(workspace, folder)


def _configurations(
    inference_config: InferenceConfig | None, deployment_config: Any
) -> tuple[InferenceConfig, DeploymentConfiguration]:
    inference = inference_config if inference_config is not None else InferenceConfig()
    if not isinstance(inference, InferenceConfig):
        raise InvalidArgumentError(f"inference_config must be an InferenceConfig, got {type(inference).__name__}")
    deployment = deployment_config if deployment_config is not None else LocalWebserviceDeploymentConfiguration()
    if not isinstance(deployment, DeploymentConfiguration):
        raise InvalidArgumentError(
            "deployment_config must come from LocalWebservice.deploy_configuration(...) or "
            f"DockerWebservice.deploy_configuration(...), got {type(deployment).__name__}"
        )
    if inference.entry_script is not None:
        inference.script_path()
    return inference, deployment


def _with_registered_environment(workspace: Workspace, inference: InferenceConfig) -> InferenceConfig:
    """The configuration with its environment registered (versioned by content, as v1's deploy does): the
    record names it by name and version, so a later update without an inference config rebuilds it."""
    env = inference.environment
    if env is None or getattr(env, "version", None) is not None:
        return inference
    registered = copy.copy(inference)
    registered.environment = env.register(workspace)
    return registered


def check_models(inference: InferenceConfig, models: list[str]) -> None:
    if inference.entry_script is None and len(models) != 1:
        raise InvalidArgumentError(
            "a service without an entry script serves exactly one pickled model; give one model or an "
            "InferenceConfig(entry_script=...)"
        )


def _deploy(
    workspace: Workspace,
    name: str,
    models: Any,
    inference_config: InferenceConfig | None = None,
    deployment_config: Any = None,
    overwrite: bool = False,
    show_output: bool = False,
) -> None:
    """Record and start a new service (an existing one of the same kind is updated when
    ``overwrite``); returns once its supervisor runs, before the worker is ready."""
    name = validate_service_name(name)
    inference, deployment = _configurations(inference_config, deployment_config)
    inference = _with_registered_environment(workspace, inference)
    ids = model_ids(workspace, models)
    check_models(inference, ids)
    store = workspace.metadata
    compute_type = "docker" if isinstance(deployment, DockerWebserviceDeploymentConfiguration) else "local"
    try:
        existing = store.get_webservice(name)
    except NotFoundError:
        existing = None
    if existing is not None:
        if not overwrite:
            raise WebserviceException(
                f"a web service named {name!r} already exists; pass overwrite=True, call "
                f"Webservice(ws, {name!r}).update(...), or delete it first"
            )
        if existing.compute_type == compute_type and deployment.port in (None, 0, existing.config.get("port")):
            if service_folder(workspace, name).supervisor_alive():
                _update(workspace, name, ids, inference, deployment)
                return
        _remove(workspace, name)  # another kind, another port, or nothing running: deploy afresh
    folder = service_folder(workspace, name)
    now = time.time()
    record = WebserviceRecord(
        name=name,
        compute_type=compute_type,
        generation=1,
        models=tuple(ids),
        inference=inference.to_dict(),
        config=deployment.to_dict(),
        created_time=now,
        updated_time=now,
        description=deployment.description or inference.description,
        tags=deployment.tags,
        properties=deployment.properties,
    )
    store.create_webservice(record)  # the name is ours, and the registry guards the models, from here on
    try:
        shutil.rmtree(folder.root, ignore_errors=True)  # a folder left by a service deleted by hand
        folder.create()
        keys = {"primary": secrets.token_urlsafe(32), "secondary": secrets.token_urlsafe(32)}
        write_json(folder.keys_file, keys, 0o600)
        _log(folder, f"deploying {name}: models {', '.join(ids)}")
        runtime = _build(workspace, folder, inference, deployment, ids)
        _prepare(workspace, folder, 1, ids, inference, deployment)
        write_json(folder.service_file, _service_fields(folder, 1, deployment, runtime))
        _start_supervisor(workspace, folder)
    except BaseException:
        # Nothing serves: leave no half-made service behind (deploying again needs no overwrite).
        with contextlib.suppress(Exception):
            store.delete_webservice(name)
        shutil.rmtree(folder.root, ignore_errors=True)
        raise
    if show_output:
        print(f"Deploying {name} ({compute_type}); the service log: {folder.log_file}")


def _update(
    workspace: Workspace,
    name: str,
    models: list[str] | None,
    inference: InferenceConfig | None,
    deployment: DeploymentConfiguration | None,
    timeout: float = 180.0,
) -> None:
    """Deploy the next generation beside the serving one and wait for the switch (or its failure,
    raised with the traceback; the old generation then goes on serving)."""
    store = workspace.metadata
    record = store.get_webservice(name)
    folder = service_folder(workspace, name)
    service = folder.service()
    if not service or not folder.supervisor_alive():
        raise WebserviceException(
            f"web service {name!r} is not running (state {folder.state().get('state', 'unknown')}); delete it and "
            "deploy again"
        )
    ids = list(record.models) if models is None else model_ids(workspace, models)
    if inference is None:  # the serving code again (not what its source folder holds now)
        inference = _inference_of(workspace, record, folder.generation_dir(record.generation) / "source")
    elif not isinstance(inference, InferenceConfig):
        raise InvalidArgumentError(f"inference_config must be an InferenceConfig, got {type(inference).__name__}")
    else:
        if inference.entry_script is not None:
            inference.script_path()
        inference = _with_registered_environment(workspace, inference)
    check_models(inference, ids)
    if deployment is None:
        docker = record.compute_type == "docker"
        kind: type[DeploymentConfiguration] = (
            DockerWebserviceDeploymentConfiguration if docker else LocalWebserviceDeploymentConfiguration
        )
        deployment = kind(**record.config)
    if deployment.port not in (None, 0, service.get("port")):
        raise InvalidArgumentError(
            f"the port of web service {name!r} cannot change on update ({service.get('port')} → {deployment.port}); "
            "delete it and deploy again"
        )
    generation = _next_generation(folder, record.generation)
    _log(folder, f"updating {name} to generation {generation}: models {', '.join(ids)}")
    runtime = _build(workspace, folder, inference, deployment, ids)
    _prepare(workspace, folder, generation, ids, inference, deployment)
    config = {**deployment.to_dict(), "port": service.get("port")}
    write_json(folder.service_file, {**service, **runtime, "generation": generation})
    _signal(folder, signal.SIGHUP)
    try:
        _wait_for_switch(folder, name, generation, timeout)
    except BaseException:
        # The old generation goes on serving: the service file names it again (a restarted supervisor
        # starts it, not the failed one), the record keeps its models (still guarded), the files go.
        write_json(folder.service_file, service)
        _signal(folder, signal.SIGHUP)
        shutil.rmtree(folder.generation_dir(generation), ignore_errors=True)
        raise
    # Recorded once it serves: lists, the delete guard and the next update see what really runs.
    store.update_webservice(
        name, generation=generation, models=ids, inference=inference.to_dict(), config=config, updated_time=time.time()
    )
    _forget_old_generations(folder, generation)


def _signal(folder: ServiceFolder, signum: int) -> None:
    pid = folder.state().get("pid")
    if isinstance(pid, int) and folder.supervisor_alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _wait_for_switch(folder: ServiceFolder, name: str, generation: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = folder.state()
        progress = state.get("update") or {}
        if progress.get("generation") == generation and progress.get("status") == "done":
            return
        if progress.get("generation") == generation and progress.get("status") == "failed":
            raise WebserviceException(
                f"the update of {name!r} to generation {generation} failed; generation "
                f"{state.get('generation')} goes on serving:\n{progress.get('error')}"
            )
        if not folder.supervisor_alive():
            raise WebserviceException(f"the supervisor of {name!r} stopped during the update; see get_logs()")
        time.sleep(0.05)
    raise WebserviceException(f"the update of {name!r} did not finish within {timeout:g} s; see get_logs()")


@contextlib.contextmanager
def _service_lock(workspace: Workspace, name: str) -> Iterator[None]:
    """One deployment change of a service at a time, across processes (two updates would take the same
    generation; a delete must not race a deploy)."""
    folder = Path(workspace.path) / "services"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def deploy(
    workspace: Workspace,
    name: str,
    models: Any,
    inference_config: InferenceConfig | None = None,
    deployment_config: Any = None,
    overwrite: bool = False,
    show_output: bool = False,
) -> None:
    """Record and start a new service (with ``overwrite`` an existing one is updated in place when it
    runs with the same kind and port, else replaced); returns once its supervisor runs, before the
    worker is ready."""
    name = validate_service_name(name)
    with _service_lock(workspace, name):
        _deploy(workspace, name, models, inference_config, deployment_config, overwrite, show_output)


def update(
    workspace: Workspace,
    name: str,
    models: list[str] | None,
    inference: InferenceConfig | None,
    deployment: DeploymentConfiguration | None,
    timeout: float = 180.0,
) -> None:
    """Deploy the next generation beside the serving one and wait for the switch (or its failure,
    raised with the traceback; the old generation then goes on serving)."""
    with _service_lock(workspace, name):
        _update(workspace, name, models, inference, deployment, timeout)


def reload(workspace: Workspace, name: str) -> None:
    """The service's code again from the source folder it was deployed from, with the same models."""
    with _service_lock(workspace, name):
        record = workspace.metadata.get_webservice(name)
        _update(workspace, name, None, _inference_of(workspace, record), None)


def remove(workspace: Workspace, name: str) -> None:
    """Stop the service, forget it (its models may be deleted again) and remove its files. The
    captured inputs stay: they are a dataset of the workspace."""
    with _service_lock(workspace, name):
        _remove(workspace, name)


def _inference_of(workspace: Workspace, record: WebserviceRecord, source: Path | None = None) -> InferenceConfig:
    """The service's inference configuration again (its environment by name and version), its code
    from ``source`` (default: the source folder it was deployed from)."""
    saved = dict(record.inference)
    env = saved.get("environment")
    environment = Environment.get(workspace, env["name"], env.get("version")) if env else None
    return InferenceConfig(
        entry_script=saved.get("entry_script"),
        source_directory=str(source) if source is not None else saved.get("source_directory"),
        environment=environment,
    )


def _next_generation(folder: ServiceFolder, recorded: int) -> int:
    """A number no earlier attempt used (a failed update's number is not given out again: its state
    must never be mistaken for the next attempt's)."""
    used = [recorded, int(folder.service().get("generation") or 0)]
    update = folder.state().get("update")
    if isinstance(update, dict) and isinstance(update.get("generation"), int):
        used.append(update["generation"])
    for path in folder.root.glob("gen-*"):
        with contextlib.suppress(ValueError):
            used.append(int(path.name[4:]))
    return max(used) + 1


def _forget_old_generations(folder: ServiceFolder, serving: int) -> None:
    """Generations before the previous one are gone for good (the previous stays for a rollback)."""
    for path in folder.root.glob("gen-*"):
        with contextlib.suppress(ValueError):
            if int(path.name[4:]) < serving - 1:
                shutil.rmtree(path, ignore_errors=True)


def stop(folder: ServiceFolder, timeout: float = STOP_TIMEOUT_S) -> None:
    """Stop the supervisor (its workers drain) and wait until it is gone."""
    state = folder.state()
    pid, started = state.get("pid"), state.get("pid_start")
    now = process_start(pid) if isinstance(pid, int) else None
    if not isinstance(pid, int) or now is None or (started is not None and now != started):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process_start(pid) is not None:
        time.sleep(0.05)
    if process_start(pid) is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _remove(workspace: Workspace, name: str) -> None:
    """Stop the service, forget it (its models may be deleted again) and remove its files. The
    captured inputs stay: they are a dataset of the workspace."""
    store = workspace.metadata
    record = store.get_webservice(name)  # NotFoundError naming it
    folder = service_folder(workspace, name)
    folder.service_file.unlink(missing_ok=True)  # the agent's serving task restarts it no more
    stop(folder)
    if record.config.get("enable_data_collection"):
        with contextlib.suppress(MlwsError):  # what the workers flushed as they drained
            publish_capture(workspace, folder)
    store.delete_webservice(name)
    shutil.rmtree(folder.root, ignore_errors=True)
