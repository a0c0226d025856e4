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
import json
import os
import select
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..core.redaction import Redactor, StreamRedactor

__all__ = ["LogPump", "mask_file", "mask_notebook"]

_CHUNK = 1 << 16
_BATCH = 1 << 20  # read at most this much before writing it out: memory stays bounded
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
        self._broken = False
        self._ending = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="mlws-log-pump", daemon=True)
        self._thread.start()

    def started(self) -> None:
        """The job's process holds the write end now: drop ours, so the job's exit ends the stream."""
        if self.write_fd is not None:
            os.close(self.write_fd)
            self.write_fd = None

    def finish(self) -> None:
        """The job's process has ended: copy what is left (waiting at most two seconds for processes it
        left behind to let go of the pipe), then close; the log is whole when this returns. Safe to
        call twice."""
        self.started()
        self._ending.set()
        self._thread.join()  # the pump stops by itself at the drain's deadline

    @property
    def read_fd(self) -> int:
        """The read end (a forked job closes its copy: only the supervisor reads)."""
        return self._read_fd

    def _read_available(self) -> tuple[bytes, bool]:
        """What the pipe holds now (at most a batch), and whether its writers are all gone."""
        parts: list[bytes] = []
        size = 0
        while size < _BATCH:
            try:
                data = os.read(self._read_fd, _CHUNK)
            except BlockingIOError:
                return b"".join(parts), False
            except OSError:
                return b"".join(parts), True
            if not data:
                return b"".join(parts), True
            parts.append(data)
            size += len(data)
        return b"".join(parts), False

    def _write(self, data: bytes) -> None:
        """Append to the log; when it cannot be written (a full disk), the job's output is still read and
        dropped, so the job never blocks on a full pipe, and the log says once that a part is missing."""
        if self._broken:
            return
        try:
            self._out.write(data)
            self._out.flush()
        except OSError as exc:
            self._broken = True
            with contextlib.suppress(OSError):
                self._out.write(f"\n[jupyter-mlws: the rest of the log was lost: {exc}]\n".encode())
                self._out.flush()

    def _pump(self) -> None:
        poller = select.poll()
        poller.register(self._read_fd, select.POLLIN)
        deadline: float | None = None
        try:
            while True:
                poller.poll(_POLL_MS)
                data, closed = self._read_available()
                if data:
                    self._write(self._stream.feed(data))
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
            self._write(self._stream.finish())
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

        def write(target: IO[bytes]) -> None:
            while chunk := source.read(_CHUNK):
                target.write(stream.feed(chunk))
            target.write(stream.finish())

        _replace(path, write)


def _replace(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write a new content for ``path`` beside it and move it into place. The temporary file has a fresh
    name, made with O_EXCL: a link the job planted in the folder is never followed."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".masking", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as target:
            write(target)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def mask_notebook(path: Path, redactor: Redactor) -> None:
    """Mask the string values of an executed notebook (its outputs, sources, metadata) — never its keys,
    numbers or structure, so it stays a valid notebook whatever a value looks like. A file that is not a
    JSON notebook is masked as bytes."""
    if not redactor or path.is_symlink() or not path.is_file():
        return
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        mask_file(path, redactor)
        return
    masked = _mask_leaves(document, redactor)
    _replace(path, lambda target: target.write(json.dumps(masked, indent=1, ensure_ascii=False).encode() + b"\n"))


def _mask_leaves(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, list):
        return [_mask_leaves(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: _mask_leaves(v, redactor) for k, v in value.items()}
    return value
