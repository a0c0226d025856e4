"""Pipeline steps (issue 16): ``PythonScriptStep`` (a script, as ``ScriptRunConfig``) and
``NotebookStep`` (a notebook run by papermill, as ``NotebookRunConfig``), with v1's signatures.

A step only describes its job; nothing is checked against the files until the pipeline is
validated or submitted. Its definition (``_definition``) is JSON: a published pipeline keeps it and
a submit describes it anew (an unregistered dataset input is fingerprinted again then).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.registry import job_input_types
from ..errors import InvalidArgumentError
from .data import PipelineData, PipelineDataInput, PipelineParameter

__all__ = ["NotebookStep", "PipelineStep", "PythonScriptStep"]

_PLAIN = (str, bytes, int, float, bool, os.PathLike)


def _target_name(compute_target: Any) -> str:
    if compute_target is None:
        return "local"
    if isinstance(compute_target, str):
        if not compute_target.strip():
            raise InvalidArgumentError("compute_target must name a compute target, e.g. 'local'")
        return compute_target
    name = getattr(compute_target, "name", None)
    if isinstance(name, str):
        return name
    raise InvalidArgumentError(f"compute_target takes a ComputeTarget or its name, got {compute_target!r}")


def _sequence(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidArgumentError(f"{what} must be a list, got {type(value).__name__}")
    return list(value)


def _environment_of(environment: Any, runconfig: Any) -> Any:
    if environment is None and runconfig is not None:
        env = getattr(runconfig, "_environment", None)
        environment = env() if callable(env) else getattr(runconfig, "environment", None)
    return environment


class PipelineStep:
    """What every step has: a name, its inputs and outputs, reuse, and explicit ordering."""

    def __init__(
        self,
        name: str,
        inputs: Sequence[Any] | None,
        outputs: Sequence[Any] | None,
        arguments: Sequence[Any] | None,
        compute_target: Any,
        source_directory: str | os.PathLike[str] | None,
        allow_reuse: bool,
        environment: Any,
    ) -> None:
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise InvalidArgumentError(f"a step's name is a non-empty string of at most 255 characters, got {name!r}")
        if not isinstance(allow_reuse, bool):
            raise InvalidArgumentError(f"step {name!r}: allow_reuse must be True or False, got {allow_reuse!r}")
        self.name = name
        self.inputs = _sequence(inputs, f"step {name!r}: inputs")
        self.outputs = _sequence(outputs, f"step {name!r}: outputs")
        self.arguments = _sequence(arguments, f"step {name!r}: arguments")
        self.compute_target = _target_name(compute_target)
        self.source_directory = str(Path(source_directory if source_directory is not None else ".").absolute())
        self.allow_reuse = allow_reuse
        self.environment = environment
        self._run_after: list[PipelineStep] = []
        for output in self.outputs:
            if not isinstance(output, PipelineData):
                raise InvalidArgumentError(
                    f"step {name!r}: outputs hold PipelineData or OutputFileDatasetConfig, got {output!r}"
                )
            if output._producer is not None and output._producer is not self:
                # Kept for validate(): two producers of one data is a problem of the pipeline.
                output._other_producers.append(self)
            else:
                output._producer = self

    def run_after(self, step: PipelineStep) -> None:
        """Run this step only after ``step`` completed (an ordering with no data between them)."""
        if not isinstance(step, PipelineStep):
            raise InvalidArgumentError(f"run_after() takes a step, got {step!r}")
        if step is self:
            raise InvalidArgumentError(f"step {self.name!r} cannot run after itself")
        self._run_after.append(step)

    # -- what the step depends on ------------------------------------------------------------------------
    def _data_inputs(self) -> list[PipelineDataInput]:
        """The pipeline data this step reads (from inputs, arguments and parameters), one per input name."""
        found: dict[str, PipelineDataInput] = {}
        outputs = {id(o) for o in self.outputs}
        for item in [*self.inputs, *self.arguments, *self._parameter_values()]:
            if isinstance(item, PipelineDataInput):
                found.setdefault(item.input_name, item)
            elif isinstance(item, PipelineData) and id(item) not in outputs:
                found.setdefault(item.name, PipelineDataInput(item, item.name, "mount"))
        return list(found.values())

    def _parameter_values(self) -> list[Any]:
        return []

    def _upstream(self) -> list[PipelineStep]:
        steps = [d.data._producer for d in self._data_inputs() if d.data._producer is not None]
        return [*steps, *self._run_after]

    def _parameters(self) -> list[PipelineParameter]:
        found = [v for v in [*self.arguments, *self._parameter_values()] if isinstance(v, PipelineParameter)]
        for item in self.inputs:
            if isinstance(item, tuple) and item and isinstance(item[0], PipelineParameter):
                found.append(item[0])
        return found

    # -- the JSON definition ----------------------------------------------------------------------------
    def _value(self, value: Any, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """One argument or parameter value as JSON."""
        if isinstance(value, PipelineParameter):
            return {"parameter": value.name}
        if isinstance(value, PipelineDataInput):
            return {"data_input": value.input_name}
        if isinstance(value, PipelineData):
            if any(o is value for o in self.outputs):
                return {"output": value.name}
            return {"data_input": value.name}
        if isinstance(value, _PLAIN) or value is None:
            return {"value": value if isinstance(value, str | int | float | bool) or value is None else str(value)}
        ref = _input_reference(value)
        if ref is not None:
            inputs.setdefault(ref["ref"]["name"], ref)
            return {"input": ref["ref"]["name"]}
        return {"value": str(value)}

    def _inputs_definition(self) -> dict[str, dict[str, Any]]:
        inputs: dict[str, dict[str, Any]] = {}
        for position, item in enumerate(self.inputs):
            if isinstance(item, PipelineData | PipelineDataInput):
                continue  # pipeline data: described by _data_inputs
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], PipelineParameter):
                param, binding = item
                inputs[param.name] = {"parameter_path": param.name, "binding": _binding(binding)}
                continue
            ref = _input_reference(item)
            if ref is None:
                raise InvalidArgumentError(
                    f"step {self.name!r}: inputs[{position}] ({item!r:.80}) is not an input; pass a dataset's "
                    "ds.as_named_input('name'), PipelineData, a DataReference or (DataPath, DataPathComputeBinding)"
                )
            inputs[ref["ref"]["name"]] = ref
        return inputs

    def _definition(self) -> dict[str, Any]:
        """The step as JSON (what ``engine`` builds its job from)."""
        inputs = self._inputs_definition()
        arguments = [self._value(a, inputs) for a in self.arguments]
        specific = self._specific(inputs)
        data_inputs = [{"name": d.input_name, "data": d.data.name, "mode": d.mode} for d in self._data_inputs()]
        outputs = []
        for o in self.outputs:
            entry: dict[str, Any] = {"name": o.name}
            if o._register is not None:
                entry["register"] = o._register
            destination = getattr(o, "destination", None)
            if destination is not None:
                entry["destination"] = _destination(destination, self.name, o.name)
            outputs.append(entry)
        return {
            **specific,
            "name": self.name,
            "source_directory": self.source_directory,
            "compute_target": self.compute_target,
            "environment": _environment_json(self.environment, self.name),
            "arguments": arguments,
            "inputs": list(inputs.values()),
            "data_inputs": data_inputs,
            "outputs": outputs,
            "allow_reuse": self.allow_reuse,
            "run_after": [s.name for s in self._run_after],
        }

    def _specific(self, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The fields of this kind of step (a value that is a dataset input is added to ``inputs``)."""
        raise NotImplementedError

    def _problems(self) -> list[str]:
        """What is wrong with this step alone (its files), for ``Pipeline.validate``."""
        source = Path(self.source_directory)
        if not source.is_dir():
            return [f"step {self.name!r}: source_directory {str(source)!r} is not a folder"]
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _input_reference(value: Any) -> dict[str, Any] | None:
    """A dataset input (or any job input type that can be described again later) as JSON."""
    for type_name, kind in job_input_types.available().items():
        reference = getattr(kind(), "reference", None)
        if reference is None:
            continue
        ref = reference(value)
        if ref is not None:
            return {"type": type_name, "ref": ref}
    return None


