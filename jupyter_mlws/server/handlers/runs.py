"""A workspace's runs: search, one run's details, its metric series, and cancel."""

from __future__ import annotations

from typing import Any

from ...core.search import parse_filter, parse_order_by
from ...errors import NotFoundError
from ..base import MlwsHandler
from ..serialize import downsample, empty_page, run_json, run_page_json, run_reply

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
        await self.reply(lambda: run_page_json(ws, ws.search_runs(**args, experiments=experiments or None)))


class RunHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()

        def detail() -> dict[str, Any]:
            run = ws.get_run(run_id)
            details = run.get_details()
            summary = ws.metadata.summarize_runs([run.id])[run.id]
            data = run_json(run._record, summary)
            children = run.get_children()
            kids = ws.metadata.summarize_runs([c.id for c in children])
            data.update(
                {
                    "properties": details["properties"],
                    "error": details.get("error"),
                    "log_files": sorted(details["logFiles"]),
                    "snapshot_id": details.get("snapshotId"),
                    "git": {
                        k.rsplit(".", 1)[-1]: v
                        for k, v in details["properties"].items()
                        if k.startswith("azureml.git.")
                    },
                    "children": [run_json(c._record, kids.get(c.id)) for c in children],
                    "series": [
                        {"name": s.name, "kind": s.kind, "count": s.count}
                        for s in ws.metadata.list_metric_series(run.id)
                    ],
                }
            )
            return data

        await self.reply(detail)


class RunMetricsHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        name = self.get_query_argument("name", None)
        max_points = self.integer("max_points", 1000, 2, MAX_POINTS)

        def series() -> dict[str, Any]:
            run = ws.get_run(run_id)
            infos = {s.name: s for s in ws.metadata.list_metric_series(run.id)}
            if name is None:
                items = [
                    {
                        "name": s.name,
                        "kind": s.kind,
                        "count": s.count,
                        "last_value": s.last_value,
                        "last_step": s.last_step,
                    }
                    for s in infos.values()
                ]
                return {"items": items, "next_page_token": None}
            info = infos.get(name)
            if info is None:
                raise NotFoundError(f"run {run_id!r} has no metric {name!r}")
            if info.kind != "scalar":
                return {"name": name, "kind": info.kind, "total": info.count, "value": run.get_metrics(name)[name]}
            points = run.get_metric_history(name)
            return {
                "name": name,
                "kind": "scalar",
                "total": len(points),
                "downsampled": len(points) > max_points,
                "points": downsample(points, max_points),
            }

        await self.reply(series)


class RunCancelHandler(MlwsHandler):
    async def post(self, run_id: str) -> None:
        ws = self.require_workspace()

        def cancel() -> dict[str, Any]:
            run = ws.get_run(run_id)
            run.cancel()
            return run_reply(ws, run.id)

        await self.reply(cancel)
