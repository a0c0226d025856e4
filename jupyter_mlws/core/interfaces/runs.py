"""Experiments and runs: identity, numbering, status changes, children and search."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..entities import ExperimentRecord, FileRecord, ModelVersionRecord, RunRecord, RunSearchResult
from ..search import FilterExpr, OrderKey
from ..status import RunStatus
from .base import MetadataInterface

__all__ = ["HeldEnd", "RunStore"]


@dataclass(frozen=True)
class HeldEnd:
    """A run's end held back by a group commit (``core.services.held_writes``): a compare-and-set from
    ``expected`` to ``new`` with ``fields`` (``start_time``, ``end_time``, ``error``)."""

    run_id: str
    expected: RunStatus
    new: RunStatus
    fields: Mapping[str, Any]


class RunStore(MetadataInterface):
    """Experiments and the runs in them: creation, compare-and-set status changes, children, search.

    Implemented for SQL by ``RunsMixin`` (``stores/metadata/sql/runs.py``; the filter compiler is
    ``run_search.py``). A run's values (metrics, params, tags) are :class:`TrackingStore`'s concern,
    its files :class:`RunFileStore`'s, its job fields :class:`JobStore`'s.
    """

    # -- experiments --------------------------------------------------------------------------------
    @abstractmethod
    def get_or_create_experiment(self, name: str) -> ExperimentRecord: ...

    @abstractmethod
    def get_experiment(self, name: str) -> ExperimentRecord:
        """:class:`NotFoundError` when there is no such experiment."""

    @abstractmethod
    def list_experiments(self) -> list[ExperimentRecord]: ...

    # -- runs -----------------------------------------------------------------------------------------
    @abstractmethod
    def create_run(
        self,
        *,
        run_id: str,
        experiment_id: int,
        status: RunStatus,
        run_type: str,
        created_time: float,
        parent_run_id: str | None = None,
        display_name: str | None = None,
        start_time: float | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        compute_target: str | None = None,
        snapshot_id: str | None = None,
        job_spec: Mapping[str, Any] | None = None,
        supervisor_pid: int | None = None,
        supervisor_host: str | None = None,
        supervisor_start: int | None = None,
    ) -> RunRecord:
        """Insert a run; its ``number`` is the experiment's next run number. With ``supervisor_pid``
        (an interactive run: the process that logs it) its first heartbeat is written too, in the
        database's clock."""

    @abstractmethod
    def create_runs(self, runs: Sequence[Mapping[str, Any]]) -> list[RunRecord]:
        """Insert several runs in one transaction (all or none), each ``runs`` item holding
        :meth:`create_run`'s keywords (a ParallelRunStep's mini-batches, issue 19)."""

    @abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """:class:`NotFoundError` when there is no such run."""

    @abstractmethod
    def transition_run(
        self,
        run_id: str,
        expected: RunStatus,
        new: RunStatus,
        *,
        start_time: float | None = None,
        end_time: float | None = None,
        error: Mapping[str, object] | None = None,
    ) -> bool:
        """Compare-and-set the status: ``False`` if the run was no longer ``expected``."""

    @abstractmethod
    def write_held(
        self,
        files: Mapping[str, Sequence[FileRecord]],
        models: Sequence[tuple[ModelVersionRecord, Sequence[FileRecord]]],
        ends: Sequence[HeldEnd],
    ) -> list[bool]:
        """A group commit, in one transaction: index ``files`` (run id to new files; none of them may
        exist), write the model versions ``models`` with their files (each with its number from
        ``reserve_model_version``, or ``PENDING_VERSION``: its number is taken here, the names in
        sorted order) and apply each of ``ends`` as :meth:`transition_run` does. Returns, per end,
        whether it applied."""

    @abstractmethod
    def set_display_name(self, run_id: str, display_name: str | None) -> None: ...

    @abstractmethod
    def search_runs(
        self,
        *,
        experiment_ids: Sequence[int] | None,
        filter: FilterExpr | None,
        order_by: Sequence[OrderKey],
        max_results: int,
        offset: int = 0,
        include_children: bool = False,
        parent_run_id: str | None = None,
    ) -> RunSearchResult: ...

    @abstractmethod
    def get_child_runs(
        self, run_id: str, recursive: bool = False, statuses: Sequence[RunStatus] | None = None
    ) -> list[RunRecord]:
        """The run's children (and theirs, ``recursive``), oldest first; only those in ``statuses``
        if given (a sweep's controller reads its active trials each pass)."""
