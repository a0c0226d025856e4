"""Writes of short child runs held back and made together: a group commit (issue 19).

A ParallelRunStep's worker runs many short mini-batches, each a child run that uploads a file,
registers a model from it and ends Completed. Written one by one, a mini-batch costs five
transactions (its start, its file's row, its model version, a metric flush, its end) and two or three
``fsync`` calls. Held back, it costs one small transaction (its start) and a share of one commit and
one sync per group. :func:`holding` opens a group for the calling
thread (a context variable: a Dask worker's threads each have their own; a process forked meanwhile
writes straight through); the runs it holds (:meth:`~HeldWrites.hold`) then keep here, until their
commit:

- their uploaded files, stored as blobs but not yet synced to disk, and the files' index rows; reads
  of the run's files through the services (:func:`run_files`, :func:`run_file`: ``register_model``,
  ``get_file_names``, ``download_file``, ``get_details``) see them;
- their model registrations, each with its version number taken by the commit (name by name, in
  registration order within a name) — or sooner, when the entry script asks for it
  (``Model.version``: :meth:`HeldWrites.number` takes it then, in a transaction that names no blob,
  ``reserve_model_version``); the model itself is found (``Model.list``, ``Model(ws, name)``, its
  ``download``) only after the commit;
- their end (Completed or Failed, with its error), without the metric flush each end makes; the run
  reads Running until the commit.

A run is committed whole, once it has ended: its blobs are made durable (one sync), the metric writer
is flushed, then its files, models and end are written in one transaction with those of the other
ended runs. So the housekeeping invariant holds (a blob is durable before any row names it: see
:mod:`.housekeeping`), and a reader that sees a run Completed sees its metrics, files and models. A
group's ended runs are committed when the first of them has waited ``MAX_HOLD_S`` (by the group's
timer thread, whatever the worker does meanwhile) and when the group closes (then also what a run
that did not end wrote). Not held: metric points (the writer's thread writes them, but only every
``HELD_FLUSH_INTERVAL_S`` while a group is open: each commit flushes it first, so a group's points go
in one batch before its rows), the run's start, and writes of runs the group does not hold (or from
other threads).

What a crash loses: the held rows of a killed process (its runs stay Running, their blobs unnamed
until ``mlws gc``, a version number taken early is skipped), which is why the caller holds only runs it
runs again when that happens (a ParallelRunStep does: its metric points, if written meanwhile, are
then logged twice).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ...errors import AlreadyExistsError, InvalidArgumentError
from ..entities import PENDING_VERSION, FileRecord, ModelVersionRecord
from ..interfaces import MetadataStore
from ..interfaces.runs import HeldEnd
from ..status import RunStatus
from ..writer import flushed_by_group_commits
from .context import Backends

__all__ = ["MAX_HOLD_S", "HeldWrites", "current", "holding", "number", "run_file", "run_files", "wrote_through"]

MAX_HOLD_S = 0.5  # an ended run's rows wait at most about this long

_current: ContextVar[HeldWrites | None] = ContextVar("mlws_held_writes", default=None)
# Every run held by a group of this process, whichever thread's: a write of its files made without
# the group (another thread of the worker) marks it, so its files are read from the store too.
_held_here: dict[str, _HeldRun] = {}
log = logging.getLogger("jupyter_mlws.held_writes")


_forks = 0  # forks of this process so far: a forked process may write a held run's files itself


def _count_fork() -> None:
    global _forks
    _forks += 1


os.register_at_fork(before=_count_fork)


@dataclass
class _HeldModel:
    """A held registration: its record's version is PENDING_VERSION until its number is taken."""

    record: ModelVersionRecord
    files: list[FileRecord]


@dataclass
class _HeldRun:
    forks: int = field(default_factory=lambda: _forks)  # as it was held: later forks may have written
    elsewhere: bool = False  # a file row of it went straight to the store (another thread's write)
    files: dict[str, FileRecord] = field(default_factory=dict)  # path -> record
    models: list[_HeldModel] = field(default_factory=list)
    blobs: list[object] = field(default_factory=list)  # handles of puts not synced yet
    end: HeldEnd | None = None
    ended_at: float | None = None  # monotonic
    group: HeldWrites | None = field(default=None, repr=False, compare=False)  # whose it is


