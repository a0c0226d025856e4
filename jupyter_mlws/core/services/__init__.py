"""The service tier: record-level use cases over the store interfaces.

``Workspace``, ``Experiment``, ``Run`` and ``Model`` are the Azure-named facades; they call these
services, and so do the adapters (REST handlers, magics, CLI, widget) — the one seam under both,
as ``MlflowClient`` is under MLflow's fluent API and its server. Services take records and ids,
return records and views (:mod:`.views`), and never import the facades.

``Services(workspace)`` bundles them; ``workspace.services`` gives the workspace's bundle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import Backends
    from .feed import ACTIVITY_STATUSES, ActivityService, EventService
    from .housekeeping import HousekeepingService
    from .queries import QueryService, RunRecordPage
    from .registry import RegistryService
    from .secrets import SecretService
    from .snapshots import SnapshotService
    from .targets import ComputeTargetService
    from .tracking import TrackingService, error_details, new_run_id
    from .views import MetricSeriesView, RunDetailView, RunSummary, RunSummaryPage, downsample

# Each service's module is imported when first used: `mlws runs list` needs the query service and
# not the hashing, secrets or compute-target machinery of the others (issue 22, a snappy CLI).
_EXPORTS = {
    "Backends": "context",
    "ACTIVITY_STATUSES": "feed",
    "ActivityService": "feed",
    "EventService": "feed",
    "HousekeepingService": "housekeeping",
    "QueryService": "queries",
    "RunRecordPage": "queries",
    "RegistryService": "registry",
    "SecretService": "secrets",
    "SnapshotService": "snapshots",
    "ComputeTargetService": "targets",
    "TrackingService": "tracking",
    "error_details": "tracking",
    "new_run_id": "tracking",
    "MetricSeriesView": "views",
    "RunDetailView": "views",
    "RunSummary": "views",
    "RunSummaryPage": "views",
    "downsample": "views",
}
#: ``Services`` attribute -> (module, class).
_SERVICES = {
    "tracking": ("tracking", "TrackingService"),
    "queries": ("queries", "QueryService"),
    "registry": ("registry", "RegistryService"),
    "snapshots": ("snapshots", "SnapshotService"),
    "activities": ("feed", "ActivityService"),
    "events": ("feed", "EventService"),
    "compute_targets": ("targets", "ComputeTargetService"),
    "housekeeping": ("housekeeping", "HousekeepingService"),
    "secrets": ("secrets", "SecretService"),
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ACTIVITY_STATUSES",
    "ActivityService",
    "Backends",
    "ComputeTargetService",
    "EventService",
    "HousekeepingService",
    "MetricSeriesView",
    "QueryService",
    "RegistryService",
    "RunDetailView",
    "RunRecordPage",
    "RunSummary",
    "RunSummaryPage",
    "SecretService",
    "Services",
    "SnapshotService",
    "TrackingService",
    "downsample",
    "error_details",
    "new_run_id",
]


class Services:
    """Every service of one workspace, each made on first use."""

    __slots__ = ("_backends", *_SERVICES)

    tracking: TrackingService
    queries: QueryService
    registry: RegistryService
    snapshots: SnapshotService
    activities: ActivityService
    events: EventService
    compute_targets: ComputeTargetService
    housekeeping: HousekeepingService
    secrets: SecretService

    def __init__(self, backends: Backends) -> None:
        self._backends = backends

    def __getattr__(self, name: str) -> Any:  # only called while the slot is still empty
        spec = _SERVICES.get(name)
        if spec is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        module, cls = spec
        service = getattr(importlib.import_module(f"{__name__}.{module}"), cls)(self._backends)
        setattr(self, name, service)
        return service
