"""The metadata store: the composition of the per-concern interfaces of this package."""

from __future__ import annotations

from .activities import ActivityStore
from .datasets import DatasetStore
from .datastores import DatastoreStore
from .drift import DriftStore
from .environments import EnvironmentStore
from .events import EventStore
from .jobs import JobStore
from .pipeline_publishing import PipelinePublishingStore
from .pipelines import PipelineStepStore
from .registry import ModelRegistryStore
from .run_files import RunFileStore
from .runs import RunStore
from .secrets import SecretStore
from .tracking import TrackingStore
from .webservices import WebserviceStore

__all__ = ["MetadataStore"]


class MetadataStore(
    RunStore,
    TrackingStore,
    RunFileStore,
    JobStore,
    ActivityStore,
    ModelRegistryStore,
    EnvironmentStore,
    EventStore,
    DatastoreStore,
    DatasetStore,
    PipelineStepStore,
    PipelinePublishingStore,
    WebserviceStore,
    DriftStore,
    SecretStore,
):
    """Everything a workspace records apart from blobs, one concern per base class.

    The core asks for a ``MetadataStore``; code that needs one concern may type against that
    interface alone (a :class:`RunFileStore`, a :class:`JobStore`, …).

    A new feature (datasets, pipelines, deployments, …) adds a concern rather than growing one:

    1. an interface ``core/interfaces/<feature>.py`` derived from :class:`MetadataInterface`, its
       docstring naming the mixin that implements it, added to the bases here (and exported from
       the package);
    2. a mixin ``stores/metadata/sql/<feature>.py`` (``SqlStoreBase`` plus the interface) that
       implements exactly that interface's methods, added to ``SqlMetadataStore``'s bases in the
       same place;
    3. an Alembic migration for its tables (``stores/metadata/sql/migrations/versions/``) and the
       tables in ``schema.py``;
    4. a contract test module ``tests/stores/test_metadata_<feature>.py`` on the shared ``store``
       fixture, which runs on SQLite and on PostgreSQL.
    """
