"""Request bodies, parsed in one place: one small typed model per write route, named for what it does
(``SubmitJob``, ``CreateSnapshot``, ``RegisterModelVersion``), each checked against its schema in
openapi.yaml by ``parse``. A bad body is a 400 naming the field and the fix before the handler does
anything with it; what no schema can say (a name the core refuses, a path outside the root) is checked by the
model's ``checked`` or by the handler, which alone knows the server root.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

from ..core.names import validate_file_name
from ..errors import InvalidArgumentError
from ..monitoring.intervals import to_utc
from .schemas import body_problem

__all__ = [
    "BackfillMonitor",
    "CheckMonitor",
    "CreateSnapshot",
    "RegisterModelVersion",
    "RequestModel",
    "RunPublishedPipeline",
    "SetSecret",
    "SubmitJob",
    "parse",
]


class RequestModel:
    """A request body: ``SCHEMA`` names its ``components/schemas`` entry, ``WHAT`` the request in messages."""

    SCHEMA: ClassVar[str]
    WHAT: ClassVar[str]

    def checked(self) -> Self:
        """Checks the schema cannot state; returns the model, normalised. Raises InvalidArgumentError."""
        return self


M = TypeVar("M", bound=RequestModel)


def parse(model: type[M], body: dict[str, Any]) -> M:
    """``body`` (a JSON object) as a ``model``, or an InvalidArgumentError naming the field and the fix."""
    problem = body_problem(model.SCHEMA, body, model.WHAT)
    if problem is not None:
        raise InvalidArgumentError(problem)
    known = {f.name for f in dataclasses.fields(model)}  # type: ignore[arg-type]  # every model is a dataclass
    build: Callable[..., M] = model
    # Fields the schema allows but no model field holds are ignored, as before the models existed.
    return build(**{key: value for key, value in body.items() if key in known}).checked()


@dataclass(frozen=True)
class CreateSnapshot(RequestModel):
    """``POST snapshots``: capture a folder (relative to the server root) into the artifact store."""

    SCHEMA: ClassVar[str] = "SnapshotRequest"
    WHAT: ClassVar[str] = "a snapshot request"

    path: str = "."


@dataclass(frozen=True)
class SubmitJob(RequestModel):
    """``POST submissions``: run a script (or a notebook) under the server root as a job.

    Empty strings mean "the default", as the front end sends them: ``experiment`` is then the source
    folder's name, ``compute_target`` the server's default, ``source_directory`` the script's folder.
    """

    SCHEMA: ClassVar[str] = "SubmissionRequest"
    WHAT: ClassVar[str] = "a submission"

    script: str | None = None
    notebook: str | None = None
    source_directory: str | None = None
    arguments: list[str | int | float | bool] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    kernel_name: str | None = None
    allow_unknown_parameters: bool = False
    experiment: str | None = None
    compute_target: str | None = None
    environment: str | None = None
    max_run_duration_seconds: float | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def entry(self) -> str:
        """The script, else the notebook: a path relative to the server root."""
        return self.script or self.notebook or ""

    def checked(self) -> Self:
        if not self.entry:
            raise InvalidArgumentError("a submission needs 'script' or 'notebook': a path relative to the server root")
        return self


@dataclass(frozen=True)
class RegisterModelVersion(RequestModel):
    """``POST models/{name}/versions``: register the next version of a model from a run's file or folder."""

    SCHEMA: ClassVar[str] = "ModelRegistrationRequest"
    WHAT: ClassVar[str] = "a model registration"

    run_id: str
    path: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)

    def checked(self) -> Self:
        if not self.run_id:
            raise InvalidArgumentError(
                "'run_id' must not be empty: the id of the run whose file or folder becomes the model"
            )
        try:
            path = validate_file_name(self.path)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"'path': {exc.message}") from None
        return dataclasses.replace(self, path=path)


@dataclass(frozen=True)
class RunPublishedPipeline(RequestModel):
    """``POST pipelines/{id}/runs`` and ``POST pipeline-endpoints/{name}/runs``: Azure ML v1's REST body
    (its field names), submitting a published pipeline in an experiment with parameter values."""

    SCHEMA: ClassVar[str] = "PipelineRunRequest"
    WHAT: ClassVar[str] = "a pipeline run request"

    ExperimentName: str  # v1's REST field names
    ParameterAssignments: dict[str, Any] = field(default_factory=dict)
    PipelineVersion: str | None = None

    def checked(self) -> Self:
        if not self.ExperimentName.strip():
            raise InvalidArgumentError("'ExperimentName' must not be empty: the experiment the pipeline run goes to")
        return self


@dataclass(frozen=True)
class BackfillMonitor(RequestModel):
    """``POST monitors/{name}/backfill``: check every interval of a drift detector that starts in
    ``[start_date, end_date)``. Dates are ISO 8601 (a date, or a date and time; no zone means UTC)."""

    SCHEMA: ClassVar[str] = "MonitorBackfillRequest"
    WHAT: ClassVar[str] = "a backfill request"

    start_date: str
    end_date: str

    @property
    def start(self) -> dt.datetime:
        return to_utc(self.start_date, "'start_date'")

    @property
    def end(self) -> dt.datetime:
        return to_utc(self.end_date, "'end_date'")

    def checked(self) -> Self:
        self.start, self.end  # noqa: B018 - a bad date is a 400 before anything runs
        return self


@dataclass(frozen=True)
class CheckMonitor(RequestModel):
    """``POST monitors/{name}/run``: check the interval of a drift detector that contains ``target_date``."""

    SCHEMA: ClassVar[str] = "MonitorRunRequest"
    WHAT: ClassVar[str] = "a drift check request"

    target_date: str

    @property
    def target(self) -> dt.datetime:
        return to_utc(self.target_date, "'target_date'")

    def checked(self) -> Self:
        self.target  # noqa: B018 - a bad date is a 400 before anything runs
        return self


@dataclass(frozen=True)
class SetSecret(RequestModel):
    """``PUT secrets/{name}``: a secret's new value (a non-empty string). The value is never echoed."""

    SCHEMA: ClassVar[str] = "SecretValueRequest"
    WHAT: ClassVar[str] = "a secret's value"

    value: str

    def __repr__(self) -> str:  # never the value, whatever logs the model
        return "SetSecret(value=***)"
