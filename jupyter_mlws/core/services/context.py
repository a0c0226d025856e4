"""What a service needs from a workspace: its stores, its folder and its metric writer's flush."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..interfaces import ArtifactStore, MetadataStore, RunLister

__all__ = ["Backends"]


class Backends(Protocol):
    """The stores a service works on. ``Workspace`` is one; tests may pass any object with these."""

    @property
    def metadata(self) -> MetadataStore: ...

    @property
    def artifacts(self) -> ArtifactStore: ...

    @property
    def path(self) -> Path:
        """The workspace's ``.mlws/`` folder."""
        ...

    def flush(self, timeout: float | None = None) -> None:
        """Write the buffered metric points (reads see their own writes)."""
        ...

    def run_lister(self) -> RunLister | None:
        """A light reader for run lists while the metadata store is not open (``None``: use the store)."""
        ...
