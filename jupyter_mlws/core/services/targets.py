"""Compute-target records of a workspace: attach (save), read, list, detach."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..entities import ComputeTargetRecord
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
