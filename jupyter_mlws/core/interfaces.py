"""The small interfaces that stores implement. The core talks only to these.

Implementations live in ``jupyter_mlws.stores``; they are found by URL scheme through the registry in
:mod:`jupyter_mlws.core.registry`, so the core never imports a database driver.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from .entities import (
    ActivityRecord,
    ComputeTargetRecord,
    EnvironmentRecord,
    EventRecord,
    ExperimentRecord,
    FileRecord,
    MetricPoint,
    MetricRecordEntry,
    MetricSeriesInfo,
    ModelVersionRecord,
    RunRecord,
    RunSearchResult,
    SnapshotRecord,
)
from .search import FilterExpr, OrderKey
from .status import RunStatus

__all__ = ["ArtifactStore", "MetadataStore", "MetricTuple"]

# (name, value, step, timestamp): MetricPoint or a plain tuple (the writer's hot path uses tuples).
MetricTuple = tuple[str, float, int | None, float]


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once, at import (before threads start).
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


class ArtifactStore(ABC):
    """Content-addressed blobs (sha256). Identical bytes are stored once; a blob never changes."""

    url: str

    @abstractmethod
    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Store the bytes read from ``stream``; return ``(sha256 hex digest, size)``. Atomic."""

    @abstractmethod
    def open(self, digest: str) -> BinaryIO:
        """A binary reader over the blob; :class:`NotFoundError` if it is absent."""

    @abstractmethod
    def exists(self, digest: str) -> bool: ...

    @abstractmethod
    def delete(self, digest: str) -> None:
        """Remove a blob (garbage collection only: blobs are shared between runs and models)."""

    @abstractmethod
    def iter_digests(self) -> Iterator[str]: ...

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        with open(path, "rb") as stream:
            return self.put_stream(stream)

    def missing(self, digests: Iterable[str]) -> set[str]:
        """Which of ``digests`` are not stored (stores may answer many at once cheaply)."""
        return {digest for digest in set(digests) if not self.exists(digest)}

    def put_files(self, paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, int]]:
        """Store several files; stores may make this faster than one ``put_file`` each."""
        return [self.put_file(path) for path in paths]

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        import hashlib
        import io

        digest = hashlib.sha256(data).hexdigest()
        if self.exists(digest):  # small and in memory: cheaper to look first than to write and drop
            return digest, len(data)
        return self.put_stream(io.BytesIO(data))

    def read_bytes(self, digest: str) -> bytes:
        with self.open(digest) as stream:
            return stream.read()

    def copy_to(self, digest: str, target: str | os.PathLike[str], durable: bool = True) -> None:
        """Write the blob to ``target`` atomically (temporary file in the same folder, then rename).

        ``durable=False`` skips the fsync, for scratch copies such as a job's working folder.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, self.open(digest) as src:
                shutil.copyfileobj(src, out, 1 << 20)
                if durable:
                    out.flush()
                    os.fsync(out.fileno())
            # mkstemp makes 0600 files; a downloaded file gets the usual permissions instead.
            os.chmod(tmp, 0o666 & ~_UMASK)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; most stores hold none."""


