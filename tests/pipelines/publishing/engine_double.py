"""A stand-in for the pipeline engine's entry point (``jupyter_mlws.pipelines.engine.submit_definition``,
the lead's part of issue 16) with exactly its signature: it checks parameter names as the engine must,
then makes a plain run (``Experiment.start_logging()``) carrying the properties and tags, the parameter
values as params, and completes it. Publishing and schedules are real around it.

``install()`` puts it where ``from .engine import submit_definition`` finds it (``sys.modules``); the
fixture in ``conftest.py`` and the worker processes of the two-process test use it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from typing import Any

from jupyter_mlws import Experiment, Run, Workspace
from jupyter_mlws.errors import InvalidArgumentError

ENGINE = "jupyter_mlws.pipelines.engine"
calls: list[dict[str, Any]] = []


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
) -> Run:
    declared = dict(definition.get("parameters") or {})
    unknown = sorted(set(parameter_assignments or {}) - set(declared))
    if unknown:
        raise InvalidArgumentError(f"unknown pipeline parameters: {', '.join(unknown)}")
    values = {**declared, **(parameter_assignments or {})}
    run = Experiment(workspace, experiment_name).start_logging()
    run.add_properties(dict(properties or {}))
    for key, value in (tags or {}).items():
        run.tag(key, value)
    if values:
        run.log_params({k: str(v) for k, v in values.items()})
    run.complete()
    calls.append(
        {
            "experiment": experiment_name,
            "definition": definition,
            "values": values,
            "run_id": run.id,
            "continue_on_step_failure": continue_on_step_failure,
        }
    )
    return run


def module() -> types.ModuleType:
    """The real engine module's names, with ``submit_definition`` replaced (other modules import its
    constants)."""
    import importlib

    real = importlib.import_module(ENGINE) if ENGINE not in sys.modules else sys.modules[ENGINE]
    if getattr(real, "_is_stand_in", False):
        return real
    stand_in = types.ModuleType(ENGINE)
    stand_in.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
    stand_in.submit_definition = submit_definition  # type: ignore[attr-defined]
    stand_in._is_stand_in = True  # type: ignore[attr-defined]
    return stand_in


def install() -> None:
    """For a worker process (the tests use the ``engine`` fixture)."""
    sys.modules[ENGINE] = module()
