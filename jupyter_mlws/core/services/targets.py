"""Compute-target records of a workspace: attach (save), read, list, detach, describe."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import MlwsError
from ..entities import ComputeTargetRecord
from ..interfaces.compute import ComputeBackend
from .context import Backends

__all__ = ["ComputeTargetService"]


class ComputeTargetService:
    """The attached targets' records; which type a record names is the compute-target registry's."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    def target(self, name: str) -> ComputeTargetRecord:
        return self._b.metadata.get_compute_target(name)

    def targets(self) -> list[ComputeTargetRecord]:
        return self._b.metadata.list_compute_targets()

    def save(self, name: str, type: str, config: Mapping[str, Any]) -> None:
        """Attach a target, or re-configure one attached under ``name`` (config already validated)."""
        self._b.metadata.save_compute_target(name, type, config, time.time())

    def detach(self, name: str) -> None:
        self._b.metadata.delete_compute_target(name)

    def describe(self, target: Mapping[str, Any], open_backend: Callable[[], ComputeBackend]) -> dict[str, Any]:
        """A target (``{"name", "type", "config"}``, as ``ComputeTarget.serialize()`` gives it) with
        ``cluster``: what its backend tells about where its jobs run (:meth:`ComputeBackend.describe`,
        e.g. a Dask target's scheduler, dashboard and workers), ``None`` when it tells nothing. A
        target that cannot be reached (a scheduler that is down) is no error of the caller's: its
        ``cluster`` is ``{"error": "…"}`` then, so that a list or a page still shows the target."""
        described = {"name": target["name"], "type": target["type"], "config": dict(target["config"])}
        try:
            cluster: dict[str, Any] | None = open_backend().describe() or None
        except MlwsError as exc:
            cluster = {"error": str(exc)}
        except Exception as exc:  # a plug-in's own failure (a refused connection, …) names itself
            cluster = {"error": f"{type(exc).__name__}: {exc}"}
        described["cluster"] = cluster
        return described
