"""Published pipelines and pipeline endpoints (issue 16, part 4), with Azure ML v1's names.

A :class:`PublishedPipeline` is a pipeline definition frozen under an id: ``pipeline.publish(name)``
(or ``pipeline_run.publish_pipeline(…)``) stores the JSON the pipeline graph writes
(``Pipeline._definition()``), opaque here, and every submission hands it back unchanged to the engine
(``jupyter_mlws.pipelines.engine.submit_definition``) with the parameter values of that run. A
:class:`PipelineEndpoint` is a stable name over numbered versions ("0", "1", …) of published pipelines,
one of them the default.

REST: the Jupyter server serves ``POST <lab>/mlws/api/v1/pipelines/{id}/runs`` and
``POST <lab>/mlws/api/v1/pipeline-endpoints/{name}/runs`` (body ``{"ExperimentName": …,
"ParameterAssignments": {…}}``). ``endpoint`` is that route's full URL on the JupyterLab that serves
the workspace — ``MLWS_LAB_URL`` if set, else a running Jupyter server of this user whose root holds
the workspace (its runtime file) — or the bare route (``/mlws/api/v1/…``) when no server is known.
A caller authenticates as to any Jupyter route, or with ``Authorization: Bearer <token>`` where the
token comes from :meth:`PublishedPipeline.get_token` (or :meth:`PipelineEndpoint.get_token`): it
opens that one pipeline (endpoint) and nothing else. Only the token's sha256 is stored.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..core.interfaces.pipeline_publishing import (
    ACTIVE,
    DISABLED,
    PipelineEndpointRecord,
    PipelinePublishingStore,
    PublishedPipelineRecord,
)
from ..core.names import validate_entity_name
from ..core.portal import serving_lab_url
from ..errors import InvalidArgumentError, InvalidStateError, NotFoundError

if TYPE_CHECKING:
    from ..core.runs import Run
    from ..core.workspace import Workspace

__all__ = [
    "API_ROUTE",
    "TOKEN_PREFIX",
    "PipelineEndpoint",
    "PublishedPipeline",
    "hash_token",
    "submit_published",
    "token_opens",
]

API_ROUTE = "/mlws/api/v1"
#: Pipeline tokens start with this, so a server tells them from its own tokens at a glance.
TOKEN_PREFIX = "mlwsp_"  # noqa: S105 - a prefix, not a secret
PIPELINE_SCOPE = "pipeline"
ENDPOINT_SCOPE = "endpoint"


def _store(workspace: Workspace) -> PipelinePublishingStore:
    return workspace.metadata


def hash_token(token: str) -> str:
    """What the store keeps of a token: its sha256 (a token is 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token(workspace: Workspace, scope: str, target_id: str) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    _store(workspace).add_pipeline_token(hash_token(token), scope, target_id, time.time())
    return token


def token_opens(
    workspace: Workspace, token: str, *, pipeline_id: str | None = None, endpoint_name: str | None = None
) -> bool:
    """Whether ``token`` opens the published pipeline ``pipeline_id`` (or the endpoint named
    ``endpoint_name``): a pipeline's token opens that pipeline's route only, an endpoint's token that
    endpoint's route only."""
    if not token.startswith(TOKEN_PREFIX):
        return False
    found = _store(workspace).find_pipeline_token(hash_token(token))
    if found is None:
        return False
    scope, target = found
    if pipeline_id is not None:
        return scope == PIPELINE_SCOPE and secrets.compare_digest(target, pipeline_id)
    if endpoint_name is not None and scope == ENDPOINT_SCOPE:
        try:
            endpoint = _store(workspace).get_pipeline_endpoint(endpoint_id=target)
        except NotFoundError:
            return False
        return endpoint.name == endpoint_name
    return False


def _route(*parts: str) -> str:
    return API_ROUTE + "".join("/" + quote(p, safe="") for p in parts)


def _url(workspace: Workspace, route: str) -> str:
    base = serving_lab_url(workspace.root)
    return route if base is None else base.rstrip("/") + route


def pipeline_parameters(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The pipeline's parameters and their defaults (``definition["parameters"]``)."""
    declared = definition.get("parameters") or {}
    return dict(declared) if isinstance(declared, Mapping) else {}


def check_parameters(definition: Mapping[str, Any], assignments: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """``assignments`` as a dict, refusing names the pipeline does not declare (before anything runs)."""
    if assignments is None:
        return {}
    if not isinstance(assignments, Mapping):
        raise InvalidArgumentError(
            f"pipeline_parameters of {what} must be a dict of parameter name to value, got {type(assignments).__name__}"
        )
    declared = pipeline_parameters(definition)
    unknown = sorted(str(k) for k in assignments if k not in declared)
    if unknown:
        known = ", ".join(repr(k) for k in sorted(declared)) or "none"
        raise InvalidArgumentError(
            f"{what} has no parameter {', '.join(repr(u) for u in unknown)} (its PipelineParameters: {known}); "
            "use one of those names"
        )
    return dict(assignments)


def submit_published(
    workspace: Workspace,
    record: PublishedPipelineRecord,
    experiment_name: str,
    pipeline_parameters: Mapping[str, Any] | None = None,
    *,
    continue_on_step_failure: bool | None = None,
    properties: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Run:
    """Submit a published pipeline's definition as a new pipeline run (the one submission path of
    ``PublishedPipeline.submit``, ``PipelineEndpoint.submit``, REST and schedules)."""
    what = f"published pipeline {record.name!r} ({record.id})"
    if record.status != ACTIVE:
        raise InvalidStateError(
            f"{what} is disabled: enable it with PublishedPipeline.get(ws, {record.id!r}).enable() to submit it"
        )
    experiment_name = validate_entity_name("experiment", experiment_name)
    assignments = check_parameters(record.definition, pipeline_parameters, what)
    props = {"azureml.pipelineid": record.id, "azureml.pipelineComponent": "pipelinerun", **(properties or {})}
    keep_going = record.continue_on_step_failure if continue_on_step_failure is None else continue_on_step_failure
    from .engine import submit_definition

    run: Run = submit_definition(
        workspace,
        experiment_name,
        dict(record.definition),
        assignments,
        properties=props,
        tags=dict(tags or {}),
        continue_on_step_failure=bool(keep_going),
    )
    return run


class PublishedPipeline:
    """A pipeline that can be submitted without the code that built it (Azure ML v1's
    ``PublishedPipeline``). Made by ``pipeline.publish(name, description=None, version=None)``."""

    def __init__(self, workspace: Workspace, record: PublishedPipelineRecord) -> None:
        self._workspace = workspace
        self._record = record

    # -- making and finding ----------------------------------------------------------------------------
    @classmethod
    def _create(
        cls,
        workspace: Workspace,
        name: str,
        description: str | None,
        version: str | None,
        definition: Mapping[str, Any],
        continue_on_step_failure: bool | None = None,
    ) -> PublishedPipeline:
        """Store ``definition`` (``Pipeline._definition()``) as a new published pipeline: the seam
        ``Pipeline.publish`` and ``PipelineRun.publish_pipeline`` call."""
        name = validate_entity_name("published pipeline", name)
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"description must be a string, got {type(description).__name__}")
        if version is not None and not isinstance(version, str | int | float):
            raise InvalidArgumentError(f"version must be a string such as '1.0', got {type(version).__name__}")
        if not isinstance(definition, Mapping):
            raise InvalidArgumentError("a published pipeline needs the pipeline's definition (a dict)")
        if continue_on_step_failure is not None and not isinstance(continue_on_step_failure, bool):
            raise InvalidArgumentError("continue_on_step_failure must be True, False or None")
        record = PublishedPipelineRecord(
            id=str(uuid.uuid4()),
            name=name,
            description=description,
            version=None if version is None else str(version),
            definition=dict(definition),
            status=ACTIVE,
            created_time=time.time(),
            continue_on_step_failure=continue_on_step_failure,
        )
        _store(workspace).add_published_pipeline(record)
        return cls(workspace, record)

    @classmethod
    def get(cls, workspace: Workspace, id: str) -> PublishedPipeline:
        """The published pipeline with this id."""
        return cls(workspace, _store(workspace).get_published_pipeline(str(id)))

    @classmethod
    def list(cls, workspace: Workspace, active_only: bool = True) -> builtins.list[PublishedPipeline]:
        """Published pipelines, oldest first; ``active_only=False`` includes disabled ones."""
        return [cls(workspace, r) for r in _store(workspace).list_published_pipelines(active_only)]

    @classmethod
    def get_all(cls, workspace: Workspace, active_only: bool = True) -> builtins.list[PublishedPipeline]:
        """v1's older name of :meth:`list`."""
        return cls.list(workspace, active_only)

    # -- attributes ------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def version(self) -> str | None:
        return self._record.version

    @property
    def status(self) -> str:
        """``"Active"`` or ``"Disabled"``."""
        return self._record.status

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._record.continue_on_step_failure

    @property
    def created_time(self) -> float:
        return self._record.created_time

    @property
    def graph_id(self) -> str:
        """v1 names the pipeline's graph apart; here the published pipeline is its graph."""
        return self._record.id

    @property
    def total_run_steps(self) -> int:
        steps = self._record.definition.get("steps")
        return len(steps) if isinstance(steps, list | dict) else 0

    @property
    def parameters(self) -> dict[str, Any]:
        """The pipeline's parameters and their default values."""
        return pipeline_parameters(self._record.definition)

    @property
    def definition(self) -> dict[str, Any]:
        """The stored pipeline definition (a copy)."""
        return dict(self._record.definition)

    @property
    def route(self) -> str:
        """The REST route that submits this pipeline, relative to the server (``/mlws/api/v1/…``)."""
        return _route("pipelines", self.id, "runs")

    @property
    def endpoint(self) -> str:
        """The full URL of the REST route that submits this pipeline (see the module docs for how the
        server is found; the bare route when none is)."""
        return _url(self._workspace, self.route)

    def __repr__(self) -> str:
        return (
            f"PublishedPipeline(name={self.name!r}, id={self.id!r}, version={self.version!r}, status={self.status!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublishedPipeline) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    # -- actions ---------------------------------------------------------------------------------------
    def submit(
        self,
        workspace: Workspace,
        experiment_name: str,
        pipeline_parameters: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        continue_on_step_failure: bool | None = None,
    ) -> Run:
        """Run this pipeline in ``experiment_name``; ``pipeline_parameters`` override the defaults of its
        ``PipelineParameter`` values. Answers the pipeline run."""
        if parent_run_id is not None:
            raise InvalidArgumentError(
                "parent_run_id is not supported: a published pipeline runs as a run of its own experiment"
            )
        record = _store(workspace).get_published_pipeline(self.id)  # its current status
        return submit_published(
            workspace, record, experiment_name, pipeline_parameters, continue_on_step_failure=continue_on_step_failure
        )

    def disable(self) -> None:
        """Refuse submissions (and stop its schedules from firing) until :meth:`enable`."""
        self._set_status(DISABLED)

    def enable(self) -> None:
        self._set_status(ACTIVE)

    def _set_status(self, status: str) -> None:
        store = _store(self._workspace)
        store.set_published_pipeline_status(self.id, status)
        self._record = store.get_published_pipeline(self.id)

    def get_token(self) -> str:
        """A new token that submits this pipeline over REST (``Authorization: Bearer <token>``) and
        opens nothing else. Each call issues another one; only its hash is stored, so keep it:
        it cannot be shown again. :meth:`revoke_tokens` withdraws them all."""
        return _new_token(self._workspace, PIPELINE_SCOPE, self.id)

    def revoke_tokens(self) -> int:
        """Withdraw every token of this pipeline; answers how many there were."""
        return _store(self._workspace).revoke_pipeline_tokens(PIPELINE_SCOPE, self.id)

    def summary(self) -> dict[str, Any]:
        """What the REST API and the CLI show."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "status": self.status,
            "created_time": self.created_time,
            "total_run_steps": self.total_run_steps,
            "parameters": self.parameters,
            "endpoint": self.endpoint,
        }


def _published(workspace: Workspace, pipeline: Any, name: str, description: str | None) -> PublishedPipeline:
    """A PublishedPipeline from one, or by publishing a Pipeline (v1 takes either)."""
    if isinstance(pipeline, PublishedPipeline):
        return pipeline
    publish = getattr(pipeline, "publish", None)
    if callable(publish):
        published = publish(name=name, description=description)
        if isinstance(published, PublishedPipeline):
            return published
    raise InvalidArgumentError(
        f"expected a Pipeline or a PublishedPipeline, got {type(pipeline).__name__}: publish it with "
        "pipeline.publish(name) or find it with PublishedPipeline.get(ws, id)"
    )


class PipelineEndpoint:
    """A named, stable endpoint over versions of published pipelines (Azure ML v1's
    ``PipelineEndpoint``): new versions are added while callers keep one URL."""

    def __init__(self, workspace: Workspace, record: PipelineEndpointRecord) -> None:
        self._workspace = workspace
        self._record = record

    @classmethod
    def publish(cls, workspace: Workspace, name: str, description: str | None, pipeline: Any) -> PipelineEndpoint:
        """A new endpoint named ``name`` whose version "0" (the default) is ``pipeline`` (a
        ``PublishedPipeline``, or a ``Pipeline``, which is published under ``name``). v1's argument
        order is ``(workspace, name, description, pipeline)``; ``(workspace, name, pipeline,
        description)`` is understood too."""
        if not isinstance(description, str | None) and isinstance(pipeline, str | None):
            description, pipeline = pipeline, description
        name = validate_entity_name("pipeline endpoint", name)
        published = _published(workspace, pipeline, name, description)
        record = PipelineEndpointRecord(
            id=str(uuid.uuid4()),
            name=name,
            description=description,
            status=ACTIVE,
            default_version="0",
            created_time=time.time(),
        )
        return cls(workspace, _store(workspace).add_pipeline_endpoint(record, published.id))

    @classmethod
    def get(cls, workspace: Workspace, id: str | None = None, name: str | None = None) -> PipelineEndpoint:
        """The endpoint with this id or name."""
        return cls(workspace, _store(workspace).get_pipeline_endpoint(name=name, endpoint_id=id))

    @classmethod
    def list(cls, workspace: Workspace, active_only: bool = True) -> builtins.list[PipelineEndpoint]:
        return [cls(workspace, r) for r in _store(workspace).list_pipeline_endpoints(active_only)]

    def _refresh(self) -> None:
        self._record = _store(self._workspace).get_pipeline_endpoint(endpoint_id=self.id)

    # -- attributes ------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def status(self) -> str:
        return self._record.status

    @property
    def default_version(self) -> str:
        return self._record.default_version

    @property
    def route(self) -> str:
        return _route("pipeline-endpoints", self.name, "runs")

    @property
    def endpoint(self) -> str:
        """The full URL of the REST route that submits the endpoint's default version."""
        return _url(self._workspace, self.route)

    def __repr__(self) -> str:
        return f"PipelineEndpoint(name={self.name!r}, id={self.id!r}, default_version={self.default_version!r})"

    # -- versions --------------------------------------------------------------------------------------
    def add(self, pipeline: Any) -> str:
        """Add ``pipeline`` as the next version (not the default); answers its version."""
        return self._add(pipeline, make_default=False)

    def add_default(self, pipeline: Any) -> str:
        """Add ``pipeline`` as the next version and make it the default; answers its version."""
        return self._add(pipeline, make_default=True)

    def set_default(self, pipeline: Any) -> None:
        """Make ``pipeline`` (added if it is not a version yet) the default."""
        self._add(pipeline, make_default=True)

    def _add(self, pipeline: Any, make_default: bool) -> str:
        published = _published(self._workspace, pipeline, self.name, self.description)
        version = _store(self._workspace).add_pipeline_endpoint_version(self.id, published.id, make_default)
        self._refresh()
        return version

    def set_default_version(self, version: str | int) -> None:
        _store(self._workspace).set_pipeline_endpoint_default(self.id, str(version))
        self._refresh()

    def get_default_version(self) -> str:
        self._refresh()
        return self.default_version

    def list_versions(self) -> builtins.list[dict[str, str]]:
        """``[{"version": "0", "pipeline_id": …}, …]``, oldest first."""
        self._refresh()
        return [{"version": v, "pipeline_id": p} for v, p in self._record.versions.items()]

    def get_pipeline(self, version: str | int | None = None) -> PublishedPipeline:
        """The published pipeline of ``version`` (default: the default version)."""
        self._refresh()
        chosen = self.default_version if version is None else str(version)
        pipeline_id = self._record.versions.get(chosen)
        if pipeline_id is None:
            known = ", ".join(repr(v) for v in self._record.versions)
            raise NotFoundError(f"pipeline endpoint {self.name!r} has no version {chosen!r} (versions: {known})")
        return PublishedPipeline.get(self._workspace, pipeline_id)

    def list_pipelines(self, active_only: bool = True) -> builtins.list[PublishedPipeline]:
        self._refresh()
        found = [PublishedPipeline.get(self._workspace, p) for p in self._record.versions.values()]
        return [p for p in found if p.status == ACTIVE or not active_only]

    # -- actions ---------------------------------------------------------------------------------------
    def submit(
        self,
        experiment_name: str,
        pipeline_parameters: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        pipeline_version: str | int | None = None,
    ) -> Run:
        """Run the default version (or ``pipeline_version``) in ``experiment_name``."""
        self._refresh()
        if self.status != ACTIVE:
            raise InvalidStateError(
                f"pipeline endpoint {self.name!r} is disabled: enable it with "
                f"PipelineEndpoint.get(ws, name={self.name!r}).enable() to submit it"
            )
        published = self.get_pipeline(pipeline_version)
        return published.submit(
            self._workspace,
            experiment_name,
            pipeline_parameters,
            parent_run_id=parent_run_id,
        )

    def disable(self) -> None:
        _store(self._workspace).set_pipeline_endpoint_status(self.id, DISABLED)
        self._refresh()

    def enable(self) -> None:
        _store(self._workspace).set_pipeline_endpoint_status(self.id, ACTIVE)
        self._refresh()

    def get_token(self) -> str:
        """A new token that submits through this endpoint over REST (``Authorization: Bearer <token>``),
        whatever its default version, and opens nothing else. Only its hash is stored."""
        return _new_token(self._workspace, ENDPOINT_SCOPE, self.id)

    def revoke_tokens(self) -> int:
        return _store(self._workspace).revoke_pipeline_tokens(ENDPOINT_SCOPE, self.id)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "default_version": self.default_version,
            "versions": [{"version": v, "pipeline_id": p} for v, p in self._record.versions.items()],
            "endpoint": self.endpoint,
        }