def _binding(binding: Any) -> dict[str, Any]:
    mode = getattr(binding, "mode", None)
    if mode not in ("mount", "download"):
        raise InvalidArgumentError(
            f"a (PipelineParameter, binding) input needs a "
            f"DataPathComputeBinding(mode='mount'|'download'), got {binding!r}"
        )
    return {"mode": mode, "path_on_compute": getattr(binding, "path_on_compute", None)}


def _destination(destination: Any, step: str, output: str) -> list[str]:
    datastore, path = destination if isinstance(destination, tuple) else (destination, None)
    name = getattr(datastore, "name", datastore)
    if not isinstance(name, str):
        raise InvalidArgumentError(
            f"step {step!r}: output {output!r}: destination is (datastore, 'path'), got {destination!r}"
        )
    return [name, str(path or "")]


def _environment_json(environment: Any, step: str) -> Any:
    """The step's environment as the job spec holds it (registered at submit, as for a job)."""
    from ..core.run_config import environment_reference

    try:
        return environment_reference(environment)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"step {step!r}: {exc.message}") from None


class PythonScriptStep(PipelineStep):
    """A step that runs a Python script (v1's ``PythonScriptStep``)::

        PythonScriptStep(script_name, name=None, arguments=None, compute_target=None, runconfig=None,
                         runconfig_pipeline_params=None, inputs=None, outputs=None, params=None,
                         source_directory=None, allow_reuse=True, version=None, hash_paths=None,
                         environment=None)

    ``params`` are recorded as the step run's params. ``hash_paths`` is accepted and ignored: the
    whole source folder's content is always part of the reuse key.
    """

    def __init__(
        self,
        script_name: str,
        name: str | None = None,
        arguments: Sequence[Any] | None = None,
        compute_target: Any = None,
        runconfig: Any = None,
        runconfig_pipeline_params: Mapping[str, Any] | None = None,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[Any] | None = None,
        params: Mapping[str, Any] | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
        hash_paths: Sequence[str] | None = None,
        environment: Any = None,
    ) -> None:
        if not isinstance(script_name, str) or not script_name.strip():
            raise InvalidArgumentError(
                f"PythonScriptStep needs script_name (a .py file in source_directory), got {script_name!r}"
            )
        super().__init__(
            name or script_name,
            inputs,
            outputs,
            arguments,
            compute_target,
            source_directory,
            allow_reuse,
            _environment_of(environment, runconfig),
        )
        self.script_name = script_name
        self.params = dict(params or {})
        self.runconfig = runconfig
        self.version = version
        limit = getattr(runconfig, "max_run_duration_seconds", None)
        self.max_run_duration_seconds = limit

    def _parameter_values(self) -> list[Any]:
        return list(self.params.values())

    def _specific(self, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            "kind": "script",
            "script": self.script_name,
            "params": {k: self._value(v, inputs) for k, v in self.params.items()},
            "max_run_duration_seconds": self.max_run_duration_seconds,
        }

    def _problems(self) -> list[str]:
        problems = super()._problems()
        if not problems and not (Path(self.source_directory) / self.script_name).is_file():
            problems.append(
                f"step {self.name!r}: script {self.script_name!r} is not in source_directory {self.source_directory!r}"
            )
        return problems


