"""Published pipelines, pipeline endpoints and schedules (issue 16): the lists the sidebar shows, and
v1's REST call that submits a published pipeline (``POST pipelines/{id}/runs``) or an endpoint's
default version (``POST pipeline-endpoints/{name}/runs``) with ``{"ExperimentName": …,
"ParameterAssignments": {…}}``.

The two submission routes take Jupyter Server's own credentials (checked as on every route) or
``Authorization: Bearer <token>`` with a token from ``PublishedPipeline.get_token()`` /
``PipelineEndpoint.get_token()``: it opens that one pipeline (endpoint) and nothing else — another
pipeline's token, or no credentials, is a 403. Such a request carries its credential in a header a
browser never adds on its own, so it needs no XSRF cookie (Jupyter exempts its own token likewise).
Tokens never appear in replies or logs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tornado import web

from ...core.values import iso_utc
from ...core.workspace import Workspace
from ...errors import InvalidArgumentError
from ...pipelines.published import TOKEN_PREFIX, PipelineEndpoint, PublishedPipeline, token_opens
from ...pipelines.schedules import Schedule
from ..base import MlwsHandler
from ..requests import RunPublishedPipeline
from ..serialize import empty_page, run_reply

__all__ = [
    "PipelineEndpointRunsHandler",
    "PipelineEndpointsHandler",
    "PublishedPipelineRunsHandler",
    "PublishedPipelinesHandler",
    "SchedulesHandler",
]


F = TypeVar("F", bound=Callable[..., Any])


def authenticates_itself(method: F) -> F:
    """Mark a handler method so that Jupyter Server lets a request with no Jupyter user reach the
    handler's ``prepare`` (the attribute its ``allow_unauthenticated`` sets, without a wrapper), which
    then authenticates every request itself."""
    setattr(method, "__allow_unauthenticated", True)  # a name-mangled attribute: set by its string
    return method


def _time(value: float | None) -> str | None:
    return None if value is None else iso_utc(value)


def _pipeline_json(pipeline: PublishedPipeline) -> dict[str, Any]:
    data = pipeline.summary()
    data["created_time"] = _time(pipeline.created_time)
    return data


def _schedule_json(schedule: Schedule) -> dict[str, Any]:
    data = schedule.summary()
    data["created_time"] = _time(schedule.created_time)
    data["next_fire_time"] = _time(data["next_fire_time"])
    return data


def _run_json(ws: Workspace, run: Any, pipeline_id: str) -> dict[str, Any]:
    """v1's answer (``Id``, …) and the run as the other routes show it (``run``)."""
    return {
        "Id": run.id,
        "Status": str(run.get_status()),
        "ExperimentName": run.experiment.name,
        "RunNumber": run.number,
        "PipelineId": pipeline_id,
        "run": run_reply(ws, run.id),
    }


class PublishedPipelinesHandler(MlwsHandler):
    async def get(self) -> None:
        active_only = self.flag("active_only", True)
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        await self.reply(
            lambda: {
                "items": [_pipeline_json(p) for p in PublishedPipeline.list(ws, active_only)],
                "next_page_token": None,
            }
        )


class PipelineEndpointsHandler(MlwsHandler):
    async def get(self) -> None:
        active_only = self.flag("active_only", True)
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        await self.reply(
            lambda: {"items": [e.summary() for e in PipelineEndpoint.list(ws, active_only)], "next_page_token": None}
        )


class SchedulesHandler(MlwsHandler):
    async def get(self) -> None:
        active_only = self.flag("active_only", True)
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        await self.reply(
            lambda: {"items": [_schedule_json(s) for s in Schedule.list(ws, active_only)], "next_page_token": None}
        )


class _TokenRunsHandler(MlwsHandler):
    """A submission route: Jupyter's credentials, or a Bearer token of the pipeline (endpoint) it names.

    ``post`` is marked (:func:`authenticates_itself`) so that Jupyter Server lets a request with no Jupyter
    user reach :meth:`prepare`, which then authenticates every request itself: a Jupyter user as every
    route does (``authorize_user``), else the token.
    """

    def _bearer(self) -> str | None:
        scheme, _, value = self.request.headers.get("Authorization", "").partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value.startswith(TOKEN_PREFIX):
            return value
        return None

    def check_xsrf_cookie(self) -> None:
        if self._bearer() is not None:
            return None  # a header credential, checked in prepare: no cookie to forge
        return super().check_xsrf_cookie()

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if (self.request.method or "").upper() != "POST":
            return  # OPTIONS, the CORS preflight
        token = self._bearer()
        if token is None:
            await self.authorize_user()
        elif not await self.call(self._token_opens, token):
            raise web.HTTPError(403, log_message="this token does not open this route")
        self.check_path_values()

    def _token_opens(self, token: str) -> bool:
        if any("\x00" in str(v) for v in self.path_kwargs.values()):
            return False
        ws = self.workspace()
        return ws is not None and self.opens(ws, token)

    def opens(self, ws: Workspace, token: str) -> bool:
        raise NotImplementedError


class PublishedPipelineRunsHandler(_TokenRunsHandler):
    def opens(self, ws: Workspace, token: str) -> bool:
        return token_opens(ws, token, pipeline_id=self.path_kwargs["pipeline_id"])

    @authenticates_itself
    async def post(self, pipeline_id: str) -> None:
        request = self.parse(RunPublishedPipeline)
        if request.PipelineVersion is not None:
            raise InvalidArgumentError(
                "'PipelineVersion' applies to pipeline endpoints (POST pipeline-endpoints/{name}/runs); "
                "a published pipeline has one version"
            )
        ws = self.require_workspace()

        def submit() -> dict[str, Any]:
            pipeline = PublishedPipeline.get(ws, pipeline_id)
            run = pipeline.submit(ws, request.ExperimentName, request.ParameterAssignments)
            return _run_json(ws, run, pipeline.id)

        await self.reply(submit)


class PipelineEndpointRunsHandler(_TokenRunsHandler):
    def opens(self, ws: Workspace, token: str) -> bool:
        return token_opens(ws, token, endpoint_name=self.path_kwargs["name"])

    @authenticates_itself
    async def post(self, name: str) -> None:
        request = self.parse(RunPublishedPipeline)
        ws = self.require_workspace()

        def submit() -> dict[str, Any]:
            endpoint = PipelineEndpoint.get(ws, name=name)
            pipeline = endpoint.get_pipeline(request.PipelineVersion)
            run = endpoint.submit(
                request.ExperimentName, request.ParameterAssignments, pipeline_version=request.PipelineVersion
            )
            return _run_json(ws, run, pipeline.id)

        await self.reply(submit)
