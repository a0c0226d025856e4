"""``Pipeline(workspace, steps)``: the step graph, its validation and its JSON definition (issue 16).

The graph's edges are data (a step reads a ``PipelineData`` another step writes) and explicit
ordering (``step.run_after(other)``). As in v1 (``resolve_closure=True``) a step that writes data a
listed step reads is part of the pipeline even when it was not listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError
from .data import PipelineParameter
from .steps import PipelineStep

if TYPE_CHECKING:
    from ..core.experiment import Experiment
    from ..core.workspace import Workspace
    from .published import PublishedPipeline
    from .runs import PipelineRun

__all__ = ["Pipeline", "topological_order"]

DEFINITION_VERSION = 1


class Pipeline:
    """A graph of steps, submitted with ``Experiment(ws, name).submit(pipeline)`` (v1)."""

    def __init__(
        self,
        workspace: Workspace,
        steps: Sequence[PipelineStep] | PipelineStep,
        description: str | None = None,
        default_datastore: Any = None,
        default_source_directory: str | None = None,
        resolve_closure: bool = True,
    ) -> None:
        listed = [steps] if isinstance(steps, PipelineStep) else list(steps) if isinstance(steps, Sequence) else None
        if not listed or not all(isinstance(s, PipelineStep) for s in listed):
            raise InvalidArgumentError(
                f"Pipeline(workspace, steps) takes a list of steps (PythonScriptStep, NotebookStep), got {steps!r:.100}"
            )
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"description must be a string, got {description!r}")
        self._workspace = workspace
        self.description = description
        self._steps = _closure(listed) if resolve_closure else listed

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def steps(self) -> list[PipelineStep]:
        return list(self._steps)

    # -- validation -------------------------------------------------------------------------------------
    def validate(self) -> list[str]:
        """The pipeline's problems, each a sentence naming the steps (empty: it can be submitted):
        two steps with one name, data no step writes or two steps write, a cycle, a step's missing
        script or notebook, a parameter with two defaults. Never raises."""
        problems: list[str] = []
        names: dict[str, PipelineStep] = {}
        for step in self._steps:
            if step.name in names:
                problems.append(f"two steps are named {step.name!r}: give each step its own name")
            names.setdefault(step.name, step)
        listed = {id(s) for s in self._steps}
        writers: dict[str, PipelineStep] = {}
        for step in self._steps:
            for output in step.outputs:
                others = [s for s in output._other_producers if id(s) in listed]
                if others or (output.name in writers and writers[output.name] is not step):
                    first = writers.get(output.name) or output._producer
                    second = others[0] if others else step
                    problems.append(
                        f"the data {output.name!r} is written by two steps ({first.name if first else '?'!r} and "
                        f"{second.name!r}): give each output its own PipelineData"
                    )
                writers.setdefault(output.name, step)
            for data_input in step._data_inputs():
                producer = data_input.data._producer
                if producer is None or id(producer) not in listed:
                    problems.append(
                        f"step {step.name!r} reads {data_input.data.name!r}, which no step of the pipeline writes: "
                        "list it in the outputs of the step that produces it"
                    )
            for other in step._run_after:
                if id(other) not in listed:
                    problems.append(f"step {step.name!r} runs after {other.name!r}, which is not in the pipeline")
        cycle = _find_cycle(self._steps)
        if cycle:
            problems.append(
                "the steps form a cycle (" + " -> ".join(repr(s) for s in cycle) + "): a step cannot depend on itself"
            )
        defaults: dict[str, Any] = {}
        for step in self._steps:
            for param in step._parameters():
                if param.name in defaults and defaults[param.name] != param.default_value:
                    problems.append(
                        f"the pipeline parameter {param.name!r} has two defaults ({defaults[param.name]!r} and "
                        f"{param.default_value!r}): use one PipelineParameter object"
                    )
                defaults.setdefault(param.name, param.default_value)
            problems += step._problems()
        return problems

    def _check(self) -> None:
        problems = self.validate()
        if problems:
            raise InvalidArgumentError(
                "the pipeline cannot run: " + "; ".join(problems) + ". Fix it and submit again (pipeline.validate() "
                "lists the problems)"
            )

    # -- the definition ---------------------------------------------------------------------------------
    def _definition(self) -> dict[str, Any]:
        """The pipeline as JSON: what is submitted, and what a published pipeline keeps."""
        self._check()
        parameters: dict[str, Any] = {}
        for step in self._steps:
            for param in step._parameters():
                parameters[param.name] = _parameter_default(param)
        ordered = topological_order({s.name: [u.name for u in s._upstream()] for s in self._steps})
        by_name = {s.name: s for s in self._steps}
        return {
            "version": DEFINITION_VERSION,
            "description": self.description,
            "parameters": parameters,
            "steps": [by_name[name]._definition() for name in ordered],
        }

    # -- submitting and publishing ----------------------------------------------------------------------
    def submit(
        self,
        experiment_name: str,
        pipeline_parameters: Mapping[str, Any] | None = None,
        continue_on_step_failure: bool = False,
        regenerate_outputs: bool = False,
        **kwargs: Any,
    ) -> PipelineRun:
        """v1's ``pipeline.submit(experiment_name, …)``: as ``Experiment(ws, name).submit(pipeline, …)``."""
        from ..core.experiment import Experiment

        return self._submit_to_experiment(
            Experiment(self._workspace, experiment_name),
            pipeline_parameters=pipeline_parameters,
            continue_on_step_failure=continue_on_step_failure,
            regenerate_outputs=regenerate_outputs,
            **kwargs,
        )

    def _submit_to_experiment(
        self,
        experiment: Experiment,
        tags: Mapping[str, Any] | None = None,
        pipeline_parameters: Mapping[str, Any] | None = None,
        continue_on_step_failure: bool = False,
        regenerate_outputs: bool = False,
        **kwargs: Any,
    ) -> PipelineRun:
        from .engine import submit_definition

        if kwargs:
            raise InvalidArgumentError(
                f"submitting a pipeline got unknown keyword(s) {sorted(kwargs)}; it takes pipeline_parameters, "
                "continue_on_step_failure, regenerate_outputs and tags"
            )
        if experiment.workspace != self._workspace:
            raise InvalidArgumentError(
                f"the pipeline belongs to workspace {self._workspace.name!r}, the experiment {experiment.name!r} to "
                f"{experiment.workspace.name!r}; submit it to an experiment of its own workspace"
            )
        return submit_definition(
            experiment.workspace,
            experiment.name,
            self._definition(),
            pipeline_parameters,
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            continue_on_step_failure=continue_on_step_failure,
            regenerate_outputs=regenerate_outputs,
        )

    def publish(
        self,
        name: str,
        description: str | None = None,
        version: str | None = None,
        continue_on_step_failure: bool | None = None,
    ) -> PublishedPipeline:
        """Keep this pipeline under ``name`` as a ``PublishedPipeline``: submitted later from Python,
        from a schedule or over REST (its ``endpoint``)."""
        from .published import PublishedPipeline

        definition = self._definition()
        # The steps' code is frozen now, as in v1: each step keeps the snapshot of its folder taken here.
        taken: dict[str, str] = {}
        for step in definition["steps"]:
            folder = step["source_directory"]
            if folder not in taken:
                taken[folder] = self._workspace.services.snapshots.capture(folder).id
            step["snapshot_id"] = taken[folder]
        return PublishedPipeline._create(
            self._workspace,
            name,
            description or self.description,
            version,
            definition,
            continue_on_step_failure,
        )

    def __repr__(self) -> str:
        return f"Pipeline(steps={[s.name for s in self._steps]!r})"


