"""What to run: ``ScriptRunConfig`` (a script or a command in a source folder, on a compute target)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, NotFoundError
from .names import validate_entity_name, validate_file_name
from .values import finite_number

__all__ = ["ScriptRunConfig"]


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


def _environment(environment: Any) -> dict[str, Any] | None:
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


class ScriptRunConfig:
    """A script (or command) run from a snapshot of ``source_directory``.

    ``environment=None`` runs with the interpreter that submits the run; an ``Environment`` (or a
    registered one's ``"name[:version]"``) runs in that environment, built on first use.
    ``max_run_duration_seconds`` cancels the run when exceeded (Azure ML v1's behaviour).
    """

    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        script: str | None = None,
        arguments: Sequence[Any] = (),
        compute_target: Any = "local",
        environment: Any = None,
        command: str | Sequence[Any] | None = None,
        max_run_duration_seconds: int | float | None = None,
    ) -> None:
        self.source_directory = str(source_directory)
        self.script = script
        self.arguments = list(arguments)
        self.compute_target = compute_target
        self.environment = environment
        self.command = command
        self.max_run_duration_seconds = max_run_duration_seconds
        # Generated files added to the snapshot (name -> bytes): a notebook cell run as a script.
        self.extra_files: dict[str, bytes] = {}

    def __repr__(self) -> str:
        what = f"script={self.script!r}" if self.script else f"command={self.command!r}"
        return f"ScriptRunConfig(source_directory={self.source_directory!r}, {what}, compute_target={self.target!r})"

    @property
    def target(self) -> str:
        return _target_name(self.compute_target)

    def job_spec(self) -> dict[str, Any]:
        """Validate and describe the job as JSON-able data (stored with the run)."""
        source = _source_folder(self.source_directory)
        if (self.script is None) == (self.command is None):
            raise InvalidArgumentError("ScriptRunConfig takes a script or a command (exactly one of them)")
        duration = _duration(self.max_run_duration_seconds)
        if not isinstance(self.arguments, list):
            raise InvalidArgumentError("arguments must be a list")
        spec: dict[str, Any] = {
            "kind": "script",
            "source_directory": str(source.resolve()),
            "arguments": [str(a) for a in self.arguments],
            "compute_target": self.target,
            "max_run_duration_seconds": duration,
            "python": sys.executable,
        }
        if self.script is not None:
            script = validate_file_name(self.script, "script")
            if script not in self.extra_files and not (source / script).is_file():
                raise NotFoundError(f"script {self.script!r} not found in source_directory {str(source.resolve())!r}")
            spec["script"] = script
        else:
            command = self.command
            if isinstance(command, str):
                if not command.strip():
                    raise InvalidArgumentError("command must not be empty")
                spec["command"] = command
            elif isinstance(command, Sequence) and command:
                spec["command"] = [str(part) for part in command]
            else:
                raise InvalidArgumentError(f"command must be a string or a non-empty list, got {command!r}")
        spec["environment"] = _environment(self.environment)
        return spec


class NotebookRunConfig:
    """A notebook run as a job with papermill, parameters injected after its ``parameters`` cell.

    Parameters are checked before the job starts against the literal defaults of that cell (an int
    default refuses ``"abc"``); names the cell does not define are refused unless
    ``allow_unknown_parameters``. ``kernel_name`` defaults to the notebook's own kernelspec.
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
    ) -> None:
        self.source_directory = str(source_directory)
        self.notebook = notebook
        self.parameters = parameters if parameters is not None else {}  # checked by job_spec()
        self.compute_target = compute_target
        self.environment = environment
        self.kernel_name = kernel_name
        self.allow_unknown_parameters = allow_unknown_parameters
        self.max_run_duration_seconds = max_run_duration_seconds
        self.extra_files: dict[str, bytes] = {}

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
        environment = _environment(self.environment)
        content = read_notebook(path)
        defaults = parameter_defaults(content)
        parameters = validate_parameters(defaults, self.parameters, allow_unknown=self.allow_unknown_parameters)
        kernel = self.kernel_name or content.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"
        check_kernel(kernel)
        duration = _duration(self.max_run_duration_seconds)
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
        }
