"""Small notebooks for notebook-job tests, written with nbformat."""

from __future__ import annotations

from pathlib import Path

import nbformat

PYTHON3 = {"name": "python3", "display_name": "Python 3", "language": "python"}


def write_notebook(path: Path, cells: list[tuple[str, str]], kernel: dict[str, str] | None = None) -> None:
    """A notebook of code cells at ``path``: ``(kind, source)`` each, kind ``"parameters"`` tagging the
    cell as papermill's parameters cell; ``kernel``: its kernelspec (default: python3)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(kernel or PYTHON3)
    for kind, source in cells:
        cell = nbformat.v4.new_code_cell(source)
        if kind == "parameters":
            cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nbformat.write(nb, path)
