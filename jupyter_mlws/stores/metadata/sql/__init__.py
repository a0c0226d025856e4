"""The SQL metadata store (SQLite by default, PostgreSQL for teams)."""

from .store import SqlMetadataStore

__all__ = ["SqlMetadataStore"]
