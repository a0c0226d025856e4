"""The Docker engine a ``docker`` target talks to: a client, or a clear error saying how to get one
running, and what every job container has (its runtime's paths, its limits). Shared by the target
(:mod:`.docker`), its pooled kernels (:mod:`.docker_kernels`) and image builds
(:mod:`.environments.image`)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailableError

if TYPE_CHECKING:
    import docker

__all__ = [
    "API_MOUNT",
    "CONTAINER_VARIABLES",
    "DEFAULT_DOCKER_HOST",
    "IMAGE_PYTHON",
    "PACKAGE_MOUNT",
    "RUN_LABEL",
    "container_options",
    "engine",
]

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
RUN_LABEL = "mlws.run_id"  # on every container of a run (a job's, a build's): abandon() finds them by it
IMAGE_PYTHON = "/opt/mlws/venv/bin/python"
PACKAGE_MOUNT = "/opt/mlws/lib"
API_MOUNT = "/run/mlws"  # the job API's private folder, inside the container
# What every job container's environment has beside the job's own variables.
CONTAINER_VARIABLES = {
    "PYTHONPATH": PACKAGE_MOUNT,
    "HOME": "/tmp",  # noqa: S108 - the submitting user has no home inside the image
}


def engine(config: Mapping[str, Any], timeout: float = 120) -> docker.DockerClient:
    """A client for the target's Docker engine, or a clear error saying how to get one running."""
    try:
        import docker
    except ImportError:
        raise BackendUnavailableError(
            'the docker compute target needs the Docker client library: pip install "jupyter-mlws[docker]"'
        ) from None
    host = config.get("docker_host") or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    try:
        if host.startswith("unix://"):
            # Probe the socket ourselves: the client leaks its socket when the connection fails.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(5)
                probe.connect(host[len("unix://") :])
        return docker.DockerClient(base_url=host, version="auto", timeout=timeout)
    except (OSError, docker.errors.DockerException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).split("(", 1)[0].strip()
        reason = reason or type(exc).__name__
        raise BackendUnavailableError(
            f"the Docker engine at {host} does not answer ({reason}). Start it (`sudo systemctl start docker`, "
            "or `sudo dockerd &`), or set the compute target's docker_host (or DOCKER_HOST) to a running engine"
        ) from None


def container_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The target's limits and devices as keyword arguments of ``containers.create``."""
    import docker

    options: dict[str, Any] = {}
    if config.get("cpus"):
        options["nano_cpus"] = int(float(config["cpus"]) * 1e9)
    if config.get("memory"):
        options["mem_limit"] = config["memory"]
    if config.get("shm_size"):
        options["shm_size"] = config["shm_size"]
    if config.get("gpus"):
        count = -1 if config["gpus"] == "all" else int(config["gpus"])
        options["device_requests"] = [docker.types.DeviceRequest(count=count, capabilities=[["gpu"]])]
    return options
