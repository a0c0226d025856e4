"""The SQL metadata store: SQLite (default, WAL) or PostgreSQL, the same code and migrations."""

from __future__ import annotations

from ....core.interfaces import MetadataStore
from .jobs import JobsMixin
from .migrate import ensure_schema
from .registry import RegistryMixin
from .runs import RunsMixin
from .tracking import TrackingMixin

__all__ = ["SqlMetadataStore"]


class SqlMetadataStore(RunsMixin, TrackingMixin, RegistryMixin, JobsMixin, MetadataStore):
    """A :class:`MetadataStore` on SQLAlchemy; the schema is created or upgraded on open."""

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
