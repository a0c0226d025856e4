"""Whether the process behind an active run still lives, and the heartbeats that tell other hosts.

Every active run that a process owns records that process: a job its supervisor (pid, host and
the process's start time, written by the claim that wins the job), an interactive run
(``Experiment.start_logging()``, a child run) the process that created it and logs to it. A sweep
(the agent's, ``Workspace.reconcile_jobs()``, the Jupyter server's) judges them:

- on the same host, the process decides, whatever its heartbeat says: a live pid whose start time
  (``/proc/<pid>/stat`` field 22) matches the recorded one is alive, even if it has been paused
  (SIGSTOP, a laptop suspended) for longer than ``STALE_AFTER_S``; a dead pid, a zombie, or a pid
  reused by another process (its start time differs) is dead;
- across hosts only the heartbeat can decide: older than ``STALE_AFTER_S`` is dead. Heartbeats are
  written and compared in the database's own clock, so clock skew between hosts does not matter.
  A process in another pid namespace (a container, even one sharing the host's name) counts as
  another host: ``HOSTNAME`` names the namespace when it is not the initial one;
- an interactive run may be logged to by other processes than its creator (it was resumed with
  ``Run.get``): they beat for it from their first write, so a dead recorded process ends it only
  once its heartbeat is ``JOINED_GRACE_S`` old too.

Interactive runs beat from one daemon thread per process (:func:`beat_for`), every
``HEARTBEAT_INTERVAL_S``, for the process's runs that have not ended; a run ended normally
(complete, fail, cancel) stops beating.

What a killed process loses. Metric points are queued in memory and written by the background writer
(:mod:`jupyter_mlws.core.writer`) every ``FLUSH_INTERVAL_S`` (0.05 s; 0.5 s in a ParallelRunStep's
worker, whose group commits flush it) or as soon as the previous batch is committed. SIGTERM and a
normal exit flush the queue first, so nothing is lost; SIGKILL (or the OOM killer, or a power loss)
loses the points logged in the last flush interval or so — those still queued, plus a batch whose
transaction had not committed (a batch is one transaction: it is kept whole or lost whole). Params,
tags and files are written synchronously and are never lost. The run itself ends Failed, with the
reason and everything already written, at the next sweep after its process is seen dead (same host:
a job at the next sweep, an interactive run once its heartbeat is ``JOINED_GRACE_S`` old; other
hosts: once its heartbeat is ``STALE_AFTER_S`` old).
"""

from __future__ import annotations

import math
import os
import socket
import threading
import weakref
from collections.abc import Callable

from ..interfaces import MetadataStore

__all__ = [
    "HEARTBEAT_INTERVAL_S",
    "HOSTNAME",
    "JOINED_GRACE_S",
    "STALE_AFTER_S",
    "beat_for",
    "process_alive",
    "process_start",
    "stale_reason",
    "stop_beating",
]

HEARTBEAT_INTERVAL_S = 5.0


#: A heartbeat older than this (database clock) means the process on another host is gone. Read at
#: each judgement, so tests may shrink it (``MLWS_STALE_AFTER_SECONDS`` for other processes).
def _stale_after(default: float = 30.0) -> float:
    """``MLWS_STALE_AFTER_SECONDS`` if it is a finite positive number, else the default: a typo must
    not make the package unimportable, nor NaN make every heartbeat fresh for ever."""
    try:
        value = float(os.environ.get("MLWS_STALE_AFTER_SECONDS", default))
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default


STALE_AFTER_S = _stale_after()
# The initial pid namespace's inode (PROC_PID_INIT_INO, the same on every Linux since 3.8).
_INITIAL_PID_NAMESPACE = "pid:[4026531836]"


def _host_identity() -> str:
    """This machine's name, plus its pid namespace when that is not the initial one: a container
    (Docker with ``--network host`` shares the host's name) numbers its processes itself, so its
    pids mean nothing to a sweep on the host (or in another container), and the other way round.
    Across namespaces only heartbeats can decide, as across hosts."""
    name = socket.gethostname()
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:  # no /proc (or not Linux): one namespace as far as we can tell
        return name
    return name if namespace == _INITIAL_PID_NAMESPACE else f"{name}/{namespace}"


