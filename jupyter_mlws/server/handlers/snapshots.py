"""Snapshots: capture a folder under the server root (``POST snapshots``), download a run's (``GET
runs/{run_id}/snapshot``)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ...errors import NotFoundError
from ..base import MlwsHandler, content_disposition
from ..requests import CreateSnapshot

__all__ = ["RunSnapshotHandler", "SnapshotsHandler"]


class SnapshotsHandler(MlwsHandler):
    async def post(self) -> None:
        request = self.parse(CreateSnapshot)
        folder = self.confined(request.path, "path")
        if not folder.is_dir():
            raise NotFoundError(f"no folder {request.path!r} under the server root")
        ws = self.state.require()

        def capture() -> dict[str, Any]:
            # Left-out secrets are named in the answer (a warning would only reach the server's log).
            snap = ws.services.snapshots.capture(folder, warn=False)
            return {
                "id": snap.id,
                "file_count": snap.file_count,
                "total_size": snap.total_size,
                "source": str(folder.relative_to(self.state.root_dir)),
                "excluded_secrets": list(snap.excluded_secrets),
            }

        await self.reply(capture, status=201)


class RunSnapshotHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        folder = tempfile.mkdtemp(prefix="mlws-snapshot-")
        target = os.path.join(folder, f"{run_id}-snapshot.zip")
        try:
            await self.call(lambda: ws.get_run(run_id).download_snapshot(target))
            self.set_header("Content-Type", "application/zip")
            self.set_header("Content-Disposition", content_disposition("attachment", f"{run_id}-snapshot.zip"))
            with open(target, "rb") as f:
                while chunk := f.read(1 << 20):
                    self.write(chunk)
                    await self.flush()
            self.finish()
        finally:
            if os.path.exists(target):
                os.unlink(target)
            os.rmdir(folder)
