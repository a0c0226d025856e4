"""Writes of short child runs held back and made together: a group commit (issue 19).

A ParallelRunStep's worker runs many short mini-batches, each a child run that uploads a file,
registers a model from it and ends Completed. Written one by one, a mini-batch costs four
transactions and two or three ``fsync`` calls more than its work needs; held back, a group of mini-batches
costs one transaction and one sync. :func:`holding` opens a group for the calling thread (a context
variable: a Dask worker's threads each have their own); the runs it holds (:meth:`~HeldWrites.hold`) then
have, until :meth:`~HeldWrites.commit`:

- their uploaded files stored as blobs but not yet synced to disk, and their index rows kept here;
  reads of the run's files through the services (:func:`run_files`, :func:`run_file`: used by
  ``register_model``, ``get_file_names``, ``download_file``) see them;
- their model registrations kept here, each with its version number taken at once (in a transaction
  that names no blob: ``reserve_model_version``), so ``register_model`` still answers the version
  (``Model.list`` finds it after the commit);
- their end (Completed or Failed, with its error) kept here, without the metric flush each end makes.

:meth:`~HeldWrites.commit` makes the blobs durable (one sync), flushes the metric writer, then writes
every held row in one transaction. So the housekeeping invariant holds (a blob is durable before any
row names it: see :mod:`.housekeeping`), and a reader that sees a run Completed sees its metrics,
files and models. Not held: metric points (the writer's thread writes them as always), the run's
start, and the writes of runs the group does not hold. The group commits when its first held write
is ``MAX_HOLD_S`` old (a timer thread of the group's; the caller commits at its end too), so a burst
of quick mini-batches is one commit and none waits more than about that long, however long the next
one runs.

What a crash loses: a killed process's held rows (its runs stay Running; their blobs stay unnamed
until ``mlws gc``; a version number taken is skipped), which is why the caller holds only runs it
may run again (a ParallelRunStep re-runs a Running mini-batch that a dead worker left).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ...errors import AlreadyExistsError
from ..entities import FileRecord, ModelVersionRecord
from ..interfaces import MetadataStore
from ..interfaces.runs import HeldEnd
from ..status import RunStatus
from .context import Backends

__all__ = ["MAX_HOLD_S", "HeldWrites", "current", "holding", "run_file", "run_files"]

MAX_HOLD_S = 0.5  # a held write waits at most about this long

_current: ContextVar[HeldWrites | None] = ContextVar("mlws_held_writes", default=None)
log = logging.getLogger("jupyter_mlws.held_writes")


@dataclass
class HeldWrites:
    """The held rows of one group (one thread's; its timer thread commits them when they are due)."""

    backends: Backends
    runs: set[str] = field(default_factory=set)
    files: dict[str, dict[str, FileRecord]] = field(default_factory=dict)  # run id -> path -> record
    models: list[tuple[ModelVersionRecord, list[FileRecord]]] = field(default_factory=list)
    ends: list[HeldEnd] = field(default_factory=list)
    blobs: list[object] = field(default_factory=list)  # handles of puts not synced yet
    moved: set[str] = field(default_factory=set)  # held ends that did not apply: the run had moved
    first: float | None = None  # when the oldest held write was made (monotonic)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _closed: threading.Event = field(default_factory=threading.Event)
    _timer: threading.Thread | None = None

    def hold(self, run_id: str) -> None:
        """Hold the writes of ``run_id`` from now on: a run this thread started and may run again."""
        self.runs.add(run_id)

    def holds(self, run_id: str) -> bool:
        return run_id in self.runs

    def _held(self) -> None:
        """A write was held (under the lock): the first one starts the clock, and the timer."""
        if self.first is None:
            self.first = time.monotonic()
        if self._timer is None:
            # A quick unit of work followed by a slow one: the quick one's rows must not wait for the
            # slow one to end. The timer commits them when they are due, whatever this thread does.
            self._timer = threading.Thread(target=self._commit_when_due, name="mlws-held-writes", daemon=True)
            self._timer.start()

    def add_files(self, run_id: str, records: Sequence[FileRecord], overwrite: bool) -> None:
        """Index files of a held run (as the store would: an existing name raises unless ``overwrite``)."""
        with self.lock:
            held = self.files.setdefault(run_id, {})
            if not overwrite:
                for record in records:
                    if record.path in held:
                        raise AlreadyExistsError(
                            f"run {run_id!r} already has a file {record.path!r}; files of a run are "
                            "immutable, upload under another name"
                        )
            for record in records:
                held[record.path] = record
            self._held()

    def add_blob(self, handle: object) -> None:
        """A blob put without a sync (``ArtifactStore.put_file_unsynced``): synced at commit."""
        with self.lock:
            self.blobs.append(handle)
            self._held()

    def add_model(self, record: ModelVersionRecord, files: Sequence[FileRecord]) -> None:
        """A held run's model version (its number already taken)."""
        with self.lock:
            self.models.append((record, list(files)))
            self._held()

    def end(self, run_id: str, expected: RunStatus, new: RunStatus, fields: Mapping[str, Any]) -> None:
        """Hold a held run's end (a compare-and-set from ``expected``, made at commit)."""
        with self.lock:
            self.ends.append(HeldEnd(run_id, expected, new, dict(fields)))
            self._held()

    def commit(self) -> None:
        """Sync the held blobs, flush the metric writer, then write every held row in one transaction.
        A failure raises and keeps what is held, for a retry. Ends that did not apply (the run had
        moved meanwhile, e.g. canceled with its step) are added to :attr:`moved`."""
        with self.lock:
            if self.first is None:
                return
            files = {run_id: list(paths.values()) for run_id, paths in self.files.items() if paths}
            self.backends.artifacts.sync_puts(self.blobs)  # durable before any row names them
            self.backends.flush()  # a run seen ended has all its metric points
            applied = self.backends.metadata.write_held(files, self.models, self.ends)
            self.moved.update(end.run_id for end, ok in zip(self.ends, applied, strict=True) if not ok)
            self.files.clear()
            self.models.clear()
            self.ends.clear()
            self.blobs.clear()
            self.first = None

    def _commit_when_due(self) -> None:
        while True:
            with self.lock:
                wait = MAX_HOLD_S if self.first is None else self.first + MAX_HOLD_S - time.monotonic()
            if self._closed.wait(max(0.0, wait)):
                return
            with self.lock:
                if self.first is None or time.monotonic() - self.first < MAX_HOLD_S:
                    continue
                try:
                    self.commit()
                except Exception as exc:  # kept held: the group's own commit retries, and raises
                    log.warning("a group commit failed, retried at the group's end: %s", exc)
                    self.first = time.monotonic()

    def close(self) -> None:
        """Stop the timer (the group's last commit is the caller's)."""
        self._closed.set()
        if self._timer is not None:
            self._timer.join()


def current(run_id: str) -> HeldWrites | None:
    """The calling thread's group if it holds ``run_id``'s writes, else None."""
    group = _current.get()
    return group if group is not None and group.holds(run_id) else None


@contextlib.contextmanager
def holding(backends: Backends) -> Iterator[HeldWrites]:
    """Open a group for this thread; what it holds is committed when the block ends, also when it
    ends by an error (what the finished units of work wrote is kept)."""
    if _current.get() is not None:
        raise RuntimeError("held writes do not nest")
    group = HeldWrites(backends)
    token = _current.set(group)
    try:
        yield group
    except BaseException:
        group.close()
        with contextlib.suppress(Exception):  # the first error is the one to report
            group.commit()
        raise
    else:
        group.close()
        group.commit()
    finally:
        _current.reset(token)


def run_files(store: MetadataStore, run_id: str, prefix: str | None = None) -> list[FileRecord]:
    """A run's files as the store lists them, with those a group holds for it."""
    group = current(run_id)
    if group is None:
        return store.list_run_files(run_id, prefix)
    with group.lock:  # not committed between the two reads
        listed = store.list_run_files(run_id, prefix)
        held = group.files.get(run_id)
        if not held:
            return listed
        merged = {f.path: f for f in listed}
        for path, record in held.items():
            if not prefix or path.startswith(prefix):
                merged[path] = record
    return [merged[path] for path in sorted(merged)]


def run_file(store: MetadataStore, run_id: str, path: str) -> FileRecord:
    """One file of a run (a held one first); ``NotFoundError`` as the store raises it."""
    group = current(run_id)
    if group is None:
        return store.get_run_file(run_id, path)
    with group.lock:
        held = group.files.get(run_id, {}).get(path)
        return held if held is not None else store.get_run_file(run_id, path)
