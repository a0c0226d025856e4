"""The service tier: record-level use cases over the store interfaces.

``Workspace``, ``Experiment``, ``Run`` and ``Model`` are the Azure-named facades; they call these
services, and so do the adapters (REST handlers, magics, CLI, widget) — the one seam under both,
as ``MlflowClient`` is under MLflow's fluent API and its server. Services take records and ids,
return records and views (:mod:`.views`), and never import the facades.

``Services(workspace)`` bundles them; ``workspace.services`` gives the workspace's bundle.
"""

from __future__ import annotations

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
    """Every service of one workspace."""

    __slots__ = (
        "activities",
        "compute_targets",
        "events",
        "housekeeping",
        "queries",
        "registry",
        "secrets",
        "snapshots",
        "tracking",
    )

    def __init__(self, backends: Backends) -> None:
        self.tracking = TrackingService(backends)
        self.queries = QueryService(backends)
        self.registry = RegistryService(backends)
        self.snapshots = SnapshotService(backends)
        self.activities = ActivityService(backends)
        self.events = EventService(backends)
        self.compute_targets = ComputeTargetService(backends)
        self.housekeeping = HousekeepingService(backends)
        self.secrets = SecretService(backends)
