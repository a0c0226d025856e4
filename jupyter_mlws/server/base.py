"""The handler base: authentication and authorisation, JSON in and out, paging, and the one error translator."""

from __future__ import annotations

import asyncio
import json
import math
import mimetypes
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from jupyter_server.auth.utils import HTTP_METHOD_TO_AUTH_ACTION
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async
from tornado import web

from ..core.jsonable import json_safe
from ..core.workspace import Workspace
from ..errors import InvalidArgumentError, MlwsError, NotFoundError
from .events import EventHub
from .requests import RequestModel, parse
from .state import ServerState

__all__ = ["MlwsHandler", "content_disposition"]

T = TypeVar("T")
M = TypeVar("M", bound=RequestModel)
DEFAULT_PAGE = 100
MAX_PAGE = 1000


def encode(data: Any) -> str:
    """Strict JSON. Non-finite floats (metric values) become "NaN"/"Infinity" strings; the common
    case (there are none) costs one C-speed pass."""
    try:
        return json.dumps(data, allow_nan=False, default=str)
    except ValueError:
        return json.dumps(json_safe(data), allow_nan=False, default=str)


# Types a browser shows passively (as text or a picture), so a file of one of them may be shown inline.
INLINE_TYPES = frozenset(
    {
        "application/json",
        "application/octet-stream",  # never rendered: browsers download it
        "image/bmp",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/markdown",
        "text/plain",
        "text/tab-separated-values",
        "text/x-python",
    }
)
# On top of Jupyter's API policy (default-src 'none'): a file opened in a tab runs in a unique origin
# with no script, whatever it is.
FILE_CSP = "sandbox"


def content_disposition(disposition: str, path: str) -> str:
    """An RFC 6266 ``Content-Disposition`` naming ``path``'s base name: ``filename=`` holds an ASCII
    fallback (no quote, backslash or control character), and ``filename*=UTF-8''...`` the exact name
    when it differs (a header is Latin-1 and a quote would end the parameter early)."""
    name = path.rsplit("/", 1)[-1] or "file"
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"
    return header


