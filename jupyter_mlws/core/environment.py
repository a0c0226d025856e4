"""Environments: a named, versioned definition of what a job runs with (pip packages, variables,
a Docker base image). Registering versions it by content: the same definition is the same version,
a changed one the next version.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib.metadata import distributions
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AlreadyExistsError, InvalidArgumentError, MlwsError, NotFoundError
from .conda import CondaDependencies, pip_requirements
from .entities import EnvironmentRecord
from .names import validate_entity_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from .activities import ActivityRecorder
    from .compute import BuildResult
    from .workspace import Workspace

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "DockerSection",
    "Environment",
    "PythonSection",
    "build_environment",
    "install_requirements",
]

# What users pull for Docker targets; a setting (an offline image can be named instead).
DEFAULT_BASE_IMAGE = "python:3.11-slim"
#: The files ``save_to_directory`` writes (v1's names).
ENVIRONMENT_FILE, CONDA_FILE = "azureml_environment.json", "conda_dependencies.yml"


@dataclass
class PythonSection:
    """``user_managed_dependencies=True``: run with ``interpreter_path`` (or the submitting
    interpreter) as it is, installing nothing.

    ``conda_dependencies`` (Azure ML v1's spelling): a :class:`CondaDependencies`, installed with pip
    beside ``pip_packages`` (see :mod:`jupyter_mlws.core.conda`). Reading it gives an empty one to fill
    (``env.python.conda_dependencies.add_pip_package(...)`` as v1 code does)."""

    pip_packages: list[str] = field(default_factory=list)
    user_managed_dependencies: bool = False
    interpreter_path: str | None = None
    _conda_dependencies: CondaDependencies | None = field(default=None, repr=False)

    @property
    def conda_dependencies(self) -> CondaDependencies:
        if self._conda_dependencies is None:
            self._conda_dependencies = CondaDependencies()
        return self._conda_dependencies

    @conda_dependencies.setter
    def conda_dependencies(self, value: CondaDependencies | None) -> None:
        if value is not None and not isinstance(value, CondaDependencies):
            raise InvalidArgumentError(
                f"python.conda_dependencies must be a CondaDependencies, got {type(value).__name__}"
            )
        self._conda_dependencies = value


@dataclass
class DockerSection:
    """``base_image``: what a Docker target builds the environment on (None: the target's
    ``base_image`` setting; it needs a python3 of 3.11 or newer). ``enabled`` (Azure ML v1's flag) is
    part of the definition but does not choose where a job runs: a Docker target always runs jobs in
    containers, the local target in virtual environments."""

    base_image: str | None = None  # None: the Docker target's base_image setting
    enabled: bool = False


def _installed_from_folder(dist: Any) -> bool:
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
    except ValueError:
        return False
    return "dir_info" in direct


def _requirement(line: str, where: str) -> str:
    """A requirement pip can install, checked now so a typo is an error here, not a failed job later."""
    from packaging.requirements import InvalidRequirement, Requirement

    if line.startswith("-"):
        raise InvalidArgumentError(
            f"{where}: pip options ({line.split()[0]}) are not taken from requirements files; "
            "set index URLs and certificates in pip's own configuration, which environment builds use"
        )
    if "://" in line and "@" not in line:
        return line  # a direct URL (git+https://..., a wheel URL)
    try:
        Requirement(line)
    except InvalidRequirement as exc:
        raise InvalidArgumentError(f"{where}: {line!r} is not a valid requirement ({exc})") from None
    return line


def install_requirements(definition: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What pip installs for a definition (its pip packages and its conda dependencies, without the
    job runtime's names: ``jupyter-mlws``, ``azureml-defaults`` ...), and notes for the build log.
    Builders call this; a conda-only package is an InvalidArgumentError naming it."""
    return pip_requirements(dict(definition.get("python", {})))


class Environment:
    """``Environment("name")``, then fill ``python``, ``docker`` and ``environment_variables``.

    Azure ML v1 spellings: ``python.conda_dependencies``, :meth:`from_conda_specification`,
    :meth:`clone`, and the curated environments (``Environment.get(ws, "AzureML-Minimal")``, see
    :mod:`jupyter_mlws.core.curated`)."""

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
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                env.python.pip_packages.append(_requirement(line, f"{path}, line {number}"))
        return env

    @classmethod
    def from_conda_specification(cls, name: str, file_path: str | os.PathLike[str]) -> Environment:
        """A conda environment YAML file (v1): its packages are installed with pip (see
        :mod:`jupyter_mlws.core.conda`); conda-only packages are refused when the environment is
        defined for a run."""
        env = cls(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @classmethod
    def from_existing_conda_environment(cls, name: str, conda_environment_name: str) -> Environment:
        """v1 copies a local conda environment; there is no conda here."""
        raise InvalidArgumentError(
            f"no conda here to read the conda environment {conda_environment_name!r} from: use "
            "Environment.from_current_kernel(name) (pins what this kernel has) or "
            "Environment.from_pip_requirements(name, path)"
        )

    @classmethod
    def from_docker_image(
        cls,
        name: str,
        image: str,
        container_registry: Any = None,
        conda_specification: str | os.PathLike[str] | None = None,
        pip_requirements: str | os.PathLike[str] | None = None,
    ) -> Environment:
        """v1: an environment on a Docker base image (used by Docker targets; a local target ignores
        it), with packages from a conda file or a requirements file. A registry's address prefixes the
        image; its credentials are the Docker engine's business (``docker login``), never kept here."""
        if not isinstance(image, str) or not image.strip():
            raise InvalidArgumentError(f"from_docker_image needs an image name like 'python:3.11-slim', got {image!r}")
        if conda_specification is not None and pip_requirements is not None:
            raise InvalidArgumentError("give from_docker_image a conda_specification or pip_requirements, not both")
        if pip_requirements is not None:
            env = cls.from_pip_requirements(name, pip_requirements)
        elif conda_specification is not None:
            env = cls.from_conda_specification(name, conda_specification)
        else:
            env = cls(name)
        address = getattr(container_registry, "address", None) if container_registry is not None else None
        image = image.strip()
        if address and not image.startswith(f"{address}/"):
            image = f"{str(address).rstrip('/')}/{image}"
        env.docker.base_image = image
        env.docker.enabled = True
        return env

    @classmethod
    def from_dockerfile(cls, name: str, dockerfile: str, **kwargs: Any) -> Environment:
        """v1 builds an image from a Dockerfile; Docker targets here build on a base image."""
        raise InvalidArgumentError(
            f"environment {name!r}: building from a Dockerfile is not supported here; build the image with "
            "`docker build -t NAME .` and use Environment.from_docker_image(name, 'NAME') (its python3 must be "
            "3.11 or newer)"
        )

    def save_to_directory(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        """v1: write the definition into ``path`` (``azureml_environment.json``, and the conda
        dependencies as ``conda_dependencies.yml``), e.g. to keep it in version control."""
        folder = Path(path)
        files = {ENVIRONMENT_FILE: json.dumps({"name": self.name, **self.definition()}, indent=2, sort_keys=True)}
        conda = self.python._conda_dependencies
        if conda is not None and not conda.is_empty():
            files[CONDA_FILE] = conda.serialize_to_string()
        existing = [n for n in files if (folder / n).exists()]
        if existing and not overwrite:
            raise AlreadyExistsError(
                f"{', '.join(str(folder / n) for n in existing)} exists already; pass overwrite=True to replace it"
            )
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, text in files.items():
            (folder / file_name).write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")

    @staticmethod
    def load_from_directory(path: str | os.PathLike[str]) -> Environment:
        """v1: the environment :meth:`save_to_directory` wrote (a ``conda_dependencies.yml`` beside it wins
        over the conda part of the JSON, as v1 reads both)."""
        folder = Path(path)
        try:
            saved = json.loads((folder / ENVIRONMENT_FILE).read_text(encoding="utf-8"))
        except OSError as exc:
            raise NotFoundError(f"no saved environment in {folder} ({ENVIRONMENT_FILE}: {exc.strerror})") from None
        except ValueError as exc:
            raise InvalidArgumentError(f"{folder / ENVIRONMENT_FILE} is not valid JSON: {exc}") from None
        if not isinstance(saved, dict) or not isinstance(saved.get("name"), str):
            raise InvalidArgumentError(f"{folder / ENVIRONMENT_FILE} holds no environment (it needs a 'name')")
        env = Environment(saved["name"])
        Environment._fill(env, saved)
        if (folder / CONDA_FILE).is_file():
            env.python.conda_dependencies = CondaDependencies(folder / CONDA_FILE)
        return env

    def build_local(self, workspace: Workspace, platform: str | None = None, **kwargs: Any) -> BuildResult:
        """v1 builds the environment on this machine: here, for the local target (a cached venv)."""
        return self.build(workspace, "local")

    def clone(self, new_name: str) -> Environment:
        """A copy under another name, not registered (v1's way to change a curated environment)."""
        env = copy.deepcopy(self)
        env.name = validate_entity_name("environment", new_name)
        env.version = None
        return env

    @classmethod
    def from_current_kernel(cls, name: str) -> Environment:
        """Pins every package of the running interpreter (``name==version``) that an index can
        serve: jupyter-mlws itself is linked into every environment, and packages installed from a
        local folder (editable installs) cannot be pinned by version."""
        env = cls(name)
        pins = {}
        for dist in distributions():
            dist_name = dist.metadata["Name"]
            if not dist_name or dist_name.lower() == "jupyter-mlws" or _installed_from_folder(dist):
                continue
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
        python: dict[str, Any] = {
            "pip_packages": list(self.python.pip_packages),
            "user_managed_dependencies": bool(self.python.user_managed_dependencies),
            "interpreter_path": self.python.interpreter_path,
        }
        conda = self.python._conda_dependencies
        if conda is not None and not conda.is_empty():
            # Only when there is something in it: definitions without conda keep their content hash.
            python["conda_dependencies"] = conda._spec()
        if not python["user_managed_dependencies"]:
            try:
                pip_requirements(python)  # conda-only packages and pip options: refused now, not at build
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(f"environment {self.name!r}: {exc}") from None
        return {
            "python": python,
            "docker": {"base_image": self.docker.base_image, "enabled": bool(self.docker.enabled)},
            "environment_variables": dict(sorted(variables.items())),
        }

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.definition(), sort_keys=True).encode()).hexdigest()

    # -- building ------------------------------------------------------------------------------------------
    def build(self, workspace: Workspace | None = None, compute_target: Any = "local") -> BuildResult:
        """Materialise this environment for a compute target: a virtual environment for ``"local"``,
        an image for a Docker target. Cached by content: the second call is a cache hit
        (``result.cached``). With a workspace, a real build is recorded as an activity there and
        ``compute_target`` may name an attached target (its settings, e.g. the Docker engine, apply).
        The build itself is the target type's (``ComputeBackend.build_environment``, from the registry)."""
        from .compute import ComputeTarget

        name = compute_target if isinstance(compute_target, str) else getattr(compute_target, "name", None)
        if not isinstance(name, str):
            raise InvalidArgumentError(
                f"compute_target must be a target name or a ComputeTarget, got {compute_target!r}"
            )
        if workspace is not None:
            target = ComputeTarget(workspace, name)
            kind, config = target.type, target.config
        else:
            kind, config = name, {}
        return build_environment(workspace, self.name, self.version, self.definition(), kind, config)

    @staticmethod
    def resolve(workspace: Workspace, reference: dict[str, Any]) -> Environment:
        """A job's environment: a definition is registered (same definition, same version); a
        ``{"name", "version"}`` reference must be registered already."""
        if "definition" in reference:
            env = Environment(reference["name"])
            Environment._fill(env, reference["definition"])
            return env.register(workspace)
        return Environment.get(workspace, reference["name"], reference.get("version"))

    # -- registry --------------------------------------------------------------------------------------------
    def register(self, workspace: Workspace) -> Environment:
        """Store this definition; returns it with its version (unchanged definition: same version).
        Names starting with ``AzureML`` are the curated environments' (v1's rule): only their own
        definition is registered under them."""
        from .curated import curated, is_reserved

        if is_reserved(self.name):
            curated(self.name)  # an unknown AzureML-* name: NotFoundError listing the curated ones
            if self.definition() != Environment._curated(self.name).definition():
                raise InvalidArgumentError(
                    f"{self.name!r} is a curated environment and cannot be changed; clone it under your own "
                    f"name first: env.clone('my-env')"
                )
        record = workspace.services.registry.register_environment(self.name, self.content_hash, self.definition())
        return Environment._from_record(record)

    @staticmethod
    def get(workspace: Workspace, name: str, version: int | str | None = None) -> Environment:
        """A registered environment (the newest version, or ``version``). A curated name
        (``"AzureML-Minimal"``, see :mod:`jupyter_mlws.core.curated`) without a version registers
        the curated definition (the same one: the same version) and returns it."""
        from .curated import curated

        validate_entity_name("environment", name)
        if isinstance(version, str):
            if not version.isdigit():
                raise InvalidArgumentError(f"environment version must be a number, got {version!r}")
            version = int(version)
        if version is None and curated(name) is not None:
            return Environment._curated(name).register(workspace)
        return Environment._from_record(workspace.services.registry.environment(name, version))

    @staticmethod
    def list(workspace: Workspace) -> dict[str, Environment]:
        """The newest version of every environment, by name (as Azure ML's ``Environment.list``),
        and the curated environments (``version`` None until first used)."""
        from .curated import CURATED_ENVIRONMENTS

        records = workspace.services.registry.environments(latest=True)
        found = {record.name: Environment._from_record(record) for record in records}
        for name in CURATED_ENVIRONMENTS:
            found.setdefault(name, Environment._curated(name))
        return found

    @staticmethod
    def _curated(name: str) -> Environment:
        from .curated import CURATED_ENVIRONMENTS

        env = Environment(name)
        env.python.pip_packages = list(CURATED_ENVIRONMENTS[name].pip_packages)
        return env

    @staticmethod
    def _from_record(record: EnvironmentRecord) -> Environment:
        env = Environment(record.name)
        env.version = record.version
        Environment._fill(env, record.definition)
        return env

    @staticmethod
    def _fill(env: Environment, definition: dict[str, Any]) -> None:
        python = definition.get("python", {})
        conda = python.get("conda_dependencies")
        env.python = PythonSection(
            list(python.get("pip_packages", [])),
            bool(python.get("user_managed_dependencies", False)),
            python.get("interpreter_path"),
            CondaDependencies._from_spec(conda) if conda else None,
        )
        docker = definition.get("docker", {})
        env.docker = DockerSection(docker.get("base_image"), bool(docker.get("enabled", False)))
        env.environment_variables = dict(definition.get("environment_variables", {}))


def build_environment(
    workspace: Workspace | None,
    name: str,
    version: int | None,
    definition: dict[str, Any],
    target_type: str,
    config: dict[str, Any],
    run_id: str | None = None,
    log_file: Path | None = None,
    on_start: Callable[[ActivityRecorder], None] | None = None,
) -> BuildResult:
    """Build (or find in the cache) ``definition`` for a target type; a real build is an activity.
    ``on_start`` receives the recorder (a job's supervisor cancels the build through it). The builder
    is the target type's plug-in (``compute/environments/`` for the built-in ones): core records the
    activity and never imports compute."""
    from .activities import ActivityRecorder
    from .compute import compute_target_types

    backend = compute_target_types.get(target_type)
    label = f"{name}:{version}" if version is not None else name
    details = {"environment": name, "version": version, "target_type": target_type}
    recorder = ActivityRecorder(workspace, "environment-build", label, run_id=run_id, details=details, lazy=True)
    if on_start is not None:
        on_start(recorder)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)

        def to_file(line: str) -> None:
            with open(log_file, "a", encoding="utf-8") as f:
                f.write(line)

        recorder.listeners.append(to_file)
    try:
        result: BuildResult = backend.build_environment(name, definition, config, recorder)
    except MlwsError as exc:
        recorder.fail(str(exc), details)
        raise
    except BaseException as exc:  # an interrupt too: the activity must not stay Running
        recorder.fail(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, details)
        raise
    summary = {**details, "cached": result.cached, "location": result.location, "seconds": result.seconds}
    recorder.finish(summary, progress=f"built in {result.seconds:.1f} s")
    return result
