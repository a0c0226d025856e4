"""Background writer: ``run.log`` appends to a queue in about a microsecond; a thread writes batches.

Guarantees: points are written in the order they were logged; ``flush()`` returns only after every
point logged before it is committed (or raises the store's error); queues are flushed at
interpreter exit and on SIGTERM. Points stay queued (never dropped) while the store is unavailable.

What SIGKILL loses (the OOM killer, a power loss too): the points still queued and a batch whose
transaction had not committed yet, i.e. about the last ``FLUSH_INTERVAL_S`` (0.05 s) of logging, or
the last batch if the store is slow (a batch is one transaction: kept whole or lost whole); while a
group holds runs' writes (``core.services.held_writes``: a ParallelRunStep's worker), up to
``HELD_FLUSH_INTERVAL_S`` (0.5 s), as long as the group holds those runs' ends too. Params,
tags and files are written synchronously and are not at risk. The run itself is ended Failed, with
the reason and everything written, by a sweep soon after (see ``core.services.liveness``).

The hot path is a single ``deque.append`` (atomic under the GIL, no lock). Consumers (the thread,
``flush``) take turns under one lock; a flush drops a marker into the queue and waits until the
batch holding it is committed, which is how "everything logged before the call" is defined.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import weakref
from collections import defaultdict, deque
from collections.abc import Iterator
from operator import itemgetter
from types import FrameType
from typing import Any

from ..errors import BackendUnavailableError, InvalidArgumentError, MlwsError
from .interfaces import MetadataStore

__all__ = ["MetricWriter", "QueuedPoint", "flush_all", "flushed_by_group_commits"]

# Short, so a burst of logging is written while it happens (SQLite releases the GIL as it inserts).
FLUSH_INTERVAL_S = 0.05
# While a group holds runs' writes in this process: its commits flush the writer (a run's points are
# written before its end), so the writer need not wake often — a transaction per 50 ms of each
# worker's short runs was a tenth of a ParallelRunStep worker's time (issue 19).
HELD_FLUSH_INTERVAL_S = 0.5
MAX_BATCH = 200_000  # points per transaction
QueuedPoint = tuple[str, str, float, int | None, float]  # run_id, name, value, step, timestamp
_RUN_ID, _POINT = itemgetter(0), itemgetter(1, 2, 3, 4)
_writers: weakref.WeakSet[MetricWriter] = weakref.WeakSet()
_groups_lock = threading.Lock()
_groups = 0  # groups of held writes open in this process (flushed_by_group_commits)


@contextlib.contextmanager
def flushed_by_group_commits() -> Iterator[None]:
    """While the block runs, this process's writers wake every ``HELD_FLUSH_INTERVAL_S``: a group of
    held writes is open, whose commits flush them (``flush`` writes everything at once, as always)."""
    global _groups
    with _groups_lock:
        _groups += 1
    try:
        yield
    finally:
        with _groups_lock:
            _groups -= 1


def _no_groups_after_fork() -> None:
    global _groups
    _groups = 0  # a forked process has no group of its own to flush its writers


os.register_at_fork(after_in_child=_no_groups_after_fork)


def flush_interval() -> float:
    """How long a writer's thread waits between its writes now."""
    return HELD_FLUSH_INTERVAL_S if _groups else FLUSH_INTERVAL_S


class _Marker:
    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


