"""Submitting a pipeline (issue 16): from its JSON definition to a pipeline run and its step runs.

At submit, before anything runs: parameters are resolved; each step is described as a job (its
snapshot taken — once per source folder —, its environment registered, its dataset inputs described:
an unregistered dataset fingerprinted now, a registered version's files checked against its
fingerprint, ``DatasetChangedError`` otherwise); then the pipeline run (type ``azureml.PipelineRun``)
and one NotStarted child run per step are created. The scheduler (``driver.advance``) then runs once
here: steps it can reuse complete at once, ready steps are queued on their targets. Whatever is left
goes to the dispatcher agent, which forks the pipeline's driver (so the pipeline outlives the
submitting kernel); a pipeline whose every step was reused is complete before ``submit`` returns.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.entities import SUBMITTED_FROM
from ..core.experiment import Experiment
from ..core.job_inputs import discard_inputs
from ..core.jobs import create_job_run, target_backend
from ..core.registry import job_input_types
from ..core.run_config import NotebookRunConfig, ScriptRunConfig
from ..core.services.liveness import HOSTNAME
from ..core.services.tracking import new_run_id
from ..core.status import RunStatus
from ..errors import InvalidArgumentError
from .data import PLACEHOLDER_PREFIX

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from .runs import PipelineRun

__all__ = ["PIPELINE_RUN_TYPE", "STEP_RUN_TYPE", "resolve_parameters", "submit_definition"]

PIPELINE_RUN_TYPE = "azureml.PipelineRun"
STEP_RUN_TYPE = "azureml.StepRun"
PIPELINE_TARGET = "local"  # the pipeline run is filed under the local target: its agent drives it
_INPUT_MARK = "\x00input:"  # a notebook parameter that is a dataset input, until its placeholder is known
PARALLEL_RUNNER = "jupyter_mlws.pipelines.parallel_runner"  # what a ParallelRunStep's job runs


def resolve_parameters(defaults: Mapping[str, Any], assignments: Mapping[str, Any] | None) -> dict[str, Any]:
    """The pipeline's parameter values: the defaults, overridden by ``assignments`` (unknown names are
    refused, naming the known ones)."""
    if assignments is not None and not isinstance(assignments, Mapping):
        raise InvalidArgumentError(f"pipeline_parameters must be a dict, got {type(assignments).__name__}")
    values = dict(defaults)
    for name, value in (assignments or {}).items():
        if name not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise InvalidArgumentError(
                f"the pipeline has no parameter {name!r} (its parameters: {known}); "
                "name a PipelineParameter of its steps"
            )
        values[name] = _parameter_value(name, value)
    return values


def _parameter_value(name: str, value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    path = getattr(value, "path", None)
    datastore = getattr(getattr(value, "datastore", None), "name", None)
    if isinstance(path, str) and isinstance(datastore, str):
        return {"datastore": datastore, "path": path}
    if isinstance(value, Mapping) and set(value) == {"datastore", "path"}:
        return dict(value)
    raise InvalidArgumentError(f"pipeline parameter {name!r}: {value!r} is not a string, number, bool or DataPath")


def input_placeholder(name: str) -> str:
    return f"{PLACEHOLDER_PREFIX}in:{name}"


def output_placeholder(name: str) -> str:
    return f"{PLACEHOLDER_PREFIX}out:{name}"


class _StepBuilder:
    """Turns one step's definition into a job spec, as its run config would."""

    def __init__(self, workspace: Workspace, parameters: Mapping[str, Any], producers: Mapping[str, str]) -> None:
        self.ws = workspace
        self.parameters = parameters
        self.producers = producers  # data name -> the run id of the step that writes it
        self.restored: dict[str, str] = {}  # a published step's snapshot id -> its scratch folder

    def value(self, item: Mapping[str, Any], inputs: Mapping[str, Any], step: str) -> Any:
        if "value" in item:
            return item["value"]
        if "parameter" in item:
            value = self.parameters[item["parameter"]]
            if isinstance(value, dict):
                raise InvalidArgumentError(
                    f"step {step!r}: the parameter {item['parameter']!r} holds a DataPath; "
                    "pass it in the step's inputs "
                    "as (parameter, DataPathComputeBinding()) instead of as an argument"
                )
            return value
        if "output" in item:
            return output_placeholder(item["output"])
        if "data_input" in item:
            return input_placeholder(item["data_input"])
        if "input" in item:
            return inputs[item["input"]]
        raise InvalidArgumentError(f"step {step!r}: an argument of an unknown form {dict(item)!r}")

    def inputs(self, step: Mapping[str, Any]) -> dict[str, Any]:
        """The step's dataset inputs rebuilt as objects (described by the job input types at job_spec())."""
        built: dict[str, Any] = {}
        for entry in step["inputs"]:
            if "parameter_path" in entry:
                path = self.parameters[entry["parameter_path"]]
                if not isinstance(path, dict):
                    raise InvalidArgumentError(
                        f"step {step['name']!r}: the parameter {entry['parameter_path']!r} is bound as a data path but "
                        f"holds {path!r}; give it a DataPath (datastore.path('folder'))"
                    )
                binding = entry["binding"]
                ref = {
                    "name": entry["parameter_path"],
                    "mode": binding["mode"],
                    "path_on_compute": binding.get("path_on_compute"),
                    "kind": "file",
                    "source": {"datastore": path["datastore"], "patterns": [path["path"] or "**"]},
                    "spec": None,
                }
                built[entry["parameter_path"]] = job_input_types.get("dataset")().from_reference(self.ws, ref)
            else:
                kind = job_input_types.get(entry["type"])()
                built[entry["ref"]["name"]] = kind.from_reference(self.ws, entry["ref"])
        return built

    def source(self, step: Mapping[str, Any]) -> str:
        """Where the step's code is read: its folder, or for a published pipeline the snapshot taken
        at publish, restored once per submit into a scratch folder (the code is frozen, as in v1)."""
        frozen = step.get("snapshot_id")
        if not frozen:
            return str(step["source_directory"])
        if frozen not in self.restored:
            folder = tempfile.mkdtemp(prefix="mlws-published-")
            self.restored[frozen] = folder
            self.ws.services.snapshots.restore(frozen, folder)
        return self.restored[frozen]

    def cleanup(self) -> None:
        for folder in self.restored.values():
            shutil.rmtree(folder, ignore_errors=True)

    def spec(self, step: Mapping[str, Any]) -> dict[str, Any]:
        name = step["name"]
        inputs = self.inputs(step)
        source = self.source(step)
        if step["kind"] == "parallel":
            config: Any = self._parallel_config(step, inputs, source)
        elif step["kind"] == "script":
            arguments = [self.value(a, inputs, name) for a in step["arguments"]]
            config = ScriptRunConfig(
                source_directory=source,
                script=step["script"],
                arguments=arguments,
                compute_target=step["compute_target"],
                max_run_duration_seconds=step.get("max_run_duration_seconds"),
            )
            config.inputs = list(inputs.values())
        else:
            # A dataset input among a notebook's parameters is its placeholder here (the job's staged
            # folder once the supervisor staged it), as it is in a script's argv.
            parameters = {
                k: _INPUT_MARK + v["input"] if "input" in v else self.value(v, inputs, name)
                for k, v in step["parameters"].items()
            }
            config = NotebookRunConfig(
                source_directory=source,
                notebook=step["notebook"],
                parameters=parameters,
                compute_target=step["compute_target"],
                kernel_name=step.get("kernel_name"),
                allow_unknown_parameters=bool(step.get("allow_unknown_parameters")),
                max_run_duration_seconds=step.get("max_run_duration_seconds"),
                inputs=list(inputs.values()),
            )
        spec: dict[str, Any] = config.job_spec()
        if isinstance(spec.get("parameters"), dict):
            placeholders = {f"{_INPUT_MARK}{d['name']}": d.get("placeholder") for d in spec.get("inputs") or []}
            spec["parameters"] = {
                k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in spec["parameters"].items()
            }
        spec["environment"] = step.get("environment")
        spec["python"] = sys.executable
        if step.get("snapshot_id"):
            spec["source_directory"] = str(step["source_directory"])  # shown; the job gets the snapshot
            spec["frozen_snapshot"] = step["snapshot_id"]
        if step["kind"] == "parallel":
            # It hands tasks to its target and waits for them: on a cluster it must not hold a slot
            # its own tasks need (see compute/dask.py).
            spec["fans_out"] = True
        if step["kind"] == "parallel" and step.get("environment_variables"):
            spec["environment_variables"] = dict(step["environment_variables"])
        if step["kind"] == "script" and step.get("params"):
            spec["params"] = {k: self.value(v, inputs, name) for k, v in step["params"].items()}
            # v1 hands a PythonScriptStep's params to the script as environment variables too.
            spec["environment_variables"] = {f"AML_PARAMETER_{k}": str(v) for k, v in spec["params"].items()}
        self._add_pipeline_data(step, spec)
        return spec

    def _parallel_config(self, step: Mapping[str, Any], inputs: Mapping[str, Any], source: str) -> ScriptRunConfig:
        """A ParallelRunStep is a job whose command is the built-in runner: its settings (JSON) and
        the output folder's placeholder, then ``--`` and the entry script's own arguments."""
        settings = step["parallel"]
        runner = ["--settings", json.dumps(settings, sort_keys=True)]
        if settings.get("output"):
            runner += ["--output", output_placeholder(settings["output"])]
        arguments = [self.value(a, inputs, step["name"]) for a in step["arguments"]]
        config = ScriptRunConfig(
            source_directory=source,
            command=["python", "-m", PARALLEL_RUNNER],
            arguments=[*runner, "--", *arguments],
            compute_target=step["compute_target"],
        )
        config.inputs = list(inputs.values())
        return config

    def _add_pipeline_data(self, step: Mapping[str, Any], spec: dict[str, Any]) -> None:
        described = list(spec.get("inputs") or [])
        places = list(spec.get("input_arguments") or [])
        argv = list(spec.get("arguments") or [])
        for data_input in step["data_inputs"]:
            placeholder = input_placeholder(data_input["name"])
            described.append(
                {
                    "type": "pipeline_data",
                    "name": data_input["name"],
                    "data": data_input["data"],
                    "producer_run": self.producers[data_input["data"]],
                    "placeholder": placeholder,
                    "read_only": data_input["mode"] == "mount",
                    "path_on_compute": None,
                }
            )
            places += [[i, data_input["name"]] for i, a in enumerate(argv) if a == placeholder]
        if described:
            spec["inputs"] = described
            spec["input_arguments"] = places
        outputs = []
        for output in step["outputs"]:
            entry = {"type": "pipeline_data", "name": output["name"], "placeholder": output_placeholder(output["name"])}
            if output.get("register"):
                entry["register"] = output["register"]
            if output.get("destination"):
                entry["destination"] = output["destination"]
            outputs.append(entry)
        if outputs:
            spec["outputs"] = outputs


