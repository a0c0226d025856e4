"""What a compute target implements (``ComputeBackend``), how its jobs report (``JobReporter``) and
what a job input type implements (``JobInputType``).

Implementations live in ``jupyter_mlws.compute`` (and third-party packages): they are found by name
through the ``compute_target_types`` plug-in registry in :mod:`jupyter_mlws.core.compute` (entry
point group ``jupyter_mlws.compute_targets``), so the core never imports them.
"""

from __future__ import annotations

import builtins
import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ...errors import InvalidArgumentError
from ..status import RunStatus

if TYPE_CHECKING:
    # concurrent.futures' process pool imports multiprocessing: too heavy for every CLI start (issue 22).
    from concurrent.futures import Executor

    from ..activities import ActivityRecorder
    from ..entities import RunRecord
    from ..workspace import Workspace

__all__ = [
    "BuildResult",
    "ComputeBackend",
    "JobInputType",
    "JobOutputType",
    "JobReporter",
    "RunDriver",
    "default_concurrency",
    "start_local_task_pool",
]


@dataclass(frozen=True)
class BuildResult:
    """A materialised environment: ``location`` is the environment's Python (a venv) or an image
    tag (Docker). What ``Environment.build()`` returns and what a job's lifecycle runs with."""

    key: str
    location: str
    cached: bool
    seconds: float
    activity_id: str | None = None


class JobReporter(ABC):
    """How compute code reports on a job. It never touches the database itself."""

    run_id: str
    workspace: Workspace  # where the job's run lives (its root and stores: what a job is told or mounts)

    @abstractmethod
    def job_spec(self) -> dict[str, Any]: ...

    @abstractmethod
    def status(self) -> RunStatus:
        """The run's current status (another process may have asked to cancel)."""

    @abstractmethod
    def transition(self, new: RunStatus, *, error: Mapping[str, Any] | None = None) -> bool:
        """Move the run to ``new``; ``False`` if the current status does not allow it."""

    @abstractmethod
    def supervisor(self, pid: int, host: str) -> None:
        """Declare the process that will own the job (for stale-run detection): recorded by the
        claim, the transition to Preparing, in its own transaction and only if it wins."""

    @abstractmethod
    def heartbeat(self) -> None: ...

    @abstractmethod
    def restore_snapshot(self, target: Path) -> None:
        """Write the run's snapshot into ``target``."""

    @abstractmethod
    def collect(self, folder: Path, prefix: str) -> list[str]:
        """Store the files below ``folder`` as run files named ``prefix/<relative path>``."""

    @abstractmethod
    def live_dir(self) -> Path:
        """The folder where logs are written while the job runs (readable by any process)."""

    @abstractmethod
    def build_environment(
        self,
        target_type: str,
        config: Mapping[str, Any],
        log_file: Path,
        default: Mapping[str, Any] | None = None,
        on_start: Callable[[ActivityRecorder], None] | None = None,
    ) -> BuildResult | None:
        """Materialise the job's environment (else ``default``, a definition) for this target type,
        its log also going to ``log_file``; ``None`` when the job runs with the submitting interpreter.
        ``on_start`` receives the build's recorder (to cancel it)."""


class ComputeBackend(ABC):
    """One compute target's implementation: hands queued runs to where they execute."""

    type: ClassVar[str]
    # Targets whose jobs the workspace's agent dispatches and supervises on this machine.
    dispatched_by_agent: ClassVar[bool] = False

    def __init__(self, workspace: Workspace, name: str, config: Mapping[str, Any]) -> None:
        self.workspace = workspace
        self.name = name
        self.config = dict(config)

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check and normalise an attach configuration; errors name the bad setting."""
        return dict(config)

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def merged_config(cls, config: Mapping[str, Any], known: Collection[str]) -> dict[str, Any]:
        """The defaults updated with ``config``; a setting this type does not know is an error."""
        unknown = set(config) - set(known)
        if unknown:
            raise InvalidArgumentError(
                f"unknown {cls.type} compute setting(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        result = cls.default_config()
        result.update(config)
        return result

    @abstractmethod
    def submit(self, run_id: str) -> None:
        """Start (or queue) the Queued run; return at once. The run outlives the caller."""

    def ensure_dispatching(self) -> None:  # noqa: B027 - optional hook
        """Make sure queued runs will be picked up (e.g. restart a dispatcher that died)."""

    def check(self) -> None:  # noqa: B027 - optional hook
        """Raise a clear error now if the target cannot take jobs (e.g. its engine is not running)."""

    def abandon(self, run_id: str) -> None:  # noqa: B027 - optional hook
        """Stop what is left of a job whose supervisor died (e.g. its container)."""

    def describe(self) -> dict[str, Any]:
        """What this target tells about where its jobs run, for the sidebar, ``mlws compute show``
        and ``GET computes/{name}`` (issue 19): e.g. a Dask target's scheduler, dashboard and
        workers. JSON; ``{}`` (the default) when there is nothing to tell. It may contact the
        target (briefly) and raise when the target cannot be reached; the caller reports that."""
        return {}

    def reconcile(self, records: Sequence[RunRecord]) -> list[str]:
        """Check the health of this target's active jobs (``records``), the shape of Dagster's
        ``RunLauncher.check_run_worker_health``: end those that can no longer finish (their
        supervisor is gone) with the reason, and make sure queued ones will be dispatched. Returns
        the ids of the runs it ended. Called by ``Workspace.reconcile_jobs()`` and sweeps, never by
        a read. The default knows nothing about the jobs' health and changes nothing; targets whose
        supervisors report through compute's ``StoreReporter`` derive from ``SupervisedCompute``."""
        return []

    def task_executor(
        self, max_workers: int, preload: Sequence[str] = ()
    ) -> contextlib.AbstractContextManager[Executor]:
        """Where a job fans out small tasks (a ParallelRunStep's mini-batches, issue 19): a
        ``concurrent.futures`` executor, closed when the ``with`` block ends. The default is a pool
        of ``max_workers`` processes on this machine, forked from a fork server that imported the
        modules ``preload`` names (the tasks' imports: once, not once per process; see
        :mod:`jupyter_mlws.core.preload`); a cluster target (Dask) hands out its cluster's
        executor, whose tasks run on its workers. Tasks are module-level functions and picklable
        arguments (they may run in another process, on another machine)."""
        from ..preload import preloaded_pool

        return preloaded_pool(max_workers, preload)

    @classmethod
    def execution(cls) -> builtins.type[Any]:
        """The job lifecycle class the agent's supervisors run for this target type."""
        raise InvalidArgumentError(f"compute targets of type {cls.type!r} are not run by the local agent")

    @classmethod
    def build_environment(
        cls, name: str, definition: Mapping[str, Any], config: Mapping[str, Any], recorder: ActivityRecorder
    ) -> BuildResult:
        """Materialise an environment for this kind of target (cached by content)."""
        raise InvalidArgumentError(f"compute targets of type {cls.type!r} cannot build environments")


