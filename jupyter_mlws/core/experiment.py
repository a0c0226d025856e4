"""Experiments: named groups of runs, created on first use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .entities import ExperimentRecord
from .names import validate_entity_name
from .search import BoolOp, Comparison, FilterExpr
from .status import RunStatus

if TYPE_CHECKING:
    from .runs import Run, RunPage
    from .workspace import Workspace

__all__ = ["Experiment"]


class Experiment:
    """``Experiment(ws, "name")`` — created in the workspace the first time it is named."""

    def __init__(self, workspace: Workspace, name: str) -> None:
        self._workspace = workspace
        self._name = validate_entity_name("experiment", name)
        self._record = workspace.experiment_record(self._name)

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def name(self) -> str:
        return self._name

    @property
    def record(self) -> ExperimentRecord:
        return self._record

    @property
    def id(self) -> int:
        return int(self._record.id)

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, workspace={self.workspace.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Experiment) and (other.workspace, other.name) == (self.workspace, self.name)

    def __hash__(self) -> int:
        return hash((self.workspace, self.name))

    @staticmethod
    def list(workspace: Workspace) -> list[Experiment]:
        """Every experiment of the workspace, by name."""
        return [Experiment(workspace, e.name) for e in workspace.services.queries.experiments()]

    def start_logging(
        self,
        display_name: str | None = None,
        *,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Run:
        """Start an interactive run (status Running). Use it as a context manager to finish it."""
        from .runs import Run

        return Run.create(self, display_name=display_name, tags=tags, properties=properties)

    def submit(self, config: Any, tags: Mapping[str, Any] | None = None) -> Run:
        """Snapshot the config's source folder and run it as a job on its compute target.

        Returns at once with the run Queued; the job is owned by a supervisor process, so it goes on
        when the submitting kernel or command exits.
        """
        from .jobs import submit

        return submit(self, config, tags=tags)

    def search_runs(
        self,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_children: bool = False,
    ) -> RunPage:
        """A page of this experiment's runs matching the filter language (newest first by default)."""
        from .runs import search_runs

        return search_runs(self.workspace, [self.id], filter, order_by, max_results, page_token, include_children)

    def get_runs(
        self,
        tags: str | Mapping[str, Any] | None = None,
        properties: str | Mapping[str, Any] | None = None,
        status: str | RunStatus | None = None,
        include_children: bool = False,
    ) -> Iterator[Run]:
        """Runs newest first; ``tags``/``properties`` take ``{"k": "v"}`` or a key name (any value)."""
        from .runs import Run

        conditions: list[FilterExpr] = []
        for kind, wanted in (("tags", tags), ("properties", properties)):
            if wanted is None:
                continue
            if isinstance(wanted, str):
                conditions.append(Comparison(kind, wanted, "LIKE", "%"))
            else:
                conditions.extend(Comparison(kind, str(k), "=", str(v)) for k, v in wanted.items())
        if status is not None:
            conditions.append(Comparison("attributes", "status", "=", RunStatus.parse(str(status)).value))
        expr: FilterExpr | None = None
        if conditions:
            expr = conditions[0] if len(conditions) == 1 else BoolOp("and", tuple(conditions))
        queries = self.workspace.services.queries
        for record in queries.iter_runs([self.id], expr, include_children):
            yield Run(self, record.run_id, _record=record)
