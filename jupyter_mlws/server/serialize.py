"""JSON shapes of the REST API (see openapi.yaml) that the core's views do not give already, shared
by the handler modules (which may not import one another). Runs come from the query service's
views (``RunSummary.as_dict()``): one shape for REST, the CLI and the magics."""

from __future__ import annotations

from typing import Any

from ..core.model import Model
from ..core.values import iso_utc
from ..core.workspace import Workspace

__all__ = ["empty_page", "model_json", "run_reply"]


def empty_page() -> dict[str, Any]:
    """A list answer with nothing in it (lists answer empty while there is no workspace yet)."""
    return {"items": [], "next_page_token": None}


def run_reply(ws: Workspace, run_id: str) -> dict[str, Any]:
    """One run as a write route answers it (after a submission or a cancel)."""
    return ws.services.queries.run_summary(run_id).as_dict()


def model_json(model: Model, files: bool = False) -> dict[str, Any]:
    data = {
        "id": model.id,
        "name": model.name,
        "version": model.version,
        "description": model.description,
        "tags": model.tags,
        "properties": model.properties,
        "aliases": model.aliases,
        "run_id": model.run_id,
        "created_time": iso_utc(model.created_time.timestamp()),
    }
    if files:
        data["files"] = [{"path": f.path, "size": f.size} for f in model.files()]
    return data
