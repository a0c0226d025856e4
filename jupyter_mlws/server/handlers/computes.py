"""``GET computes``: the compute targets attached to the workspace; ``GET computes/{name}``: one of them
with what its backend tells about where its jobs run (a Dask target's scheduler, dashboard and
workers, issue 19)."""

from __future__ import annotations

from typing import Any

from ...core.compute import ComputeTarget
from ..base import MlwsHandler

__all__ = ["ComputeHandler", "ComputesHandler"]

_LOCAL = {"name": "local", "type": "local", "config": {}}


class ComputesHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send({"items": [_LOCAL], "next_page_token": None})
        targets = await self.call(lambda: [t.serialize() for t in ComputeTarget.list(ws)])
        self.send({"items": targets, "next_page_token": None})


class ComputeHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.workspace()
        if ws is None and name == "local":
            return self.send({**_LOCAL, "cluster": None})
        ws = self.require_workspace()

        def described() -> dict[str, Any]:
            target = ComputeTarget(ws, name)  # 404 naming the attached targets; "local" always exists
            return ws.services.compute_targets.describe(target.serialize(), target.backend)

        await self.reply(described)
