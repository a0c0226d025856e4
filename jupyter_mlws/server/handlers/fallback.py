"""The last route: anything else under the API answers a JSON 404, not an HTML page."""

from __future__ import annotations

from typing import Any

from ...errors import NotFoundError
from ..base import MlwsHandler

__all__ = ["UnknownRouteHandler"]


class UnknownRouteHandler(MlwsHandler):
    """Anything else under the API answers a JSON 404 (after authentication, like every route)."""

    def _unknown(self, *args: Any) -> None:
        raise NotFoundError(f"no such API route: {self.request.method} {self.request.path}")

    get = post = put = patch = delete = _unknown
