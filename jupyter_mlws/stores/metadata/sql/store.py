"""The SQL metadata store: SQLite (default, WAL) or PostgreSQL, the same code and migrations."""

from __future__ import annotations

from ....core.interfaces import MetadataStore
from .activities import ActivitiesMixin
from .datasets import DatasetsMixin
from .datastores import DatastoresMixin
from .drift import DriftMixin
from .environments import EnvironmentsMixin
from .events import EventsMixin
from .jobs import JobsMixin
from .migrate import ensure_schema
from .pipeline_publishing import PipelinePublishingMixin
from .pipelines import PipelineStepsMixin
from .registry import RegistryMixin
from .run_files import RunFilesMixin
from .runs import RunsMixin
from .secrets import SecretsMixin
from .tracking import TrackingMixin
from .webservices import WebservicesMixin

__all__ = ["SqlMetadataStore"]


class SqlMetadataStore(
    RunsMixin,
    TrackingMixin,
    RunFilesMixin,
    JobsMixin,
    ActivitiesMixin,
    RegistryMixin,
    EnvironmentsMixin,
    EventsMixin,
    DatastoresMixin,
    DatasetsMixin,
    PipelineStepsMixin,
    PipelinePublishingMixin,
    WebservicesMixin,
    DriftMixin,
    SecretsMixin,
    MetadataStore,
):
    """A :class:`MetadataStore` on SQLAlchemy; the schema is created or upgraded on open.

    Each mixin base is the SQL side of one concern of ``MetadataStore``, in the same order as its
    bases (``RunsMixin`` implements ``RunStore``, ``TrackingMixin`` ``TrackingStore``, …; the store
    tests check the pairs one to one). ``SqlStoreBase`` holds what they share: the engine, id
    caches, upserts and the change-feed append. A new feature adds its mixin here, in the place of
    its interface among ``MetadataStore``'s bases.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        super().__init__(url)
        if migrate:
            try:
                ensure_schema(self.sql)
            except BaseException:
                self.close()  # no pooled connection may outlive a store that failed to open
                raise

    def __repr__(self) -> str:
        return f"SqlMetadataStore({self.sql.safe_url!r})"
