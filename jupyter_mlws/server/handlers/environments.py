"""Registered environments: the newest version of each, and one environment's versions."""

from __future__ import annotations

from typing import Any

from ...errors import NotFoundError
from ..base import MlwsHandler
from ..serialize import empty_page, iso

__all__ = ["EnvironmentHandler", "EnvironmentsHandler"]


def _environment_json(record: Any) -> dict[str, Any]:
    return {
        "name": record.name,
        "version": record.version,
        "content_hash": record.content_hash,
        "definition": record.definition,
        "created_time": iso(record.created_time),
    }


class EnvironmentsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())

        def latest() -> dict[str, Any]:
            newest: dict[str, Any] = {}
            for record in ws.metadata.list_environments():
                newest.setdefault(record.name, record)
            return {"items": [_environment_json(r) for r in newest.values()], "next_page_token": None}

        await self.reply(latest)


class EnvironmentHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()

        def versions() -> dict[str, Any]:
            records = [r for r in ws.metadata.list_environments() if r.name == name]
            if not records:
                raise NotFoundError(f"environment {name!r} is not registered in this workspace")
            return {"items": [_environment_json(r) for r in records], "next_page_token": None}

        await self.reply(versions)
