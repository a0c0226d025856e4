"""``GET runs/{run_id}/logs``: a chunk of a run's log from an offset (the front end tails it)."""

from __future__ import annotations

from typing import Any

from ...core.layout import DRIVER_LOG
from ...core.status import TERMINAL_STATUSES
from ..base import MlwsHandler

__all__ = ["RunLogsHandler"]


class RunLogsHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        name = self.get_query_argument("name", DRIVER_LOG)
        offset = self.integer("offset", 0, 0, 2**62)

        def read() -> dict[str, Any]:
            run = ws.get_run(run_id)
            data, next_offset = run.read_log(offset, name=name)
            status = run.status
            return {
                "name": name,
                "offset": offset,
                "next_offset": next_offset,
                "data": data.decode("utf-8", errors="replace"),
                "status": status.value,
                "complete": status in TERMINAL_STATUSES and not data,
            }

        await self.reply(read)
