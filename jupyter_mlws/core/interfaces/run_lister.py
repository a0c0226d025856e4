"""A light, read-only view of a metadata store for the run lists of short-lived processes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from ..entities import ExperimentRecord, RunSearchResult
from ..search import FilterExpr, OrderKey

__all__ = ["RunLister"]


class RunLister(ABC):
    """Lists runs as :class:`MetadataStore` does, for a process that has not opened the store.

    A command such as ``mlws runs list`` is a whole process: opening the full store there costs more
    than the listing itself (importing its database toolkit). A lister reads the same database with
    less; it answers the common lists and declines the rest (``search_runs`` returns ``None``), which
    the full store then answers. Opened by URL scheme through ``core.registry.run_listers``.
    """

    @abstractmethod
    def get_experiment(self, name: str) -> ExperimentRecord:
        """As ``MetadataStore.get_experiment`` (``NotFoundError`` when there is none)."""

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
    ) -> RunSearchResult | None:
        """As ``MetadataStore.search_runs``, or ``None`` for a search this lister does not answer."""

    @abstractmethod
    def summarize_runs(self, run_ids: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """As ``MetadataStore.summarize_runs``."""

    @abstractmethod
    def close(self) -> None: ...