@dataclass
class HeldWrites:
    """The held rows of one group (one thread's; its timer thread commits the ended runs when due)."""

    backends: Backends
    held: dict[str, _HeldRun] = field(default_factory=dict)  # run id -> what it wrote
    moved: set[str] = field(default_factory=set)  # held ends that did not apply: the run had moved
    lock: threading.RLock = field(default_factory=threading.RLock)
    pid: int = field(default_factory=os.getpid)
    _closed: threading.Event = field(default_factory=threading.Event)
    _timer: threading.Thread | None = None

    def hold(self, run_id: str) -> None:
        """Hold the writes of ``run_id`` from now on: a run this thread started, new (no files yet),
        and that is run again if this process dies."""
        with self.lock:
            _held_here[run_id] = self.held.setdefault(run_id, _HeldRun(group=self))

    def holds(self, run_id: str) -> bool:
        return run_id in self.held

    def _run(self, run_id: str) -> _HeldRun:
        run = self.held[run_id]
        if run.end is not None:
            raise InvalidArgumentError(f"run {run_id} has ended: nothing more can be recorded for it")
        return run

    def add_files(self, run_id: str, records: Sequence[FileRecord], overwrite: bool) -> None:
        """Index files of a held run (as the store does: an existing name raises unless ``overwrite``)."""
        paths = [r.path for r in records]
        if len(set(paths)) != len(paths):
            raise InvalidArgumentError("the same file name appears twice in one upload")
        with self.lock:
            files = self._run(run_id).files
            if not overwrite:
                for path in paths:
                    if path in files:
                        raise AlreadyExistsError(
                            f"run {run_id!r} already has a file {path!r}; files of a run are "
                            "immutable, upload under another name"
                        )
            files.update((r.path, r) for r in records)

    def add_blob(self, run_id: str, handle: object) -> None:
        """A blob of the run put without a sync (``ArtifactStore.put_file_unsynced``)."""
        with self.lock:
            self._run(run_id).blobs.append(handle)

    def add_model(self, record: ModelVersionRecord, files: Sequence[FileRecord]) -> None:
        """A held run's model version (``record`` itself, whose number the commit takes if it is
        ``PENDING_VERSION``: see :meth:`number`)."""
        assert record.run_id is not None
        with self.lock:
            self._run(record.run_id).models.append(_HeldModel(record, list(files)))

    def number(self, record: ModelVersionRecord) -> ModelVersionRecord | None:
        """``record`` (a pending registration :meth:`add_model` was given) with its number, taken now
        if it has none yet, and kept for the commit; None if this group holds it no more (committed:
        the number is in the store)."""
        assert record.run_id is not None
        with self.lock:
            run = self.held.get(record.run_id)
            models = run.models if run is not None else []
            held = next((m for m in models if m.record is record), None) or next(
                (m for m in models if _same(m.record, record)), None
            )
            if held is None:
                return None
            if held.record.version == PENDING_VERSION:
                version = self.backends.metadata.reserve_model_version(record.name)
                held.record = dataclasses.replace(held.record, version=version)
            return held.record

    def end(self, run_id: str, expected: RunStatus, new: RunStatus, fields: Mapping[str, Any]) -> None:
        """Hold a held run's end (a compare-and-set from ``expected``, made at its commit)."""
        with self.lock:
            run = self._run(run_id)
            run.end = HeldEnd(run_id, expected, new, dict(fields))
            run.ended_at = time.monotonic()
            if self._timer is None:
                # A quick mini-batch followed by a slow one: the quick one's rows must not wait for the
                # slow one to end. The timer commits them when due, whatever this thread does.
                self._timer = threading.Thread(target=self._commit_when_due, name="mlws-held-writes", daemon=True)
                self._timer.start()

    def commit(self, everything: bool = False) -> None:
        """Write the ended runs (``everything``: also what the others wrote so far): sync their blobs,
        flush the metric writer, then their rows in one transaction. A failure raises and keeps
        them held, for a retry. Ends that did not apply (the run had moved meanwhile, e.g. canceled
        with its step) are added to :attr:`moved`."""
        with self.lock:
            ready = {run_id: run for run_id, run in self.held.items() if everything or run.end is not None}
            if not ready:
                return
            self.backends.artifacts.sync_puts([h for run in ready.values() for h in run.blobs])
            self.backends.flush()  # a run seen ended has all its metric points
            ends = [run.end for run in ready.values() if run.end is not None]
            applied = self.backends.metadata.write_held(
                {run_id: list(run.files.values()) for run_id, run in ready.items() if run.files},
                [(model.record, model.files) for run in ready.values() for model in run.models],
                ends,
            )
            self.moved.update(end.run_id for end, ok in zip(ends, applied, strict=True) if not ok)
            for run_id in ready:
                # Written: from now on the run's writes go straight through.
                _forget(run_id, self.held.pop(run_id))

    def _oldest_end(self) -> float | None:
        ended = [run.ended_at for run in self.held.values() if run.ended_at is not None]
        return min(ended) if ended else None

    def _commit_when_due(self) -> None:
        while True:
            with self.lock:
                oldest = self._oldest_end()
                wait = MAX_HOLD_S if oldest is None else oldest + MAX_HOLD_S - time.monotonic()
            if self._closed.wait(max(0.0, wait)):
                return
            with self.lock:
                oldest = self._oldest_end()
                if oldest is None or time.monotonic() - oldest < MAX_HOLD_S:
                    continue
                try:
                    self.commit()
                except Exception as exc:  # still held: the next turn and the group's end try again
                    log.warning("a group commit of ended mini-batches failed (tried again): %s", exc)
                    for run in self.held.values():
                        if run.ended_at is not None:
                            run.ended_at = time.monotonic()

    def close(self) -> None:
        """Stop the timer (the group's last commit is the caller's)."""
        self._closed.set()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.join()


