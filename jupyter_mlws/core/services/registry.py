"""Registry use cases: model versions (files, tags, properties, aliases) and environments."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ...errors import AlreadyExistsError, InvalidArgumentError, InvalidStateError, NotFoundError
from ..entities import PENDING_VERSION, EnvironmentRecord, FileRecord, ModelVersionRecord
from ..interfaces import MetadataStore
from ..names import validate_entity_name, validate_file_name, validate_key
from ..redaction import REDACTOR
from ..values import str_map
from . import held_writes
from .context import Backends

__all__ = ["RegistryService"]

_T = TypeVar("_T")


class RegistryService:
    """Model versions and environments of a workspace."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    @property
    def _store(self) -> MetadataStore:
        return self._b.metadata

    # -- model versions ---------------------------------------------------------------------------------
    def register_model(
        self,
        name: str,
        files: Sequence[FileRecord],
        *,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        run_id: str | None = None,
        datasets: Sequence[tuple[str, str]] = (),
    ) -> ModelVersionRecord:
        """A new version (previous + 1) of ``name`` holding ``files`` (blobs already stored)."""
        validate_entity_name("model", name)
        description = REDACTOR.text(description) if REDACTOR and description else description
        group = held_writes.current(run_id) if run_id is not None else None
        if group is None:
            return self._store.register_model_version(
                name=name,
                files=list(files),
                created_time=time.time(),
                description=description,
                tags=str_map("tag", tags),
                properties=str_map("property", properties),
                run_id=run_id,
                datasets=list(datasets),
            )
        # A run whose writes a group holds (issue 19): the rows, and the number unless asked for
        # sooner (numbered), with the group's commit.
        record = ModelVersionRecord(
            name=name,
            version=PENDING_VERSION,
            created_time=time.time(),
            description=description,
            run_id=run_id,
            tags=dict(sorted(str_map("tag", tags).items())),
            properties=dict(sorted(str_map("property", properties).items())),
            datasets=tuple((str(purpose), str(ref)) for purpose, ref in datasets),
        )
        group.add_model(record, files)
        return record

    def numbered(self, record: ModelVersionRecord) -> ModelVersionRecord:
        """``record`` with its version number: a registration a group holds (``PENDING_VERSION``) has
        its number taken now, or it was taken by the group's commit (then it is read back)."""
        if record.version != PENDING_VERSION:
            return record
        found = held_writes.number(record)
        if found is not None:
            return found
        for candidate in self.models(name=record.name, run_id=record.run_id):
            if candidate.created_time == record.created_time:
                return candidate
        raise InvalidStateError(
            f"the version number of model {record.name!r} registered by run {record.run_id} is not known: its "
            "registration is held by a ParallelRunStep worker's group commit in another process (this one was "
            "forked from it), or that commit failed; ask for model.version in the process that registered it"
        )

    def files_from_disk(self, path: Path, only: Sequence[str] | None = None) -> list[FileRecord]:
        """Store a local file or folder's files as blobs; a folder keeps its name as the top level.
        ``only``: paths inside the folder (files or folders) to keep, the rest is left out."""
        blobs = self._b.artifacts
        if path.is_file():
            if only is not None:
                raise InvalidArgumentError(f"child_paths name files inside a model folder; {path} is a file")
            return [FileRecord(path.name, *blobs.put_file(path))]
        if not path.is_dir():
            raise NotFoundError(f"no model file or folder at {path}")
        found = []
        for dirpath, _dirs, names in os.walk(path):
            for file_name in sorted(names):
                source = Path(dirpath) / file_name
                if source.is_symlink() or not source.is_file():
                    continue
                found.append((source.relative_to(path).as_posix(), source))
        found = _kept(found, only, str(path))
        records = [FileRecord(f"{path.resolve().name}/{inside}", *blobs.put_file(source)) for inside, source in found]
        if not records:
            raise InvalidArgumentError(f"the model folder {path} holds no files")
        return records

    def files_from_run(self, run_id: str, model_path: str, only: Sequence[str] | None = None) -> list[FileRecord]:
        """A run's file or folder as model files; the blobs are the run's own (no bytes copied)."""
        clean = validate_file_name(model_path, "model path")
        files = held_writes.run_files(self._store, run_id, clean)
        exact = [f for f in files if f.path == clean]
        if exact:
            if only is not None:
                raise InvalidArgumentError(f"child_paths name files inside a model folder; {clean!r} is a file")
            return [FileRecord(clean.rsplit("/", 1)[-1], exact[0].digest, exact[0].size)]
        below = [f for f in files if f.path.startswith(clean + "/")]
        if not below:
            names = ", ".join(f.path for f in held_writes.run_files(self._store, run_id)[:10]) or "none"
            raise NotFoundError(f"run {run_id} has no file or folder {clean!r} (its files: {names})")
        top = clean.rsplit("/", 1)[-1]
        kept = _kept([(f.path[len(clean) + 1 :], f) for f in below], only, f"{clean!r} of run {run_id}")
        return [FileRecord(f"{top}/{inside}", f.digest, f.size) for inside, f in kept]

    def model(self, name: str, version: int | None = None, alias: str | None = None) -> ModelVersionRecord:
        return self._store.get_model_version(name, version=version, alias=alias)

    def models(
        self,
        name: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        properties: Mapping[str, str | None] | None = None,
        latest: bool = False,
        run_id: str | None = None,
    ) -> list[ModelVersionRecord]:
        """Versions newest first, filtered by name, tags/properties (value ``None``: has the key)."""
        if name is not None:
            validate_entity_name("model", name)
        records = self._store.list_model_versions(name=name, tags=tags, properties=properties, latest=latest)
        if run_id is not None:
            records = [r for r in records if r.run_id == run_id]
        return records

    def dataset_ref(self, dataset_id: str) -> str | None:
        """What a model records of the dataset version ``dataset_id`` (``name:version:digest``), or
        None if no version has that id."""
        try:
            found = self._store.get_dataset_by_id(dataset_id)
        except NotFoundError:
            return None
        return f"{found.name}:{found.version}:{found.digest}"

    def model_files(self, name: str, version: int) -> list[FileRecord]:
        return self._store.list_model_files(name, version)

    def download_model(self, name: str, version: int, target: Path, exist_ok: bool = False) -> str:
        """Write a version's files below ``target``; returns the model's path (file or folder)."""
        files = self._store.list_model_files(name, version)
        tops = {f.path.split("/", 1)[0] for f in files}
        if not exist_ok:
            clash = sorted(t for t in tops if (target / t).exists())
            if clash:
                raise AlreadyExistsError(
                    f"{target / clash[0]} exists already; pass exist_ok=True to overwrite or choose another target_dir"
                )
        blobs = self._b.artifacts
        for record in files:
            blobs.copy_to(record.digest, target / record.path)
        return str(target / tops.pop()) if len(tops) == 1 else str(target)

    def add_model_tags(self, name: str, version: int, tags: Mapping[str, Any]) -> ModelVersionRecord:
        self._store.set_model_tags(name, version, str_map("tag", tags))
        return self.model(name, version)

    def remove_model_tags(self, name: str, version: int, keys: Iterable[str]) -> ModelVersionRecord:
        self._store.remove_model_tags(name, version, [validate_key("tag", k) for k in keys])
        return self.model(name, version)

    def add_model_properties(self, name: str, version: int, properties: Mapping[str, Any]) -> ModelVersionRecord:
        """Immutable: re-setting a key to another value raises."""
        self._store.add_model_properties(name, version, str_map("property", properties))
        return self.model(name, version)

    def set_model_alias(self, name: str, version: int, alias: str) -> ModelVersionRecord:
        """Point ``alias`` (e.g. ``production``) at this version, moving it from any other."""
        validate_entity_name("alias", alias)
        if alias.isdigit():
            raise InvalidArgumentError(f"alias {alias!r} looks like a version number; use a word like 'production'")
        self._store.set_model_alias(name, version, alias)
        return self.model(name, version)

    def delete_model(self, name: str, version: int) -> None:
        """Delete a version. Its number is never given out again."""
        self._store.delete_model_version(name, version)

    # -- environments -----------------------------------------------------------------------------------
    def register_environment(self, name: str, content_hash: str, definition: dict[str, Any]) -> EnvironmentRecord:
        """A version of ``name`` for this content: the existing one when the hash is known."""
        return self._store.register_environment(name, content_hash, definition, time.time())

    def environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        return self._store.get_environment(name, version)

    def environments(self, name: str | None = None, latest: bool = False) -> list[EnvironmentRecord]:
        """Registered environment versions (newest first per name as the store lists them);
        ``latest=True`` keeps the first listed of each name; an unknown ``name`` is NotFoundError."""
        records = self._store.list_environments()
        if name is not None:
            records = [r for r in records if r.name == name]
            if not records:
                raise NotFoundError(f"environment {name!r} is not registered in this workspace")
        if latest:
            newest: dict[str, EnvironmentRecord] = {}
            for record in records:
                newest.setdefault(record.name, record)
            records = list(newest.values())
        return records


def _kept(files: list[tuple[str, _T]], only: Sequence[str] | None, where: str) -> list[tuple[str, _T]]:
    """The files (path inside the folder, item) that ``only`` names, itself or below; each name must match."""
    if only is None:
        return files

    def under(inside: str, wanted: str) -> bool:
        return inside == wanted or inside.startswith(wanted + "/")

    missing = [w for w in only if not any(under(inside, w) for inside, _ in files)]
    if missing:
        raise NotFoundError(f"child paths {missing} are not in the model folder {where}")
    return [(inside, item) for inside, item in files if any(under(inside, w) for w in only)]
