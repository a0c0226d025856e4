"""Environments: a named, versioned definition of what a job runs with (pip packages, variables,
a Docker base image). Registering versions it by content: the same definition is the same version,
a changed one the next version.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from importlib.metadata import distributions
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, NotFoundError
from .entities import EnvironmentRecord
from .names import validate_entity_name

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["DEFAULT_BASE_IMAGE", "DockerSection", "Environment", "PythonSection"]

# What users pull for Docker targets; a setting (an offline image can be named instead).
DEFAULT_BASE_IMAGE = "python:3.11-slim"


@dataclass
class PythonSection:
    """``user_managed_dependencies=True``: run with ``interpreter_path`` (or the submitting
    interpreter) as it is, installing nothing."""

    pip_packages: list[str] = field(default_factory=list)
    user_managed_dependencies: bool = False
    interpreter_path: str | None = None


@dataclass
class DockerSection:
    base_image: str = DEFAULT_BASE_IMAGE
    enabled: bool = False


class Environment:
    """``Environment("name")``, then fill ``python``, ``docker`` and ``environment_variables``."""

    def __init__(self, name: str) -> None:
        self.name = validate_entity_name("environment", name)
        self.version: int | None = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, version={self.version!r})"

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def from_pip_requirements(cls, name: str, file_path: str | os.PathLike[str]) -> Environment:
        """Packages from a requirements file (comments and blank lines dropped, order kept)."""
        path = Path(file_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise NotFoundError(f"cannot read the requirements file {path}: {exc.strerror}") from None
        env = cls(name)
        for raw in text.splitlines():
            line = raw.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                env.python.pip_packages.append(line)
        return env

    @classmethod
    def from_current_kernel(cls, name: str) -> Environment:
        """Pins every package of the running interpreter (``name==version``)."""
        env = cls(name)
        pins = {}
        for dist in distributions():
            dist_name = dist.metadata["Name"]
            if dist_name:
                pins[dist_name.lower()] = f"{dist_name}=={dist.version}"
        env.python.pip_packages = [pins[k] for k in sorted(pins)]
        return env

    # -- identity ------------------------------------------------------------------------------------------
    def definition(self) -> dict[str, Any]:
        """Everything that makes this environment what it is (the name is not part of it)."""
        variables = self.environment_variables
        if not isinstance(variables, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
        ):
            raise InvalidArgumentError("environment_variables must map names to strings")
        if not all(isinstance(p, str) and p.strip() for p in self.python.pip_packages):
            raise InvalidArgumentError("python.pip_packages must be non-empty strings")
        return {
            "python": {
                "pip_packages": list(self.python.pip_packages),
                "user_managed_dependencies": bool(self.python.user_managed_dependencies),
                "interpreter_path": self.python.interpreter_path,
            },
            "docker": {"base_image": self.docker.base_image, "enabled": bool(self.docker.enabled)},
            "environment_variables": dict(sorted(variables.items())),
        }

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.definition(), sort_keys=True).encode()).hexdigest()

    # -- registry --------------------------------------------------------------------------------------------
    def register(self, workspace: Workspace) -> Environment:
        """Store this definition; returns it with its version (unchanged definition: same version)."""
        record = workspace.metadata.register_environment(self.name, self.content_hash, self.definition(), time.time())
        return Environment._from_record(record)

    @staticmethod
    def get(workspace: Workspace, name: str, version: int | str | None = None) -> Environment:
        validate_entity_name("environment", name)
        if isinstance(version, str):
            if not version.isdigit():
                raise InvalidArgumentError(f"environment version must be a number, got {version!r}")
            version = int(version)
        return Environment._from_record(workspace.metadata.get_environment(name, version))

    @staticmethod
    def list(workspace: Workspace) -> dict[str, Environment]:
        """The newest version of every environment, by name (as Azure ML's ``Environment.list``)."""
        latest: dict[str, Environment] = {}
        for record in workspace.metadata.list_environments():
            latest.setdefault(record.name, Environment._from_record(record))
        return latest

    @staticmethod
    def _from_record(record: EnvironmentRecord) -> Environment:
        env = Environment(record.name)
        env.version = record.version
        python = record.definition.get("python", {})
        env.python = PythonSection(
            list(python.get("pip_packages", [])),
            bool(python.get("user_managed_dependencies", False)),
            python.get("interpreter_path"),
        )
        docker = record.definition.get("docker", {})
        env.docker = DockerSection(docker.get("base_image", DEFAULT_BASE_IMAGE), bool(docker.get("enabled", False)))
        env.environment_variables = dict(record.definition.get("environment_variables", {}))
        return env
