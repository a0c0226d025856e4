"""What every ``mlws`` command shares: the parser class, the workspace option, JSON and numbers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..core.jsonable import json_safe
from ..core.workspace import Workspace
from ..errors import InvalidArgumentError

__all__ = ["Parser", "fmt_metric", "parse_options", "print_json", "workspace_of"]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2
        self.exit(2, f"{self.prog}: usage error: {message} (see {self.prog} --help)\n")


def workspace_of(args: argparse.Namespace) -> Workspace:
    """The workspace named by ``--workspace``, else ``MLWS_WORKSPACE`` or the nearest one upward."""
    return Workspace(args.workspace) if args.workspace else Workspace.from_config()


def print_json(value: Any) -> None:
    print(json.dumps(json_safe(value), indent=2, default=str, allow_nan=False))


def fmt_metric(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def parse_options(pairs: list[str], option: str = "--artifact-option") -> dict[str, Any]:
    """``KEY=VALUE`` words as a dict; a value that is JSON (``false``, ``3``, ``{"a": 1}``) is decoded."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, eq, raw = pair.partition("=")
        if not eq or not key.strip():
            raise InvalidArgumentError(f"{option} takes KEY=VALUE (e.g. endpoint_url=http://host:9000), got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        options[key.strip()] = value
    return options
