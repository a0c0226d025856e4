"""Activities: long operations that are not runs (environment builds today), shown in the sidebar."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from ..entities import ActivityRecord
from .base import MetadataInterface

__all__ = ["ActivityStore"]


class ActivityStore(MetadataInterface):
    """Records of long operations with a status, a progress line, details and a log.

    Creating or changing one (other than appending to its log) announces ``activity.updated`` on the
    change feed (:class:`EventStore`). Implemented for SQL by ``ActivitiesMixin``
    (``stores/metadata/sql/activities.py``).
    """

    @abstractmethod
    def create_activity(self, record: ActivityRecord) -> None: ...

    @abstractmethod
    def update_activity(self, activity_id: str, **fields: Any) -> None:
        """Change ``status``, ``progress``, ``end_time``, ``error``, ``details`` or ``log``."""

    @abstractmethod
    def get_activity(self, activity_id: str) -> ActivityRecord: ...

    @abstractmethod
    def list_activities(
        self, kind: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[ActivityRecord]:
        """Newest first; the records carry no log (read one activity for it)."""
