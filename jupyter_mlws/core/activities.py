"""Activities: long operations (environment builds; later deployments and pipeline runs) recorded
with their status, a one-line progress text and their log, so the sidebar and the notebook can show
them while they run and after they end. Every change is an ``activity.updated`` event.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from .entities import ActivityRecord
from .services.feed import ACTIVITY_STATUSES

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["ACTIVITY_STATUSES", "Activity", "ActivityRecorder"]

MAX_LOG_CHARS = 1_000_000  # the newest part of a log is the part that explains a failure
LOG_FLUSH_S = 1.0


class Activity:
    """Read access: ``Activity.list(ws)`` (newest first) and ``Activity.get(ws, activity_id)``."""

    @staticmethod
    def list(
        workspace: Workspace, kind: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[ActivityRecord]:
        return workspace.services.activities.activities(kind=kind, status=status, limit=limit)

    @staticmethod
    def get(workspace: Workspace, activity_id: str) -> ActivityRecord:
        return workspace.services.activities.activity(activity_id)


class ActivityRecorder:
    """Records one activity as it happens. Without a workspace it only keeps the log in memory
    (``Environment.build()`` called on its own), so builders need no special case."""

    def __init__(
        self,
        workspace: Workspace | None,
        kind: str,
        name: str,
        run_id: str | None = None,
        details: dict[str, Any] | None = None,
        lazy: bool = False,
    ) -> None:
        self.workspace = workspace
        self.activity_id = f"{kind}_{int(time.time())}_{uuid.uuid4().hex[:8]}"
        self._record = ActivityRecord(
            self.activity_id, kind, name, "Running", time.time(), run_id=run_id, details=details or {}
        )
        self.created = False
        self.run_id = run_id
        self._lines: list[str] = []
        self._chars = 0
        self._dirty = False
        self._last_flush = 0.0
        self._lock = threading.Lock()
        self.listeners: list[Any] = []  # callables given each log line (e.g. a run's build log file)
        # Cancel: set by whoever learns the build is no longer wanted; builders stop what runs.
        self.canceled = threading.Event()
        self._stoppers: list[Any] = []
        if not lazy:
            self._create()

    def _create(self) -> None:
        """Record the activity (a lazy recorder does so at its first progress: a cache hit is no activity)."""
        if self.workspace is not None and not self.created:
            self.workspace.services.activities.record(self._record)
        self.created = True

    def cancel(self) -> None:
        """Stop the build: kill the step running now (a pip process, a build container)."""
        self.canceled.set()
        for stop in list(self._stoppers):
            try:
                stop()
            except Exception:  # noqa: S110 - it ended meanwhile
                pass

    def on_cancel(self, stop: Any) -> Any:
        """Register ``stop`` to be called on cancel (at once if canceled already); returns a remover."""
        self._stoppers.append(stop)
        if self.canceled.is_set():
            stop()
        return lambda: self._stoppers.remove(stop) if stop in self._stoppers else None

    @property
    def log_text(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def log(self, line: str) -> None:
        if not line.endswith("\n"):
            line += "\n"
        with self._lock:
            self._lines.append(line)
            self._chars += len(line)
            while self._chars > MAX_LOG_CHARS and len(self._lines) > 1:
                self._chars -= len(self._lines.pop(0))
            self._dirty = True
        for listener in self.listeners:
            listener(line)
        if time.monotonic() - self._last_flush >= LOG_FLUSH_S:
            try:
                self.flush()
            except Exception:  # the lines stay here and go with the next flush
                self._dirty = True

    def progress(self, text: str) -> None:
        self._create()
        self.log(f"--- {text}")
        if self.workspace is not None:
            self.workspace.services.activities.update(self.activity_id, progress=text)

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if self.workspace is None or not self.created or not self._dirty:
            return
        self._dirty = False
        self.workspace.services.activities.update(self.activity_id, log=self.log_text)

    def finish(self, details: dict[str, Any] | None = None, progress: str | None = None) -> None:
        self._end("Completed", None, details, progress)

    def fail(self, message: str, details: dict[str, Any] | None = None) -> None:
        self._end("Failed", {"message": message}, details)

    def _end(
        self, status: str, error: dict[str, Any] | None, details: dict[str, Any] | None, progress: str | None = None
    ) -> None:
        if status == "Failed":
            self._create()
        if self.workspace is None or not self.created:
            return
        fields: dict[str, Any] = {"status": status, "end_time": time.time(), "error": error, "log": self.log_text}
        if details is not None:
            fields["details"] = details
        if progress is not None:
            fields["progress"] = progress
        self.workspace.services.activities.update(self.activity_id, **fields)
