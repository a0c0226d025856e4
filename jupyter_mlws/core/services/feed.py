"""Activities (long operations with status, progress and log) and the change feed (events)."""

from __future__ import annotations

from typing import Any

from ...errors import InvalidArgumentError
from ..entities import ActivityRecord, EventRecord
from ..interfaces import MetadataStore
from .context import Backends

__all__ = ["ACTIVITY_STATUSES", "ActivityService", "EventService"]

ACTIVITY_STATUSES = ("Running", "Completed", "Failed")


class ActivityService:
    def __init__(self, backends: Backends) -> None:
        self._b = backends

    @property
    def _store(self) -> MetadataStore:
        return self._b.metadata

    def activities(self, kind: str | None = None, status: str | None = None, limit: int = 100) -> list[ActivityRecord]:
        """Newest first; ``status`` is one of :data:`ACTIVITY_STATUSES`."""
        if status is not None and status not in ACTIVITY_STATUSES:
            raise InvalidArgumentError(f"status must be one of {', '.join(ACTIVITY_STATUSES)}, got {status!r}")
        return self._store.list_activities(kind=kind, status=status, limit=limit)

    def activity(self, activity_id: str) -> ActivityRecord:
        return self._store.get_activity(activity_id)

    def record(self, record: ActivityRecord) -> None:
        """Record a new activity (its recorder keeps it up to date with :meth:`update`)."""
        self._store.create_activity(record)

    def update(self, activity_id: str, **fields: Any) -> None:
        """Change an activity's status, progress, log, end time, details or error."""
        self._store.update_activity(activity_id, **fields)


class EventService:
    """The change feed the events stream serves (``run.status``, ``run.created``, …)."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    def latest_id(self) -> int:
        return self._b.metadata.latest_event_id()

    def family_changed(self, run_id: str, after_id: int) -> tuple[int, bool]:
        """The latest change's id, and whether a change after ``after_id`` names ``run_id`` or a child
        of it."""
        return self._b.metadata.family_changed(run_id, after_id)

    def read(self, after_id: int, limit: int = 1000) -> list[EventRecord]:
        return self._b.metadata.read_events(after_id, limit)

    def prune(self, before_time: float) -> int:
        """Forget events older than ``before_time``; returns how many went."""
        return self._b.metadata.prune_events(before_time)

    def count(self, before_time: float) -> int:
        """How many events are older than ``before_time`` (what :meth:`prune` would forget)."""
        return self._b.metadata.count_events(before_time)