class MetricWriter:
    """One per metadata store per process."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self.queue: deque[QueuedPoint | _Marker] = deque()
        self.append = self.queue.append  # the hot path, bound once
        self._consume_lock = threading.Lock()
        self._wake = threading.Event()
        self._rejected: list[str] = []
        self._inside = threading.local()  # .active: this thread is in write_pending
        self._marker_lock = threading.Lock()
        self._markers_queued = 0  # flush markers in the queue (none: no per-item type checks)
        self._sigterm_deferred = False
        self._thread: threading.Thread | None = None
        self._stopping = False
        _writers.add(self)
        self.start()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._loop, name="mlws-metric-writer", daemon=True)
        self._thread.start()
        _install_sigterm_handler()

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(flush_interval())
            self._wake.clear()
            try:
                self.write_pending()
            except Exception:  # noqa: S112 - retried next round; flush() reports it to the caller
                continue

    def write_pending(self) -> None:
        """Commit everything queued now, in order, batch by batch."""
        # Marked before taking the lock and cleared after releasing it: a signal handler running in
        # this thread anywhere in between must not wait for the lock (it would wait for itself).
        self._inside.active = True
        try:
            with self._consume_lock:
                self._write_queue()
        finally:
            self._inside.active = False
            if self._sigterm_deferred:
                # SIGTERM arrived while this thread was writing: the write is done, now obey it.
                self._sigterm_deferred = False
                _on_sigterm(signal.SIGTERM, None)

    def _write_queue(self) -> None:
        queue = self.queue
        while queue:
            popleft = queue.popleft
            items = [popleft() for _ in range(min(len(queue), MAX_BATCH))]
            batch: list[QueuedPoint]
            markers: list[_Marker] = []
            if self._markers_queued:  # a flush is waiting: separate its marker(s) out
                batch = [item for item in items if type(item) is tuple]
                markers = [item for item in items if type(item) is not tuple]  # type: ignore[misc]
                with self._marker_lock:
                    self._markers_queued -= len(markers)
            else:
                batch = items  # type: ignore[assignment]
            written: set[object] = set()
            try:
                if batch:
                    self._write(batch, written)
            except BaseException as exc:
                # Put back in front, in order, the points of every run not yet committed; the
                # markers learn why.
                queue.extendleft(
                    reversed([item for item in batch if item[0] not in written and item[:2] not in written])
                )
                for marker in markers:
                    marker.error = exc
                    marker.done.set()
                raise
            for marker in markers:
                marker.done.set()

    def _write(self, batch: list[QueuedPoint], written: set[object]) -> None:
        """One transaction for the batch; ``written`` collects the runs (and ``(run, name)`` pairs)
        committed. A batch of several runs whose transaction a deterministic error rejects is
        written again run by run, so one run's bad points do not hold back the others'."""
        run_ids = list(map(_RUN_ID, batch))
        if run_ids.count(run_ids[0]) == len(run_ids):  # the common case: one run logging
            by_run = {run_ids[0]: list(map(_POINT, batch))}
        else:
            by_run = defaultdict(list)
            for item in batch:
                by_run[item[0]].append(item[1:])
            # Many short runs logging at once (a ParallelRunStep's workers): one transaction, not
            # one per run, each of which waits for the write lock (issue 19).
            try:
                self.store.log_points(by_run)
            except BackendUnavailableError:
                raise  # transient: the batch stays queued and is retried
            except MlwsError:
                pass  # below, run by run: the error lands with its run's points only
            else:
                written.update(by_run)
                return
        for run_id, points in by_run.items():
            try:
                self.store.log_batch(run_id, points)
            except BackendUnavailableError:
                raise  # transient: the rest stays queued and is retried
            except MlwsError as exc:
                # Deterministic (a deleted run, a name another process used for text or a table):
                # retrying cannot help and would block every other run's points, so these are
                # reported by the next flush(). One such name must not take the run's others along.
                self._write_name_by_name(run_id, points, written, exc)
            written.add(run_id)

    def _write_name_by_name(
        self, run_id: str, points: list[tuple[str, float, int | None, float]], written: set[object], exc: Exception
    ) -> None:
        by_name: dict[str, list[tuple[str, float, int | None, float]]] = defaultdict(list)
        for point in points:
            by_name[point[0]].append(point)
        if len(by_name) == 1:
            self._rejected.append(f"{len(points)} points of run {run_id}: {exc}")
            return
        for name, group in by_name.items():
            try:
                self.store.log_batch(run_id, group)
            except BackendUnavailableError:
                raise  # the names not yet written stay queued
            except MlwsError as refused:
                self._rejected.append(f"{len(group)} points of metric {name!r} of run {run_id}: {refused}")
            written.add((run_id, name))

    def flush(self, timeout: float | None = None) -> None:
        """Block until every point appended before this call is committed."""
        if self.queue:
            marker = _Marker()
            with self._marker_lock:
                self._markers_queued += 1
            self.append(marker)
            try:
                self.write_pending()
            except MlwsError:
                raise
            except Exception as exc:
                raise BackendUnavailableError(f"could not write metrics to {self.store!r}: {exc}") from exc
            if not marker.done.wait(timeout):
                raise BackendUnavailableError(f"metrics were not written within {timeout} s")
            if marker.error is not None:
                raise BackendUnavailableError(f"could not write metrics: {marker.error}") from marker.error
        else:
            # Nothing queued, but the thread may have taken a batch it has not committed yet: taking
            # the consumers' lock waits for that batch (a read right after must see its points).
            self.write_pending()
        if self._rejected:
            rejected, self._rejected = self._rejected, []
            raise InvalidArgumentError("the store refused metrics: " + "; ".join(rejected))

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        try:
            self.write_pending()
        finally:
            self._stopping = True
            self._wake.set()
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=10)
            _writers.discard(self)

    @property
    def pending(self) -> int:
        return sum(1 for item in self.queue if type(item) is tuple)

    def _after_fork(self) -> None:
        # The parent's thread does not exist in a forked child; the queue's contents belong to the
        # parent, which writes them itself.
        self.queue.clear()
        self._consume_lock = threading.Lock()
        self._inside = threading.local()
        self._thread = None
        self.start()


def flush_all(from_signal: bool = False) -> bool:
    """Flush every writer of this process (at exit, on SIGTERM). Errors are reported, not raised.

    Returns False when a signal interrupted this very thread in the middle of a write: that write
    cannot be re-entered, so it finishes first and obeys the signal afterwards.
    """
    complete = True
    for writer in list(_writers):
        if from_signal and getattr(writer._inside, "active", False):
            writer._sigterm_deferred = True
            complete = False
            continue
        try:
            writer.write_pending()
        except Exception as exc:
            print(f"jupyter-mlws: {writer.pending} metric points could not be written: {exc}", file=sys.stderr)
    return complete


def _after_fork_in_child() -> None:
    for writer in list(_writers):
        writer._after_fork()


atexit.register(flush_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_sigterm_installed = False


def _install_sigterm_handler() -> None:
    """Flush on SIGTERM, then die as SIGTERM would have. Only when nobody else handles SIGTERM."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    _sigterm_installed = True
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not allowed here (embedded interpreter, odd platform)
        pass


def _on_sigterm(signum: int, frame: FrameType | None) -> Any:
    if not flush_all(from_signal=True):
        return  # re-raised by write_pending once the interrupted write is committed
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
