"""``GET computes``: the compute targets attached to the workspace."""

from __future__ import annotations

from ...core.compute import ComputeTarget
from ..base import MlwsHandler

__all__ = ["ComputesHandler"]


class ComputesHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send({"items": [{"name": "local", "type": "local", "config": {}}], "next_page_token": None})
        targets = await self.call(lambda: [t.serialize() for t in ComputeTarget.list(ws)])
        self.send({"items": targets, "next_page_token": None})
