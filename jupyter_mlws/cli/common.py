"""What every ``mlws`` command shares: the parser class, the workspace option, JSON and numbers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..core.jsonable import json_safe
from ..core.workspace import Workspace

__all__ = ["Parser", "fmt_metric", "print_json", "workspace_of"]


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
