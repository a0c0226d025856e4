"""``GET workspace``: what this server serves, and what it can do."""

from __future__ import annotations

import importlib.util
from typing import Any

from ... import __version__
from ...core.compute import ComputeTarget
from ..base import MlwsHandler

__all__ = ["CAPABILITIES", "WorkspaceHandler", "capabilities"]

CAPABILITIES = [
    "script-jobs",
    "notebook-jobs",
    "snapshots",
    "events",
    "metric-downsampling",
    "run-search",
    "model-registry",
    "environments",
    "activities",
    "datasets",
    "pipelines",
    "webservices",
]


def capabilities() -> list[str]:
    """What this server can do; ``docker`` when the Docker client library is installed."""
    extra = ["docker"] if importlib.util.find_spec("docker") is not None else []
    return [*CAPABILITIES, *extra]


class WorkspaceHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        targets: list[dict[str, Any]] = []
        if ws is not None:
            targets = await self.call(lambda: [t.serialize() for t in ComputeTarget.list(ws)])
        self.send(
            {
                "name": ws.name if ws else self.state.root_dir.name,
                "root": str(ws.root if ws else self.state.root_dir),
                "exists": ws is not None,
                "metadata_backend": (ws.metadata_url.split(":", 1)[0].split("+", 1)[0] if ws else "sqlite"),
                "artifact_store": ws.artifact_url if ws else None,
                "version": __version__,
                "capabilities": capabilities(),
                "default_compute_target": self.state.default_compute_target,
                "compute_targets": targets or [{"name": "local", "type": "local", "config": {}}],
            }
        )