class NotebookStep(PipelineStep):
    """A step that runs a notebook with papermill (as ``NotebookRunConfig``): ``parameters`` are
    injected after its ``parameters`` cell; a ``PipelineParameter`` there takes the submitted value, a
    ``PipelineData`` the folder's path. The executed notebook is the step run's
    ``outputs/<notebook>``."""

    def __init__(
        self,
        notebook: str,
        parameters: Mapping[str, Any] | None = None,
        name: str | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        compute_target: Any = None,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[Any] | None = None,
        environment: Any = None,
        kernel_name: str | None = None,
        allow_reuse: bool = True,
        allow_unknown_parameters: bool = False,
        max_run_duration_seconds: float | None = None,
    ) -> None:
        if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
            raise InvalidArgumentError(
                f"NotebookStep needs notebook='name.ipynb' (in source_directory), got {notebook!r}"
            )
        if parameters is not None and not isinstance(parameters, Mapping):
            raise InvalidArgumentError(f"NotebookStep parameters must be a dict, got {type(parameters).__name__}")
        super().__init__(
            name or notebook, inputs, outputs, None, compute_target, source_directory, allow_reuse, environment
        )
        self.notebook = notebook
        self.parameters = dict(parameters or {})
        self.kernel_name = kernel_name
        self.allow_unknown_parameters = allow_unknown_parameters
        self.max_run_duration_seconds = max_run_duration_seconds

    def _parameter_values(self) -> list[Any]:
        return list(self.parameters.values())

    def _specific(self, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            "kind": "notebook",
            "notebook": self.notebook,
            "parameters": {k: self._value(v, inputs) for k, v in self.parameters.items()},
            "kernel_name": self.kernel_name,
            "allow_unknown_parameters": self.allow_unknown_parameters,
            "max_run_duration_seconds": self.max_run_duration_seconds,
        }

    def _problems(self) -> list[str]:
        problems = super()._problems()
        if not problems and not (Path(self.source_directory) / self.notebook).is_file():
            problems.append(
                f"step {self.name!r}: notebook {self.notebook!r} is not in source_directory {self.source_directory!r}"
            )
        return problems
