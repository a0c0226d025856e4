"""The model registry: models, their versions (``POST`` registers the next one from a run), and files."""

from __future__ import annotations

from typing import Any

from ...core.model import Model
from ...core.names import validate_entity_name, validate_file_name
from ...core.workspace import Workspace
from ...errors import NotFoundError
from ..base import MlwsHandler
from ..requests import RegisterModelVersion
from ..serialize import empty_page, model_json

__all__ = [
    "ModelFileHandler",
    "ModelFilesHandler",
    "ModelHandler",
    "ModelVersionHandler",
    "ModelVersionsHandler",
    "ModelsHandler",
]


def _model(ws: Workspace, name: str, version: str) -> Model:
    """``version`` of a route: ``latest``, a number, or an alias."""
    if version == "latest":
        return Model(ws, name)
    if version.isdigit():
        return Model(ws, name, version=int(version))
    return Model(ws, name, alias=version)


class ModelsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        name = self.get_query_argument("name", None)
        latest = self.flag("latest")
        tags = {}
        for item in self.get_query_arguments("tag"):
            key, _, value = item.partition("=")
            tags[key] = value if _ else None
        models = await self.call(lambda: Model.list(ws, name=name, latest=latest, tags=tags or None))
        self.send({"items": [model_json(m) for m in models], "next_page_token": None})


class ModelHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        versions = await self.call(lambda: Model.list(ws, name=name))
        if not versions:
            raise NotFoundError(f"model {name!r} is not registered in this workspace")
        aliases = {alias: m.version for m in versions for alias in m.aliases}
        self.send({"name": name, "latest_version": versions[0].version, "aliases": aliases,
                   "versions": [model_json(m) for m in versions]})  # fmt: skip


class ModelVersionsHandler(MlwsHandler):
    async def post(self, name: str) -> None:
        """Register the next version of ``name`` from a run's file or folder."""
        request = self.parse(RegisterModelVersion)
        validate_entity_name("model", name)  # a 400 before the run is looked up (Model.register checks it too)
        ws = self.require_workspace()

        def register() -> dict[str, Any]:
            model = ws.get_run(request.run_id).register_model(
                model_name=name,
                model_path=request.path,
                tags=request.tags,
                properties=request.properties,
                description=request.description,
            )
            return model_json(model, files=True)

        await self.reply(register, status=201)


class ModelVersionHandler(MlwsHandler):
    async def get(self, name: str, version: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: model_json(_model(ws, name, version), files=True))


class ModelFilesHandler(MlwsHandler):
    async def get(self, name: str, version: str) -> None:
        ws = self.require_workspace()
        files = await self.call(lambda: _model(ws, name, version).files())
        self.send({"items": [{"path": f.path, "size": f.size} for f in files], "next_page_token": None})


class ModelFileHandler(MlwsHandler):
    async def get(self, name: str, version: str, path: str) -> None:
        ws = self.require_workspace()
        wanted = validate_file_name(path)

        def find() -> Any:
            for record in _model(ws, name, version).files():
                if record.path == wanted:
                    return record
            raise NotFoundError(f"model {name}:{version} has no file {wanted!r}")

        record = await self.call(find)
        await self.stream_blob(ws, record.digest, record.path)
