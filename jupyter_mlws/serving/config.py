"""What to deploy and where: v1's ``InferenceConfig`` and the deployment configurations of
``LocalWebservice.deploy_configuration(...)`` and ``DockerWebservice.deploy_configuration(...)``."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError

__all__ = [
    "DeploymentConfiguration",
    "DockerWebserviceDeploymentConfiguration",
    "InferenceConfig",
    "LocalWebserviceDeploymentConfiguration",
    "validate_service_name",
]

# v1's rule for service names; it also makes a safe folder name and container label.
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")


def validate_service_name(name: object) -> str:
    if not isinstance(name, str) or not _SERVICE_NAME.match(name):
        raise InvalidArgumentError(
            f"invalid web service name {name!r}: use 3-32 lowercase letters, digits and '-', starting with a "
            "letter and ending with a letter or digit (Azure ML's rule)"
        )
    return name


class InferenceConfig:
    """How a model is served: an entry script with ``init()`` and ``run(raw_data)`` in
    ``source_directory`` (default: the entry script's folder), run by ``environment`` (None: the
    deploying interpreter on this machine; in Docker an image from the target's default base image).
    v1's other arguments described images built in Azure; they are refused with what to use instead."""

    def __init__(
        self,
        entry_script: str | None = None,
        runtime: str | None = None,
        conda_file: str | None = None,
        extra_docker_file_steps: str | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        enable_gpu: bool | None = None,
        description: str | None = None,
        base_image: str | None = None,
        base_image_registry: Any = None,
        cuda_version: str | None = None,
        environment: Any = None,
    ) -> None:
        refused = {
            "runtime": runtime,
            "conda_file": conda_file,
            "extra_docker_file_steps": extra_docker_file_steps,
            "base_image": base_image,
            "base_image_registry": base_image_registry,
            "cuda_version": cuda_version,
        }
        for name, value in refused.items():
            if value is not None:
                raise InvalidArgumentError(
                    f"InferenceConfig({name}=...) described an image built by Azure ML; pass "
                    "environment=Environment(...) instead (its python.conda_dependencies or pip requirements, "
                    "and docker.base_image for Docker)"
                )
        if enable_gpu:
            raise InvalidArgumentError("InferenceConfig(enable_gpu=True) is not available: services run on CPU here")
        if entry_script is not None and (not isinstance(entry_script, str) or not entry_script.strip()):
            raise InvalidArgumentError(f"entry_script must be a path to a .py file, got {entry_script!r}")
        if environment is not None and not hasattr(environment, "definition"):
            raise InvalidArgumentError(f"environment must be an Environment, got {type(environment).__name__}")
        if entry_script is not None and source_directory is None:
            # Only the entry script's own folder is copied (not the whole working directory).
            script = Path(entry_script)
            source_directory, entry_script = script.parent, script.name
        self.entry_script = entry_script
        self.source_directory = os.fspath(source_directory) if source_directory is not None else "."
        self.environment = environment
        self.description = description

    def script_path(self) -> Path:
        """The entry script (checked to exist inside the source directory)."""
        assert self.entry_script is not None
        source = Path(self.source_directory).resolve()
        if not source.is_dir():
            raise InvalidArgumentError(f"source_directory {self.source_directory!r} is not a folder")
        script = (source / self.entry_script).resolve()
        if not script.is_relative_to(source):
            raise InvalidArgumentError(f"entry_script {self.entry_script!r} must be inside source_directory {source}")
        if not script.is_file():
            raise InvalidArgumentError(
                f"entry_script {self.entry_script!r} does not exist in {source}; give its path relative to "
                "source_directory"
            )
        return script

    def to_dict(self) -> dict[str, Any]:
        env = self.environment
        return {
            "entry_script": self.entry_script,
            "source_directory": str(Path(self.source_directory).resolve()),
            "environment": None if env is None else {"name": env.name, "version": getattr(env, "version", None)},
            "description": self.description,
        }

    def __repr__(self) -> str:
        return f"InferenceConfig(entry_script={self.entry_script!r}, source_directory={self.source_directory!r})"


def _positive(name: str, value: Any, kind: type = float) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidArgumentError(f"{name} must be a positive number, got {value!r}")
    return kind(value)


@dataclass
class DeploymentConfiguration:
    """What both kinds of deployment configure (see their ``deploy_configuration``)."""

    port: int | None = None
    auth_enabled: bool = True
    enable_data_collection: bool = False
    data_collection_sample_rate: float = 1.0
    scoring_timeout_ms: int = 60_000
    max_request_size_mb: float = 32.0
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    description: str | None = None

    compute_type = "Local"

    def __post_init__(self) -> None:
        port = self.port
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535):
            raise InvalidArgumentError(f"port must be a port number (1-65535; 0 or None: any free port), got {port!r}")
        rate = self.data_collection_sample_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            raise InvalidArgumentError(f"data_collection_sample_rate must be between 0.0 and 1.0, got {rate!r}")
        _positive("scoring_timeout_ms", self.scoring_timeout_ms, int)
        _positive("max_request_size_mb", self.max_request_size_mb)
        for name in ("tags", "properties"):
            value = getattr(self, name)
            if not isinstance(value, dict) or not all(isinstance(x, str) for x in (*value, *value.values())):
                raise InvalidArgumentError(f"{name} must be a dict of strings, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("tags", "properties", "description"):
            data.pop(name)
        return data

    def validate_configuration(self) -> None:
        """v1's check; the constructor has done it."""


@dataclass
class LocalWebserviceDeploymentConfiguration(DeploymentConfiguration):
    """A service as a process on this machine (``LocalWebservice.deploy_configuration``)."""


@dataclass
class DockerWebserviceDeploymentConfiguration(DeploymentConfiguration):
    """A service as a container of a real Docker engine (``DockerWebservice.deploy_configuration``);
    ``compute_target`` names an attached Docker target (default: the first one, else the local engine)."""

    cpu_cores: float | None = None
    memory_gb: float | None = None
    compute_target: str | None = None

    compute_type = "Docker"

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive("cpu_cores", self.cpu_cores)
        _positive("memory_gb", self.memory_gb)
