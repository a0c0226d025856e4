"""Activities: long operations that are not runs, announced on the change feed as they change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from ....core.entities import ActivityRecord
from ....core.interfaces import ActivityStore
from ....errors import NotFoundError
from .base import SqlStoreBase
from .schema import activities

__all__ = ["ActivitiesMixin"]

_ACTIVITY_COLUMNS = (
    activities.c.activity_id,
    activities.c.kind,
    activities.c.name,
    activities.c.status,
    activities.c.created_time,
    activities.c.end_time,
    activities.c.progress,
    activities.c.run_id,
    activities.c.details,
    activities.c.error,
)
_ACTIVITY_FIELDS = {"status", "progress", "end_time", "error", "details", "log"}
_JSON_FIELDS = {"details", "error"}


def _activity(row: Sequence[Any], log: str = "") -> ActivityRecord:
    error = json.loads(row[9]) if row[9] else None
    return ActivityRecord(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]), error, log
    )


class ActivitiesMixin(SqlStoreBase, ActivityStore):
    def _emit_activity(self, conn: Any, activity_id: str) -> None:
        row = conn.execute(select(*_ACTIVITY_COLUMNS).where(activities.c.activity_id == activity_id)).first()
        record = _activity(row)
        payload = {
            "activity_id": record.activity_id,
            "kind": record.kind,
            "name": record.name,
            "status": record.status,
            "progress": record.progress,
        }
        self.emit(conn, "activity.updated", payload, run_id=record.run_id)

    def create_activity(self, record: ActivityRecord) -> None:
        with self.sql.write() as conn:
            conn.execute(
                activities.insert().values(
                    activity_id=record.activity_id,
                    kind=record.kind,
                    name=record.name,
                    status=record.status,
                    created_time=record.created_time,
                    end_time=record.end_time,
                    progress=record.progress,
                    run_id=record.run_id,
                    details=json.dumps(record.details),
                    error=None if record.error is None else json.dumps(record.error),
                    log=record.log,
                )
            )
            self._emit_activity(conn, record.activity_id)

    def update_activity(self, activity_id: str, **fields: Any) -> None:
        unknown = set(fields) - _ACTIVITY_FIELDS
        if unknown:
            raise ValueError(f"activities have no field(s) {sorted(unknown)}")
        values = {k: (json.dumps(v) if k in _JSON_FIELDS and v is not None else v) for k, v in fields.items()}
        with self.sql.write() as conn:
            result = conn.execute(update(activities).where(activities.c.activity_id == activity_id).values(**values))
            if not result.rowcount:
                raise NotFoundError(f"activity {activity_id!r} not found in this workspace")
            if fields.keys() - {"log"}:  # a log append alone is not news for the sidebar
                self._emit_activity(conn, activity_id)

    def get_activity(self, activity_id: str) -> ActivityRecord:
        with self.sql.read() as conn:
            row = conn.execute(
                select(*_ACTIVITY_COLUMNS, activities.c.log).where(activities.c.activity_id == activity_id)
            ).first()
        if row is None:
            raise NotFoundError(f"activity {activity_id!r} not found in this workspace")
        return _activity(row, row[10])

    def list_activities(
        self, kind: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[ActivityRecord]:
        query = select(*_ACTIVITY_COLUMNS)
        if kind is not None:
            query = query.where(activities.c.kind == kind)
        if status is not None:
            query = query.where(activities.c.status == status)
        query = query.order_by(activities.c.created_time.desc(), activities.c.activity_id).limit(limit)
        with self.sql.read() as conn:
            return [_activity(r) for r in conn.execute(query).all()]
