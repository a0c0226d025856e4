"""``Run``: the Azure-named facade over the tracking, query and snapshot services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .files import RunFiles
from .lifecycle import RunLifecycle
from .logging import RunLogging
from .secrets import RunSecrets
from .waiting import RunWaiting

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["Run", "RunPage", "search_runs"]


class Run(RunLogging, RunFiles, RunLifecycle, RunWaiting, RunSecrets):
    """A run of an experiment. ``Run(experiment, run_id)`` fetches an existing one.

    Its parts live in their own modules: identity (:mod:`.base`), logging, files, lifecycle and
    children, waiting; each calls the workspace's services.
    """


@dataclass(frozen=True)
class RunPage:
    """One page of a run search: ``runs`` and the token of the next page (``None`` at the end)."""

    runs: list[Run]
    next_page_token: str | None

    def __iter__(self) -> Any:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)


def search_runs(
    workspace: Workspace,
    experiment_ids: Sequence[int] | None,
    filter: str | None,
    order_by: str | Sequence[str] | None,
    max_results: int,
    page_token: str | None,
    include_children: bool,
) -> RunPage:
    """A page of runs as ``Run`` objects (the query service does the search)."""
    from ..experiment import Experiment

    page = workspace.services.queries.search(
        experiment_ids, filter, order_by, max_results, page_token, include_children
    )
    experiments: dict[str, Experiment] = {}
    runs = []
    for record in page.records:
        exp = experiments.get(record.experiment_name)
        if exp is None:
            exp = experiments[record.experiment_name] = Experiment(workspace, record.experiment_name)
        runs.append(Run(exp, record.run_id, _record=record))
    return RunPage(runs, page.next_page_token)
