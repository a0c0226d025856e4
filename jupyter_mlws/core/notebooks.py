"""Notebook facts needed before a notebook job starts: its ``parameters`` cell and its kernel.

Reads the .ipynb JSON directly (no Jupyter imports on this path) and checks parameters against the
literal defaults of the cell tagged ``parameters`` (papermill's convention).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, NotFoundError

__all__ = ["check_kernel", "parameter_defaults", "read_notebook", "validate_parameters"]

_NO_DEFAULT = object()


def read_notebook(path: Path) -> dict[str, Any]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError(f"{path.name} is not a readable notebook: {exc}") from None
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        raise InvalidArgumentError(f"{path.name} is not a notebook (no cells)")
    return content


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def parameter_defaults(notebook: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{name: default}`` from the cell tagged ``parameters`` (None if the notebook has none).

    A default that is not a literal (``lr = 1 / 3``) is recorded as unknown and accepts anything.
    """
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code" or "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError as exc:
            raise InvalidArgumentError(f"the notebook's parameters cell does not parse: {exc}") from None
        defaults: dict[str, Any] = {}
        for node in tree.body:
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            for target in targets:
                if isinstance(target, ast.Name) and value is not None:
                    try:
                        defaults[target.id] = ast.literal_eval(value)
                    except ValueError:
                        defaults[target.id] = _NO_DEFAULT
        return defaults
    return None


def _coerce(name: str, default: Any, value: Any) -> Any:
    kind = type(default)
    fail = InvalidArgumentError(f"parameter {name!r} takes {kind.__name__} (its default is {default!r}), got {value!r}")
    if default is _NO_DEFAULT or default is None:
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise fail
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise fail from None
        raise fail
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise fail from None
        raise fail
    if kind is str:
        if isinstance(value, str):
            return value
        raise fail
    if kind in (list, dict, tuple):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise fail from None
        if isinstance(value, list | tuple) and kind in (list, tuple):
            return list(value)
        if isinstance(value, dict) and kind is dict:
            return value
        raise fail
    return value


def validate_parameters(
    defaults: Mapping[str, Any] | None, given: Mapping[str, Any], allow_unknown: bool = False
) -> dict[str, Any]:
    """Parameters checked and converted to the types of their defaults."""
    if not isinstance(given, Mapping):
        raise InvalidArgumentError("parameters must be a dict of name -> value")
    known = defaults or {}
    unknown = sorted(set(given) - set(known))
    if unknown and not allow_unknown:
        where = f"defines {', '.join(sorted(known))}" if known else "has no cell tagged 'parameters'"
        raise InvalidArgumentError(
            f"unknown notebook parameter(s) {', '.join(unknown)}: the notebook {where}; "
            "pass allow_unknown_parameters=True to inject them anyway"
        )
    result: dict[str, Any] = {}
    for name, value in given.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidArgumentError(f"parameter name {name!r} is not a Python name")
        result[name] = _coerce(name, known[name], value) if name in known else value
        try:
            json.dumps(result[name])
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"parameter {name!r} must be JSON-able, got {value!r}") from None
    return result


def effective_parameters(defaults: Mapping[str, Any] | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """What a notebook job runs with: its literal defaults, overridden by the given values (a
    default that is not a literal has no value to record until one is given)."""
    values = {name: value for name, value in (defaults or {}).items() if value is not _NO_DEFAULT}
    values.update(given)
    return values


def check_kernel(name: str) -> None:
    """A clear error, listing the kernels there are, when ``name`` is not installed."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:  # pragma: no cover - jupyter_client comes with the package
        return
    manager = KernelSpecManager()
    try:
        manager.get_kernel_spec(name)
    except NoSuchKernel:
        available = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise NotFoundError(
            f"kernel {name!r} is not installed here (available: {available}); pass kernel_name=… "
            "or install it (python -m ipykernel install --user --name NAME)"
        ) from None