def submit_definition(
    workspace: Workspace,
    experiment_name: str,
    definition: dict[str, Any],
    parameter_assignments: Mapping[str, Any] | None = None,
    *,
    properties: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    continue_on_step_failure: bool = False,
    regenerate_outputs: bool = False,
) -> PipelineRun:
    """Submit a pipeline's definition (``Pipeline._definition()``) as a new pipeline run of
    ``experiment_name``; answers the :class:`~.runs.PipelineRun` (Completed already if every step
    was reused, else Queued or Running)."""
    from ..core.runs import Run
    from .driver import advance
    from .runs import PipelineRun

    for flag, value in (
        ("continue_on_step_failure", continue_on_step_failure),
        ("regenerate_outputs", regenerate_outputs),
    ):
        if not isinstance(value, bool):
            raise InvalidArgumentError(f"{flag} must be True or False, got {value!r}")
    experiment = Experiment(workspace, experiment_name)
    parameters = resolve_parameters(definition.get("parameters") or {}, parameter_assignments)
    steps = definition["steps"]
    run_ids = {step["name"]: new_run_id(experiment_name) for step in steps}
    producers = {o["name"]: run_ids[s["name"]] for s in steps for o in s["outputs"]}
    builder = _StepBuilder(workspace, parameters, producers)
    specs: dict[str, dict[str, Any]] = {}
    try:
        for step in steps:
            specs[step["name"]] = builder.spec(step)
        # A registered dataset whose files changed stops the pipeline here, before any step runs.
        for spec in specs.values():
            for described in spec.get("inputs") or []:
                verify = getattr(job_input_types.get(described["type"])(), "verify", None)
                if verify is not None:
                    verify(workspace, described)
    except BaseException:
        for spec in specs.values():
            discard_inputs(spec)
        raise
    finally:
        builder.cleanup()
    pipeline_spec = {
        "kind": "pipeline",
        "definition": definition,
        "parameters": parameters,
        "steps": run_ids,
        "continue_on_step_failure": continue_on_step_failure,
        "regenerate_outputs": regenerate_outputs,
    }
    parent = Run.create(
        experiment,
        status=RunStatus.NOT_STARTED,
        run_type=PIPELINE_RUN_TYPE,
        tags=tags,
        # Where it was submitted: in a team workspace that machine's agent drives it (as for any job).
        properties={"azureml.runsource": "azureml.PipelineRun", SUBMITTED_FROM: HOSTNAME, **(properties or {})},
        compute_target=PIPELINE_TARGET,
        job_spec=pipeline_spec,
        display_name=definition.get("description") or None,
    )
    snapshots: dict[str, str] = {}  # per source folder: one snapshot and one look at git per submit
    gits: dict[str, dict[str, str]] = {}
    created: list[str] = []
    try:
        for step in steps:
            spec = specs[step["name"]]
            source = spec["source_directory"]
            frozen = spec.pop("frozen_snapshot", None)
            run, _backend = create_job_run(
                experiment,
                spec,
                parent=parent,
                status=RunStatus.NOT_STARTED,
                run_id=run_ids[step["name"]],
                display_name=step["name"],
                properties={"azureml.runsource": STEP_RUN_TYPE, "azureml.nodeid": step["name"]},
                snapshot_id=frozen or snapshots.get(source),
                git={} if frozen else gits.get(source),
            )
            if not frozen and source not in snapshots:
                snapshots[source] = str(run._record.snapshot_id)
                gits[source] = {
                    k: v
                    for k, v in workspace.services.queries.properties(run.id).items()
                    if k.startswith("azureml.git.")
                }
            created.append(run.id)
    except BaseException as exc:
        _fail_submission(workspace, parent.id, created, specs, exc)
        raise
    try:
        ended = advance(workspace, parent.id)
    except BaseException:
        # Interrupted here (Ctrl-C, a store error): the pipeline must not stay NotStarted with nobody
        # driving it. Its driver takes over from the records, whatever this pass did.
        _hand_to_driver(workspace, parent.id)
        raise
    if not ended:
        _hand_to_driver(workspace, parent.id)  # steps are left to schedule: the agent forks its driver
    return PipelineRun(experiment, parent.id)


def _hand_to_driver(workspace: Workspace, parent_id: str) -> None:
    if workspace.services.tracking.try_transition(parent_id, RunStatus.NOT_STARTED, RunStatus.QUEUED):
        target_backend(workspace, PIPELINE_TARGET).submit(parent_id)


def _fail_submission(
    workspace: Workspace, parent_id: str, created: list[str], specs: Mapping[str, dict[str, Any]], exc: BaseException
) -> None:
    """A step could not be created: nothing runs; the pipeline run and the steps made so far end
    Failed with the reason, and what the inputs' types held is dropped."""
    import time

    tracking = workspace.services.tracking
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    error = {"message": f"the pipeline could not be submitted: {message}"}
    with contextlib.suppress(Exception):
        for run_id in created:
            tracking.try_transition(
                run_id, RunStatus.NOT_STARTED, RunStatus.CANCELED, end_time=time.time(), error=error
            )
        tracking.try_transition(parent_id, RunStatus.NOT_STARTED, RunStatus.FAILED, end_time=time.time(), error=error)
    for spec in specs.values():
        discard_inputs(spec)
