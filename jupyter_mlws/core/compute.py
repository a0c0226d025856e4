"""Compute targets: where jobs run. Plug-ins by type through the ``jupyter_mlws.compute_targets``
entry-point group; the core only knows the small :class:`ComputeBackend` and :class:`JobReporter`
interfaces, never a target's implementation."""

from __future__ import annotations

import builtins
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import InvalidArgumentError, NotFoundError
from .names import validate_entity_name
from .registry import PluginRegistry
from .status import RunStatus

if TYPE_CHECKING:
    from .activities import ActivityRecorder
    from .entities import RunRecord
    from .workspace import Workspace

__all__ = ["BuildResult", "ComputeBackend", "ComputeTarget", "JobReporter", "compute_target_types"]

compute_target_types = PluginRegistry(
    "compute target type",
    "jupyter_mlws.compute_targets",
    {"local": "jupyter_mlws.compute.local:LocalCompute", "docker": "jupyter_mlws.compute.docker:DockerCompute"},
    {"docker": "docker", "dask": "dask"},
)

DEFAULT_TARGET = "local"


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
        """Record the process that owns the job (for stale-run detection)."""

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

    def reconcile(self, records: Sequence[RunRecord]) -> list[str]:
        """Check the health of this target's active jobs (``records``), the shape of Dagster's
        ``RunLauncher.check_run_worker_health``: end those that can no longer finish (their
        supervisor is gone) with the reason, and make sure queued ones will be dispatched. Returns
        the ids of the runs it ended. Called by ``Workspace.reconcile_jobs()`` and sweeps, never by
        a read. The default knows nothing about the jobs' health and changes nothing; targets whose
        supervisors report through compute's ``StoreReporter`` derive from ``SupervisedCompute``."""
        return []

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


class ComputeTarget:
    """A named compute target of the workspace. ``"local"`` always exists."""

    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = name
        try:
            record = workspace.metadata.get_compute_target(name)
            self.type, self.config = record.type, dict(record.config)
        except NotFoundError:
            if name != DEFAULT_TARGET:
                known = ", ".join(sorted(t.name for t in ComputeTarget.list(workspace)))
                raise NotFoundError(
                    f"compute target {name!r} is not attached to this workspace (attached: {known}); "
                    "attach it with ComputeTarget.attach(ws, name, config)"
                ) from None
            self.type = "local"
            self.config = compute_target_types.get("local").default_config()

    def __repr__(self) -> str:
        return f"ComputeTarget(name={self.name!r}, type={self.type!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComputeTarget) and (other.workspace, other.name) == (self.workspace, self.name)

    def __hash__(self) -> int:
        return hash((self.workspace, self.name))

    def backend(self) -> ComputeBackend:
        backend: ComputeBackend = compute_target_types.get(self.type)(self.workspace, self.name, self.config)
        return backend

    def serialize(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "config": dict(self.config)}

    @staticmethod
    def attach(workspace: Workspace, name: str, attach_configuration: Mapping[str, Any] | Any) -> ComputeTarget:
        """Attach (or re-configure) a target: ``{"type": "local", "max_concurrent_runs": 2}``."""
        validate_entity_name("compute target", name)
        config = dict(getattr(attach_configuration, "to_dict", lambda: attach_configuration)())
        kind = config.pop("type", None)
        if not isinstance(kind, str):
            known = ", ".join(compute_target_types.names())
            raise InvalidArgumentError(f"the attach configuration needs a 'type' (one of: {known})")
        config = compute_target_types.get(kind).validate_config(config)
        workspace.metadata.save_compute_target(name, kind, config, time.time())
        return ComputeTarget(workspace, name)

    @staticmethod
    def list(workspace: Workspace) -> list[ComputeTarget]:
        names = {t.name for t in workspace.metadata.list_compute_targets()} | {DEFAULT_TARGET}
        return [ComputeTarget(workspace, n) for n in sorted(names)]

    def detach(self) -> None:
        self.workspace.metadata.delete_compute_target(self.name)


def default_concurrency() -> int:
    return os.cpu_count() or 1
