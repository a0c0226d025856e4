"""A job's inputs (issue 15): values in ``ScriptRunConfig(arguments=…, inputs=…)`` /
``NotebookRunConfig(inputs=…)`` that stand for data — a dataset's ``as_named_input(name)`` — and their
journey: described at submit (JSON in the job spec) and recorded as the run's lineage (here); staged
into the job's folder by its supervisor before the job starts, and substituted into its argv
(``compute/inputs.py``: a Docker job sees nothing else of the workspace); rebuilt inside the job as
``Run.input_datasets`` (``core/runs/remote.py``: ``job_input_values``, which needs no workspace).

The core knows no dataset: which values are inputs is the business of *job input types*, named
plug-ins (STYLE 1) in ``core.registry.job_input_types`` — the built-in ``dataset`` type lives in
``jupyter_mlws.data.job_inputs`` (named there as a string only), more come from the entry point
group ``jupyter_mlws.job_input_types``. A type implements ``core.interfaces.compute.JobInputType``.

Inside the job, ``MLWS_INPUTS`` names a JSON file in the job folder that lists each input, what its
type staged and where (``.mlws-inputs/<name>`` unless the input asked for a ``path_on_compute``), and
the type's ``module:attribute`` that rebuilds it there.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError
from .layout import INPUTS_FOLDER
from .names import validate_file_name
from .registry import job_input_types

if TYPE_CHECKING:
    from .interfaces.compute import JobInputType
    from .workspace import Workspace

__all__ = ["collect_inputs", "discard_inputs", "record_inputs"]

# v1 gives each input's name to the job as an environment variable: names are identifiers.
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
# Arguments that are plainly arguments: never offered to the input types (most jobs have only these).
_PLAIN = (str, bytes, int, float, bool, os.PathLike)


def _types() -> dict[str, JobInputType]:
    # One instance of each type per submission (a type may remember what it described); a broken
    # third-party type is left out with a warning naming it.
    return {name: kind() for name, kind in job_input_types.available().items()}


def _describe(value: Any, types: dict[str, JobInputType]) -> dict[str, Any] | None:
    for type_name, kind in types.items():
        described = kind.describe(value)
        if described is not None:
            return {**described, "type": type_name}
    return None


def _check(described: dict[str, Any]) -> dict[str, Any]:
    name = described.get("name")
    if not isinstance(name, str) or not _INPUT_NAME.match(name):
        raise InvalidArgumentError(
            f"invalid input name {name!r}: use letters, digits and '_', starting with a letter or '_' "
            "(the job gets it as an environment variable name, as in Azure ML v1)"
        )
    where = described.get("path_on_compute")
    if where is not None:
        if not isinstance(where, str) or os.path.isabs(where):
            raise InvalidArgumentError(
                f"input {name!r}: path_on_compute {where!r} must be a folder relative to the job's working "
                "folder (e.g. 'data/train'); the job gets the absolute path"
            )
        where = validate_file_name(where.rstrip("/"), "path_on_compute")
        if where.split("/", 1)[0] in ("outputs", "logs", INPUTS_FOLDER):
            raise InvalidArgumentError(
                f"input {name!r}: path_on_compute {where!r} is inside the job's outputs/ or logs/ (collected as "
                "the run's files) or its inputs folder; choose another folder"
            )
        described["path_on_compute"] = where
    return described


def collect_inputs(arguments: Sequence[Any], inputs: Sequence[Any] | None) -> tuple[list[str], dict[str, Any]]:
    """The job spec's argv and its input fields, from a config's ``arguments`` and ``inputs``.

    An input in ``arguments`` is an input too (v1) and holds its place in the argv as
    ``DatasetConsumptionConfig:<name>`` until the supervisor substitutes it; the same input given in
    both lists is one input. Other arguments become strings. Returns ``(argv, fields)`` where
    ``fields`` is ``{}`` (no inputs) or ``{"inputs": [...], "input_arguments": [[index, name], ...]}``.
    """
    if inputs is not None and (isinstance(inputs, str | bytes | Mapping) or not isinstance(inputs, Sequence)):
        raise InvalidArgumentError(
            f"inputs must be a list of dataset inputs (ds.as_named_input('name')), got {type(inputs).__name__}"
        )
    types: dict[str, JobInputType] | None = None
    found: dict[str, dict[str, Any]] = {}
    places: list[list[Any]] = []

    def add(described: dict[str, Any], origin: str) -> str:
        described = _check(described)
        name = str(described["name"])
        known = found.get(name)
        if known is not None and known != described:
            raise InvalidArgumentError(
                f"the input name {name!r} is used twice ({origin}) for different data or modes; "
                "give each input its own name with as_named_input(name)"
            )
        found[name] = described
        return name

    for position, item in enumerate(inputs or []):
        types = types if types is not None else _types()
        described = _describe(item, types)
        if described is None:
            raise InvalidArgumentError(
                f"inputs[{position}] is a {type(item).__name__} ({item!r:.80}), not a job input: pass a dataset's "
                "consumption config, e.g. ds.as_named_input('train') or file_ds.as_named_input('raw').as_mount()"
            )
        if described.get("name") in found:
            raise InvalidArgumentError(
                f"the input name {described['name']!r} is used twice in inputs; give each input its own name "
                "with as_named_input(name)"
            )
        add(described, f"inputs[{position}]")
    argv: list[str] = []
    for index, value in enumerate(arguments):
        if isinstance(value, _PLAIN) or value is None:
            argv.append(str(value))
            continue
        types = types if types is not None else _types()
        described = _describe(value, types)
        if described is None:
            argv.append(str(value))  # as before inputs existed: any other object is its text
            continue
        name = add(described, f"arguments[{index}]")
        places.append([index, name])
        argv.append(str(found[name].get("placeholder") or f"input:{name}"))
    if not found:
        return argv, {}
    return argv, {"inputs": list(found.values()), "input_arguments": places}


def record_inputs(workspace: Workspace, run_id: str, spec: Mapping[str, Any]) -> None:
    """Record the lineage of a submitted run's inputs (each type its own), before the job starts."""
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for described in spec.get("inputs") or []:
        by_type.setdefault(described["type"], []).append(described)
    for type_name, described_inputs in by_type.items():
        job_input_types.get(type_name)().record(workspace, run_id, described_inputs)


def discard_inputs(spec: Mapping[str, Any]) -> None:
    """A submission that failed before its job could run: each type drops what it kept for it (the
    supervisor does the same after a job). Never raises: the submission's own error is the one to see."""
    for described in spec.get("inputs") or []:
        with contextlib.suppress(Exception):
            job_input_types.get(described["type"])().discard(described)
