"""The model registry: named, versioned, immutable sets of files with tags, properties and aliases."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError
from .entities import PENDING_VERSION, FileRecord, ModelVersionRecord
from .model_v1 import (
    FRAMEWORK_PROPERTY,
    FRAMEWORK_VERSION_PROPERTY,
    RESOURCES_PROPERTY,
    SAMPLE_INPUT,
    SAMPLE_OUTPUT,
    Framework,
    ResourceConfiguration,
    v1_model_properties,
)
from .names import validate_entity_name, validate_key
from .values import iso_utc

if TYPE_CHECKING:
    from .runs import Run
    from .runs.base import RunBase
    from .workspace import Workspace

__all__ = ["Framework", "Model", "ResourceConfiguration"]

MAX_VERSION = 2**31 - 1  # versions are 32-bit in the registry

# ``Model.list`` shadows the builtin inside the class body, so annotations there use these names.
FileRecords = list[FileRecord]
Models = list["Model"]
Names = list[str]


class Model:
    """``Model(ws, name, version=None, alias=None)`` — the newest version unless one is named.

    v1's filters (``tags``, ``properties``, ``run_id``, ``model_framework``) pick the newest version
    that matches them.
    """

    Framework = Framework

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        version: int | None = None,
        alias: str | None = None,
        id: str | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        properties: Mapping[str, Any] | Iterable[Any] | None = None,
        run_id: str | None = None,
        model_framework: str | None = None,
        expand: bool = True,
        *,
        _record: ModelVersionRecord | None = None,
    ) -> None:
        self._workspace = workspace
        if _record is None:
            if id is not None:
                name, version = _parse_id(id)
            if name is None:
                raise InvalidArgumentError("Model(ws, name) needs a model name (or id='name:version')")
            validate_entity_name("model", name)
            if version is not None and alias is not None:
                raise InvalidArgumentError("give a model version or an alias, not both")
            if version is not None and (
                not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION
            ):
                raise InvalidArgumentError(f"model version must be an integer from 1 to {MAX_VERSION}, got {version!r}")
            _record = workspace.services.registry.model(name, version=version, alias=alias)
            if tags is not None or properties is not None or run_id is not None or model_framework is not None:
                _record = _newest_matching(
                    workspace, _record, name, version, alias, tags, properties, run_id, model_framework
                )
        self._record = _record

    # -- attributes ---------------------------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def version(self) -> int:
        if self._record.version == PENDING_VERSION:  # registered by a ParallelRunStep's mini-batch
            self._record = self._workspace.services.registry.numbered(self._record)
        return self._record.version

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._record.properties)

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def run_id(self) -> str | None:
        return self._record.run_id

    @property
    def created_time(self) -> datetime:
        return datetime.fromtimestamp(self._record.created_time, UTC)

    @property
    def aliases(self) -> list[str]:
        return list(self._record.aliases)

    @property
    def datasets(self) -> list[tuple[str, str]]:
        return list(self._record.datasets)

    @property
    def model_framework(self) -> str | None:
        return self._record.properties.get(FRAMEWORK_PROPERTY)

    @property
    def model_framework_version(self) -> str | None:
        return self._record.properties.get(FRAMEWORK_VERSION_PROPERTY)

    @property
    def resource_configuration(self) -> ResourceConfiguration | None:
        stored = self._record.properties.get(RESOURCES_PROPERTY)
        return None if stored is None else ResourceConfiguration.deserialize(json.loads(stored))

    @property
    def sample_input_dataset(self) -> str | None:
        """The id of v1's sample input dataset, if one was given."""
        return next((d for purpose, d in self._record.datasets if purpose == SAMPLE_INPUT), None)

    @property
    def sample_output_dataset(self) -> str | None:
        return next((d for purpose, d in self._record.datasets if purpose == SAMPLE_OUTPUT), None)

    @property
    def run(self) -> Run | None:
        return None if self.run_id is None else self._workspace.get_run(self.run_id)

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id and other.workspace == self.workspace

    def __hash__(self) -> int:
        return hash(self.id)

    def serialize(self) -> dict[str, Any]:
        """A JSON-able description (CLI ``--json``, REST)."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
            "aliases": self.aliases,
            "run_id": self.run_id,
            "created_time": iso_utc(self._record.created_time),
            "files": [{"path": f.path, "size": f.size} for f in self.files()],
        }

    # -- registration -------------------------------------------------------------------------------------
    @staticmethod
    def register(
        workspace: Workspace,
        model_path: str | os.PathLike[str],
        model_name: str,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        run: RunBase | None = None,
        datasets: Sequence[tuple[str, Any]] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        child_paths: Sequence[str] | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: ResourceConfiguration | None = None,
    ) -> Model:
        """Register a new version of ``model_name`` from a file or folder.

        Without ``run`` the path is local; with ``run`` it names the run's file or folder
        (e.g. ``outputs/model.pkl``). Files keep their base name (a folder keeps its own name as
        the top level). Versions count up from 1 and are never reused.

        Azure ML v1's keywords: ``child_paths`` keeps only those files or folders of a model folder
        (relative to it); ``model_framework`` (a :class:`Framework` value), its version and
        ``resource_configuration`` become properties; the sample datasets are recorded with
        ``datasets`` (purposes ``sample_input`` / ``sample_output``).
        """
        registry = workspace.services.registry
        validate_entity_name("model", model_name)
        only = None if child_paths is None else _child_paths(child_paths)
        if run is not None:
            files = registry.files_from_run(run.id, str(model_path), only=only)
        else:
            files = registry.files_from_disk(Path(model_path), only=only)
        v1_properties = v1_model_properties(model_framework, model_framework_version, resource_configuration)
        pairs = [(str(purpose), _dataset_id(ds)) for purpose, ds in (datasets or [])]
        for purpose, sample in ((SAMPLE_INPUT, sample_input_dataset), (SAMPLE_OUTPUT, sample_output_dataset)):
            if sample is not None:
                pairs.append((purpose, _dataset_id(sample)))
        record = registry.register_model(
            model_name,
            files,
            description=description,
            tags=tags,
            properties={**v1_properties, **(properties or {})},
            run_id=run.id if run is not None else None,
            datasets=pairs,
        )
        return Model(workspace, _record=record)

    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        properties: Mapping[str, Any] | Iterable[Any] | None = None,
        latest: bool = False,
        run_id: str | None = None,
        dataset_id: Any = None,
        expand: bool = True,
        page_count: int = 255,
        model_framework: str | None = None,
    ) -> Models:
        """Versions newest first. ``tags``: ``{"k": "v"}``, ``["k"]`` (has the key) or ``[["k", "v"]]``.
        v1's ``dataset_id`` and ``model_framework`` filter too (``expand``/``page_count`` are v1's paging
        knobs: every match is returned)."""
        wanted = dict(_filters("properties", properties) or {})
        if model_framework is not None:
            wanted[FRAMEWORK_PROPERTY] = str(model_framework)
        records = workspace.services.registry.models(
            name=name,
            tags=_filters("tags", tags),
            properties=wanted or None,
            latest=latest,
            run_id=run_id,
        )
        if dataset_id is not None:
            wanted_ids = _dataset_refs(dataset_id)
            if isinstance(dataset_id, str) and ":" not in dataset_id:
                # v1 passes a dataset's id: models record the version as name:version:digest.
                ref = workspace.services.registry.dataset_ref(dataset_id)
                if ref is not None:
                    wanted_ids.add(ref)
            records = [
                r
                for r in records
                if any(d in wanted_ids or d.startswith(_prefixes(wanted_ids)) for _p, d in r.datasets)
            ]
        return [Model(workspace, _record=r) for r in records]

    # -- files --------------------------------------------------------------------------------------------
    def files(self) -> FileRecords:
        return self._workspace.services.registry.model_files(self.name, self.version)

    def get_file_names(self) -> Names:
        return [f.path for f in self.files()]

    def download(self, target_dir: str | os.PathLike[str] = ".", exist_ok: bool = False) -> str:
        """Write the model's files below ``target_dir``; returns the path of the model (file or folder)."""
        return self._workspace.services.registry.download_model(self.name, self.version, Path(target_dir), exist_ok)

    # -- metadata -----------------------------------------------------------------------------------------
    def add_tags(self, tags: Mapping[str, Any]) -> None:
        self._record = self._workspace.services.registry.add_model_tags(self.name, self.version, tags)

    def remove_tags(self, keys: Iterable[str]) -> None:
        self._record = self._workspace.services.registry.remove_model_tags(self.name, self.version, keys)

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Immutable: re-setting a key to another value raises."""
        registry = self._workspace.services.registry
        self._record = registry.add_model_properties(self.name, self.version, properties)

    def set_alias(self, alias: str) -> None:
        """Point ``alias`` (e.g. ``production``) at this version, moving it from any other."""
        self._record = self._workspace.services.registry.set_model_alias(self.name, self.version, alias)

    def delete(self) -> None:
        """Delete this version. Its number is never given out again. A version a web service uses
        is refused, naming the service (v1's rule): delete or update the service first."""
        self._workspace.services.registry.delete_model(self.name, self.version)

    # -- deployment (issue 17; the feature lives in ``serving/``) ---------------------------------------
    @staticmethod
    def deploy(
        workspace: Workspace,
        name: str,
        models: Sequence[Model | str],
        inference_config: Any = None,
        deployment_config: Any = None,
        deployment_target: Any = None,
        overwrite: bool = False,
        show_output: bool = False,
    ) -> Any:
        """Deploy ``models`` as the web service ``name``: a process on this machine
        (``LocalWebservice.deploy_configuration(...)``, the default) or a Docker container
        (``DockerWebservice.deploy_configuration(...)``). Returns the ``Webservice`` at once;
        ``service.wait_for_deployment()`` waits until it answers. ``inference_config=None`` serves one
        pickled model with MLflow's request shapes."""
        from .. import Webservice

        if deployment_target is not None:
            raise InvalidArgumentError(
                "deployment_target names an Azure compute (AKS); deploy with a Docker deployment_config instead"
            )
        return Webservice._deploy_models(
            workspace, name, models, inference_config, deployment_config, overwrite, show_output
        )

    @staticmethod
    def package(
        workspace: Workspace,
        models: Sequence[Model | str],
        inference_config: Any = None,
        generate_dockerfile: bool = False,
        image_name: str | None = None,
        image_label: str | None = None,
    ) -> Any:
        """A Docker image that serves ``models`` with ``inference_config`` alone (no workspace):
        ``docker run -p 5001:5001 IMAGE``. ``generate_dockerfile=True`` (or ``package.save(dir)``)
        gives the Dockerfile and build context instead of building."""
        from .. import ModelPackage

        return ModelPackage._create(workspace, models, inference_config, generate_dockerfile, image_name, image_label)

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None, _workspace: Workspace | None = None) -> str:
        """Inside a deployed service (or its packaged image): the path of a model's files — the file
        itself when the version holds one file, else its folder — as v1 resolves it from
        ``AZUREML_MODEL_DIR``. Elsewhere: ``./azureml-models/<name>/<version>`` when present."""
        return model_path(model_name, version)


