"""Experiments: named groups of runs, created on first use."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, NotFoundError
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
        snapshot_directory: str | os.PathLike[str] | None = None,
        outputs: str | os.PathLike[str] | bool | None = None,
        *,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        **v1_options: Any,
    ) -> Run:
        """Start an interactive run (status Running). Use it as a context manager to finish it.

        Azure ML v1's keywords: ``snapshot_directory`` is captured as the run's snapshot, as for a
        job (ignore rules honoured; git state in the ``azureml.git.*`` properties);
        ``outputs`` names a folder whose files are stored under ``outputs/`` when the run
        ends, completed or failed (v1 tracks ``./outputs`` by default; here only a folder you name, and
        ``outputs=True`` is ``./outputs``; ``False`` or ``None`` track none); ``experiment=`` (this
        experiment) is accepted.
        """
        from .runs import Run

        other = v1_options.pop("experiment", None)
        if other is not None and other != self:
            raise InvalidArgumentError(
                f"start_logging(experiment={other!r}) names another experiment than {self!r}; "
                "call it on that experiment"
            )
        if v1_options:
            raise InvalidArgumentError(
                f"start_logging() got unknown keyword(s) {sorted(v1_options)}; it takes display_name, "
                "snapshot_directory, outputs, tags and properties"
            )
        outputs_dir = self._outputs_folder(outputs)
        snapshot_id = None
        if snapshot_directory is not None:
            from ..snapshots import git_properties

            if not isinstance(snapshot_directory, str | os.PathLike):
                raise InvalidArgumentError(
                    f"start_logging(snapshot_directory=...) takes a folder path, got {snapshot_directory!r}"
                )
            source = Path(snapshot_directory)
            if not source.is_dir():
                raise NotFoundError(
                    f"start_logging(snapshot_directory={str(snapshot_directory)!r}): no such folder; "
                    "name the folder of the code this run executes"
                )
            snapshot_id = self._workspace.services.snapshots.capture(source).id
            properties = {**git_properties(source), "mlws.snapshot_id": snapshot_id, **(properties or {})}
        run = Run.create(self, display_name=display_name, tags=tags, properties=properties, snapshot_id=snapshot_id)
        run._outputs_dir = outputs_dir
        return run

    def _outputs_folder(self, outputs: object) -> Path | None:
        """The folder ``start_logging(outputs=...)`` names, as of now (should the working directory
        change before the run ends); never one that holds the workspace's own store."""
        if outputs is None or outputs is False:
            return None
        if outputs is not True and (not isinstance(outputs, str | os.PathLike) or not os.fspath(outputs)):
            raise InvalidArgumentError(f"start_logging(outputs=...) takes a folder path or False, got {outputs!r}")
        folder = Path("outputs" if outputs is True else outputs).absolute()
        if self._workspace.path.resolve().is_relative_to(folder.resolve()):
            raise InvalidArgumentError(
                f"start_logging(outputs={os.fspath(outputs) if outputs is not True else True!r}): {folder} holds "
                f"the workspace's store ({self._workspace.path}); name the folder the run writes its outputs to, "
                "e.g. outputs='outputs'"
            )
        return folder

    def submit(self, config: Any, tags: Mapping[str, Any] | None = None, **kwargs: Any) -> Run:
        """Snapshot the config's source folder and run it as a job on its compute target.

        Returns at once with the run Queued; the job is owned by a supervisor process, so it goes on
        when the submitting kernel or command exits. A ``Pipeline`` (or anything else that knows how
        to submit itself, as in v1) is handed this experiment and the keywords, e.g.
        ``exp.submit(pipeline, pipeline_parameters={...}, regenerate_outputs=True)``.
        """
        submit_to = getattr(config, "_submit_to_experiment", None)
        if callable(submit_to):
            run: Run = submit_to(self, tags=tags, **kwargs)
            return run
        if kwargs:
            raise InvalidArgumentError(
                f"submit() got unknown keyword(s) {sorted(kwargs)} for a {type(config).__name__}; "
                "they are for pipelines (pipeline_parameters, regenerate_outputs, continue_on_step_failure)"
            )
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
