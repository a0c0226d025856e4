"""Jobs: the definition a run was submitted with, its supervision, the queue, snapshots, targets."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from ..entities import ComputeTargetRecord, RunRecord, SnapshotRecord
from ..status import RunStatus
from .base import MetadataInterface

__all__ = ["JobStore"]


class JobStore(MetadataInterface):
    """Submitted runs' job specs and supervision fields, the per-target queue, code snapshots and
    the compute targets attached to the workspace.

    A job is a run (created through :class:`RunStore` with ``compute_target``/``job_spec``); this
    concern holds what only jobs have. Implemented for SQL by ``JobsMixin``
    (``stores/metadata/sql/jobs.py``).
    """

    # -- jobs -----------------------------------------------------------------------------------------
    @abstractmethod
    def get_job_spec(self, run_id: str) -> dict[str, Any]:
        """The job definition a run was submitted with (:class:`NotFoundError` for interactive runs)."""

    @abstractmethod
    def update_job(
        self,
        run_id: str,
        *,
        heartbeat_time: float | None = None,
        supervisor_pid: int | None = None,
        supervisor_host: str | None = None,
    ) -> None:
        """Record which process supervises the job, and its latest heartbeat."""

    @abstractmethod
    def list_job_runs(self, compute_target: str | None, statuses: Sequence[RunStatus]) -> list[RunRecord]:
        """Job runs in these statuses (on one target, or all), oldest first: the queue order."""

    # -- snapshots ------------------------------------------------------------------------------------
    @abstractmethod
    def add_snapshot(self, record: SnapshotRecord) -> None:
        """Record a snapshot (its manifest is a blob named by ``record.id``); idempotent."""

    @abstractmethod
    def get_snapshot(self, snapshot_id: str) -> SnapshotRecord: ...

    # -- compute targets ------------------------------------------------------------------------------
    @abstractmethod
    def save_compute_target(self, name: str, type: str, config: Mapping[str, Any], created_time: float) -> None: ...

    @abstractmethod
    def get_compute_target(self, name: str) -> ComputeTargetRecord: ...

    @abstractmethod
    def list_compute_targets(self) -> list[ComputeTargetRecord]: ...

    @abstractmethod
    def delete_compute_target(self, name: str) -> None: ...
