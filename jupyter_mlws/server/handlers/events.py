"""``GET events``: the server-sent-event stream of run, model and activity changes."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from tornado.iostream import StreamClosedError

from ...errors import InvalidArgumentError
from ..base import MlwsHandler

__all__ = ["EventsHandler"]

EVENT_ID = re.compile(r"-?[0-9]+")
MAX_ID_DIGITS = 19  # ids are 64-bit integers; a longer number is no id and overflows the database driver


class EventsHandler(MlwsHandler):
    """Server-sent events: ``event: run.status`` and a JSON ``data:`` line; ``Last-Event-ID`` resumes."""

    KEEPALIVE_S = 15.0
    _closed: asyncio.Event | None = None

    def on_connection_close(self) -> None:
        # Wake the stream at once so a departed client stops costing a subscription (and a poller).
        if self._closed is not None:
            self._closed.set()

    async def get(self) -> None:
        hub = self.hub
        resume = self.request.headers.get("Last-Event-ID") or self.get_query_argument("last_event_id", None)
        after = await self._resume_after(resume)
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        queue = hub.subscribe(after)
        self._closed = asyncio.Event()
        last = after
        try:
            self.write("retry: 2000\n\n")
            await self.flush()
            for event in await hub.backlog(after):
                last = await self._send(event, last)
            closed = asyncio.ensure_future(self._closed.wait())
            while not self._closed.is_set():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, closed}, timeout=self.KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    if closed in done:
                        break
                    self.write(": keep-alive\n\n")
                    await self.flush()
                    continue
                last = await self._send(getter.result(), last)
            closed.cancel()
        except StreamClosedError:
            pass
        finally:
            hub.unsubscribe(queue)

    async def _resume_after(self, resume: str | None) -> int:
        """The event id to resume after. Not an integer: a 400 (no EventSource sends one: it echoes the
        ids this stream sent). An integer that no event of this feed can have (negative, beyond the
        newest event, or longer than a 64-bit id, e.g. from a workspace since re-created) resumes from
        now: an EventSource treats any error answer as final and would never reconnect, while a
        resume from now keeps the stream live (the client reloads what it shows, as on a first
        connection)."""
        latest = await self.hub.latest_id()
        if resume is None:
            return latest
        text = resume.strip()
        if not EVENT_ID.fullmatch(text):
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise InvalidArgumentError(f"Last-Event-ID must be an event id (an integer), not {shown!r}")
        after = int(text) if len(text) <= MAX_ID_DIGITS else -1
        return after if 0 <= after <= latest else latest

    async def _send(self, event: Any, last: int) -> int:
        if event.id <= last:
            return last  # already sent from the backlog
        self.write(f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.data, default=str)}\n\n")
        await self.flush()
        return int(event.id)