class JobInputType(Protocol):
    """What a job input type implements (issue 15): values of a job's ``arguments`` / ``inputs`` that
    stand for data. Found by name through ``core.registry.job_input_types`` (the built-in ``dataset``
    type: ``jupyter_mlws.data.job_inputs``); the journey is told in ``core/job_inputs.py``.

    ``described`` is what :meth:`describe` returned, plus ``"type"`` (the registry name): JSON, kept in
    the job spec. Its keys ``name`` (the input's name), ``path_on_compute`` (a relative folder or
    None), ``read_only`` (the staged copy is write-protected) and ``placeholder`` (what the job spec's
    argv shows in its place) are read by the core; the rest is the type's own.
    """

    def describe(self, value: Any) -> dict[str, Any] | None:
        """The JSON description of ``value`` if it is an input of this type, else ``None``. Raises a
        clear error for a value of this type that cannot be an input (e.g. an unsaved change)."""
        ...

    def record(self, workspace: Workspace, run_id: str, inputs: Sequence[Mapping[str, Any]]) -> None:
        """Record the run's inputs of this type (lineage), at submit, before the job can start."""
        ...

    def stage(self, workspace: Workspace, described: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        """Copy what the job reads into ``folder`` (it exists, empty) in the supervisor; returns
        ``{"argument": str, "data": JSON}``: the value the job's argv gets in the input's place, and
        what :meth:`resolve` receives inside the job."""
        ...

    def resolve(self, described: Mapping[str, Any], data: Any, folder: Path) -> Any:
        """Inside the job (no workspace in reach on Docker): the value of ``run.input_datasets[name]``."""
        ...

    def discard(self, described: Mapping[str, Any]) -> None:
        """The job is over (in the supervisor, whatever its outcome): drop what :meth:`describe` kept."""
        ...


class JobOutputType(Protocol):
    """What a job *output* type implements besides :class:`JobInputType`'s ``resolve`` (issue 16): a
    job spec's ``outputs`` entries (``{"name", "type", "placeholder", …}``) are folders the job
    writes; the supervisor makes each one empty in the job folder before the job starts (the argv gets
    its path in place of its placeholder) and, once the job's process exited 0, hands it to
    :meth:`collect` before the run is Completed. A collect that raises fails the run."""

    def collect(self, workspace: Workspace, run_id: str, described: Mapping[str, Any], folder: Path) -> None:
        """Store what the job wrote into ``folder`` as the run's output ``described["name"]``."""
        ...


class RunDriver(Protocol):
    """A run type that is driven rather than executed (issue 16; ``core.registry.run_drivers``): the
    dispatcher agent forks a process for a queued run of that type that claims it (Queued ->
    Running, its pid recorded as the run's supervisor) and calls :meth:`drive`, which returns once
    the run ended. :meth:`abandon` is called by whoever finds the driver dead (the run is ended
    already, Failed with ``reason``): it ends what the run had started.

    A driver class with ``resumable = True`` (a sweep's controller, issue 18) is never abandoned
    that way: a run whose driver died stays as it is and the agent forks a new driver for it, which
    goes on from the records (``core.registry.resumable_driver``)."""

    def drive(self, workspace: Workspace, run_id: str) -> None: ...

    def abandon(self, workspace: Workspace, run_id: str, reason: str) -> None: ...


def default_concurrency() -> int:
    return os.cpu_count() or 1


def start_local_task_pool(preload: Sequence[str]) -> None:
    """Start the fork server of :meth:`ComputeBackend.task_executor`'s default pools now, importing
    the modules ``preload`` names in the background: for a job that knows its tasks run in a pool of
    its own machine (its ``MLWS_TASK_POOL``) before it knows its backend. Its pools fork from it,
    with what it imported (see :mod:`jupyter_mlws.core.preload`)."""
    from ..preload import start_fork_server

    start_fork_server(preload)
