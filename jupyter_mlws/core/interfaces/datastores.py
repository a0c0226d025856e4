"""Registered datastores: a name for an fsspec URL, its non-secret options, and the default one."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import MetadataInterface

__all__ = ["DatastoreRecord", "DatastoreStore"]


@dataclass(frozen=True)
class DatastoreRecord:
    """One registered datastore. ``options`` are the filesystem's non-secret storage options (an
    endpoint, a region); secrets are never stored here (see ``jupyter_mlws.data.datastore``)."""

    name: str
    url: str
    options: Mapping[str, Any] = field(default_factory=dict)
    is_default: bool = False
    created_time: float = 0.0


class DatastoreStore(MetadataInterface):
    """Datastores by name; at most one is the default.

    Implemented for SQL by ``DatastoresMixin`` (``stores/metadata/sql/datastores.py``).
    """

    @abstractmethod
    def put_datastore(self, name: str, url: str, options: Mapping[str, Any], created_time: float) -> DatastoreRecord:
        """Register ``name`` for ``url``, or update the options of ``name`` (its URL too: the caller
        decides whether another URL may replace the registered one)."""

    @abstractmethod
    def get_datastore(self, name: str) -> DatastoreRecord:
        """The datastore ``name``; a NotFoundError listing the registered names if there is none."""

    @abstractmethod
    def list_datastores(self) -> list[DatastoreRecord]:
        """Every datastore, by name."""

    @abstractmethod
    def delete_datastore(self, name: str) -> None:
        """Forget ``name`` (its data stays where it is); a NotFoundError if it is not registered."""

    @abstractmethod
    def set_default_datastore(self, name: str | None) -> None:
        """Make ``name`` the only default (None: no default)."""