def model_path(model_name: str, version: int | None = None) -> str:
    """:meth:`Model.get_model_path`: ``MLWS_MODELS`` lists the service's ``name:version`` ids and
    ``MLWS_MODEL_DIR`` (or v1's ``AZUREML_MODEL_DIR``) holds them — one model: its version folder,
    several: ``<dir>/<name>/<version>/``."""
    from ..errors import ModelNotFoundException

    validate_entity_name("model", model_name)
    root = os.environ.get("MLWS_MODEL_DIR") or os.environ.get("AZUREML_MODEL_DIR")
    listed = [m.rpartition(":") for m in os.environ.get("MLWS_MODELS", "").split(",") if m]
    candidates: list[Path] = []
    if root:
        ids = [(n, int(v)) for n, _, v in listed if v.isdigit()]
        mine = sorted((v for n, v in ids if n == model_name), reverse=True)
        if len(ids) == 1 and mine:
            candidates.append(Path(root))
        else:
            versions = [version] if version is not None else mine
            candidates += [Path(root) / model_name / str(v) for v in versions]
    local = Path("azureml-models") / model_name
    if version is not None:
        candidates.append(local / str(version))
    elif local.is_dir():
        numbered = sorted((p for p in local.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True)
        candidates += numbered[:1]
    for folder in candidates:
        if version is not None and root and len(listed) == 1 and folder == Path(root):
            if listed[0][2] != str(version):
                continue
        if folder.is_dir():
            entries = list(folder.iterdir())
            return str(entries[0]) if len(entries) == 1 and entries[0].is_file() else str(folder)
    wanted = f"{model_name}:{version}" if version is not None else model_name
    where = f"this service's models ({os.environ.get('MLWS_MODELS') or 'none'})" if root else "./azureml-models"
    raise ModelNotFoundException(f"model {wanted} is not in {where}; deploy it with the service or download it there")


def _child_paths(child_paths: Sequence[str]) -> list[str]:
    if isinstance(child_paths, str | bytes) or not child_paths:
        raise InvalidArgumentError(
            f"child_paths must be a non-empty list of paths inside the model folder, got {child_paths!r}"
        )
    cleaned = []
    for raw in child_paths:
        path = str(raw).replace("\\", "/").strip()
        while path.startswith("./"):
            path = path[2:]
        path = path.rstrip("/")
        if not path or path.startswith("/") or ".." in path.split("/"):
            raise InvalidArgumentError(f"child path {raw!r} must be a relative path inside the model folder")
        cleaned.append(path)
    return cleaned


def _newest_matching(
    workspace: Workspace,
    named: ModelVersionRecord,
    name: str,
    version: int | None,
    alias: str | None,
    tags: Mapping[str, Any] | Iterable[Any] | None,
    properties: Mapping[str, Any] | Iterable[Any] | None,
    run_id: str | None,
    model_framework: str | None,
) -> ModelVersionRecord:
    """v1's ``Model(ws, name, tags=..., ...)``: the newest version of ``name`` that matches (or the named
    version, if it matches)."""
    wanted = dict(_filters("properties", properties) or {})
    if model_framework is not None:
        wanted[FRAMEWORK_PROPERTY] = str(model_framework)
    records = workspace.services.registry.models(
        name=name, tags=_filters("tags", tags), properties=wanted or None, run_id=run_id
    )
    if version is not None or alias is not None:
        records = [r for r in records if r.version == named.version]
    if not records:
        from ..errors import NotFoundError

        raise NotFoundError(
            f"no version of model {name!r} matches tags={tags!r}, properties={properties!r}, run_id={run_id!r}, "
            f"model_framework={model_framework!r}; Model.list(ws, name={name!r}) shows its versions"
        )
    return records[0]


def _parse_id(model_id: str) -> tuple[str, int]:
    name, sep, version = str(model_id).rpartition(":")
    if not sep or not version.isdigit():
        raise InvalidArgumentError(f"model id {model_id!r} must look like 'name:version', e.g. 'churn:3'")
    return name, int(version)


def _dataset_id(dataset: Any) -> str:
    """What a model records of a dataset: a registered dataset's ``name:version:digest`` (it says which
    bytes), else its id or name."""
    ref = getattr(dataset, "lineage_ref", None)
    if isinstance(ref, str) and ref:
        return ref
    for attr in ("id", "name"):
        value = getattr(dataset, attr, None)
        if value:
            return str(value)
    return str(dataset)


def _dataset_refs(dataset: Any) -> set[str]:
    """The recorded forms that mean ``dataset``: a dataset object's ``name:version:digest``, or the
    string given (``name:version`` also matches through :func:`_prefixes`)."""
    return {dataset} if isinstance(dataset, str) else {_dataset_id(dataset), str(getattr(dataset, "id", ""))}


def _prefixes(refs: set[str]) -> tuple[str, ...]:
    # "name:version" matches the recorded "name:version:digest".
    return tuple(f"{r}:" for r in refs if r.count(":") == 1)


def _filters(kind: str, wanted: Mapping[str, Any] | Iterable[Any] | None) -> dict[str, str | None] | None:
    if wanted is None:
        return None
    if isinstance(wanted, Mapping):
        return {validate_key(kind[:-1], k): None if v is None else str(v) for k, v in wanted.items()}
    if isinstance(wanted, str):
        return {validate_key(kind[:-1], wanted): None}
    result: dict[str, str | None] = {}
    for item in wanted:
        if isinstance(item, str):
            result[validate_key(kind[:-1], item)] = None
        elif isinstance(item, list | tuple) and len(item) == 2:
            result[validate_key(kind[:-1], item[0])] = str(item[1])
        else:
            raise InvalidArgumentError(f"{kind} filter items are 'key' or ['key', 'value'], got {item!r}")
    return result
