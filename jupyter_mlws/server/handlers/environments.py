"""Registered environments: the newest version of each, and one environment's versions."""

from __future__ import annotations

from typing import Any

from ...core.entities import EnvironmentRecord
from ...core.values import iso_utc
from ..base import MlwsHandler
from ..serialize import empty_page

__all__ = ["EnvironmentHandler", "EnvironmentsHandler"]


def _environment_json(record: EnvironmentRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "version": record.version,
        "content_hash": record.content_hash,
        "definition": record.definition,
        "created_time": iso_utc(record.created_time),
    }


class EnvironmentsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())

        def latest() -> dict[str, Any]:
            records = ws.services.registry.environments(latest=True)
            return {"items": [_environment_json(r) for r in records], "next_page_token": None}

        await self.reply(latest)


class EnvironmentHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()

        def versions() -> dict[str, Any]:
            records = ws.services.registry.environments(name)
            return {"items": [_environment_json(r) for r in records], "next_page_token": None}

        await self.reply(versions)
