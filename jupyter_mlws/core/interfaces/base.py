"""The root every metadata concern shares: the store's URL and its ``close`` hook.

Each concern of the metadata store (runs, tracking, run files, jobs, activities, the model registry,
environments, the change feed) is a small interface of its own in this package, derived from
:class:`MetadataInterface`; :class:`~jupyter_mlws.core.interfaces.metadata.MetadataStore` is their
composition, and a back end implements each concern in one mixin (for SQL, one module of
``stores/metadata/sql/`` per interface, with the same name).
"""

from __future__ import annotations

from abc import ABC

__all__ = ["MetadataInterface"]


class MetadataInterface(ABC):
    """What every metadata concern has in common; holds no abstract method of its own.

    Conveniences (operations written over a concern's own abstract methods) are written once, here
    or on the concern's interface, never in each back end.
    """

    url: str

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
