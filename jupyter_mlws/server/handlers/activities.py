"""Activities (environment builds and other long work): a filtered list, and one with its log."""

from __future__ import annotations

from typing import Any

from ...core.entities import ActivityRecord
from ...core.services import ACTIVITY_STATUSES
from ...core.values import iso_utc
from ...errors import InvalidArgumentError
from ..base import MlwsHandler
from ..serialize import empty_page

__all__ = ["ACTIVITY_STATUSES", "ActivitiesHandler", "ActivityHandler"]


def _activity_json(record: ActivityRecord, with_log: bool = False) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "activity_id": record.activity_id,
        "kind": record.kind,
        "name": record.name,
        "status": record.status,
        "progress": record.progress,
        "run_id": record.run_id,
        "created_time": iso_utc(record.created_time),
        "end_time": iso_utc(record.end_time),
        "details": record.details,
        "error": record.error,
    }
    if with_log:
        reply["log"] = record.log
    return reply


class ActivitiesHandler(MlwsHandler):
    async def get(self) -> None:
        status = self.get_query_argument("status", None)
        if status is not None and status not in ACTIVITY_STATUSES:
            raise InvalidArgumentError(f"status must be one of {', '.join(ACTIVITY_STATUSES)}, got {status!r}")
        kind = self.get_query_argument("kind", None)
        limit = self.integer("page_size", 100, 1, 1000)
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())

        def page() -> dict[str, Any]:
            records = ws.services.activities.activities(kind=kind, status=status, limit=limit)
            return {"items": [_activity_json(r) for r in records], "next_page_token": None}

        await self.reply(page)


class ActivityHandler(MlwsHandler):
    async def get(self, activity_id: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: _activity_json(ws.services.activities.activity(activity_id), with_log=True))
