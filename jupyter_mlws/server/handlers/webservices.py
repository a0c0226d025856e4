"""Deployed web services (issue 17): the list the sidebar's Endpoints section shows, one service, its
keys, its log, its traffic summed up for the endpoint page's charts, and the page's "Test" box (a
request the server sends to the service with its primary key).

Read through the public facade (``Webservice.list``, ``Webservice(ws, name)``); the aggregation is
``serving/views.py``. ``POST webservices/{name}/test`` answers 200 with the service's own status and
body (a 401 or 500 of the service is the service's answer, not this route's); a service that is not
listening is a 409 naming its state.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from ...core.values import iso_utc
from ...core.workspace import Workspace
from ...errors import InvalidArgumentError, InvalidStateError
from ...serving.views import DEFAULT_BUCKET_S, DEFAULT_WINDOW_S, parse_since, telemetry_view
from ...serving.webservice import Webservice
from ..base import MlwsHandler
from ..serialize import empty_page

__all__ = [
    "WebserviceHandler",
    "WebserviceKeysHandler",
    "WebserviceLogsHandler",
    "WebserviceTelemetryHandler",
    "WebserviceTestHandler",
    "WebservicesHandler",
]

DEFAULT_LOG_LINES = 500
MAX_LOG_LINES = 100_000
TEST_TIMEOUT_S = 60.0
MAX_TEST_BODY = 32 * 1024 * 1024  # the services' default request limit; a larger one the service refuses anyway
MAX_REPLY_CHARS = 1_000_000  # of the service's answer shown back to the Test box


def webservice_json(service: Webservice) -> dict[str, Any]:
    """One service as the API shows it: ``serialize()``'s fields in snake case, times as ISO UTC."""
    data = service.serialize()  # reads the live state once
    return {
        "name": data["name"],
        "compute_type": data["computeType"],
        "state": data["state"],
        "error": data["error"],
        "scoring_uri": data["scoringUri"],
        "swagger_uri": data["swaggerUri"],
        "models": list(data["models"]),
        "generation": data["generation"],
        "auth_enabled": data["authEnabled"],
        "created_time": iso_utc(service.created_time.timestamp()),
        "updated_time": iso_utc(service.updated_time.timestamp()),
        "description": data["description"],
        "tags": data["tags"],
        "properties": data["properties"],
    }


def _service(ws: Workspace, name: str) -> Webservice:
    return Webservice(ws, name)  # NotFoundError (404) for an unknown name


class WebservicesHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(empty_page())
        await self.reply(lambda: {"items": [webservice_json(s) for s in Webservice.list(ws)], "next_page_token": None})


class WebserviceHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: webservice_json(_service(ws, name)))


class WebserviceKeysHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()

        def keys() -> dict[str, str]:
            primary, secondary = _service(ws, name).get_keys()
            return {"primary": primary, "secondary": secondary}

        await self.reply(keys)


class WebserviceLogsHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        num_lines = self.integer("num_lines", DEFAULT_LOG_LINES, 0, MAX_LOG_LINES)

        def read() -> dict[str, Any]:
            service = _service(ws, name)
            return {"name": name, "num_lines": num_lines, "data": service.get_logs(num_lines), "state": service.state}

        await self.reply(read)


class WebserviceTelemetryHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        now = time.time()
        since = parse_since(self.get_query_argument("since", None), now)
        bucket_s = self._bucket()

        def read() -> dict[str, Any]:
            service = _service(ws, name)
            # Validate the window (bucket count) before reading any row.
            telemetry_view((), since, bucket_s, now)
            frame = service.get_telemetry(since=now - DEFAULT_WINDOW_S if since is None else since)
            rows = frame.to_dict("records") if not frame.empty else []
            return {"name": name, **telemetry_view(rows, since, bucket_s, now)}

        await self.reply(read)

    def _bucket(self) -> float:
        text = self.get_query_argument("bucket_s", None)
        if text is None:
            return DEFAULT_BUCKET_S
        try:
            value = float(text)
        except ValueError:
            raise InvalidArgumentError(f"query parameter 'bucket_s' must be seconds, not {text!r}") from None
        if not 0.1 <= value <= 86_400:
            raise InvalidArgumentError(f"query parameter 'bucket_s' must be between 0.1 and 86400, got {text}")
        return value


class WebserviceTestHandler(MlwsHandler):
    """The endpoint page's "Test" box: send the request body (any JSON) to the service's scoring URI
    with its primary key, and answer what the service answered, with the round trip's latency."""

    async def post(self, name: str) -> None:
        body = self.request.body or b""
        if len(body) > MAX_TEST_BODY:
            raise InvalidArgumentError(f"the test body is larger than {MAX_TEST_BODY // (1024 * 1024)} MiB")
        try:
            json.loads(body)
        except (ValueError, RecursionError):
            raise InvalidArgumentError(
                'the test body must be the JSON to send to the service, e.g. {"data": [[1, 2, 3, 4]]}'
            ) from None
        ws = self.require_workspace()

        def target() -> tuple[str, dict[str, str]]:
            service = _service(ws, name)
            uri, state = service.scoring_uri, service.state
            if uri is None or state == "Failed":  # no port yet (still starting), or it failed: none serves
                raise InvalidStateError(f"web service {name!r} is not listening (state {state}); see its log for why")
            headers = {"Content-Type": "application/json"}
            if service.auth_enabled:
                headers["Authorization"] = f"Bearer {service.get_keys()[0]}"
            return uri, headers

        uri, headers = await self.call(target)
        started = time.perf_counter()
        try:
            response = await AsyncHTTPClient().fetch(
                uri,
                method="POST",
                body=body,
                headers=headers,
                raise_error=False,
                request_timeout=TEST_TIMEOUT_S,
                follow_redirects=False,
            )
        except HTTPClientError as exc:  # a 599: timeout or connection closed before an answer
            raise InvalidStateError(f"web service {name!r} did not answer at {uri}: {exc}") from None
        except OSError as exc:  # connection refused: nothing listens on the port
            reason = exc.strerror or str(exc)
            raise InvalidStateError(f"web service {name!r} is not listening at {uri}: {reason}") from None
        latency_ms = (time.perf_counter() - started) * 1000.0
        if response.code == 599:
            raise InvalidStateError(f"web service {name!r} did not answer at {uri}: {response.error}")
        text = (response.body or b"").decode("utf-8", errors="replace")
        self.send({"status": response.code, "body": text[:MAX_REPLY_CHARS], "latency_ms": latency_ms})
