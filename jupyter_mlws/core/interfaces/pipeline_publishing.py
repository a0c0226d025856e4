"""Published pipelines, pipeline endpoints, their access tokens, and schedules with their fires
(issue 16, parts 4 and 5)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import MetadataInterface

__all__ = [
    "ACTIVE",
    "DISABLED",
    "PipelineEndpointRecord",
    "PipelinePublishingStore",
    "PublishedPipelineRecord",
    "ScheduleFireRecord",
    "ScheduleRecord",
]

#: Statuses of published pipelines, endpoints and schedules (v1's words).
ACTIVE = "Active"
DISABLED = "Disabled"


@dataclass(frozen=True)
class PublishedPipelineRecord:
    """One published pipeline: an immutable pipeline definition (JSON, opaque to the store) under an id.
    Only ``status`` ever changes."""

    id: str
    name: str
    description: str | None
    version: str | None
    definition: Mapping[str, Any]
    status: str
    created_time: float
    continue_on_step_failure: bool | None = None


@dataclass(frozen=True)
class PipelineEndpointRecord:
    """A named endpoint over numbered versions (``"0"``, ``"1"``, …) that each name a published pipeline;
    ``default_version`` is the one a submission without a version runs."""

    id: str
    name: str
    description: str | None
    status: str
    default_version: str
    created_time: float
    versions: Mapping[str, str] = field(default_factory=dict)  # version -> published pipeline id


@dataclass(frozen=True)
class ScheduleRecord:
    """A schedule of a published pipeline (or of an endpoint's default version).

    Time-based: ``recurrence`` (JSON of a ``ScheduleRecurrence``) and ``anchor_time`` (epoch seconds: the
    start time, else the creation time, from which fire times are counted); ``last_fire_time`` is the
    latest fire time handled (fired, or skipped under the catch-up policy). Data-change: ``datastore_name``
    and ``path_on_datastore``, ``polling_interval`` (minutes, as in v1), the content ``fingerprint`` last
    seen and ``next_poll_time``.
    """

    id: str
    name: str
    experiment_name: str
    status: str
    catch_up: str  # "none" | "latest" | "all"
    created_time: float
    anchor_time: int
    pipeline_id: str | None = None
    pipeline_endpoint_id: str | None = None
    description: str | None = None
    recurrence: Mapping[str, Any] | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    continue_on_step_failure: bool | None = None
    datastore_name: str | None = None
    path_on_datastore: str | None = None
    polling_interval: int | None = None
    data_path_parameter_name: str | None = None
    last_fire_time: int | None = None
    fingerprint: str | None = None
    next_poll_time: float | None = None
    #: None for a published pipeline's schedule; else the kind of what a fire starts (``"drift"``: a data
    #: drift detector's check, issue 20), looked up in ``core.registry.schedule_targets``.
    target_kind: str | None = None


@dataclass(frozen=True)
class ScheduleFireRecord:
    """One fire of a schedule, claimed by exactly one process: ``run_id`` once its run was submitted,
    ``error`` if submitting failed."""

    schedule_id: str
    fire_time: int
    claimed_time: float
    claimed_by: str
    run_id: str | None = None
    error: str | None = None


class PipelinePublishingStore(MetadataInterface):
    """Published pipelines, endpoints, tokens, schedules and schedule fires. Implemented for SQL by
    ``PipelinePublishingMixin`` (``stores/metadata/sql/pipeline_publishing.py``).

    Tokens are kept as hashes only (``token_hash``): the store never sees a token.
    """

    # -- published pipelines -------------------------------------------------------------------------
    @abstractmethod
    def add_published_pipeline(self, record: PublishedPipelineRecord) -> None:
        """Store a new published pipeline (its id is new)."""

    @abstractmethod
    def get_published_pipeline(self, pipeline_id: str) -> PublishedPipelineRecord:
        """The published pipeline with this id; a NotFoundError naming how to list them."""

    @abstractmethod
    def list_published_pipelines(self, active_only: bool = True) -> list[PublishedPipelineRecord]:
        """Published pipelines, oldest first (only Active ones if ``active_only``)."""

    @abstractmethod
    def set_published_pipeline_status(self, pipeline_id: str, status: str) -> None:
        """Set Active or Disabled; NotFoundError for an unknown id."""

    # -- tokens --------------------------------------------------------------------------------------
    @abstractmethod
    def add_pipeline_token(self, token_hash: str, scope: str, target_id: str, created_time: float) -> None:
        """Record the hash of a token that opens ``target_id`` (``scope``: "pipeline" or "endpoint")."""

    @abstractmethod
    def find_pipeline_token(self, token_hash: str) -> tuple[str, str] | None:
        """``(scope, target id)`` of the token with this hash, or None."""

    @abstractmethod
    def revoke_pipeline_tokens(self, scope: str, target_id: str) -> int:
        """Forget every token of ``target_id``; answers how many there were."""

    # -- endpoints -----------------------------------------------------------------------------------
    @abstractmethod
    def add_pipeline_endpoint(self, record: PipelineEndpointRecord, pipeline_id: str) -> PipelineEndpointRecord:
        """Create an endpoint whose version "0" (its default) is ``pipeline_id``; AlreadyExistsError if
        the name is taken."""

    @abstractmethod
    def get_pipeline_endpoint(self, name: str | None = None, endpoint_id: str | None = None) -> PipelineEndpointRecord:
        """The endpoint by name or id, with its versions; a NotFoundError naming the known endpoints."""

    @abstractmethod
    def list_pipeline_endpoints(self, active_only: bool = True) -> list[PipelineEndpointRecord]:
        """Endpoints by name, with their versions."""

    @abstractmethod
    def add_pipeline_endpoint_version(self, endpoint_id: str, pipeline_id: str, make_default: bool) -> str:
        """Add ``pipeline_id`` as the endpoint's next version (one transaction; concurrent adds get
        distinct versions) and answer it. A pipeline already there answers its version (made the
        default if asked)."""

    @abstractmethod
    def set_pipeline_endpoint_default(self, endpoint_id: str, version: str) -> None:
        """Make ``version`` the default; a NotFoundError naming the versions if it is not one."""

    @abstractmethod
    def set_pipeline_endpoint_status(self, endpoint_id: str, status: str) -> None:
        """Set Active or Disabled."""

    # -- schedules -----------------------------------------------------------------------------------
    @abstractmethod
    def add_schedule(self, record: ScheduleRecord) -> None:
        """Store a new schedule."""

    @abstractmethod
    def get_schedule(self, schedule_id: str) -> ScheduleRecord:
        """The schedule with this id; a NotFoundError naming how to list them."""

    @abstractmethod
    def list_schedules(
        self, active_only: bool = True, pipeline_id: str | None = None, pipeline_endpoint_id: str | None = None
    ) -> list[ScheduleRecord]:
        """Schedules, oldest first, optionally of one pipeline or endpoint."""

    @abstractmethod
    def update_schedule(self, schedule_id: str, changes: Mapping[str, Any]) -> ScheduleRecord:
        """Change the named fields of a schedule (any ``ScheduleRecord`` field but ``id``,
        ``created_time`` and the fire bookkeeping) and answer it; InvalidArgumentError for another field."""

    @abstractmethod
    def claim_schedule_fire(self, fire: ScheduleFireRecord) -> bool:
        """Claim one fire: insert it under the unique key (schedule, fire time) and advance the
        schedule's ``last_fire_time`` to it (never backwards), in one transaction. True for the one
        caller that inserted it; False if another process claimed it first."""

    @abstractmethod
    def skip_schedule_fires(self, schedule_id: str, up_to: int) -> None:
        """Advance ``last_fire_time`` to ``up_to`` without firing (never backwards)."""

    @abstractmethod
    def set_schedule_fire_result(
        self, schedule_id: str, fire_time: int, run_id: str | None, error: str | None = None
    ) -> None:
        """Record what a claimed fire started (or why it failed)."""

    @abstractmethod
    def list_schedule_fires(self, schedule_id: str, limit: int = 100) -> list[ScheduleFireRecord]:
        """Fires of a schedule, newest first."""

    @abstractmethod
    def claim_schedule_poll(self, schedule_id: str, now: float, next_poll_time: float) -> bool:
        """Take the turn to poll a data-change schedule: sets ``next_poll_time`` if it is unset or
        due (``<= now``). True for the one caller that set it."""

    @abstractmethod
    def swap_schedule_fingerprint(self, schedule_id: str, old: str | None, new: str) -> bool:
        """Compare-and-set of a data-change schedule's fingerprint: True only for the caller that
        replaced ``old`` (the change is then its fire)."""
