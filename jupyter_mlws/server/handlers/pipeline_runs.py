"""Pipeline runs (issue 16, part 6): recent pipeline runs with their steps counted by status, and one
pipeline run with its step graph (each step's live status, whether it was reused and why). Read-only:
pipelines are submitted from Python, the CLI or a published endpoint."""

from __future__ import annotations

from ...pipelines.views import pipeline_run_page, pipeline_run_view
from ..base import DEFAULT_PAGE, MAX_PAGE, MlwsHandler
from ..serialize import empty_page

__all__ = ["PipelineRunHandler", "PipelineRunsHandler"]


class PipelineRunsHandler(MlwsHandler):
    async def get(self) -> None:
        # A bad page_size is a 400 even before a workspace exists (a bad page_token once it does).
        page_size = self.integer("page_size", DEFAULT_PAGE, 1, MAX_PAGE)
        page_token = self.get_query_argument("page_token", None) or None
        experiments = [e for value in self.get_query_arguments("experiment") for e in value.split(",") if e]
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        await self.reply(lambda: pipeline_run_page(ws, experiments or None, page_size, page_token))


class PipelineRunHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: pipeline_run_view(ws, run_id))
