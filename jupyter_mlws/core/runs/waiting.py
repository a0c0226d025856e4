"""Waiting for a run to end, optionally streaming its driver log and a summary to the terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...errors import ActivityFailedException, InvalidArgumentError
from ..layout import DRIVER_LOG
from ..status import TERMINAL_STATUSES, RunStatus
from ..values import finite_number
from .base import RunBase

if TYPE_CHECKING:
    from ..entities import RunRecord

__all__ = ["RECONCILE_EVERY_S", "RunWaiting", "next_poll_delay"]

RECONCILE_EVERY_S = 2.0  # how often wait_for_completion checks that a job's supervisor lives
# Adaptive polling (issue 22): a short job is seen ending within a few ms, a long one costs one
# status read every half second. The first 5 s poll at least every 20 ms, and each status change
# starts again from a few ms (a job that just started Running often ends right away).
POLL_FIRST_S = 0.004
POLL_QUICK_MAX_S = 0.02
POLL_MAX_S = 0.5
POLL_QUICK_PERIOD_S = 5.0


def next_poll_delay(delay: float, waited: float) -> float:
    """The pause after ``delay`` when the wait has lasted ``waited`` seconds: x1.5, capped at 20 ms in
    the first 5 s and at 0.5 s after."""
    return min(delay * 1.5, POLL_QUICK_MAX_S if waited < POLL_QUICK_PERIOD_S else POLL_MAX_S)


class RunWaiting(RunBase):
    def _wait_driven(self, timeout: float | None, on_poll: Callable[[], None] | None, what: str) -> RunRecord:
        """Wait for a driven run (a pipeline run, a sweep) to end, calling ``on_poll`` each look (to
        print its children's changes). Every 2 s the run's health is checked: a driver that died is
        dealt with (a pipeline ends, a sweep gets a new controller from an agent this brings up)."""
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        next_check = 0.0
        delay = 0.02
        while True:
            record = self._queries.run(self._id)
            if on_poll is not None:
                on_poll()
            if record.status in TERMINAL_STATUSES:
                self._record = record
                return record
            now = time.monotonic()
            if now >= next_check:
                self._workspace.reconcile_jobs([self._id])
                next_check = now + 2.0
            if deadline is not None and now >= deadline:
                raise TimeoutError(f"{what} {self._id} did not end within {timeout} s; it goes on")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def wait_for_completion(
        self,
        show_output: bool = False,
        timeout: float | None = None,
        raise_on_error: bool = True,
        *,
        wait_post_processing: bool = False,
    ) -> dict[str, Any]:
        """Block until the run is Completed, Failed or Canceled; returns ``get_details()``.

        ``show_output=True`` streams the driver log as it grows and ends with a summary. Ctrl-C
        stops only the waiting: the run goes on (``run.cancel()`` stops it).

        ``wait_post_processing`` is Azure ML v1's keyword and changes nothing here: a job's run
        ends only once its outputs and logs are stored, so there is no post-processing left to wait
        for. v1's positional order (``show_output, wait_post_processing, raise_on_error``) works too:
        a ``True``/``False`` where ``timeout`` stands is taken as ``wait_post_processing``.
        """
        if isinstance(timeout, bool):  # v1: wait_for_completion(True, False) — no timeout is a bool
            wait_post_processing, timeout = timeout, None
        if not isinstance(wait_post_processing, bool):
            raise InvalidArgumentError(f"wait_post_processing must be True or False, got {wait_post_processing!r}")
        if timeout is not None:
            timeout = finite_number("timeout", timeout)  # NaN would wait forever, as None does
            if timeout < 0:
                raise InvalidArgumentError(f"timeout must be a number of seconds >= 0 or None, got {timeout!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = POLL_FIRST_S
        seen: RunStatus | None = None
        begun = time.monotonic()
        next_reconcile = begun + RECONCILE_EVERY_S
        stream = _LogStream(self) if show_output else None
        if stream is not None:
            stream.begin()
        try:
            while True:
                if self._record.compute_target is not None and time.monotonic() >= next_reconcile:
                    # Waiting is not reading: a job whose supervisor (and agent) died must still end,
                    # and a queued one whose dispatcher died must still be dispatched.
                    self._workspace.reconcile_jobs([self._id])
                    next_reconcile = time.monotonic() + RECONCILE_EVERY_S
                status = self.status
                if status != seen:
                    seen, delay = status, POLL_FIRST_S
                if stream is not None:
                    stream.status(status)
                    stream.log()
                if status in TERMINAL_STATUSES:
                    if stream is not None:
                        stream.log()
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"run {self._id} is still {status.value} after {timeout} s")
                time.sleep(delay)
                # Quick answers for short jobs, then gentler polling for long ones.
                delay = next_poll_delay(delay, time.monotonic() - begun)
        except KeyboardInterrupt:
            print(f"\nStopped waiting; run {self._id} goes on (run.cancel() stops it).", flush=True)
            return self._queries.details(self._id)
        details = self._queries.details(self._id)
        if stream is not None:
            stream.summary(details)
        if raise_on_error and status in (RunStatus.FAILED, RunStatus.CANCELED):
            message = (details.get("error") or {}).get("message", "")
            raise ActivityFailedException(f"run {self._id} ended {status.value}" + (f": {message}" if message else ""))
        return details


class _LogStream:
    """What ``wait_for_completion(show_output=True)`` prints, laid out as Azure ML v1 prints it:
    ``RunId:`` and ``Web View:`` (the run's page in JupyterLab), ``Streaming user_logs/std_log.txt``
    over the driver log as it grows, then an ``Execution Summary``. Status changes seen before the
    log starts are printed as ``Status:`` lines."""

    def __init__(self, run: RunBase) -> None:
        self._run = run
        self._offset = 0
        self._streaming = False
        self._last: RunStatus | None = None
        self._url = ""

    def begin(self) -> None:
        from ..portal import run_page_url

        self._url = run_page_url(self._run.workspace.root, self._run.id)
        _out(f"RunId: {self._run.id}\nWeb View: {self._url}\n")

    def status(self, status: RunStatus) -> None:
        if status != self._last and not self._streaming:
            _out(f"Status: {status.value}\n")
        self._last = status

    def log(self) -> None:
        queries = self._run.workspace.services.queries
        while True:
            data, offset = queries.read_log(self._run.id, self._offset)
            if not data:
                return
            if not self._streaming:
                self._streaming = True
                _out(f"\nStreaming {DRIVER_LOG}\n{'=' * (10 + len(DRIVER_LOG))}\n\n")
            _out(data.decode("utf-8", errors="replace"))
            self._offset = offset

    def summary(self, details: dict[str, Any]) -> None:
        lines = ["", "Execution Summary", "=================", f"RunId: {details['runId']}", f"Web View: {self._url}"]
        lines.append(f"Status: {details['status']}")
        if details.get("startTimeUtc") and details.get("endTimeUtc"):
            lines.append(f"Started: {details['startTimeUtc']}  Ended: {details['endTimeUtc']}")
        if "error" in details:
            lines.append(f"Error: {details['error'].get('message')}")
        _out("\n".join(lines) + "\n\n")


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
