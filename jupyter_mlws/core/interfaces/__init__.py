"""The small interfaces that stores implement. The core talks only to these.

Implementations live in ``jupyter_mlws.stores``; they are found by URL scheme through the registry in
:mod:`jupyter_mlws.core.registry`, so the core never imports a database driver.

- :class:`ArtifactStore` (``artifacts.py``): content-addressed blobs.
- :class:`MetadataStore` (``metadata.py``): the composition of one interface per concern —
  :class:`RunStore`, :class:`TrackingStore`, :class:`RunFileStore`, :class:`JobStore`,
  :class:`ActivityStore`, :class:`ModelRegistryStore`, :class:`EnvironmentStore`,
  :class:`EventStore`, :class:`DatastoreStore`, :class:`DatasetStore` and
  :class:`PipelineStepStore`, :class:`PipelinePublishingStore`, :class:`WebserviceStore` and
  :class:`DriftStore` and :class:`SecretStore`, all derived
  from :class:`MetadataInterface` (``base.py``). Its docstring says how a new feature adds its own concern.
- :class:`MetadataCopier` (``migration.py``): copies one metadata database into another (migrate).
- :class:`RunLister` (``run_lister.py``): run lists without the full store, for short-lived processes.
"""

from __future__ import annotations

from .activities import ActivityStore
from .artifacts import ArtifactStore
from .base import MetadataInterface
from .datasets import DatasetInputRecord, DatasetStore, DatasetVersionRecord
from .datastores import DatastoreRecord, DatastoreStore
from .drift import DriftDetectorRecord, DriftStore
from .environments import EnvironmentStore
from .events import EventStore
from .jobs import JobStore
from .metadata import MetadataStore
from .migration import MetadataCopier
from .pipeline_publishing import (
    PipelineEndpointRecord,
    PipelinePublishingStore,
    PublishedPipelineRecord,
    ScheduleFireRecord,
    ScheduleRecord,
)
from .pipelines import PipelineStepStore, StepRunRecord
from .registry import ModelRegistryStore
from .run_files import RunFileStore
from .run_lister import RunLister
from .runs import RunStore
from .secrets import SecretStore
from .tracking import MetricTuple, TrackingStore
from .webservices import WEBSERVICE_STATES, WebserviceRecord, WebserviceStore

__all__ = [
    "WEBSERVICE_STATES",
    "ActivityStore",
    "ArtifactStore",
    "DatasetInputRecord",
    "DatasetStore",
    "DatasetVersionRecord",
    "DatastoreRecord",
    "DatastoreStore",
    "DriftDetectorRecord",
    "DriftStore",
    "EnvironmentStore",
    "EventStore",
    "JobStore",
    "MetadataCopier",
    "MetadataInterface",
    "MetadataStore",
    "MetricTuple",
    "ModelRegistryStore",
    "PipelineEndpointRecord",
    "PipelinePublishingStore",
    "PipelineStepStore",
    "PublishedPipelineRecord",
    "RunFileStore",
    "RunLister",
    "RunStore",
    "ScheduleFireRecord",
    "ScheduleRecord",
    "SecretStore",
    "StepRunRecord",
    "TrackingStore",
    "WebserviceRecord",
    "WebserviceStore",
]
