"""The kernel side of notebook provenance: which notebook and cell this IPython kernel executes now.

Core's :mod:`jupyter_mlws.core.provenance` asks this (by name, only once IPython is loaded), so a
plain ``exp.start_logging()`` in a notebook needs no ``%load_ext``.

- The notebook: ipykernel puts ``JPY_SESSION_NAME`` (set by Jupyter Server for a kernel it starts
  for a notebook session: the notebook's absolute path) into the user namespace as ``__session__``;
  the environment variable is read when the namespace lost it. VS Code's kernels have
  ``__vsc_ipynb_file__`` instead.
- The cell: JupyterLab sends the cell's nbformat id as ``cellId`` in the execute request's metadata;
  ipykernel keeps the request as the shell channel's parent message. Only an nbformat cell id
  (1-64 letters, digits, ``-`` or ``_``) is kept: other front ends send their own kinds of ids.
- The execution count: that of the cell's execution result, which IPython hands its display hook
  while the cell runs (``shell.execution_count`` is already the next one's in IPython 9).
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..core.provenance import NotebookCell

__all__ = ["execution_count", "kernel_cell", "notebook_path"]

_NBFORMAT_CELL_ID = re.compile(r"[a-zA-Z0-9-_]{1,64}")  # nbformat 4.5's schema for cell ids (fullmatch: no "\n")


def _parent_message(shell: Any) -> dict[str, Any]:
    kernel = getattr(shell, "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    try:
        parent = get_parent("shell") if callable(get_parent) else getattr(shell, "parent_header", None)
    except LookupError:  # a thread an older ipykernel has no request for: the notebook without a cell
        parent = None
    return parent if isinstance(parent, dict) else {}


def kernel_cell() -> NotebookCell | None:
    """The executing cell of this kernel's notebook; None in a terminal IPython or a kernel that no
    Jupyter server started for a notebook (no session path)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None  # not a kernel: a terminal IPython has no notebook
    session = notebook_path(shell)
    if session is None:
        return None  # a console or a file editor's kernel also has a session, but no notebook
    metadata = _parent_message(shell).get("metadata") or {}
    cell_id = metadata.get("cellId") if isinstance(metadata, dict) else None
    return NotebookCell(
        path=session,
        cell_id=cell_id if isinstance(cell_id, str) and _NBFORMAT_CELL_ID.fullmatch(cell_id) else None,
        execution_count=execution_count(shell),
    )


def notebook_path(shell: Any) -> str | None:
    """The path of the notebook this shell's kernel runs for, if its session names one."""
    namespace = getattr(shell, "user_ns", None) or {}
    session = namespace.get("__session__") or os.environ.get("JPY_SESSION_NAME") or namespace.get("__vsc_ipynb_file__")
    return session if isinstance(session, str) and session.endswith(".ipynb") else None


def execution_count(shell: Any) -> int | None:
    """The execution count of the cell this shell runs now (None between cells)."""
    result = getattr(getattr(shell, "displayhook", None), "exec_result", None)
    count = getattr(result, "execution_count", None)
    return count if isinstance(count, int) and not isinstance(count, bool) else None
