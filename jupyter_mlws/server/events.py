"""One poller of the workspace's change feed per server, fanned out to server-sent-event streams.

Changes are written by any process (jobs, notebooks, the CLI) into the feed; the server reads it a
few times a second only while someone listens, so clients never poll the API in a tight loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from ..core.entities import EventRecord
from ..core.workspace import Workspace

__all__ = ["EventHub"]

PRUNE_AFTER_S = 7 * 24 * 3600


class EventHub:
    def __init__(self, workspace: Callable[[], Workspace | None], interval: float = 0.25) -> None:
        self._workspace = workspace
        self.interval = interval
        self._subscribers: set[asyncio.Queue[EventRecord]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_id: int | None = None
        self._last_prune = 0.0

    async def _run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def latest_id(self) -> int:
        ws = self._workspace()
        return 0 if ws is None else int(await self._run_sync(ws.services.events.latest_id))

    async def backlog(self, after_id: int) -> list[EventRecord]:
        """Events after ``after_id`` (a client resuming with Last-Event-ID)."""
        ws = self._workspace()
        if ws is None:
            return []
        events: list[EventRecord] = await self._run_sync(ws.services.events.read, after_id, 10_000)
        return events

    def subscribe(self, after_id: int) -> asyncio.Queue[EventRecord]:
        queue: asyncio.Queue[EventRecord] = asyncio.Queue(maxsize=10_000)
        self._subscribers.add(queue)
        if self._last_id is None:
            self._last_id = after_id  # later subscribers read their own backlog and skip repeats by id
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())
        return queue

    def unsubscribe(self, queue: asyncio.Queue[EventRecord]) -> None:
        self._subscribers.discard(queue)

    async def _poll(self) -> None:
        while self._subscribers:
            try:
                await self._tick()
            except Exception:  # noqa: S110 - a store hiccup must not end the stream; try again next tick
                pass
            await asyncio.sleep(self.interval)
        self._task = None

    async def _tick(self) -> None:
        ws = self._workspace()
        if ws is None:
            return
        events: list[EventRecord] = await self._run_sync(ws.services.events.read, self._last_id or 0, 1000)
        for event in events:
            self._last_id = event.id
            for queue in list(self._subscribers):
                with contextlib.suppress(asyncio.QueueFull):  # a stuck client misses events, no one else
                    queue.put_nowait(event)
        now = time.time()
        if now - self._last_prune > 3600:
            self._last_prune = now
            await self._run_sync(ws.services.events.prune, now - PRUNE_AFTER_S)

    async def close(self) -> None:
        self._subscribers.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
