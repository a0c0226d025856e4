"""A job's inputs in its supervisor (issue 15; the submit and job sides are ``core/job_inputs.py``):
before the job starts, each input is staged into the job's folder by its job input type (a dataset
version's files, copied and verified), a mounted one write-protected; the description the job reads
(``MLWS_INPUTS``) is written beside them, and the job's argv gets each input's value in place of its
placeholder (v1: a tabular dataset's id, a file input's local folder).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.layout import INPUTS_FILE, INPUTS_FOLDER, OUTPUTS_FOLDER
from ..core.registry import job_input_types
from ..errors import InvalidStateError

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = [
    "collect_outputs",
    "discard_inputs",
    "input_folder",
    "make_writable",
    "output_folder",
    "stage_inputs",
    "stage_outputs",
]


def input_folder(workdir: Path, described: Mapping[str, Any]) -> Path:
    """Where an input is staged in the job folder ``workdir``."""
    where = described.get("path_on_compute")
    return workdir / str(where) if where else workdir / INPUTS_FOLDER / str(described["name"])


def stage_inputs(workspace: Workspace, spec: dict[str, Any], workdir: Path) -> Path | None:
    """In the supervisor, before the job starts: stage each input into the job folder, write the
    description the job reads (its path is returned; ``None`` without inputs) and put each input's
    value into the spec's argv in place of its placeholder."""
    inputs = spec.get("inputs") or []
    if not inputs:
        return None
    root = workdir / INPUTS_FOLDER
    root.mkdir(exist_ok=True)
    staged: dict[str, dict[str, Any]] = {}
    for described in inputs:
        name = described["name"]
        folder = input_folder(workdir, described)
        if folder.exists() or folder.is_symlink():
            raise InvalidStateError(
                f"input {name!r}: path_on_compute {described.get('path_on_compute')!r} is already taken by the "
                "job's snapshot; choose a folder the source directory does not have"
            )
        folder.mkdir(parents=True)
        result = job_input_types.get(described["type"])().stage(workspace, described, folder)
        if described.get("read_only"):
            _write_protect(folder)
        staged[name] = {
            "folder": str(folder),
            "argument": str(result["argument"]),
            "data": result.get("data"),
            "resolver": job_input_types.spec(described["type"]),  # the job loads it without the registry
        }
    argv = list(spec.get("arguments") or [])
    for index, name in spec.get("input_arguments") or []:
        argv[int(index)] = staged[name]["argument"]
    spec["arguments"] = argv
    _substitute_parameters(spec, {str(d.get("placeholder")): staged[d["name"]]["argument"] for d in inputs})
    description = root / INPUTS_FILE
    payload = {"inputs": [{"described": d, **staged[d["name"]]} for d in inputs]}
    description.write_text(json.dumps(payload), encoding="utf-8")
    return description


def output_folder(workdir: Path, described: Mapping[str, Any]) -> Path:
    """Where the job writes its output ``described["name"]`` in the job folder ``workdir``."""
    return workdir / OUTPUTS_FOLDER / str(described["name"])


def stage_outputs(spec: dict[str, Any], workdir: Path) -> None:
    """Before the job starts: an empty folder for each of the spec's ``outputs`` (issue 16), its path
    put into the argv in place of the output's placeholder."""
    outputs = spec.get("outputs") or []
    if not outputs:
        return
    paths: dict[str, str] = {}
    for described in outputs:
        folder = output_folder(workdir, described)
        folder.mkdir(parents=True, exist_ok=False)
        paths[str(described["placeholder"])] = str(folder)
    spec["arguments"] = [paths.get(str(a), str(a)) for a in spec.get("arguments") or []]
    _substitute_parameters(spec, paths)


def _substitute_parameters(spec: dict[str, Any], values: Mapping[str, str]) -> None:
    """A notebook job's parameters that hold an input's or output's placeholder get its value (a
    pipeline's NotebookStep passes folders this way)."""
    parameters = spec.get("parameters")
    if isinstance(parameters, dict):
        spec["parameters"] = {k: values.get(v, v) if isinstance(v, str) else v for k, v in parameters.items()}


def collect_outputs(workspace: Workspace, run_id: str, spec: Mapping[str, Any], workdir: Path) -> None:
    """After the job's process exited 0 and before its run is Completed: each output type stores its
    folder (a raise fails the run: a step whose outputs are not stored did not complete)."""
    for described in spec.get("outputs") or []:
        folder = output_folder(workdir, described)
        if folder.is_symlink() or not folder.is_dir():
            raise InvalidStateError(
                f"output {described['name']!r}: the job removed or replaced its output folder {folder}; write "
                "files into the folder given as its argument instead"
            )
        job_input_types.get(described["type"])().collect(workspace, run_id, described, folder)


def _write_protect(folder: Path) -> None:
    """A mounted input is read-only (v1): its staged copy is write-protected, files and folders."""
    for dirpath, _dirnames, filenames in os.walk(folder, topdown=False):
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                continue  # chmod would follow it
            with contextlib.suppress(OSError):
                path.chmod(stat.S_IMODE(path.lstat().st_mode) & ~0o222)
        base = Path(dirpath)
        with contextlib.suppress(OSError):
            base.chmod(stat.S_IMODE(base.lstat().st_mode) & ~0o222)


def make_writable(workdir: Path) -> None:
    """Undo :func:`_write_protect` below ``workdir`` so that the job folder can be removed."""
    for dirpath, dirnames, _filenames in os.walk(workdir):
        for name in dirnames:
            path = Path(dirpath) / name
            with contextlib.suppress(OSError):
                if not path.is_symlink():
                    path.chmod(stat.S_IMODE(path.lstat().st_mode) | 0o700)


def discard_inputs(spec: Mapping[str, Any], workdir: Path | None) -> None:
    """After the job, whatever its outcome: mounted inputs are made removable again (``workdir``) and
    each type drops what it kept for the job. Never raises: the job's outcome is already decided."""
    if workdir is not None:
        make_writable(workdir)
    for described in spec.get("inputs") or []:
        with contextlib.suppress(Exception):
            job_input_types.get(described["type"])().discard(described)
