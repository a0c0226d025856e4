"""The scoring server of a deployed model: one worker process (issue 17, notes/serving.md).

    python -m jupyter_mlws.serving.worker --config GEN/config.json --control SERVICE_DIR/run/control.sock
    python -m jupyter_mlws.serving.worker --config CONFIG.json --port 5001 [--host 0.0.0.0]

With ``--control`` the supervisor hands the listening socket over the control socket (SCM_RIGHTS)
and hears ``{"event": "ready"}`` or ``{"event": "failed", "error": traceback}``; with ``--port`` the
worker binds itself (packaged images). Without ``--config`` the configuration is read from the
environment variable ``MLWS_SERVICE_CONFIG`` (a path, or the JSON itself).

Speed matters here, so: uvloop when importable, httptools, orjson, ``run()`` called inline on the
event loop (a per-request timeout by ``SIGALRM``), headers built from precomputed pieces, and
telemetry/capture buffered and written by a once-a-second timer. This module runs alone in packaged
images: it imports nothing of the project but ``jupyter_mlws.serving``'s own worker modules.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import itertools
import json
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from jupyter_mlws.serving.capture import CaptureWriter
from jupyter_mlws.serving.layout import unix_address
from jupyter_mlws.serving.protocol import KEEP_ALIVE_S, HttpProtocol, response_head
from jupyter_mlws.serving.schema import swagger_document
from jupyter_mlws.serving.scoring import EntryScriptScorer, MlflowScorer, RequestError, Scorer
from jupyter_mlws.serving.telemetry import TelemetryWriter

__all__ = ["WorkerConfig", "load_config", "main", "serve"]

EXIT_INIT_FAILED = 3
DRAIN_LIMIT_S = 30.0
_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
_DUMPS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


@dataclass
class WorkerConfig:
    """``config.json`` of a deployment generation (notes/serving.md)."""

    service: str = "service"
    generation: int = 0
    entry_script: str | None = None
    source_dir: str = "."
    model_dir: str = "."
    models: list[str] = field(default_factory=list)
    auth: bool = False
    keys_file: str | None = None
    # A packaged image's keys: the name of an environment variable that, when set (non-empty) as the
    # worker starts, holds the key ("primary" or "primary,secondary"); it turns auth on.
    key_env: str | None = None
    max_request_bytes: int = 33554432
    request_timeout_s: float = 60.0
    telemetry_dir: str | None = None
    capture_dir: str | None = None
    capture_sample_rate: float = 1.0
    environment_variables: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known and v is not None})


def load_config(path: str | None) -> WorkerConfig:
    """The worker's configuration from a file, or from ``MLWS_SERVICE_CONFIG`` (a path or JSON text)."""
    if path is None:
        value = os.environ.get("MLWS_SERVICE_CONFIG")
        if not value:
            raise SystemExit("give --config CONFIG.json or set MLWS_SERVICE_CONFIG")
        text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return WorkerConfig.from_dict(json.loads(text))


def build_scorer(config: WorkerConfig) -> Scorer:
    """Import the entry script and call its ``init()``, or load the pickled model (MLflow shapes)."""
    os.environ.update({str(k): str(v) for k, v in config.environment_variables.items()})
    if config.entry_script:
        return EntryScriptScorer(config.source_dir, config.entry_script, config.model_dir)
    return MlflowScorer(config.model_dir)


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    sys.stderr.write(f"{stamp} worker[{os.getpid()}] {message}\n")
    sys.stderr.flush()


def _error(message: str, correlation_id: str | None = None) -> bytes:
    error: dict[str, str] = {"message": message}
    if correlation_id is not None:
        error["correlation_id"] = correlation_id
    return orjson.dumps({"error": error})


