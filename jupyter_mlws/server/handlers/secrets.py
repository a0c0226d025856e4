"""Workspace secrets (issue 21): names for the sidebar, set and delete. No route ever answers a value.

``GET secrets`` lists names and last-set times; ``PUT secrets/{name}`` with ``{"value": ...}`` sets one
(204, no body); ``DELETE secrets/{name}`` removes one (204; an unknown name is a 404 raised by the core).
A bad name or value is a 400 from the core's checks; a team workspace without ``MLWS_SECRET_KEY`` is a 409.
"""

from __future__ import annotations

from ...core.values import iso_utc
from ..base import MlwsHandler
from ..requests import SetSecret

__all__ = ["SecretHandler", "SecretsHandler"]


class SecretsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send({"secrets": []})
        secrets = ws.services.secrets
        await self.reply(lambda: {"secrets": [{"name": n, "updated_time": iso_utc(u)} for n, _, u in secrets.list()]})


class SecretHandler(MlwsHandler):
    async def put(self, name: str) -> None:
        body = self.parse(SetSecret)
        ws = self.require_workspace()
        await self.call(ws.get_default_keyvault().set_secret, name, body.value)
        self.set_status(204)
        self.finish()

    async def delete(self, name: str) -> None:
        ws = self.require_workspace()
        await self.call(ws.get_default_keyvault().delete_secret, name)
        self.set_status(204)
        self.finish()
