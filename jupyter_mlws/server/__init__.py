"""The Jupyter Server extension of jupyter-mlws (REST API, live events). Imports tornado: load lazily."""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import MlwsApp

    return [{"module": "jupyter_mlws.server", "app": MlwsApp}]
