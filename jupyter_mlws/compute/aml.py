"""The ``amlcompute`` compute target: Azure ML v1's ``AmlCompute`` cluster, made local.

``ComputeTarget.create(ws, "cpu-cluster", AmlCompute.provisioning_configuration(max_nodes=4))``
attaches one. Its jobs are the ``local`` target's: processes on this machine, dispatched by the
workspace's agent, at most ``max_concurrent_runs`` (v1's ``max_nodes``) at a time. The v1 settings
(``vm_size``, ``vm_priority``, ``min_nodes``, ``idle_seconds_before_scaledown``, ``tags``,
``description``, ``location``) are recorded with the target, never provisioned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidArgumentError
from .local import LocalCompute

__all__ = ["AmlComputeBackend"]

# v1's settings, kept as given (the provisioning configuration has checked them).
RECORDED = ("vm_size", "vm_priority", "min_nodes", "idle_seconds_before_scaledown", "tags", "description", "location")


class AmlComputeBackend(LocalCompute):
    """A local target that also records v1's cluster settings; see the module's docstring."""

    type = "amlcompute"

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        recorded = {key: config[key] for key in RECORDED if key in config}
        for key in ("vm_size", "vm_priority", "description", "location"):
            if key in recorded and not isinstance(recorded[key], str):
                raise InvalidArgumentError(f"amlcompute setting {key} must be a string, got {recorded[key]!r}")
        result = super().validate_config({k: v for k, v in config.items() if k not in RECORDED})
        return {**result, **recorded}