class MetadataStore(ABC):
    """Experiments, runs, metrics, params, tags, file indexes and the model registry.

    ``log_batch`` is the one write primitive for metrics, params and tags (as in MLflow).
    """

    url: str

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
    ) -> RunRecord:
        """Insert a run; its ``number`` is the experiment's next run number."""

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
    def get_child_runs(self, run_id: str, recursive: bool = False) -> list[RunRecord]: ...

    # -- tracking -----------------------------------------------------------------------------------
    @abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricTuple] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Write metrics ``(name, value, step, timestamp)``, params and tags in one transaction.

        Params are immutable: a key already set to another value raises :class:`InvalidStateError`
        and nothing of the batch is written. Metric names already used for a table or image raise
        :class:`InvalidArgumentError`.
        """

    @abstractmethod
    def log_records(self, run_id: str, name: str, kind: str, entries: Sequence[MetricRecordEntry]) -> None:
        """Append rows of a table metric (``kind='table'``) or image references (``kind='image'``)."""

    @abstractmethod
    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None: ...

    @abstractmethod
    def add_properties(self, run_id: str, properties: Mapping[str, str]) -> None:
        """Immutable: a key already set to another value raises :class:`InvalidStateError`."""

    @abstractmethod
    def get_params(self, run_id: str) -> dict[str, str]: ...

    @abstractmethod
    def get_tags(self, run_id: str) -> dict[str, str]: ...

    @abstractmethod
    def get_properties(self, run_id: str) -> dict[str, str]: ...

    @abstractmethod
    def list_metric_series(self, run_id: str) -> list[MetricSeriesInfo]: ...

    @abstractmethod
    def get_metric_history(self, run_id: str, name: str) -> list[MetricPoint]:
        """Every point of a numeric series in the order it was logged."""

    @abstractmethod
    def get_metric_values(self, run_id: str, name: str) -> list[float]:
        """Only the values of a numeric series, in order (the fast path of ``get_metrics``)."""

    @abstractmethod
    def get_metric_records(self, run_id: str, name: str) -> list[MetricRecordEntry]: ...

    @abstractmethod
    def summarize_runs(self, run_ids: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """``{run_id: {"metrics": {name: latest value}, "params": {...}, "tags": {...}}}`` at once."""

    # -- run files ----------------------------------------------------------------------------------
    @abstractmethod
    def add_run_files(self, run_id: str, files: Sequence[FileRecord], overwrite: bool = False) -> None:
        """Index files of a run. An existing name raises :class:`AlreadyExistsError` unless ``overwrite``."""

    @abstractmethod
    def list_run_files(self, run_id: str, prefix: str | None = None) -> list[FileRecord]: ...

    @abstractmethod
    def get_run_file(self, run_id: str, path: str) -> FileRecord: ...

    # -- model registry -----------------------------------------------------------------------------
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

    # -- jobs, snapshots, compute targets --------------------------------------------------------------
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

    @abstractmethod
    def add_snapshot(self, record: SnapshotRecord) -> None:
        """Record a snapshot (its manifest is a blob named by ``record.id``); idempotent."""

    @abstractmethod
    def get_snapshot(self, snapshot_id: str) -> SnapshotRecord: ...

    @abstractmethod
    def save_compute_target(self, name: str, type: str, config: Mapping[str, Any], created_time: float) -> None: ...

    @abstractmethod
    def get_compute_target(self, name: str) -> ComputeTargetRecord: ...

    @abstractmethod
    def list_compute_targets(self) -> list[ComputeTargetRecord]: ...

    @abstractmethod
    def delete_compute_target(self, name: str) -> None: ...

    # -- environments -----------------------------------------------------------------------------------
    @abstractmethod
    def register_environment(
        self, name: str, content_hash: str, definition: Mapping[str, Any], created_time: float
    ) -> EnvironmentRecord:
        """The version holding this exact definition, made (previous + 1) if there is none yet."""

    @abstractmethod
    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord: ...

    @abstractmethod
    def list_environments(self) -> list[EnvironmentRecord]:
        """Every version, by name, newest first."""

    # -- activities -------------------------------------------------------------------------------------
    @abstractmethod
    def create_activity(self, record: ActivityRecord) -> None: ...

    @abstractmethod
    def update_activity(self, activity_id: str, **fields: Any) -> None:
        """Change ``status``, ``progress``, ``end_time``, ``error``, ``details`` or ``log``."""

    @abstractmethod
    def get_activity(self, activity_id: str) -> ActivityRecord: ...

    @abstractmethod
    def list_activities(
        self, kind: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[ActivityRecord]:
        """Newest first; the records carry no log (read one activity for it)."""

    # -- change feed ------------------------------------------------------------------------------------
    @abstractmethod
    def read_events(self, after_id: int, limit: int = 1000) -> list[EventRecord]:
        """Changes after ``after_id``, oldest first (run.created, run.status, model.version.created)."""

    @abstractmethod
    def latest_event_id(self) -> int: ...

    @abstractmethod
    def prune_events(self, before_time: float) -> int:
        """Forget changes older than ``before_time``; returns how many."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
