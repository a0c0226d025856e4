"""GET datastores: the registered datastores (name, URL without credentials, type, default)."""

from __future__ import annotations

from typing import Any

from ...data.datastore import Datastore
from ..base import MlwsHandler
from ..serialize import empty_page

__all__ = ["DatastoresHandler"]


class DatastoresHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())

        def listed() -> dict[str, Any]:
            items = [d.as_dict() for d in Datastore.list(ws).values()]
            return {"items": items, "next_page_token": None}

        await self.reply(listed)
