"""Jobs: the definition a run was submitted with, its supervision, the queue, snapshots, targets."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from ..entities import BlobReference, ComputeTargetRecord, RunRecord, SnapshotRecord
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
        """Record which process supervises the job, and its latest heartbeat (tests and repairs:
        a supervisor claims its job with :meth:`claim_job` and beats with :meth:`heartbeat`)."""

    @abstractmethod
    def claim_job(
        self,
        run_id: str,
        expected: RunStatus,
        new: RunStatus,
        *,
        supervisor_pid: int,
        supervisor_host: str,
        supervisor_start: int | None,
        job_folder: str | None,
    ) -> bool:
        """Compare-and-set the status (``expected`` -> ``new``) and, in the same transaction and only
        if it succeeds, record the supervisor (pid, host, process start time), the job's folder and
        a first heartbeat. ``False`` (nothing written) if another dispatcher claimed it first."""

    @abstractmethod
    def reclaim_job(
        self,
        run_id: str,
        expected: RunStatus,
        attempt: int,
        *,
        supervisor_pid: int,
        supervisor_host: str,
        supervisor_start: int | None,
        job_folder: str | None,
    ) -> bool:
        """A retry of a job whose worker died (issue 19: a Dask task run again): compare-and-set the
        status (``expected`` -> Preparing) and the run property ``mlws.attempt`` (``attempt`` ->
        ``attempt + 1``; a run without it is at attempt 1) in one transaction, recording the new
        supervisor as :meth:`claim_job` does. ``False`` (nothing written) if the run moved on or
        another retry took it first."""

    @abstractmethod
    def heartbeat(self, run_ids: Sequence[str]) -> None:
        """Set the heartbeat of those of ``run_ids`` that are still active to the database's clock
        (so clock skew between hosts does not matter)."""

    @abstractmethod
    def database_time(self) -> float:
        """The database's clock (Unix seconds): what heartbeats are compared against."""

    @abstractmethod
    def list_interactive_runs(self, statuses: Sequence[RunStatus]) -> list[RunRecord]:
        """Runs that are not jobs (no compute target) in these statuses, with a recorded process."""

    @abstractmethod
    def list_job_runs(self, compute_target: str | None, statuses: Sequence[RunStatus]) -> list[RunRecord]:
        """Job runs in these statuses (on one target, or all), oldest first: the queue order."""

    # -- snapshots ------------------------------------------------------------------------------------
    @abstractmethod
    def add_snapshot(self, record: SnapshotRecord) -> None:
        """Record a snapshot (its manifest is a blob named by ``record.id``); idempotent."""

    @abstractmethod
    def get_snapshot(self, snapshot_id: str) -> SnapshotRecord: ...

    @abstractmethod
    def snapshot_references(self) -> list[BlobReference]:
        """The manifest blobs of recorded snapshots and of runs' ``snapshot_id`` (the files a manifest
        lists are found by reading it)."""

    # -- compute targets ------------------------------------------------------------------------------
    @abstractmethod
    def save_compute_target(self, name: str, type: str, config: Mapping[str, Any], created_time: float) -> None: ...

    @abstractmethod
    def get_compute_target(self, name: str) -> ComputeTargetRecord: ...

    @abstractmethod
    def list_compute_targets(self) -> list[ComputeTargetRecord]: ...

    @abstractmethod
    def delete_compute_target(self, name: str) -> None: ...
