"""A run's files: the list, and one file's bytes."""

from __future__ import annotations

from ..base import MlwsHandler

__all__ = ["RunFileHandler", "RunFilesHandler"]


class RunFilesHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        queries = ws.services.queries
        records = await self.call(lambda: queries.files(queries.run(run_id).run_id))
        self.send({"items": [{"path": f.path, "size": f.size} for f in records], "next_page_token": None})


class RunFileHandler(MlwsHandler):
    async def get(self, run_id: str, path: str) -> None:
        ws = self.require_workspace()
        queries = ws.services.queries
        record = await self.call(lambda: queries.file(queries.run(run_id).run_id, path))
        await self.stream_blob(ws, record.digest, record.path)
