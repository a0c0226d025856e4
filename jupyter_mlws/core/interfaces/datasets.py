"""Registered dataset versions (name, version, kind, manifest digest, definition) and the runs that
read them."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import MetadataInterface

__all__ = ["DatasetInputRecord", "DatasetStore", "DatasetVersionRecord"]


@dataclass(frozen=True)
class DatasetVersionRecord:
    """One registered dataset version. Immutable once written.

    ``definition`` is the JSON object that rebuilds the dataset: its source (a datastore and root, or
    a local folder or URL), the files' manifest, and for tabular datasets the reading spec.
    ``content_key`` identifies kind + spec + manifest digest + root: registering the same content again finds
    the version that already holds it. ``definition`` is empty in lists (it may be large).
    """

    id: str
    name: str
    version: int
    kind: str  # "tabular" | "file"
    digest: str
    content_key: str
    description: str | None
    tags: Mapping[str, str]
    created_time: float
    file_count: int
    total_size: int
    rows: int | None
    schema: Sequence[Mapping[str, str]] | None
    definition: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetInputRecord:
    """A dataset a run read, recorded when the run was submitted. ``dataset_id``, ``dataset_name`` and
    ``version`` are None for an unregistered dataset (its ``digest`` still says which bytes)."""

    run_id: str
    input_name: str
    dataset_id: str | None
    dataset_name: str | None
    version: int | None
    digest: str
    mode: str  # "direct" | "download" | "mount"


class DatasetStore(MetadataInterface):
    """Dataset versions by name, and run inputs.

    Registering a new version announces ``dataset.version.created`` (name, version, kind) on the change
    feed, in the same transaction; answering an existing version announces nothing. Implemented for
    SQL by ``DatasetsMixin`` (``stores/metadata/sql/datasets.py``).
    """

    @abstractmethod
    def add_dataset_version(
        self,
        record: DatasetVersionRecord,
        create_new_version: bool,
    ) -> tuple[DatasetVersionRecord, bool]:
        """Register ``record`` (its ``version`` is ignored) as the next version of ``record.name``, in one
        transaction that also emits ``dataset.version.created``, and answer ``(stored record, True)``.

        If the latest version has the same ``content_key`` it is answered instead, ``(latest, False)``,
        and nothing is written or emitted.
        A name registered with the other kind is an InvalidArgumentError; an existing name with other
        content and ``create_new_version=False`` an AlreadyExistsError. Concurrent registrations of
        one name get distinct versions; a version number is never handed out twice.
        """

    @abstractmethod
    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersionRecord:
        """Version ``version`` (None: the latest) of ``name``, with its definition; a NotFoundError naming
        the registered names or versions."""

    @abstractmethod
    def get_dataset_by_id(self, dataset_id: str) -> DatasetVersionRecord:
        """The version with this id, with its definition; a NotFoundError if there is none."""

    @abstractmethod
    def list_datasets(self) -> list[DatasetVersionRecord]:
        """The latest version of every name, by name (definitions left empty)."""

    @abstractmethod
    def list_dataset_versions(self, name: str) -> list[DatasetVersionRecord]:
        """Every version of ``name``, ascending (definitions left empty); a NotFoundError if unknown."""

    @abstractmethod
    def add_run_inputs(self, run_id: str, inputs: Sequence[DatasetInputRecord]) -> None:
        """Record the datasets run ``run_id`` reads (by input name; the same name again replaces it)."""

    @abstractmethod
    def list_run_inputs(self, run_id: str) -> list[DatasetInputRecord]:
        """The inputs of ``run_id``, by input name."""

    @abstractmethod
    def list_dataset_runs(self, dataset_id: str) -> list[str]:
        """The ids of the runs that read the dataset version ``dataset_id``, oldest first."""
