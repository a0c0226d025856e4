"""A workspace's runs: search, one run's details, its metric series, and cancel."""

from __future__ import annotations

from typing import Any

from ...core.search import parse_filter, parse_order_by
from ..base import MlwsHandler
from ..serialize import empty_page, run_inputs, run_reply

__all__ = ["MAX_POINTS", "RunCancelHandler", "RunHandler", "RunMetricsHandler", "RunsHandler"]

MAX_POINTS = 100_000


class RunsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        args = self.page_args()
        experiments = [e for value in self.get_query_arguments("experiment") for e in value.split(",") if e]
        if ws is None:
            parse_filter(args["filter"])  # bad input is still a 400
            parse_order_by(args["order_by"])
            return self.send(empty_page())
        queries = ws.services.queries

        def page() -> dict[str, Any]:
            ids = queries.experiment_ids(experiments) if experiments else None
            return queries.run_summaries(ids, **args).as_dict()

        await self.reply(page)


class RunHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()

        def view() -> dict[str, Any]:
            data = ws.services.queries.run_view(run_id).as_dict()
            data["input_datasets"] = run_inputs(ws, run_id)
            return data

        await self.reply(view)


class RunMetricsHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        name = self.get_query_argument("name", None)
        max_points = self.integer("max_points", 1000, 2, MAX_POINTS)
        queries = ws.services.queries

        def series() -> dict[str, Any]:
            queries.run(run_id)  # 404 for an unknown run
            if name is not None:
                return queries.metric_view(run_id, name, max_points).as_dict()
            items = [
                {"name": s.name, "kind": s.kind, "count": s.count, "last_value": s.last_value, "last_step": s.last_step}
                for s in queries.metric_series(run_id)
            ]
            return {"items": items, "next_page_token": None}

        await self.reply(series)


class RunCancelHandler(MlwsHandler):
    async def post(self, run_id: str) -> None:
        ws = self.require_workspace()

        def cancel() -> dict[str, Any]:
            run = ws.get_run(run_id)
            run.cancel()
            return run_reply(ws, run.id)

        await self.reply(cancel)