def _parameter_default(param: PipelineParameter) -> Any:
    value = param.default_value
    if isinstance(value, str | int | float | bool):
        return value
    path = getattr(value, "path", None)
    datastore = getattr(getattr(value, "datastore", None), "name", None)
    if isinstance(path, str) and isinstance(datastore, str):
        return {"datastore": datastore, "path": path}  # a DataPath
    raise InvalidArgumentError(
        f"PipelineParameter {param.name!r}: the default {value!r} is not a string, number, bool or DataPath"
    )


def _closure(listed: list[PipelineStep]) -> list[PipelineStep]:
    """The listed steps plus, first, every step that writes data one of them reads (v1's closure)."""
    seen: dict[int, PipelineStep] = {}
    order: list[PipelineStep] = []

    def visit(step: PipelineStep) -> None:
        if id(step) in seen:
            return
        seen[id(step)] = step
        for data_input in step._data_inputs():
            producer = data_input.data._producer
            if producer is not None:
                visit(producer)
        order.append(step)

    for step in listed:
        visit(step)
    return order


def _find_cycle(steps: Sequence[PipelineStep]) -> list[str]:
    """The names along one cycle of the graph (first name repeated at the end), or []."""
    by_id = {id(s): s for s in steps}
    state: dict[int, int] = {}  # 1: on the path, 2: done
    path: list[PipelineStep] = []

    def visit(step: PipelineStep) -> list[str]:
        state[id(step)] = 1
        path.append(step)
        for up in step._upstream():
            if id(up) not in by_id:
                continue
            if state.get(id(up)) == 1:
                start = next(i for i, s in enumerate(path) if s is up)
                return [s.name for s in path[start:]] + [up.name]
            if state.get(id(up)) is None:
                found = visit(up)
                if found:
                    return found
        path.pop()
        state[id(step)] = 2
        return []

    for step in steps:
        if state.get(id(step)) is None:
            found = visit(step)
            if found:
                return list(reversed(found))
    return []


def topological_order(upstream: Mapping[str, Sequence[str]]) -> list[str]:
    """Step names so that each comes after those it depends on (ties in the given order)."""
    order: list[str] = []
    placed: set[str] = set()
    remaining = list(upstream)
    while remaining:
        ready = [n for n in remaining if all(u in placed or u not in upstream for u in upstream[n])]
        if not ready:
            raise InvalidArgumentError(f"the steps {remaining} depend on each other in a cycle")
        for name in ready:
            order.append(name)
            placed.add(name)
        remaining = [n for n in remaining if n not in placed]
    return order
