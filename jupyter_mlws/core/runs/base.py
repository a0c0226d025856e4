"""A run's identity: construction, attributes and the reads every part of ``Run`` shares."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Self, cast

from ...errors import InvalidStateError, NotFoundError
from ..entities import RunRecord
from ..layout import ENV_JOB_API, ENV_RUN_ID
from ..provenance import run_properties
from ..status import RunStatus

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..services import QueryService, Services, TrackingService
    from ..workspace import Workspace
    from .offline import OfflineRun
    from .remote import RemoteRun

__all__ = ["RunBase", "context_run"]

# The run that ``Run.get_context()`` answers in this thread or task, when code runs one piece of a
# job's work as a run of its own (a ParallelRunStep's mini-batch, issue 19). A context variable, not
# the process environment: a worker may run several mini-batches at once in threads (Dask).
_CONTEXT_RUN: ContextVar[RunBase | None] = ContextVar("mlws_context_run", default=None)


@contextlib.contextmanager
def context_run(run: RunBase) -> Iterator[RunBase]:
    """While the block runs (in this thread or task), ``Run.get_context()`` returns ``run``."""
    token = _CONTEXT_RUN.set(run)
    try:
        yield run
    finally:
        _CONTEXT_RUN.reset(token)


class RunBase:
    """Identity and reads of a run; :class:`~jupyter_mlws.core.runs.Run` adds the rest."""

    _writer: Any
    _enqueue: Any

    def __init__(self, experiment: Experiment, run_id: str, *, _record: RunRecord | None = None) -> None:
        self._experiment = experiment
        self._workspace = experiment.workspace
        self._services: Services = self._workspace.services
        record = _record if _record is not None else self._services.queries.run(run_id)
        if record.experiment_name != experiment.name:
            raise NotFoundError(
                f"run {run_id!r} belongs to experiment {record.experiment_name!r}, not {experiment.name!r}"
            )
        self._record = record
        self._id = record.run_id
        self._kinds: dict[str, str] = {}  # metric name -> kind, for errors at the call site
        self._joined = False  # see _join

    def __getattr__(self, name: str) -> Any:
        # The writer (and its thread) exists only once a run logs: listing runs starts no thread.
        if name in ("_writer", "_enqueue"):
            if not self._joined:
                self._join()
            writer = self._workspace.writer
            self._writer = writer
            self._enqueue = writer.append
            return getattr(self, name)
        raise AttributeError(name)

    @property
    def _queries(self) -> QueryService:
        return self._services.queries

    @property
    def _tracking(self) -> TrackingService:
        return self._services.tracking

    @property
    def _logging(self) -> TrackingService:
        """The tracking service for what a process logs to the run (metrics, params, tags, records,
        files): the first such write joins the run (see :meth:`_join`). Lifecycle calls (complete,
        cancel...) and reads do not join."""
        if not self._joined:
            self._join()
        return self._services.tracking

    def _vouched_for(self) -> None:
        """The process that created this run keeps it alive while this one writes to it (a
        ParallelRunStep's runner beats for each mini-batch until it ends): writing here needs no
        join, which would cost a transaction per run (issue 19)."""
        self._joined = True

    def _join(self) -> None:
        """This process writes to the run: an interactive run another process created is kept
        alive by this one too from now on (see :meth:`TrackingService.join`)."""
        self._joined = True
        self._tracking.join(self._record)

    # -- construction -----------------------------------------------------------------------------------
    @classmethod
    def get(cls, workspace: Workspace, run_id: str) -> Self:
        from ..experiment import Experiment

        record = workspace.services.queries.run(run_id)
        return cls(Experiment(workspace, record.experiment_name), run_id, _record=record)

    @classmethod
    def list(
        cls,
        experiment: Experiment,
        type: str | None = None,
        tags: str | Mapping[str, Any] | None = None,
        properties: str | Mapping[str, Any] | None = None,
        status: str | None = None,
        include_children: bool = False,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Any]:
        """Azure ML v1's ``Run.list(experiment, ...)``: the experiment's runs, newest first (what
        ``experiment.get_runs`` gives), of run type ``type`` if given (e.g. ``"interactive"``)."""
        runs = experiment.get_runs(tags=tags, properties=properties, status=status, include_children=include_children)
        yield from (run for run in runs if type is None or run.type == type)

    @classmethod
    def create(
        cls,
        experiment: Experiment,
        *,
        status: RunStatus = RunStatus.RUNNING,
        run_type: str = "interactive",
        display_name: str | None = None,
        parent: RunBase | None = None,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        compute_target: str | None = None,
        snapshot_id: str | None = None,
        job_spec: Mapping[str, Any] | None = None,
    ) -> Self:
        """Create a run. A run created from a notebook cell records that notebook, cell and
        execution count as properties (see :mod:`..provenance`); ``properties`` given here win."""
        properties = {**run_properties(job_spec), **(properties or {})}
        record = experiment.workspace.services.tracking.create_run(
            experiment.record,
            status=status,
            run_type=run_type,
            display_name=display_name,
            parent_run_id=parent.id if parent is not None else None,
            tags=tags,
            properties=properties,
            run_id=run_id,
            compute_target=compute_target,
            snapshot_id=snapshot_id,
            job_spec=job_spec,
        )
        return cls(experiment, record.run_id, _record=record)

    @classmethod
    def get_context(cls, allow_offline: bool = True) -> Self | OfflineRun | RemoteRun:
        """The run of the job this code runs in (inside :func:`context_run`, that run); outside a
        job an offline run that prints."""
        scoped = _CONTEXT_RUN.get()
        if scoped is not None:
            return cast(Self, scoped)
        run_id = os.environ.get(ENV_RUN_ID)
        if run_id and os.environ.get(ENV_JOB_API):
            # A Docker job: no workspace in reach, only its run through the supervisor's job API.
            from .remote import RemoteRun

            return RemoteRun.from_environment(run_id)
        if run_id:
            from ..workspace import Workspace

            return cls.get(Workspace.from_config(), run_id)
        if not allow_offline:
            raise InvalidStateError(
                f"this code is not running as a job ({ENV_RUN_ID} is not set); pass allow_offline=True "
                "to get an offline run"
            )
        from .offline import OfflineRun

        return OfflineRun()

    # -- identity -----------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._id

    @property
    def number(self) -> int:
        return self._record.number

    @property
    def experiment(self) -> Experiment:
        return self._experiment

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def type(self) -> str:
        return self._record.run_type

    @property
    def record(self) -> RunRecord:
        """The run's record as last read (``status`` reads it again)."""
        return self._record

    @property
    def status(self) -> RunStatus:
        """The current status, read from the store (another process may have changed it).

        A read changes nothing: a job whose supervisor died is ended by the agent's sweep or an
        explicit ``workspace.reconcile_jobs()``, not by whoever looks at it.
        """
        self._record = self._queries.run(self._id)
        return self._record.status

    def get_status(self) -> str:
        return self.status.value

    @property
    def display_name(self) -> str | None:
        return self._record.display_name

    @display_name.setter
    def display_name(self, value: str | None) -> None:
        self._tracking.set_display_name(self._id, value)
        self._record = self._queries.run(self._id)

    @property
    def parent(self) -> Self | None:
        parent_id = self._record.parent_run_id
        return None if parent_id is None else type(self)(self._experiment, parent_id)

    @property
    def tags(self) -> dict[str, str]:
        return self._queries.tags(self._id)

    @property
    def properties(self) -> dict[str, str]:
        return self._queries.properties(self._id)

    def get_tags(self) -> dict[str, str]:
        return self.tags

    def get_properties(self) -> dict[str, str]:
        return self.properties

    def get_params(self) -> dict[str, str]:
        return self._queries.params(self._id)

    @property
    def input_datasets(self) -> dict[str, Any]:
        """Inside the run's job: ``{input name: value}`` of its inputs (``ds.as_named_input(name)``):
        a tabular input is its dataset, a file input mounted or downloaded its local folder (a
        string). A child run made inside the job (a ParallelRunStep's mini-batch) answers the job's
        inputs. Elsewhere empty: what a run read is in ``get_details()["inputDatasets"]``."""
        from .remote import job_input_values

        values = job_input_values(self._id)
        parent = self._record.parent_run_id
        if not values and parent is not None:
            values = job_input_values(parent)
        return values

    def __repr__(self) -> str:
        return f"Run(experiment={self._experiment.name!r}, id={self._id!r}, status={self._record.status.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunBase) and other._id == self._id and other._workspace == self._workspace

    def __hash__(self) -> int:
        return hash(self._id)
