"""JSON shapes of the REST API (see openapi.yaml) that the core's views do not give already, shared
by the handler modules (which may not import one another). Runs come from the query service's
views (``RunSummary.as_dict()``): one shape for REST, the CLI and the magics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.model import Model
from ..core.values import iso_utc
from ..core.workspace import Workspace

if TYPE_CHECKING:
    from ..data.dataset import Dataset

__all__ = [
    "MANIFEST_FILES",
    "dataset_json",
    "dataset_version_json",
    "empty_page",
    "model_json",
    "run_inputs",
    "run_reply",
]

MANIFEST_FILES = 1000  # files of a dataset version's manifest in one answer (the rest: download it)


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


def dataset_json(dataset: Dataset) -> dict[str, Any]:
    """A dataset version's ``summary()``, its time as the API's ISO string."""
    data = dict(dataset.summary())
    created = data.get("created_time")
    if isinstance(created, int | float):
        data["created_time"] = iso_utc(created)
    return data


def dataset_version_json(dataset: Dataset) -> dict[str, Any]:
    """One version: the summary, the schema, the manifest's first files and the lineage."""
    entries = dataset.manifest.entries
    files = [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in entries[:MANIFEST_FILES]]
    lineage = dataset.get_lineage()
    return {
        **dataset_json(dataset),
        "schema": dataset.schema,
        "manifest": {
            "file_count": dataset.file_count,
            "total_size": dataset.total_size,
            "files": files,
            "truncated": len(entries) > MANIFEST_FILES,
        },
        "lineage": {"runs": list(lineage["runs"]), "models": list(lineage["models"])},
    }


def run_inputs(ws: Workspace, run_id: str) -> list[dict[str, Any]]:
    """The datasets a run used, as ``get_details()["inputDatasets"]`` lists them (only the documented keys)."""
    found = []
    for item in ws.services.queries.input_datasets(run_id):  # not the whole details: one query
        dataset = item.get("dataset") or {}
        found.append(
            {
                "name": item["name"],
                "dataset": {key: dataset.get(key) for key in ("name", "version", "id", "digest")},
                "mode": item.get("mode") or "direct",
            }
        )
    return found
