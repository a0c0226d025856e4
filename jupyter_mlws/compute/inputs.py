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

from ..core.layout import INPUTS_FILE, INPUTS_FOLDER
from ..core.registry import job_input_types
from ..errors import InvalidStateError

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["discard_inputs", "input_folder", "make_writable", "stage_inputs"]


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
    description = root / INPUTS_FILE
    payload = {"inputs": [{"described": d, **staged[d["name"]]} for d in inputs]}
    description.write_text(json.dumps(payload), encoding="utf-8")
    return description


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
