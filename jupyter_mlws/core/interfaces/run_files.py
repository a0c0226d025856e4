"""The index of a run's files (names to blobs; the bytes live in the artifact store)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from ..entities import BlobReference, FileRecord
from .base import MetadataInterface

__all__ = ["RunFileStore"]


class RunFileStore(MetadataInterface):
    """Which files a run has: path, blob digest and size. Files of a run are immutable by default.

    Implemented for SQL by ``RunFilesMixin`` (``stores/metadata/sql/run_files.py``).
    """

    @abstractmethod
    def add_run_files(self, run_id: str, files: Sequence[FileRecord], overwrite: bool = False) -> None:
        """Index files of a run. An existing name raises :class:`AlreadyExistsError` unless ``overwrite``."""

    @abstractmethod
    def list_run_files(self, run_id: str, prefix: str | None = None) -> list[FileRecord]: ...

    @abstractmethod
    def get_run_file(self, run_id: str, path: str) -> FileRecord: ...

    @abstractmethod
    def run_file_references(self) -> list[BlobReference]:
        """Every run file's blob, owned by ``run <id> file <path>`` (for ``mlws gc`` and ``workspace check``)."""