def _same(a: ModelVersionRecord, b: ModelVersionRecord) -> bool:
    """The same registration: ``b`` pending, ``a`` its numbered copy."""
    return (a.name, a.run_id, a.created_time) == (b.name, b.run_id, b.created_time)


def number(record: ModelVersionRecord) -> ModelVersionRecord | None:
    """A pending registration of this process (see :meth:`HeldWrites.number`) with its number, taken
    now if need be; None once its group has committed it (or it is another process's)."""
    assert record.run_id is not None
    run = _held_here.get(record.run_id)
    group = run.group if run is not None else None
    return group.number(record) if group is not None and group.pid == os.getpid() else None


def _forget(run_id: str, run: _HeldRun) -> None:
    if _held_here.get(run_id) is run:
        del _held_here[run_id]


def wrote_through(run_id: str) -> None:
    """A file row of ``run_id`` is about to be written straight to the store (not through a group):
    if a group of this process holds the run, its reads of the run's files query the store too."""
    run = _held_here.get(run_id)
    if run is not None:
        run.elsewhere = True


def current(run_id: str) -> HeldWrites | None:
    """The calling thread's group if it holds ``run_id``'s writes, else None (also in a process
    forked from the group's: its copy of the group is not its own)."""
    group = _current.get()
    if group is None or group.pid != os.getpid():
        return None
    return group if group.holds(run_id) else None


@contextlib.contextmanager
def holding(backends: Backends) -> Iterator[HeldWrites]:
    """Open a group for this thread; what it holds is committed when the block ends, also when it
    ends by an error (what the finished units of work wrote is kept)."""
    if _current.get() is not None and _current.get().pid == os.getpid():  # type: ignore[union-attr]
        raise RuntimeError("held writes do not nest")
    group = HeldWrites(backends)
    token = _current.set(group)
    try:
        with flushed_by_group_commits():  # the group's commits flush the metric writer
            yield group
    except BaseException:
        group.close()
        with contextlib.suppress(Exception):  # the first error is the one to report
            group.commit(everything=True)
        raise
    else:
        group.close()
        group.commit(everything=True)
    finally:
        _current.reset(token)
        for run_id, run in list(group.held.items()):  # not written (its commit failed): not ours now
            _forget(run_id, run)


def run_files(store: MetadataStore, run_id: str, prefix: str | None = None) -> list[FileRecord]:
    """A run's files as the store lists them, with those a group holds for it."""
    group = current(run_id)
    if group is None:
        return store.list_run_files(run_id, prefix)
    with group.lock:  # not committed between the two reads
        run = group.held.get(run_id)
        # A run held is new, and written only through its group: its files are all here, no query
        # (register_model lists them every time). Unless a process forked meanwhile or another thread
        # wrote some of its files: they went straight to the store.
        mine = run is not None and run.forks == _forks and not run.elsewhere
        listed = [] if mine else store.list_run_files(run_id, prefix)
        if run is None or not run.files:
            return listed
        merged = {f.path: f for f in listed}
        for path, record in run.files.items():
            if not prefix or path.startswith(prefix):
                merged[path] = record
    return [merged[path] for path in sorted(merged)]


def run_file(store: MetadataStore, run_id: str, path: str) -> FileRecord:
    """One file of a run (a held one first); ``NotFoundError`` as the store raises it."""
    group = current(run_id)
    if group is None:
        return store.get_run_file(run_id, path)
    with group.lock:
        run = group.held.get(run_id)
        held = run.files.get(path) if run is not None else None
        return held if held is not None else store.get_run_file(run_id, path)
