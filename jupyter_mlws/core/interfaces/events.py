"""The change feed: what changed, in order, for pages that follow the workspace live."""

from __future__ import annotations

from abc import abstractmethod

from ..entities import EventRecord
from .base import MetadataInterface

__all__ = ["EventStore"]


class EventStore(MetadataInterface):
    """Reading and pruning the change feed.

    The other concerns append to it inside their own transactions (``run.created``, ``run.status``,
    ``model.version.created``, ``dataset.version.created``, ``activity.updated``), so a change and its
    event commit together.
    Implemented for SQL by ``EventsMixin`` (``stores/metadata/sql/events.py``).
    """

    @abstractmethod
    def read_events(self, after_id: int, limit: int = 1000) -> list[EventRecord]:
        """Changes after ``after_id``, oldest first (any of the kinds above)."""

    @abstractmethod
    def latest_event_id(self) -> int: ...

    @abstractmethod
    def family_changed(self, run_id: str, after_id: int) -> tuple[int, bool]:
        """The latest change's id, and whether a change after ``after_id`` names ``run_id`` or one of
        its child runs (not grandchildren): what a run driver (a pipeline, a sweep) acts on, unmoved
        by the rest of the workspace's feed. A latest id below ``after_id`` (the feed was pruned and
        its ids began again) counts as a change."""

    @abstractmethod
    def prune_events(self, before_time: float) -> int:
        """Forget changes older than ``before_time``; returns how many."""

    @abstractmethod
    def count_events(self, before_time: float) -> int:
        """How many changes are older than ``before_time`` (what :meth:`prune_events` would forget)."""
