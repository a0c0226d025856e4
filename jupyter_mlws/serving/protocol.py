"""The scoring worker's HTTP/1.1: an ``asyncio.Protocol`` on httptools' request parser (issue 17).

Requests are handled inline, in the parser's ``on_message_complete``: one at a time per connection,
in order, so pipelined requests are answered in order. Keep-alive, chunked request bodies and the
body limit (413 from ``Content-Length`` before the body is read, or as a chunked body grows) are
handled here; routing, auth and scoring belong to the :class:`Handler` (the worker).
"""

from __future__ import annotations

import asyncio
import http
import time
from typing import Protocol

import httptools

__all__ = ["Handler", "HttpProtocol", "response_head"]

KEEP_ALIVE_S = 5.0
_DISCARD_LIMIT = 1 << 30  # a rejected body is read (and dropped) up to this much, then the connection closes

# A client's x-request-id is kept when it is made of these (it goes into logs and JSON lines unescaped).
_ID_CHARS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:"
_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in http.HTTPStatus}


def response_head(status: int, content_type: bytes, length: int, request_id: bytes, close: bool) -> bytes:
    """Status line and headers of a response (the body follows)."""
    return b"".join(
        (
            _STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n".encode(),
            b"content-type: ",
            content_type,
            b"\r\ncontent-length: ",
            str(length).encode(),
            b"\r\nx-request-id: ",
            request_id,
            b"\r\nconnection: close\r\n\r\n" if close else b"\r\n\r\n",
        )
    )


class Handler(Protocol):
    """What a connection needs from the worker."""

    max_request_bytes: int
    draining: bool
    connections: set[HttpProtocol]

    def handle(self, conn: HttpProtocol) -> None: ...

    def too_large(self, conn: HttpProtocol) -> None: ...

    def bad_request(self, conn: HttpProtocol, message: str) -> None: ...

    def connection_closed(self, conn: HttpProtocol) -> None: ...


class HttpProtocol(asyncio.Protocol):
    """One client connection. The handler reads the parsed request from the public attributes and
    answers with :meth:`respond`."""

    __slots__ = (
        "auth",
        "body",
        "body_size",
        "busy",
        "closed",
        "continue_expected",
        "discarding",
        "handler",
        "idle_since",
        "parser",
        "request_id",
        "started",
        "started_perf",
        "transport",
        "url",
    )

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.auth: bytes | None = None
        self.request_id: bytes | None = None
        self.body: list[bytes] = []
        self.body_size = 0
        self.busy = False
        self.closed = False
        self.discarding = False
        self.continue_expected = False
        self.started = 0.0
        self.started_perf = 0.0
        self.idle_since = time.monotonic()

    # -- asyncio ------------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.handler.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.handler.connections.discard(self)
        self.handler.connection_closed(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.handler.bad_request(self, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            if not self.closed:
                self.handler.bad_request(self, f"malformed HTTP request: {exc}")

    def pause_writing(self) -> None:
        # The client does not read its responses (pipelining): stop reading its requests meanwhile.
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    # -- httptools callbacks --------------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.busy = True
        self.url = b""
        self.auth = None
        self.request_id = None
        self.body = []
        self.body_size = 0
        self.discarding = False
        self.continue_expected = False
        self.started = time.time()
        self.started_perf = time.perf_counter()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"authorization":
            self.auth = value
        elif name == b"content-length":
            try:
                size = int(value)
            except ValueError:
                return  # the parser rejects it
            if size > self.handler.max_request_bytes:
                self.discarding = True
        elif name == b"x-request-id" and 0 < len(value) <= 128 and not value.translate(None, _ID_CHARS):
            self.request_id = value
        elif name == b"expect" and value.lower() == b"100-continue":
            self.continue_expected = True

    def on_headers_complete(self) -> None:
        if self.discarding and not self.closed:
            self.handler.too_large(self)  # answered before the body is read; the body is dropped
        elif self.continue_expected and self.transport is not None and not self.closed:
            # curl asks before sending a body over 1 KB, and waits a second for this unless answered.
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, chunk: bytes) -> None:
        self.body_size += len(chunk)
        if self.discarding:
            if self.body_size > _DISCARD_LIMIT:
                self.close()
            return
        if self.body_size > self.handler.max_request_bytes:  # a chunked body grew past the limit
            self.discarding = True
            self.body = []
            self.handler.too_large(self)
            return
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        if self.closed:
            return
        if self.discarding:
            self.close()  # the 413 went out with "connection: close"
            return
        self.handler.handle(self)
        self.busy = False
        self.idle_since = time.monotonic()

    # -- answering -----------------------------------------------------------------------------------------
    def keep_alive(self) -> bool:
        return not self.handler.draining and not self.discarding and self.parser.should_keep_alive()

    def respond(self, head: bytes, body: bytes, close: bool) -> None:
        transport = self.transport
        if transport is None or self.closed:
            return
        transport.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            transport.write(body)
        if close:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.busy = False
            if self.transport is not None:
                self.transport.close()
