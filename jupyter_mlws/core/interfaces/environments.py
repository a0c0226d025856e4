"""Registered environments: versions that follow the content of a definition."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from ..entities import EnvironmentRecord
from .base import MetadataInterface

__all__ = ["EnvironmentStore"]


class EnvironmentStore(MetadataInterface):
    """Named environments whose versions are keyed by the hash of their definition.

    Registering the same definition again returns its version; a new one gets the next number.
    Implemented for SQL by ``EnvironmentsMixin`` (``stores/metadata/sql/environments.py``).
    """

    @abstractmethod
    def register_environment(
        self, name: str, content_hash: str, definition: Mapping[str, Any], created_time: float
    ) -> EnvironmentRecord:
        """The version holding this exact definition, made (previous + 1) if there is none yet."""

    @abstractmethod
    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord: ...

    @abstractmethod
    def list_environments(self) -> list[EnvironmentRecord]:
        """Every version, by name, newest first."""
