"""``GET experiments`` and ``GET experiments/{name}/runs``."""

from __future__ import annotations

from typing import Any

from ...core.experiment import Experiment
from ..base import MlwsHandler
from ..serialize import empty_page, iso, run_page_json

__all__ = ["ExperimentRunsHandler", "ExperimentsHandler"]


class ExperimentsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        records = await self.call(ws.metadata.list_experiments)
        items = [{"name": e.name, "id": e.id, "created_time": iso(e.created_time)} for e in records]
        self.send({"items": items, "next_page_token": None})


class ExperimentRunsHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        args = self.page_args()

        def search() -> dict[str, Any]:
            ws.metadata.get_experiment(name)  # 404 for an unknown experiment, never created by a GET
            return run_page_json(ws, Experiment(ws, name).search_runs(**args))

        await self.reply(search)
