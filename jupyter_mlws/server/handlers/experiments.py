"""``GET experiments`` and ``GET experiments/{name}/runs``."""

from __future__ import annotations

from typing import Any

from ...core.values import iso_utc
from ..base import MlwsHandler
from ..serialize import empty_page

__all__ = ["ExperimentRunsHandler", "ExperimentsHandler"]


class ExperimentsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        records = await self.call(ws.services.queries.experiments)
        items = [{"name": e.name, "id": e.id, "created_time": iso_utc(e.created_time)} for e in records]
        self.send({"items": items, "next_page_token": None})


class ExperimentRunsHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        args = self.page_args()

        def search() -> dict[str, Any]:
            queries = ws.services.queries
            experiment = queries.experiment(name)  # 404 for an unknown experiment, never created by a GET
            return queries.run_summaries([experiment.id], **args).as_dict()

        await self.reply(search)
