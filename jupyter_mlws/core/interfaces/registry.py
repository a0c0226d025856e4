"""The model registry: numbered versions of named models, their files, tags, properties, aliases."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence

from ..entities import BlobReference, FileRecord, ModelVersionRecord
from .base import MetadataInterface

__all__ = ["ModelRegistryStore"]


class ModelRegistryStore(MetadataInterface):
    """Model versions from a never-decreasing counter per name (a deleted version is never reused).

    Registering a version announces ``model.version.created`` on the change feed. Implemented for
    SQL by ``RegistryMixin`` (``stores/metadata/sql/registry.py``).
    """

    @abstractmethod
    def register_model_version(
        self,
        *,
        name: str,
        files: Sequence[FileRecord],
        created_time: float,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        run_id: str | None = None,
        datasets: Sequence[tuple[str, str]] = (),
    ) -> ModelVersionRecord:
        """Atomically create the next version of ``name`` (versions are never reused)."""

    @abstractmethod
    def reserve_model_version(self, name: str) -> int:
        """Take the next version number of ``name`` now, for a version a group commit writes later
        (``RunStore.write_held``); a number taken and never written is skipped, never reused."""

    @abstractmethod
    def get_model_version(
        self, name: str, version: int | None = None, alias: str | None = None
    ) -> ModelVersionRecord: ...

    @abstractmethod
    def list_model_versions(
        self,
        name: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        properties: Mapping[str, str | None] | None = None,
        latest: bool = False,
    ) -> list[ModelVersionRecord]:
        """Newest first. A ``None`` value in ``tags``/``properties`` means "has the key"."""

    @abstractmethod
    def list_model_files(self, name: str, version: int) -> list[FileRecord]: ...

    @abstractmethod
    def set_model_tags(self, name: str, version: int, tags: Mapping[str, str]) -> None: ...

    @abstractmethod
    def remove_model_tags(self, name: str, version: int, keys: Sequence[str]) -> None: ...

    @abstractmethod
    def add_model_properties(self, name: str, version: int, properties: Mapping[str, str]) -> None: ...

    @abstractmethod
    def set_model_alias(self, name: str, version: int, alias: str) -> None:
        """Point ``alias`` at this version, moving it from any other version of the same name."""

    @abstractmethod
    def delete_model_version(self, name: str, version: int) -> None: ...

    @abstractmethod
    def model_file_references(self) -> list[BlobReference]:
        """Every model version file's blob, owned by ``model <name>:<version> file <path>``."""
