"""Copying a workspace's metadata into another database (issue 19: ``mlws workspace migrate``).

Implemented by the SQL store (``stores/metadata/sql/copy.py``), found by the target URL's scheme
through :data:`jupyter_mlws.core.registry.metadata_copiers`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["MetadataCopier"]


class MetadataCopier(ABC):
    """Copies every row of one metadata database into another, empty one, keys and all."""

    @abstractmethod
    def copy(self, source_url: str, target_url: str) -> dict[str, int]:
        """Copy every table of ``source_url`` into ``target_url`` (its schema made or brought to this
        version first) in one transaction; the rows copied per table, all read from one consistent
        snapshot of the source. An :class:`InvalidStateError` if the target holds any data already or
        the two are at different schema revisions."""

    @abstractmethod
    def count_rows(self, url: str) -> dict[str, int]:
        """Rows per table of the database at ``url``."""

    @abstractmethod
    def referenced_digests(self, url: str) -> set[str]:
        """Every artifact blob the database at ``url`` names: run files, model files, snapshot and
        step output manifests."""
