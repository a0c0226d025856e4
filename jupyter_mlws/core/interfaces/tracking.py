"""What a run records: metrics (numbers, tables, images), params, tags and properties."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from ..entities import MetricPoint, MetricRecordEntry, MetricSeriesInfo
from .base import MetadataInterface

__all__ = ["MetricTuple", "TrackingStore"]

# (name, value, step, timestamp): MetricPoint or a plain tuple (the writer's hot path uses tuples).
MetricTuple = tuple[str, float, int | None, float]


class TrackingStore(MetadataInterface):
    """Metrics, params, tags and properties of a run, and their summaries for list pages.

    ``log_batch`` is the one write primitive for metrics, params and tags (as in MLflow).
    Implemented for SQL by ``TrackingMixin`` (``stores/metadata/sql/tracking.py``).
    """

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
    def log_points(self, points: Mapping[str, Sequence[MetricTuple]]) -> None:
        """Write metric points of several runs (run id -> points) in one transaction: all or nothing,
        raising as :meth:`log_batch` does for the first run that cannot take its points. The
        background writer's batch when several runs log at once (a ParallelRunStep's mini-batches)."""

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
