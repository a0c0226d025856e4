"""A job's output reaches its driver log through its supervisor, with the secrets it obtained masked.

The job writes its stdout and stderr into a pipe (a FIFO for a container, which reaches it through a
mount); a thread of the supervisor reads it and appends to the driver log what a
:class:`~jupyter_mlws.core.redaction.StreamRedactor` lets through. So a secret the job printed is
``***`` in the log from the first byte written to disk (issue 21), readers streaming the log see only
masked text, and a value split across two writes is still masked. The cost is one copy through the
supervisor: a pipe read, a search for the job's few values, a write.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import threading
import time
from pathlib import Path

from ..core.redaction import Redactor, StreamRedactor

__all__ = ["LogPump", "mask_file"]

_CHUNK = 1 << 16
_POLL_MS = 100
_DRAIN_S = 2.0  # after the job's process ended: how long its children may still hold the pipe


class LogPump:
    """Reads a pipe (``fifo=None``: an anonymous one, whose write end is :attr:`write_fd`) or a FIFO at
    ``fifo`` and appends the masked bytes to ``log``."""

    def __init__(self, log: Path, redactor: Redactor, fifo: Path | None = None) -> None:
        self.write_fd: int | None = None
        self._fifo = fifo
        if fifo is None:
            read_fd, self.write_fd = os.pipe()
        else:
            os.mkfifo(fifo, 0o600)
            # Opened before the container starts: its shell's open for writing then does not block.
            read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(read_fd, False)
        self._read_fd = read_fd
        self._stream = StreamRedactor(redactor)
        self._out = open(log, "ab")  # closed by the pumping thread when it ends
        self._ending = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="mlws-log-pump", daemon=True)
        self._thread.start()

    def started(self) -> None:
        """The job's process holds the write end now: drop ours, so the job's exit ends the stream."""
        if self.write_fd is not None:
            os.close(self.write_fd)
            self.write_fd = None

    def finish(self, timeout: float = _DRAIN_S) -> None:
        """The job's process has ended: copy what is left (waiting at most ``timeout`` for processes it
        left behind to let go of the pipe), then close. Safe to call twice."""
        self.started()
        self._ending.set()
        self._thread.join(timeout + 1.0)

    def _read_available(self) -> tuple[bytes, bool]:
        """What the pipe holds now, and whether its writers are all gone."""
        parts: list[bytes] = []
        while True:
            try:
                data = os.read(self._read_fd, _CHUNK)
            except BlockingIOError:
                return b"".join(parts), False
            except OSError:
                return b"".join(parts), True
            if not data:
                return b"".join(parts), True
            parts.append(data)

    def _pump(self) -> None:
        poller = select.poll()
        poller.register(self._read_fd, select.POLLIN)
        deadline: float | None = None
        try:
            while True:
                poller.poll(_POLL_MS)
                data, closed = self._read_available()
                if data:
                    self._out.write(self._stream.feed(data))
                    self._out.flush()
                if self._ending.is_set():
                    now = time.monotonic()
                    deadline = now + _DRAIN_S if deadline is None else deadline
                    if closed or (not data and self._fifo is not None) or now >= deadline:
                        break
                elif closed:
                    if self._fifo is None:
                        break  # every writer (the job and all it started) is gone
                    # A FIFO with no writer yet (or any more) polls as readable at once: do not spin.
                    self._ending.wait(_POLL_MS / 1000)
        finally:
            with contextlib.suppress(OSError):
                self._out.write(self._stream.finish())
            with contextlib.suppress(OSError):
                self._out.close()
            with contextlib.suppress(OSError):
                os.close(self._read_fd)
            if self._fifo is not None:
                with contextlib.suppress(OSError):
                    self._fifo.unlink()


def mask_file(path: Path, redactor: Redactor) -> None:
    """Rewrite the regular file ``path`` with ``redactor``'s values masked (a link is left alone: it may
    point anywhere on the host). Used on a job's own log files and an executed notebook when collected."""
    if not redactor:
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return
    with os.fdopen(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        stream = StreamRedactor(redactor)
        temp = path.with_name(f".{path.name}.masking")
        with open(temp, "wb") as target:
            while chunk := source.read(_CHUNK):
                target.write(stream.feed(chunk))
            target.write(stream.finish())
    os.replace(temp, path)
