"""Notebook provenance of runs (issue 14, item 9): the notebook, cell and execution that started a run.

Azure ML v1 lost this; here a run started from a notebook — ``exp.start_logging()`` in a kernel,
``%%submit``, ``%submit nb.ipynb``, ``exp.submit(...)`` from a cell, a notebook job from the CLI or
JupyterLab — carries it as properties (set when the run is created, so immutable like all
properties). The property names live here and nowhere else:

- ``mlws.notebook.path``: the notebook — the one whose cell started the run, or for a notebook job
  the notebook the job runs. Relative to the Jupyter server's root (the path JupyterLab opens) when
  that server is known, else the absolute file path.
- ``mlws.notebook.cell_id`` / ``mlws.notebook.execution_count``: the cell (nbformat cell id, as
  JupyterLab sends it with each execute request) and its execution count; not set for notebook jobs,
  which run every cell.
- ``mlws.notebook.snapshot_path``: for a notebook job, the notebook's path in the run's snapshot.
- ``mlws.submitted_from.path`` / ``.cell_id`` / ``.execution_count``: for a notebook job submitted
  from a notebook cell (``%submit nb.ipynb`` or ``exp.submit(NotebookRunConfig(...))``), that cell.

Core reads no kernel itself (it imports no IPython, DESIGN §1). When IPython is loaded in this
process, the notebook-context providers are asked which cell is executing: the built-in one
(``jupyter_mlws.magics.provenance``, named here only as a string, like the store plug-ins) reads the
kernel's session (``__session__`` / ``JPY_SESSION_NAME``, which Jupyter Server sets for a kernel it
starts for a notebook) and the executing request's ``cellId``; more come from the entry-point group
``jupyter_mlws.notebook_context``. Outside a notebook kernel, and inside a job (whose processes
inherit the environment of the kernel that submitted it), there is no provenance and no error.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .layout import ENV_RUN_ID
from .registry import PluginRegistry

__all__ = [
    "NOTEBOOK_CELL_ID",
    "NOTEBOOK_EXECUTION_COUNT",
    "NOTEBOOK_PATH",
    "NOTEBOOK_SNAPSHOT_PATH",
    "PROPERTY_NAMES",
    "SUBMITTED_FROM_CELL_ID",
    "SUBMITTED_FROM_EXECUTION_COUNT",
    "SUBMITTED_FROM_PATH",
    "NotebookCell",
    "current_cell",
    "notebook_context_providers",
    "run_properties",
    "server_path",
]

NOTEBOOK_PATH = "mlws.notebook.path"
NOTEBOOK_CELL_ID = "mlws.notebook.cell_id"
NOTEBOOK_EXECUTION_COUNT = "mlws.notebook.execution_count"
NOTEBOOK_SNAPSHOT_PATH = "mlws.notebook.snapshot_path"
SUBMITTED_FROM_PATH = "mlws.submitted_from.path"
SUBMITTED_FROM_CELL_ID = "mlws.submitted_from.cell_id"
SUBMITTED_FROM_EXECUTION_COUNT = "mlws.submitted_from.execution_count"
PROPERTY_NAMES = (
    NOTEBOOK_PATH,
    NOTEBOOK_CELL_ID,
    NOTEBOOK_EXECUTION_COUNT,
    NOTEBOOK_SNAPSHOT_PATH,
    SUBMITTED_FROM_PATH,
    SUBMITTED_FROM_CELL_ID,
    SUBMITTED_FROM_EXECUTION_COUNT,
)


@dataclass(frozen=True)
class NotebookCell:
    """The notebook cell executing now, as a provider sees it.

    ``path`` is the kernel's session path: absolute (what Jupyter Server sets) or already relative
    to the server's root; :func:`current_cell` turns an absolute one into a server path.
    """

    path: str
    cell_id: str | None = None
    execution_count: int | None = None


NotebookContextProvider = Callable[[], NotebookCell | None]

notebook_context_providers = PluginRegistry(
    "notebook context provider",
    "jupyter_mlws.notebook_context",
    {"ipykernel": "jupyter_mlws.magics.provenance:kernel_cell"},
    {},
)

_warned: set[str] = set()


def current_cell() -> NotebookCell | None:
    """The notebook cell this code runs in, or None (not a notebook kernel, or inside a job)."""
    if os.environ.get(ENV_RUN_ID):
        return None  # a job: JPY_SESSION_NAME may be inherited from the kernel that submitted it
    if "IPython" not in sys.modules:
        return None  # no kernel in this process: nothing to ask, nothing imported
    for name in notebook_context_providers.names():
        try:
            provider: NotebookContextProvider = notebook_context_providers.get(name)
            cell = provider()
        except Exception as exc:  # provenance is a nicety: a broken provider never stops a run
            if name not in _warned:
                _warned.add(name)
                warnings.warn(f"notebook context provider {name!r} failed: {exc}", RuntimeWarning, stacklevel=2)
            continue
        if cell is not None and cell.path:
            return NotebookCell(server_path(cell.path), cell.cell_id, cell.execution_count)
    return None


def _runtime_dir() -> Path | None:
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:  # pragma: no cover - jupyter_core comes with jupyter_client
        return None
    return Path(jupyter_runtime_dir())


def _server_root(info_file: Path) -> Path | None:
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    root = info.get("root_dir") if isinstance(info, dict) else None
    return Path(os.path.abspath(os.path.expanduser(root))) if isinstance(root, str) and root else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _relative(path: Path, root: Path | None) -> str | None:
    """``path`` under ``root``: as written first (the server opened it by that path, perhaps through a
    symbolic link under its root), else both with symbolic links resolved (a root that is a link)."""
    if root is None:
        return None
    with contextlib.suppress(ValueError):
        return path.relative_to(root).as_posix()
    with contextlib.suppress(ValueError, OSError, RuntimeError):  # not under it, or a link that cannot resolve
        return path.resolve().relative_to(root.resolve()).as_posix()
    return None


@functools.lru_cache(maxsize=128)
def server_path(path: str) -> str:
    """``path`` as the Jupyter server names it (relative to its root, ``/``-separated), else as given.

    The server is the one this process is (a server creating a run for "Submit as job"), else the
    one that started this kernel (this process's parent), else a running server whose root holds
    the file (the deepest such root). Each writes ``jpserver-<pid>.json`` with its ``root_dir`` in
    Jupyter's runtime folder. A relative path is taken to be a server path already.
    """
    if not os.path.isabs(path):
        return PurePosixPath(path.replace(os.sep, "/")).as_posix()
    file = Path(os.path.abspath(path))
    runtime = _runtime_dir()
    if runtime is None or not runtime.is_dir():
        return file.as_posix()
    for pid in (os.getpid(), os.getppid()):
        found = _relative(file, _server_root(runtime / f"jpserver-{pid}.json"))
        if found is not None:
            return found
    candidates: list[str] = []
    for info_file in runtime.glob("jpserver-*.json"):
        pid_text = info_file.stem.removeprefix("jpserver-")
        if not pid_text.isdigit() or not _alive(int(pid_text)):
            continue  # a server that did not shut down cleanly left its file behind
        found = _relative(file, _server_root(info_file))
        if found is not None:
            candidates.append(found)
    if candidates:
        return min(candidates, key=lambda p: (p.count("/"), p))
    return file.as_posix()


def _cell_properties(cell: NotebookCell, path_key: str, cell_key: str, count_key: str) -> dict[str, str]:
    props = {path_key: cell.path}
    if cell.cell_id:
        props[cell_key] = cell.cell_id
    if cell.execution_count is not None:
        props[count_key] = str(cell.execution_count)
    return props


def run_properties(job_spec: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The provenance properties of a run being created now (``job_spec``: a job's, if it is one)."""
    cell = current_cell()
    if job_spec is not None and job_spec.get("kind") == "notebook" and isinstance(job_spec.get("notebook"), str):
        notebook = str(job_spec["notebook"])
        source = Path(str(job_spec.get("source_directory") or "."))
        props = {NOTEBOOK_PATH: server_path(str((source / notebook).resolve())), NOTEBOOK_SNAPSHOT_PATH: notebook}
        if cell is not None:
            props.update(
                _cell_properties(cell, SUBMITTED_FROM_PATH, SUBMITTED_FROM_CELL_ID, SUBMITTED_FROM_EXECUTION_COUNT)
            )
        return props
    if cell is None:
        return {}
    return _cell_properties(cell, NOTEBOOK_PATH, NOTEBOOK_CELL_ID, NOTEBOOK_EXECUTION_COUNT)
