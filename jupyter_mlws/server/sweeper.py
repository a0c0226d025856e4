"""A periodic sweep of the workspace's jobs while Jupyter Server runs.

Reading a run never changes it (DESIGN §1), so a job whose supervisor and agent both died would stay
Running in the sidebar until someone waits on it, and so would an interactive run whose process was
killed. Every few seconds the server calls ``Workspace.reconcile_jobs()``, which ends such runs with
the reason (what they logged kept) and restarts a dispatcher for queued jobs, in a worker thread:
the IO loop never waits for the store or for the process checks.

``ScheduleTicker`` does the same for pipeline schedules (issue 16): about once a second it calls
``jupyter_mlws.pipelines.scheduler.tick``, which fires due schedules, each fire claimed once across
every server and agent on the workspace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from tornado.ioloop import PeriodicCallback

from ..core.workspace import Workspace

__all__ = ["JobSweeper", "ScheduleTicker"]

DEFAULT_INTERVAL_S = 10.0
DEFAULT_SCHEDULES_INTERVAL_S = 1.0


class JobSweeper:
    """``start()`` sweeps every ``interval`` seconds (one sweep at a time); ``stop()`` ends it."""

    what = "the job sweep"

    def __init__(
        self,
        workspace: Callable[[], Workspace | None],
        interval: float = DEFAULT_INTERVAL_S,
        log: logging.Logger | None = None,
    ) -> None:
        self._workspace = workspace
        self.interval = interval
        self.log = log or logging.getLogger(__name__)
        self._callback: PeriodicCallback | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._running: Future[list[str]] | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._callback is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlws-sweeper")
        self._callback = PeriodicCallback(self._tick, self.interval * 1000)
        self._callback.start()

    def stop(self) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def sweep(self) -> list[str]:
        """One sweep, in the calling thread: the ids of the runs it ended."""
        ws = self._workspace()
        if ws is None:
            return []  # no workspace yet: no jobs either
        ended = ws.reconcile_jobs()
        for run_id in ended:
            self.log.info("jupyter_mlws: ended run %s, the process that ran it is gone", run_id)
        if ws.webservices:
            # Deployed services outlive a reboot: the dispatcher agent's serving task restarts their
            # supervisors, so a Jupyter server opened on the workspace makes sure the agent runs.
            ws.compute_targets["local"].backend().ensure_dispatching()
        return ended

    def _tick(self) -> None:
        if self._executor is None or (self._running is not None and not self._running.done()):
            return  # the previous sweep is still at work (a slow store): skip this one
        self._running = self._executor.submit(self.sweep)
        self._running.add_done_callback(self._done)

    def _done(self, future: Future[list[str]]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:  # a store hiccup: the next sweep tries again
            self.log.warning("jupyter_mlws: %s failed: %s: %s", self.what, type(error).__name__, error)


class ScheduleTicker(JobSweeper):
    """Fires due pipeline schedules every ``interval`` seconds (one tick at a time), in a worker thread."""

    what = "the schedule tick"

    def __init__(
        self,
        workspace: Callable[[], Workspace | None],
        interval: float = DEFAULT_SCHEDULES_INTERVAL_S,
        log: logging.Logger | None = None,
    ) -> None:
        super().__init__(workspace, interval, log)

    def sweep(self) -> list[str]:
        """One tick, in the calling thread: the ids of the pipeline runs it started."""
        ws = self._workspace()
        if ws is None:
            return []  # no workspace yet: no schedules either
        from ..pipelines.scheduler import tick

        fired = tick(ws)
        for run_id in fired:
            self.log.info("jupyter_mlws: a schedule started pipeline run %s", run_id)
        return fired