HOSTNAME = _host_identity()
#: An interactive run whose recorded process died stays while its heartbeat is younger than this:
#: another process that logs to it (it resumed the run with ``Run.get``) beats for it.
JOINED_GRACE_S = 3 * HEARTBEAT_INTERVAL_S


def process_start(pid: int) -> int | None:
    """The start time of process ``pid`` of this machine (clock ticks after boot, ``/proc/<pid>/stat``
    field 22), or ``None`` when there is no such process or it is a zombie (dead for our purposes);
    ``-1`` for a live process whose start time cannot be read (``/proc`` mounted with hidepid)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            # The command name (field 2) may hold spaces and parentheses: split after its last ")".
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        # No such entry is not no such process: /proc mounted with hidepid=2 hides other users'
        # processes (a PostgreSQL workspace shared by several users of one machine), and some
        # systems have no /proc. The kernel itself says whether the pid lives.
        return -1 if process_alive(pid) else None  # alive, start unknown
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])  # field 22 of the line; fields[0] is field 3


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (a zombie is dead for our purposes)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return True


def stale_reason(
    who: str,
    pid: int,
    host: str | None,
    start: int | None,
    heartbeat_time: float | None,
    database_time: Callable[[], float],
    shared: bool = False,
) -> str | None:
    """Why the process ``who`` (pid, host, start time, last heartbeat) can no longer be running,
    or ``None`` if it may be. ``database_time`` is called only when the heartbeat decides.

    ``shared``: other processes may log to the run too and beat for it (an interactive run resumed
    with ``Run.get`` elsewhere): a dead recorded process then ends it only once the heartbeat is
    also ``JOINED_GRACE_S`` old, i.e. nobody else beats for it."""
    where = f"{who} (pid {pid} on {host})"
    if host == HOSTNAME:
        if start is None or start < 0:  # recorded before start times were, or unreadable: the pid alone
            alive = process_alive(pid)
            reason = None if alive else f"{where} stopped without finishing the run"
        else:
            current = process_start(pid)
            if current is not None and current >= 0 and current != start:
                reason = f"{where} stopped without finishing the run (its pid now belongs to another process)"
            else:
                reason = None if current is not None else f"{where} stopped without finishing the run"
        if reason is not None and shared and heartbeat_time is not None:
            if database_time() - heartbeat_time <= JOINED_GRACE_S:
                return None  # another process that logs to it may be beating
        return reason
    if heartbeat_time is None:
        return None
    age = database_time() - heartbeat_time
    if age > STALE_AFTER_S:
        return f"{where} sent no heartbeat for {int(age)} s"
    return None


# -- heartbeats of interactive runs -------------------------------------------------------------------
class _Beater:
    """One daemon thread per process beating for its interactive runs, one statement per store."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: weakref.WeakKeyDictionary[MetadataStore, set[str]] = weakref.WeakKeyDictionary()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def add(self, store: MetadataStore, run_id: str) -> None:
        with self.lock:
            self.runs.setdefault(store, set()).add(run_id)
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="mlws-run-heartbeat", daemon=True)
                self.thread.start()

    def discard(self, store: MetadataStore, run_id: str) -> None:
        with self.lock:
            ids = self.runs.get(store)
            if ids is not None:
                ids.discard(run_id)
                if not ids:
                    del self.runs[store]

    def _loop(self) -> None:
        while not self.wake.wait(HEARTBEAT_INTERVAL_S):
            with self.lock:
                work = [(store, sorted(ids)) for store, ids in self.runs.items() if ids]
            for store, ids in work:
                try:
                    store.heartbeat(ids)
                except Exception:  # noqa: S110 - a missed beat is retried; the store may be busy
                    pass
            del work

    def reset_after_fork(self) -> None:
        # A forked child is another process: the parent's runs are not its to beat for (and the
        # parent's thread does not exist in it).
        self.lock = threading.Lock()
        self.runs = weakref.WeakKeyDictionary()
        self.wake = threading.Event()
        self.thread = None


_beater = _Beater()
os.register_at_fork(after_in_child=_beater.reset_after_fork)


def beat_for(store: MetadataStore, run_id: str) -> None:
    """Beat for ``run_id`` (an interactive run of this process) until :func:`stop_beating`."""
    _beater.add(store, run_id)


def stop_beating(store: MetadataStore, run_id: str) -> None:
    _beater.discard(store, run_id)
