"""Registered datasets: the latest version of each, one dataset's versions, one version (schema, manifest
summary, lineage) and a preview of its first rows (issue 15). Read-only: datasets are registered from
Python, the CLI or the magics."""

from __future__ import annotations

from typing import Any

from ...core.workspace import Workspace
from ...data.dataset import Dataset, FileDataset, TabularDataset
from ...errors import InvalidArgumentError, InvalidStateError, NotFoundError
from ..base import MlwsHandler
from ..serialize import dataset_json, dataset_version_json, empty_page

__all__ = [
    "MAX_PREVIEW_ROWS",
    "DatasetHandler",
    "DatasetPreviewHandler",
    "DatasetVersionHandler",
    "DatasetsHandler",
]

MAX_PREVIEW_ROWS = 1000
# The largest version a route accepts (as for models: versions are 32-bit in the stores, and a bigger
# number would be a database error, a 500, on PostgreSQL instead of a clear answer).
MAX_VERSION = 2**31 - 1


def _version(text: str) -> int | str:
    """``version`` of a route: ``latest`` or a positive integer (ASCII digits only: ``int()`` would
    take other scripts' digits and surrounding spaces)."""
    if text == "latest":
        return text
    if not (text.isascii() and text.isdigit()):
        raise InvalidArgumentError(f"dataset version must be a positive integer or 'latest', not {text[:80]!r}")
    number = int(text)
    if not 1 <= number <= MAX_VERSION:
        raise InvalidArgumentError(f"dataset version must be between 1 and {MAX_VERSION} or 'latest', got {text}")
    return number


def _versions(ws: Workspace, name: str) -> list[Dataset]:
    """Every version of ``name``, oldest first; a 404 naming the registered datasets when there is none."""
    versions = Dataset.list_versions(ws, name)
    if not versions:
        known = ", ".join(sorted(Dataset.get_all(ws))) or "none"
        raise NotFoundError(f"dataset {name!r} is not registered in this workspace (registered: {known})")
    return versions


class DatasetsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        await self.reply(lambda: {"items": [dataset_json(d) for d in Dataset.list(ws)], "next_page_token": None})


class DatasetHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()

        def detail() -> dict[str, Any]:
            versions = _versions(ws, name)
            return {"name": name, "kind": versions[-1].kind, "versions": [dataset_json(d) for d in versions]}

        await self.reply(detail)


class DatasetVersionHandler(MlwsHandler):
    async def get(self, name: str, version: str) -> None:
        wanted = _version(version)  # a 400 before the workspace is looked at
        ws = self.require_workspace()
        await self.reply(lambda: dataset_version_json(Dataset.get_by_name(ws, name, version=wanted)))


class DatasetPreviewHandler(MlwsHandler):
    async def get(self, name: str, version: str) -> None:
        wanted = _version(version)
        rows = self.integer("rows", 100, 1, MAX_PREVIEW_ROWS)
        ws = self.require_workspace()
        await self.reply(lambda: _preview(Dataset.get_by_name(ws, name, version=wanted), rows))


def _preview(dataset: Dataset, rows: int) -> dict[str, Any]:
    """The first ``rows`` rows of a tabular version, or the first files (path, size, sha256) of a file
    dataset's manifest."""
    if not isinstance(dataset, TabularDataset | FileDataset):  # every registered dataset is one of them
        raise InvalidStateError(f"dataset {dataset.name!r} is of an unknown kind {dataset.kind!r}")
    return dataset.preview(rows=rows)