def _no_constant(name: str) -> Any:
    """``json.loads`` accepts NaN, Infinity and -Infinity, which are not JSON; a body may not hold them."""
    raise InvalidArgumentError(
        f"the request body holds {name}, which JSON does not allow: send a finite number (or null where allowed)"
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as inf
        raise InvalidArgumentError(f"the request body holds the number {text[:40]}, too large for a float")
    return value


MAX_BODY_DEPTH = 64  # nested lists/objects in a request body; the real bodies nest two or three deep


def _check_values(body: Any) -> None:
    """Refuse a body nested deeper than MAX_BODY_DEPTH (the schema check and the stores recurse) or
    holding NUL (JSON allows \\u0000; no path, name or PostgreSQL text can hold it). Iterative: a
    hostile body cannot exhaust the stack here."""
    stack: list[tuple[Any, str, int]] = [(body, "the body", 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidArgumentError(f"the request body holds a NUL control character (\\u0000) in {where}")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_BODY_DEPTH:
            raise InvalidArgumentError(f"the request body nests lists or objects more than {MAX_BODY_DEPTH} deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                raise InvalidArgumentError(
                    f"the request body holds a NUL control character (\\u0000) in a key of {where}"
                )
            inner = f"{key!r}" if where == "the body" else f"{where}[{key!r}]"
            stack.append((item, inner, depth + 1))


class MlwsHandler(APIHandler):
    """Every route derives from this. Handlers translate; the core decides.

    Authentication and authorisation happen here, once, before any handler method runs (what
    ``@web.authenticated`` and ``@authorized`` would do on each method): a request without a user, or
    whose user the server's ``Authorizer`` refuses ``read`` (GET) or ``write`` (POST, …) on the ``mlws``
    resource, gets a 403 and reaches no handler code.
    """

    auth_resource = "mlws"

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()  # Jupyter Server's identity, host and origin checks
        method = getattr(self, (self.request.method or "").lower(), None)
        if getattr(method, "__allow_unauthenticated", False):
            return  # the CORS preflight (OPTIONS) of APIHandler, public by design; or a route that authenticates itself
        await self.authorize_user()
        self.check_path_values()

    async def authorize_user(self) -> None:
        """A 403 unless Jupyter Server knows the user and its ``Authorizer`` allows the request's action
        (``read`` for GET, ``write`` for POST, …) on the ``mlws`` resource."""
        user = self.current_user
        if not user:
            raise web.HTTPError(403, log_message="authentication is required")
        action = HTTP_METHOD_TO_AUTH_ACTION.get((self.request.method or "").upper(), "write")
        allowed = await ensure_async(self.authorizer.is_authorized(self, user, action, self.auth_resource))
        if not allowed:
            raise web.HTTPError(
                403, log_message=f"User is not authorized to {action} on resource: {self.auth_resource}."
            )

    def check_path_values(self) -> None:
        """No id, name or path holds NUL (%00 in a URL): a 400 here, not a file-system or PostgreSQL
        error (a 500) wherever the value would have gone. Query parameters are checked as they are
        read (decode_argument): one the route does not take is ignored, as any unknown parameter is."""
        for key, value in self.path_kwargs.items():
            if isinstance(value, str) and "\x00" in value:
                raise InvalidArgumentError(f"{key} {value[:80]!r} in the URL contains a NUL character (%00)")
        self._mlws_prepared = True

    _mlws_prepared = False

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        decoded = super().decode_argument(value, name)
        if self._mlws_prepared and "\x00" in decoded:
            raise InvalidArgumentError(f"query parameter {name!r} contains a NUL character (%00)")
        return decoded

    @property
    def state(self) -> ServerState:
        state: ServerState = self.settings["mlws_state"]
        return state

    @property
    def hub(self) -> EventHub:
        hub: EventHub = self.settings["mlws_events"]
        return hub

    def workspace(self, create: bool = False) -> Workspace | None:
        return self.state.workspace(create=create)

    def require_workspace(self) -> Workspace:
        ws = self.workspace()
        if ws is None:
            raise NotFoundError(
                f"no workspace yet under {self.state.root_dir}: it is created by the first submission, "
                "or with `mlws init`"
            )
        return ws

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (blocking) core call off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: fn(*args, **kwargs))

    # -- input --------------------------------------------------------------------------------------------
    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}", parse_constant=_no_constant, parse_float=_finite_float)
        except InvalidArgumentError:
            raise
        except ValueError as exc:
            raise InvalidArgumentError(f"the request body is not valid JSON: {exc}") from None
        except RecursionError:  # thousands of nested brackets: the decoder's own limit
            raise InvalidArgumentError(
                f"the request body nests lists or objects more than {MAX_BODY_DEPTH} deep"
            ) from None
        if not isinstance(body, dict):
            raise InvalidArgumentError("the request body must be a JSON object")
        _check_values(body)
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # JSON allows lone surrogate escapes (\ud800); no store can keep them
            raise InvalidArgumentError(
                "the request body holds text that is not valid Unicode (a lone surrogate escape such as \\ud800)"
            ) from None
        return body

    def parse(self, model: type[M]) -> M:
        """The request body as a typed request model (see requests.py); a bad body is a 400 naming the field."""
        return parse(model, self.json_body())

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.get_query_argument(name, None)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes"):
            return True
        if value.lower() in ("0", "false", "no"):
            return False
        raise InvalidArgumentError(f"query parameter {name!r} must be true or false, not {value!r}")

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.get_query_argument(name, None)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidArgumentError(f"query parameter {name!r} must be an integer, not {value!r}") from None
        if not low <= number <= high:
            raise InvalidArgumentError(f"query parameter {name!r} must be between {low} and {high}, got {number}")
        return number

    def page_args(self) -> dict[str, Any]:
        order = [o for value in self.get_query_arguments("order_by") for o in value.split(",") if o.strip()]
        return {
            "filter": self.get_query_argument("filter", None),
            "order_by": order or None,
            "max_results": self.integer("page_size", DEFAULT_PAGE, 1, MAX_PAGE),
            "page_token": self.get_query_argument("page_token", None) or None,
            "include_children": self.flag("include_children"),
        }

    def confined(self, relative: str, what: str) -> Path:
        """A path below the server's root; anything that escapes it is refused."""
        if not isinstance(relative, str) or not relative.strip():
            raise InvalidArgumentError(f"{what} must be a path relative to the server root")
        if "\x00" in relative:  # no file name holds NUL; the OS would refuse it with a ValueError
            raise InvalidArgumentError(f"{what} {relative[:80]!r} contains a NUL character")
        root = self.state.root_dir
        try:
            path = (root / relative.lstrip("/")).resolve()
            path.exists()  # raises for what no file can be (a name too long for the file system)
        except (OSError, ValueError) as exc:
            raise InvalidArgumentError(
                f"{what} {relative[:80]!r} is not a usable path: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        if path != root and root not in path.parents:
            raise InvalidArgumentError(f"{what} {relative!r} is outside the server root")
        return path

    # -- output -------------------------------------------------------------------------------------------
    def send(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(encode(data))

    async def reply(self, fn: Callable[[], Any], status: int = 200) -> None:
        """Run a core call and encode its answer off the event loop, then send it."""
        body = await self.call(lambda: encode(fn()))
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    async def stream_blob(self, ws: Workspace, digest: str, path: str) -> None:
        """Send a stored file (a run's or a model's) in chunks, named ``path``; ``?download=true`` saves it.

        Files are whatever a job wrote, so the browser must never run them on the Jupyter origin: only
        passive types (text, JSON, raster images) are shown inline, anything a browser renders actively
        (HTML, SVG, XML, PDF, scripts, ...) is an attachment, and every file answer carries a sandbox CSP
        (no script, a unique origin) and ``nosniff``. The front end fetches previews with ``fetch`` and
        shows images with ``<img>``: neither is affected by these headers.
        """
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        self.set_header("Content-Type", kind)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", f"{self.content_security_policy}; {FILE_CSP}")
        inline = kind in INLINE_TYPES and not self.flag("download")
        self.set_header("Content-Disposition", content_disposition("inline" if inline else "attachment", path))
        stream = await self.call(ws.services.queries.open_blob, digest)
        try:
            while chunk := await self.call(stream.read, 1 << 20):
                self.write(chunk)
                await self.flush()
        finally:
            stream.close()
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """The one error translator: MlwsError -> its status; everything answers JSON, no traceback."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlwsError):
            status_code, kind, message = exc.http_status, type(exc).__name__, exc.message
        elif isinstance(exc, web.HTTPError):
            kind, message = "HTTPError", exc.log_message or self._reason
        else:
            kind, message = "InternalError", "the server failed to answer; see its log"
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"type": kind, "message": message}}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlwsError):
            self.log.info("%s %s: %s", self.request.method, self.request.uri, value)
            return
        super().log_exception(typ, value, tb)

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, MlwsError):
            self.log_exception(type(e), e, e.__traceback__)
            if not self._finished:
                self.send_error(e.http_status, exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)
