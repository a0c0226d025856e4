"""What to run: ``ScriptRunConfig`` (a script or a command in a source folder, on a compute target),
and Azure ML v1's ``RunConfiguration`` / ``DockerConfiguration`` / ``DEFAULT_CPU_IMAGE`` beside it."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, NotFoundError, RunConfigurationException
from .environment import DEFAULT_BASE_IMAGE
from .job_inputs import collect_inputs
from .names import validate_entity_name, validate_file_name
from .values import finite_number

__all__ = ["DEFAULT_CPU_IMAGE", "DockerConfiguration", "RunConfiguration", "ScriptRunConfig"]

#: v1's ``azureml.core.runconfig.DEFAULT_CPU_IMAGE`` (an Azure image there). A local stand-in: the
#: base image Docker targets use by default (jobs need a python3 of 3.11 or newer in the image).
DEFAULT_CPU_IMAGE = DEFAULT_BASE_IMAGE


def _target_name(compute_target: Any) -> str:
    name = compute_target if isinstance(compute_target, str) else getattr(compute_target, "name", None)
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(
            f"compute_target must be a target name like 'local' or a ComputeTarget, got {compute_target!r}"
        )
    return name


def _source_folder(source_directory: str) -> Path:
    source = Path(source_directory).expanduser()
    if not source.is_dir():
        raise NotFoundError(f"source_directory {str(source)!r} does not exist or is not a folder")
    return source


def _duration(duration: Any) -> int | float | None:
    if duration is None:
        return None
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise InvalidArgumentError(f"max_run_duration_seconds must be a positive number, got {duration!r}")
    # NaN (which "duration <= 0" lets through) or inf would silently mean "no limit": None says that.
    value = finite_number("max_run_duration_seconds", duration)
    if value <= 0:
        raise InvalidArgumentError(f"max_run_duration_seconds must be a positive number, got {duration!r}")
    return value


def environment_reference(environment: Any) -> dict[str, Any] | None:
    """An ``Environment`` (registered at submit if it is not yet) or a registered one by
    ``"name"`` / ``"name:version"``; ``None`` runs with the submitting interpreter."""
    from .environment import Environment

    if environment is None:
        return None
    if isinstance(environment, Environment):
        return {"name": environment.name, "version": environment.version, "definition": environment.definition()}
    if isinstance(environment, str) and environment.strip():
        name, _, version = environment.strip().partition(":")
        if version and not version.isdigit():
            raise InvalidArgumentError(f"environment {environment!r}: the version after ':' must be a number")
        return {"name": validate_entity_name("environment", name), "version": int(version) if version else None}
    raise InvalidArgumentError(
        f"environment must be an Environment or a registered environment's 'name[:version]', got {environment!r}"
    )


class DockerConfiguration:
    """v1's ``DockerConfiguration(use_docker=None, arguments=None, shared_volumes=None, shm_size=None)``.

    Kept for v1 code; where a job runs is its compute target's business here: a Docker target always
    runs jobs in containers, other targets in virtual environments (``use_docker`` is recorded, not
    acted on)."""

    def __init__(
        self,
        use_docker: bool | None = None,
        arguments: Sequence[str] | None = None,
        shared_volumes: bool | None = None,
        shm_size: str | None = None,
    ) -> None:
        if use_docker is not None and not isinstance(use_docker, bool):
            raise RunConfigurationException(f"use_docker must be True, False or None, got {use_docker!r}")
        self.use_docker = use_docker
        self.arguments = list(arguments) if arguments is not None else []
        self.shared_volumes = shared_volumes
        self.shm_size = shm_size

    def __repr__(self) -> str:
        return f"DockerConfiguration(use_docker={self.use_docker!r})"


_FRAMEWORKS = ("python", "pytorch", "tensorflow")


class RunConfiguration:
    """v1's ``RunConfiguration``: ``target`` (default ``"local"``), ``environment`` (an
    :class:`Environment` to fill, e.g. ``rc.environment.python.user_managed_dependencies = True``),
    ``node_count`` (1: a job is one process here), ``docker`` (a :class:`DockerConfiguration`),
    ``script``, ``arguments``, ``command``, ``max_run_duration_seconds``.

    Passed to ``ScriptRunConfig(run_config=...)``, whose own arguments win over it. Its default
    environment, left empty, means what ``environment=None`` means: the submitting interpreter
    (v1 built an environment holding only its SDK; the job runtime is in this one already)."""

    def __init__(
        self,
        script: str | None = None,
        arguments: Sequence[Any] | None = None,
        framework: str | None = None,
        communicator: str | None = None,
        conda_dependencies: Any = None,
        _history_enabled: bool | None = None,
        _path: str | None = None,
        _name: str | None = None,
        command: str | Sequence[Any] | None = None,
    ) -> None:
        from .environment import Environment

        self.script = script
        self.arguments: list[Any] = list(arguments) if arguments is not None else []
        self.command = command
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.target: Any = "local"
        self.node_count = 1
        self.max_run_duration_seconds: int | float | None = None
        self.docker = DockerConfiguration()
        self.history = _history_enabled if _history_enabled is not None else True
        self.name = _name
        self._default_environment = Environment("runconfig-environment")
        self.environment: Any = self._default_environment
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies

    def __repr__(self) -> str:
        return f"RunConfiguration(target={self.target!r}, environment={self.environment!r})"

    def _environment(self) -> Any:
        """The environment a job gets from this configuration (None: the submitting interpreter)."""
        from .environment import Environment

        env = self.environment
        if env is self._default_environment and env.definition() == Environment(env.name).definition():
            return None
        return env

    def _check(self) -> None:
        if isinstance(self.node_count, bool) or not isinstance(self.node_count, int) or self.node_count < 1:
            raise RunConfigurationException(f"node_count must be a positive whole number, got {self.node_count!r}")
        if self.node_count != 1:
            raise RunConfigurationException(
                f"node_count={self.node_count}: a job runs as one process on its target here (no multi-node "
                "jobs); set node_count=1, and run more jobs at once with a target's max_nodes"
            )
        if str(self.framework).lower() not in _FRAMEWORKS:
            raise RunConfigurationException(
                f"framework {self.framework!r}: jobs run Python scripts here (Python, PyTorch or TensorFlow); "
                "there is no Spark"
            )
        if self.docker is not None and not isinstance(self.docker, DockerConfiguration):
            raise RunConfigurationException(f"docker must be a DockerConfiguration, got {type(self.docker).__name__}")


class ScriptRunConfig:
    """A script (or command) run from a snapshot of ``source_directory``.

    ``environment=None`` runs with the interpreter that submits the run; an ``Environment`` (or a
    registered one's ``"name[:version]"``) runs in that environment, built on first use.
    ``max_run_duration_seconds`` cancels the run when exceeded (Azure ML v1's behaviour).

    Azure ML v1's ``run_config`` (a :class:`RunConfiguration`, also reachable as ``.run_config``
    to change later, as v1 code does) supplies the target, environment, script, arguments and
    duration that are not given here; ``docker_runtime_config`` (a :class:`DockerConfiguration`) is
    taken for v1 code and does not change where the job runs (its target decides).

    ``inputs`` lists the datasets the job reads, each as ``ds.as_named_input(name)`` (a file dataset's
    also ``.as_mount()`` / ``.as_download()``); one given in ``arguments`` is an input too and the
    job's argv gets, in its place, a tabular dataset's id or a file input's local folder (as in v1).
    Inside the job ``Run.get_context().input_datasets[name]`` is the dataset (tabular) or the local
    folder (file); the run records each input (``get_details()["inputDatasets"]``).
    """

    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        script: str | None = None,
        arguments: Sequence[Any] | None = None,
        compute_target: Any = None,
        environment: Any = None,
        command: str | Sequence[Any] | None = None,
        max_run_duration_seconds: int | float | None = None,
        run_config: RunConfiguration | None = None,
        docker_runtime_config: DockerConfiguration | None = None,
        distributed_job_config: Any = None,
        inputs: Sequence[Any] | None = None,
    ) -> None:
        if isinstance(compute_target, RunConfiguration) and run_config is None:
            # v1's fourth positional parameter is run_config (here: compute_target).
            compute_target, run_config = None, compute_target
        if run_config is not None and not isinstance(run_config, RunConfiguration):
            raise RunConfigurationException(f"run_config must be a RunConfiguration, got {type(run_config).__name__}")
        if docker_runtime_config is not None and not isinstance(docker_runtime_config, DockerConfiguration):
            raise RunConfigurationException(
                f"docker_runtime_config must be a DockerConfiguration, got {type(docker_runtime_config).__name__}"
            )
        if distributed_job_config is not None:
            raise RunConfigurationException(
                "distributed_job_config: a job runs as one process on its target here (no MPI, PyTorch or "
                "TensorFlow distribution); leave it out"
            )
        self.run_config = run_config if run_config is not None else RunConfiguration()
        self.source_directory = str(source_directory)
        self.script = script
        self._arguments = list(arguments) if arguments is not None else None
        self._compute_target = compute_target
        # The environment given here is the ScriptRunConfig's own: a RunConfiguration passed in (maybe
        # shared with other ScriptRunConfigs) is never changed by it. `_shadowed` is the run
        # configuration's environment it overrides; assigning another one there later wins (v1 code).
        self._environment: Any = None
        self._shadowed: Any = None
        if environment is not None:
            from .environment import Environment

            if run_config is None and isinstance(environment, Environment):
                self.run_config.environment = environment  # its own run configuration holds it, as in v1
            self.environment = environment
        self.command = command
        self.max_run_duration_seconds = max_run_duration_seconds
        # Datasets the job reads (ds.as_named_input(name)); one in `arguments` is an input too (v1).
        self.inputs: Any = inputs if inputs is not None else []  # checked by job_spec()
        if docker_runtime_config is not None:
            self.run_config.docker = docker_runtime_config
        # Generated files added to the snapshot (name -> bytes): a notebook cell run as a script.
        self.extra_files: dict[str, bytes] = {}
        # The submitted run's display name (%%submit names its runs after the cell, issue 22).
        self.display_name: str | None = None

    def __repr__(self) -> str:
        what = f"script={self.script!r}" if self.script else f"command={self.command!r}"
        return f"ScriptRunConfig(source_directory={self.source_directory!r}, {what}, compute_target={self.target!r})"

    @property
    def docker_runtime_config(self) -> DockerConfiguration:
        return self.run_config.docker

    @property
    def arguments(self) -> Any:
        """The arguments given here, else the run configuration's (``[]`` by default)."""
        return self._arguments if self._arguments is not None else self.run_config.arguments

    @arguments.setter
    def arguments(self, value: Any) -> None:
        self._arguments = value

    @property
    def compute_target(self) -> Any:
        """The target given here, else the run configuration's (``"local"`` by default)."""
        chosen = self._compute_target if self._compute_target is not None else self.run_config.target
        return chosen if chosen is not None else "local"

    @compute_target.setter
    def compute_target(self, value: Any) -> None:
        self._compute_target = value

    @property
    def target(self) -> str:
        return _target_name(self.compute_target)

    @property
    def environment(self) -> Any:
        """The job's environment (None: the submitting interpreter): the one given here, else the run
        configuration's. As in v1, ``src.run_config.environment = env`` after construction replaces
        it too: whichever of the two was set last wins."""
        if self._environment is not None and self.run_config.environment is self._shadowed:
            return self._environment
        return self.run_config._environment()

    @environment.setter
    def environment(self, value: Any) -> None:
        self._environment = value
        self._shadowed = self.run_config.environment

    def job_spec(self) -> dict[str, Any]:
        """Validate and describe the job as JSON-able data (stored with the run)."""
        rc = self.run_config
        rc._check()
        source = _source_folder(self.source_directory)
        script = self.script if self.script is not None or self.command is not None else rc.script
        command = self.command if self.script is not None or self.command is not None else rc.command
        if (script is None) == (command is None):
            raise InvalidArgumentError("ScriptRunConfig takes a script or a command (exactly one of them)")
        limit = self.max_run_duration_seconds
        duration = _duration(limit if limit is not None else rc.max_run_duration_seconds)
        arguments = self.arguments
        if not isinstance(arguments, list):
            raise InvalidArgumentError("arguments must be a list")
        spec: dict[str, Any] = {
            "kind": "script",
            "source_directory": str(source.resolve()),
            "arguments": [],
            "compute_target": self.target,
            "max_run_duration_seconds": duration,
            "python": sys.executable,
        }
        if script is not None:
            script = validate_file_name(script, "script")
            if script not in self.extra_files and not (source / script).is_file():
                raise NotFoundError(f"script {script!r} not found in source_directory {str(source.resolve())!r}")
            spec["script"] = script
        else:
            if isinstance(command, str):
                if not command.strip():
                    raise InvalidArgumentError("command must not be empty")
                spec["command"] = command
            elif isinstance(command, Sequence) and command:
                spec["command"] = [str(part) for part in command]
            else:
                raise InvalidArgumentError(f"command must be a string or a non-empty list, got {command!r}")
        spec["environment"] = environment_reference(self.environment)
        # Last: describing an input may fingerprint (and hold) an unregistered dataset's files.
        spec["arguments"], input_fields = collect_inputs(arguments, self.inputs)
        spec.update(input_fields)
        return spec


class NotebookRunConfig:
    """A notebook run as a job with papermill, parameters injected after its ``parameters`` cell.

    Parameters are checked before the job starts against the literal defaults of that cell (an int
    default refuses ``"abc"``); names the cell does not define are refused unless
    ``allow_unknown_parameters``. ``kernel_name`` defaults to the notebook's own kernelspec.
    ``inputs``: datasets the notebook reads, as for :class:`ScriptRunConfig`
    (``Run.get_context().input_datasets[name]`` in the notebook).
    """

    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        notebook: str | None = None,
        parameters: dict[str, Any] | None = None,
        compute_target: Any = "local",
        environment: Any = None,
        kernel_name: str | None = None,
        allow_unknown_parameters: bool = False,
        max_run_duration_seconds: int | float | None = None,
        inputs: Sequence[Any] | None = None,
    ) -> None:
        self.source_directory = str(source_directory)
        self.notebook = notebook
        self.parameters = parameters if parameters is not None else {}  # checked by job_spec()
        self.compute_target = compute_target
        self.environment = environment
        self.kernel_name = kernel_name
        self.allow_unknown_parameters = allow_unknown_parameters
        self.max_run_duration_seconds = max_run_duration_seconds
        self.inputs: Any = inputs if inputs is not None else []  # datasets, checked by job_spec()
        self.extra_files: dict[str, bytes] = {}
        self.display_name: str | None = None  # the submitted run's display name

    def __repr__(self) -> str:
        return f"NotebookRunConfig(source_directory={self.source_directory!r}, notebook={self.notebook!r})"

    @property
    def target(self) -> str:
        return _target_name(self.compute_target)

    def job_spec(self) -> dict[str, Any]:
        from .notebooks import (
            check_kernel,
            effective_parameters,
            parameter_defaults,
            read_notebook,
            validate_parameters,
        )

        source = _source_folder(self.source_directory)
        if not isinstance(self.notebook, str):
            raise InvalidArgumentError("NotebookRunConfig needs notebook='name.ipynb' (a path in source_directory)")
        notebook = validate_file_name(self.notebook, "notebook")
        if not notebook.endswith(".ipynb"):
            raise InvalidArgumentError(f"notebook {notebook!r} is not a .ipynb file")
        path = source / notebook
        if not path.is_file():
            raise NotFoundError(f"notebook {notebook!r} not found in source_directory {str(source.resolve())!r}")
        environment = environment_reference(self.environment)
        content = read_notebook(path)
        defaults = parameter_defaults(content)
        parameters = validate_parameters(defaults, self.parameters, allow_unknown=self.allow_unknown_parameters)
        kernel = self.kernel_name or content.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"
        check_kernel(kernel)
        duration = _duration(self.max_run_duration_seconds)
        _argv, input_fields = collect_inputs([], self.inputs)
        return {
            "kind": "notebook",
            "source_directory": str(source.resolve()),
            "notebook": notebook,
            "parameters": parameters,
            # Recorded as the run's params at submission, so runs compare by what they ran with.
            "params": effective_parameters(defaults, parameters),
            "kernel_name": kernel,
            "arguments": [],
            "compute_target": self.target,
            "max_run_duration_seconds": duration,
            "python": sys.executable,
            "environment": environment,
            **input_fields,
        }