def _jsonable(obj: Any) -> Any:
    """orjson's fallback: pandas objects, numpy arrays it cannot take directly, sets, decimals."""
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict) and hasattr(obj, "columns"):
        return to_dict(orient="records")
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if type(obj).__name__ == "Decimal":
        return float(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


class ScoringTimeout(BaseException):
    """Raised inside ``run()`` by SIGALRM when the request's time is up (a BaseException, so that a
    run() catching ``Exception`` lets it by)."""


class Keys:
    """The service's keys, re-read when ``keys_file``'s mtime changes (looked at most once a second),
    or ``fixed`` ones (``"primary[,secondary]"``, from the variable ``key_env`` names)."""

    def __init__(self, path: str | None, fixed: str = "") -> None:
        self.path = path
        self.fixed = tuple(b"Bearer " + k.strip().encode() for k in fixed.split(",") if k.strip())
        self.accepted: tuple[bytes, ...] = self.fixed
        self._mtime: float | None = None
        self._checked = 0.0
        self.refresh(force=True)

    def refresh(self, now: float = 0.0, force: bool = False) -> None:
        if self.fixed or (not force and now - self._checked < 1.0):
            return
        self._checked = now or time.monotonic()
        if self.path is None:
            self.accepted = ()
            return
        try:
            mtime = os.stat(self.path).st_mtime_ns
            if mtime == self._mtime and not force:
                return
            data = json.loads(Path(self.path).read_text(encoding="utf-8"))
            keys = [data.get("primary"), data.get("secondary")]
            self.accepted = tuple(b"Bearer " + k.encode() for k in keys if isinstance(k, str) and k)
            self._mtime = mtime
        except (OSError, ValueError, AttributeError) as exc:
            _log(f"cannot read the keys file {self.path}: {exc}; every scoring request is refused")
            self.accepted = ()
            self._mtime = None

    def check(self, header: bytes | None) -> bool:
        if not header:
            return False
        scheme, _, token = header.strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        presented = b"Bearer " + token.strip()
        ok = False
        for accepted in self.accepted:
            ok |= hmac.compare_digest(presented, accepted)
        return ok


class ScoringServer:
    """Routes, auth, scoring, telemetry and capture of one worker; the :class:`HttpProtocol` handler."""

    def __init__(self, config: WorkerConfig, scorer: Scorer) -> None:
        self.config = config
        self.scorer = scorer
        self.max_request_bytes = int(config.max_request_bytes)
        self.timeout = float(config.request_timeout_s)
        self.draining = False
        self.connections: set[HttpProtocol] = set()
        env_key = os.environ.get(config.key_env, "").strip() if config.key_env else ""
        self.keys = Keys(None, env_key) if env_key else Keys(config.keys_file) if config.auth else None
        self.telemetry = (
            TelemetryWriter(config.telemetry_dir, models=",".join(config.models), generation=config.generation)
            if config.telemetry_dir
            else None
        )
        self.capture = (
            CaptureWriter(config.capture_dir, config.capture_sample_rate)
            if config.capture_dir and config.capture_sample_rate > 0
            else None
        )
        self.swagger = orjson.dumps(
            swagger_document(
                config.service,
                auth=self.keys is not None,
                input_schema=scorer.input_schema,
                output_schema=scorer.output_schema,
            )
        )
        self._armed = False
        self.done: asyncio.Future[None] | None = None
        # Request ids: a random prefix per worker and a counter (unique, and cheaper than a uuid4 each).
        self._id_prefix = os.urandom(8).hex()
        self._id_counter = itertools.count(1)
        signal.signal(signal.SIGALRM, self._alarm)

    # -- the protocol's handler ---------------------------------------------------------------------------
    def handle(self, conn: HttpProtocol) -> None:
        url = conn.url
        q = url.find(b"?")
        path = url if q < 0 else url[:q]
        method = conn.parser.get_method()
        rid = conn.request_id or self.new_request_id()
        content_type = _JSON
        if path == b"/score":
            if method == b"POST":
                status, body, content_type = self.score(conn, rid)
            else:
                status, body = 405, _error("use POST on /score")
        elif path == b"/":
            if method == b"GET" or method == b"HEAD":
                status, body, content_type = 200, b"Healthy", _TEXT
            else:
                status, body = 405, _error("use GET on /")
        elif path == b"/swagger.json":
            if method == b"GET":
                status, body = 200, self.swagger
            else:
                status, body = 405, _error("use GET on /swagger.json")
        else:
            status, body = 404, _error(f"no such path: {path.decode('latin-1')}; POST /score to score")
        close = not conn.keep_alive()
        conn.respond(
            response_head(status, content_type, len(body), rid, close), b"" if method == b"HEAD" else body, close
        )
        if self.telemetry is not None:
            self.telemetry.rows.append(
                (
                    conn.started,
                    status,
                    (time.perf_counter() - conn.started_perf) * 1000.0,
                    conn.body_size,
                    len(body),
                    path.decode("latin-1"),
                    method.decode("latin-1"),
                    rid.decode("latin-1"),
                )
            )

    def new_request_id(self) -> bytes:
        return f"{self._id_prefix}{next(self._id_counter):016x}".encode()

    def score(self, conn: HttpProtocol, rid: bytes) -> tuple[int, bytes, bytes]:
        if self.keys is not None:
            self.keys.refresh(time.monotonic())
            if not self.keys.check(conn.auth):
                message = "a key is required: Authorization: Bearer <key>" if not conn.auth else "the key is wrong"
                return 401, _error(message), _JSON
        body = conn.body[0] if len(conn.body) == 1 else b"".join(conn.body)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return 400, _error(f"the request body is not valid JSON: {exc}"), _JSON
        try:
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
            self._armed = True
            try:
                reply = self.scorer.score(body, payload)
            finally:
                self._armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
            status, out, content_type = self.encode(reply)
        except RequestError as exc:
            return 400, _error(str(exc)), _JSON
        except ScoringTimeout:
            cid = rid.decode("latin-1")
            _log(f"request {cid}: run() took longer than {self.timeout:g} s and was interrupted")
            return 504, _error(f"{self.scorer.what} took longer than {self.timeout:g} s", cid), _JSON
        except (Exception, SystemExit):
            cid = rid.decode("latin-1")
            _log(f"request {cid}: {self.scorer.what} raised (correlation id {cid})\n{traceback.format_exc()}")
            return 500, _error(f"{self.scorer.what} raised an error; see the service log", cid), _JSON
        if self.capture is not None and self.capture.sampled():
            try:
                self.capture.add(rid.decode("latin-1"), conn.started, payload, reply)
            except Exception:
                _log(f"request {rid.decode('latin-1')}: input capture failed\n{traceback.format_exc()}")
        return status, out, content_type

    def encode(self, reply: Any) -> tuple[int, bytes, bytes]:
        """Status, body and content type of run()'s value: JSON (a string as a JSON string, as v1's server
        does); ``bytes`` as they are; a response object (v1's AMLResponse, a Flask response:
        ``status_code`` + ``get_data()`` + ``mimetype``) with its own status, body and content type."""
        if isinstance(reply, bytes | bytearray):
            return 200, bytes(reply), b"application/octet-stream"
        get_data = getattr(reply, "get_data", None)
        status = getattr(reply, "status_code", None)
        if callable(get_data) and isinstance(status, int):
            data = get_data()
            mimetype = getattr(reply, "mimetype", None) or "application/json"
            return status, (data if isinstance(data, bytes) else str(data).encode()), str(mimetype).encode()
        return 200, orjson.dumps(reply, option=_DUMPS, default=_jsonable), _JSON

    def _alarm(self, signum: int, frame: Any) -> None:
        if self._armed:
            self._armed = False
            raise ScoringTimeout

    def too_large(self, conn: HttpProtocol) -> None:
        rid = conn.request_id or self.new_request_id()
        body = _error(f"the request body is larger than {self.max_request_bytes} bytes")
        conn.respond(response_head(413, _JSON, len(body), rid, True), body, close=False)
        self._row(conn, 413, len(body), rid)

    def bad_request(self, conn: HttpProtocol, message: str) -> None:
        rid = conn.request_id or self.new_request_id()
        body = _error(message)
        conn.respond(response_head(400, _JSON, len(body), rid, True), body, close=True)
        self._row(conn, 400, len(body), rid)

    def _row(self, conn: HttpProtocol, status: int, response_bytes: int, rid: bytes) -> None:
        if self.telemetry is None:
            return
        url = conn.url
        q = url.find(b"?")
        method = b""
        with contextlib.suppress(Exception):
            method = conn.parser.get_method()
        self.telemetry.add(
            conn.started or time.time(),
            status,
            (time.perf_counter() - conn.started_perf) * 1000.0 if conn.started_perf else 0.0,
            conn.body_size,
            response_bytes,
            (url if q < 0 else url[:q]).decode("latin-1"),
            method.decode("latin-1"),
            rid.decode("latin-1"),
        )

    def connection_closed(self, conn: HttpProtocol) -> None:
        if self.draining and not self.connections:
            self.finish()

    # -- housekeeping ---------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Once a second: write telemetry and capture, close connections idle ≥ the keep-alive timeout."""
        self.flush()
        now = time.monotonic()
        for conn in list(self.connections):
            if not conn.busy and now - conn.idle_since >= KEEP_ALIVE_S:
                conn.close()

    def encode_telemetry(self) -> None:
        """Between ticks: encode the telemetry rows so far (spreads the work of a busy second)."""
        if self.telemetry is not None:
            self.telemetry.encode()

    def flush(self) -> None:
        for writer in (self.telemetry, self.capture):
            if writer is not None:
                try:
                    writer.flush()
                except Exception:
                    _log(f"cannot write {type(writer).__name__}:\n{traceback.format_exc()}")

    def start_drain(self, reason: str) -> None:
        """Stop accepting; the next response on every connection closes it; idle ones close after the
        keep-alive timeout; finish when none is left (or after 30 s)."""
        if self.draining:
            return
        self.draining = True
        _log(f"draining ({reason}): {len(self.connections)} open connection(s)")
        if self.on_drain is not None:
            self.on_drain()
        loop = asyncio.get_running_loop()
        # A request may run up to its timeout: the drain waits for that (an update drops no long request).
        loop.call_later(max(DRAIN_LIMIT_S, self.timeout + 5.0), self.finish)
        if not self.connections:
            self.finish()

    on_drain: Any = None

    def finish(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(None)


async def serve(
    config: WorkerConfig, scorer: Scorer, sock: socket.socket, control: socket.socket | None = None
) -> None:
    """Serve on a listening socket until drained (SIGTERM, SIGINT, or EOF on the control socket)."""
    loop = asyncio.get_running_loop()
    server = ScoringServer(config, scorer)
    server.done = loop.create_future()
    listener = await loop.create_server(lambda: HttpProtocol(server), sock=sock, backlog=1024)
    server.on_drain = listener.close

    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks % 10 == 0:
            server.tick()
        else:
            server.encode_telemetry()
        if not server.done.done():  # type: ignore[union-attr]
            loop.call_later(0.1, tick)

    loop.call_later(0.1, tick)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.start_drain, signal.Signals(signum).name)
    if control is not None:

        def control_readable() -> None:
            try:
                data = control.recv(4096)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(control.fileno())
                server.start_drain("the control connection closed")

        control.setblocking(False)
        loop.add_reader(control.fileno(), control_readable)
        _send_event(control, {"event": "ready", "pid": os.getpid()})
    _log(f"serving {config.service} generation {config.generation} on {_address(sock)}")
    if server.keys is None:
        hint = f" (set {config.key_env} to require one)" if config.key_env else ""
        _log(f"warning: no key is required to score{hint}; anyone who reaches {_address(sock)} can call it")
    try:
        await server.done
    finally:
        server.flush()
        listener.close()
        for conn in list(server.connections):
            conn.close()
    _log("drained; exiting")


def _address(sock: socket.socket) -> str:
    try:
        host, port = sock.getsockname()[:2]
        return f"{host}:{port}"
    except (OSError, ValueError):
        return "?"


def _send_event(control: socket.socket, event: dict[str, Any]) -> None:
    data = json.dumps(event).encode() + b"\n"
    blocking = control.getblocking()
    control.setblocking(True)
    try:
        control.sendall(data)
    except OSError as exc:
        _log(f"cannot tell the supervisor {event.get('event')}: {exc}")
    finally:
        control.setblocking(blocking)


def receive_listener(control_path: str, timeout: float = 60.0) -> tuple[socket.socket, socket.socket]:
    """Connect to the supervisor's control socket and receive the listening socket (SCM_RIGHTS)."""
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.settimeout(timeout)
    with unix_address(control_path) as address:
        control.connect(address)
    _, fds, _, _ = socket.recv_fds(control, 16, 1)
    if not fds:
        raise RuntimeError(f"the supervisor at {control_path} sent no listening socket")
    control.settimeout(None)
    return control, socket.socket(fileno=fds[0])


def report_failure(control_path: str, error: str) -> None:
    """Tell the supervisor that init failed (best effort: it also sees the exit code)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control:
            control.settimeout(5.0)
            with unix_address(control_path) as address:
                control.connect(address)
            control.sendall(json.dumps({"event": "failed", "error": error}).encode() + b"\n")
            control.shutdown(socket.SHUT_WR)
            with contextlib.suppress(OSError):  # let the supervisor finish its side (it may send the fd)
                while True:
                    data, fds, _, _ = socket.recv_fds(control, 16, 4)
                    for fd in fds:
                        os.close(fd)
                    if not data:
                        break
    except OSError as exc:
        _log(f"cannot tell the supervisor at {control_path} that init failed: {exc}")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlws.serving.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="the generation's config.json (default: $MLWS_SERVICE_CONFIG)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--control", help="the supervisor's control socket (hands over the listening socket)")
    where.add_argument("--port", type=int, help="bind this port itself (packaged images)")
    parser.add_argument("--host", default=None, help="with --port: the address to bind (default: config's host)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        scorer = build_scorer(config)
    except BaseException:  # a bad config too: the supervisor hears why, with the traceback
        error = traceback.format_exc()
        _log(f"init failed:\n{error}")
        if args.control:
            report_failure(args.control, error)
        return EXIT_INIT_FAILED
    control: socket.socket | None = None
    if args.control:
        control, sock = receive_listener(args.control)
    else:
        sock = bind(args.host or config.host, args.port)
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(serve(config, scorer, sock, control))
    finally:
        loop.close()
        if control is not None:
            control.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
