"""Plain, frozen records that cross the store interface. Database rows never leave the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .status import RunStatus

__all__ = [
    "ATTEMPT_PROPERTY",
    "PENDING_VERSION",
    "SUBMITTED_FROM",
    "ActivityRecord",
    "BlobReference",
    "ComputeTargetRecord",
    "EnvironmentRecord",
    "EventRecord",
    "ExperimentRecord",
    "FileRecord",
    "MetricPoint",
    "MetricRecordEntry",
    "MetricSeriesInfo",
    "ModelVersionRecord",
    "RunRecord",
    "RunSearchResult",
    "SnapshotRecord",
]

# A job run again after its worker died (a Dask retry, issue 19) is the same run at a new attempt:
# its number is this run property (absent: attempt 1) and ``get_details()["attempt"]``.
ATTEMPT_PROPERTY = "mlws.attempt"
# The version of a registration a group commit holds whose number is not taken yet: the commit takes
# it, unless it is asked for sooner (``Model.version``; see core/services/held_writes.py).
PENDING_VERSION = 0
# The host a job was submitted from (its run property): in a team workspace only that machine's agent
# dispatches a job of a target of this machine (local, docker).
SUBMITTED_FROM = "mlws.submitted_from"


@dataclass(frozen=True, slots=True)
class ExperimentRecord:
    id: int
    name: str
    created_time: float


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    experiment_id: int
    experiment_name: str
    number: int
    status: RunStatus
    created_time: float
    parent_run_id: str | None = None
    display_name: str | None = None
    run_type: str = "interactive"
    start_time: float | None = None
    end_time: float | None = None
    error: dict[str, Any] | None = None
    compute_target: str | None = None
    snapshot_id: str | None = None
    supervisor_pid: int | None = None
    supervisor_host: str | None = None
    heartbeat_time: float | None = None  # the database's clock
    supervisor_start: int | None = None  # the supervisor's process start time (clock ticks since boot)
    job_folder: str | None = None  # the job's working folder on its supervisor's host


class MetricPoint(NamedTuple):
    """One point of a numeric series; ``value`` may be NaN or +/-inf.

    A named tuple rather than a dataclass: the logging hot path creates millions of them.
    """

    name: str
    value: float
    step: int | None
    timestamp: float


@dataclass(frozen=True, slots=True)
class MetricSeriesInfo:
    """What a run has logged under one name: ``kind`` is ``scalar``, ``table`` or ``image``."""

    name: str
    kind: str
    count: int
    last_value: float | None = None
    last_step: int | None = None
    last_time: float | None = None


@dataclass(frozen=True, slots=True)
class MetricRecordEntry:
    """One row of a table metric, or one image reference: a JSON-able payload."""

    payload: Any
    timestamp: float


@dataclass(frozen=True, slots=True, order=True)
class BlobReference:
    """A blob some record names: its digest and who names it (``run X file outputs/model.pkl``)."""

    digest: str
    owner: str


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A named file of a run or a model version, pointing at a content-addressed blob."""

    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    name: str
    version: int
    created_time: float
    description: str | None = None
    run_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    datasets: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    id: str
    created_time: float
    file_count: int
    total_size: int
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ComputeTargetRecord:
    name: str
    type: str
    config: dict[str, Any]
    created_time: float


@dataclass(frozen=True, slots=True)
class EnvironmentRecord:
    name: str
    version: int
    content_hash: str
    definition: dict[str, Any]
    created_time: float


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """A long operation (an environment build, later deployments and pipeline runs) with its
    status (Running, Completed, Failed), a one-line progress text and its log."""

    activity_id: str
    kind: str
    name: str
    status: str
    created_time: float
    end_time: float | None = None
    progress: str | None = None
    run_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    log: str = ""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One entry of the change feed: ``kind`` is run.created, run.status, model.version.created,
    dataset.version.created or activity.updated."""

    id: int
    time: float
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunSearchResult:
    runs: list[RunRecord]
    next_offset: int | None
