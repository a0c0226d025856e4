"""A run's files: the list, and one file's bytes."""

from __future__ import annotations

from ...core.names import validate_file_name
from ..base import MlwsHandler

__all__ = ["RunFileHandler", "RunFilesHandler"]


class RunFilesHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        records = await self.call(lambda: ws.metadata.list_run_files(ws.get_run(run_id).id))
        self.send({"items": [{"path": f.path, "size": f.size} for f in records], "next_page_token": None})


class RunFileHandler(MlwsHandler):
    async def get(self, run_id: str, path: str) -> None:
        ws = self.require_workspace()
        record = await self.call(lambda: ws.metadata.get_run_file(ws.get_run(run_id).id, validate_file_name(path)))
        await self.stream_blob(ws, record.digest, record.path)
