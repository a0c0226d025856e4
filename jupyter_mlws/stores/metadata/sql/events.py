"""The change feed: reading and pruning it (the other mixins append inside their transactions)."""

from __future__ import annotations

import json
from typing import Any

from ....core.entities import EventRecord
from ....core.interfaces import EventStore
from .base import SqlStoreBase

__all__ = ["EventsMixin"]


class EventsMixin(SqlStoreBase, EventStore):
    def read_events(self, after_id: int, limit: int = 1000) -> list[EventRecord]:
        p = self.placeholder()
        with self.sql.read() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT id, time, kind, run_id, experiment, payload FROM events WHERE id > {p} ORDER BY id LIMIT {p}",
                (after_id, limit),
            ).all()
        records = []
        for event_id, when, kind, run_id, experiment, payload in rows:
            data: dict[str, Any] = json.loads(payload)
            if run_id is not None:
                data["run_id"] = run_id
            if experiment is not None:
                data["experiment"] = experiment
            records.append(EventRecord(event_id, when, kind, data))
        return records

    def latest_event_id(self) -> int:
        with self.sql.read() as conn:
            value = conn.exec_driver_sql("SELECT MAX(id) FROM events").scalar()
        return int(value or 0)

    def family_changed(self, run_id: str, after_id: int) -> tuple[int, bool]:
        # Only the new events are scanned (by id); each one's run is looked up by its unique id.
        query = self.raw(
            "SELECT (SELECT MAX(id) FROM events), MAX(CASE WHEN e.run_id = ? OR EXISTS (SELECT 1 FROM runs c "
            "JOIN runs p ON p.key = c.parent_key WHERE c.run_id = e.run_id AND p.run_id = ?) THEN 1 ELSE 0 END) "
            "FROM events e WHERE e.id > ?"
        )
        with self.sql.read() as conn:
            latest, touched = conn.exec_driver_sql(query, (run_id, run_id, after_id)).one()
        latest = int(latest or 0)
        if latest < after_id:  # the feed was pruned empty and its ids began again: anything may have changed
            return latest, True
        return latest, bool(touched)

    def prune_events(self, before_time: float) -> int:
        with self.sql.write() as conn:
            result = conn.exec_driver_sql(self.raw("DELETE FROM events WHERE time < ?"), (before_time,))
            return int(result.rowcount or 0)

    def count_events(self, before_time: float) -> int:
        with self.sql.read() as conn:
            query = self.raw("SELECT COUNT(*) FROM events WHERE time < ?")
            value = conn.exec_driver_sql(query, (before_time,)).scalar()
        return int(value or 0)
