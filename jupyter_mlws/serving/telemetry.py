"""Request telemetry of a web service: JSON-lines segment files, one object per request (issue 17).

The writer side runs inside the scoring worker, so it imports only the stdlib and orjson. A row is
``{"time", "status", "latency_ms", "request_bytes", "response_bytes", "path", "method", "models",
"generation", "request_id"}``. Rows are kept in memory and appended to the worker's current segment
at most once a second (and at exit); a segment holds at most 50,000 rows, and whoever starts a new
segment deletes the oldest beyond the newest 20 of the service.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path
from typing import Any

import orjson

__all__ = ["KEEP_SEGMENTS", "SEGMENT_ROWS", "TelemetryWriter", "read_telemetry"]

SEGMENT_ROWS = 50_000
KEEP_SEGMENTS = 20
_SEGMENT = re.compile(r"^\d{13}-\d+\.jsonl$")

# One buffered row: time, status, latency_ms, request_bytes, response_bytes, path, method, request_id.
Row = tuple[float, int, float, int, int, str, str, str]


def _segments(directory: Path) -> list[Path]:
    try:
        names = [entry.name for entry in os.scandir(directory) if _SEGMENT.match(entry.name)]
    except FileNotFoundError:
        return []
    return [directory / name for name in sorted(names)]


_KNOWN_PATHS = {p: orjson.dumps(p).decode() for p in ("/", "/score", "/swagger.json")}


class TelemetryWriter:
    """Buffers request rows and appends them to this process's segment file on :meth:`flush`.

    Rows are encoded by :meth:`encode` (the worker calls it ten times a second) so that the once-a-second
    write is not a burst of work that would stall the event loop at high request rates.
    """

    def __init__(self, directory: str | os.PathLike[str], *, models: str, generation: int) -> None:
        self.directory = Path(directory)
        self.rows: list[Row] = []  # appended to directly by the worker's hot path
        self._encoded: list[str] = []
        self._path: Path | None = None
        self._count = 0
        self._pid = os.getpid()
        tail = orjson.dumps({"models": models, "generation": generation}).decode()[1:]
        # time, status, latency_ms, request_bytes, response_bytes, path (JSON), method, request_id: the
        # method comes from the parser's known list and request ids are checked or made by the worker.
        self._template = (
            '{"time":%r,"status":%d,"latency_ms":%.3f,"request_bytes":%d,"response_bytes":%d,"path":%s,'
            '"method":"%s","request_id":"%s",' + tail.replace("%", "%%") + "\n"
        )

    def add(
        self,
        started: float,
        status: int,
        latency_ms: float,
        request_bytes: int,
        response_bytes: int,
        path: str,
        method: str,
        request_id: str,
    ) -> None:
        self.rows.append((started, status, latency_ms, request_bytes, response_bytes, path, method, request_id))

    def encode(self) -> None:
        """Turn the buffered rows into JSON lines (kept in memory until :meth:`flush`)."""
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        template = self._template
        known = _KNOWN_PATHS
        self._encoded += [
            template % (t, status, lat, req, resp, known.get(path) or orjson.dumps(path).decode(), method, rid)
            for t, status, lat, req, resp, path, method, rid in rows
        ]

    def flush(self) -> None:
        """Write the buffered rows; an unwritable folder drops them (telemetry never stops scoring)."""
        self.encode()
        rows, self._encoded = self._encoded, []
        while rows:
            if self._path is None or self._count >= SEGMENT_ROWS:
                self._new_segment()
            assert self._path is not None
            room = SEGMENT_ROWS - self._count
            chunk, rows = rows[:room], rows[room:]
            try:
                with open(self._path, "ab") as fh:
                    fh.write("".join(chunk).encode())
            except OSError:
                return
            self._count += len(chunk)

    def _new_segment(self) -> None:
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
        self._path = self.directory / f"{int(time.time() * 1000):013d}-{self._pid}.jsonl"
        self._count = 0
        with contextlib.suppress(OSError):
            self._path.touch()
        for old in _segments(self.directory)[:-KEEP_SEGMENTS]:
            with contextlib.suppress(OSError):
                old.unlink()


def read_telemetry(telemetry_dir: str | os.PathLike[str], since: float | None = None) -> list[dict[str, Any]]:
    """Every telemetry row of a service (all workers), oldest segment first; ``since`` keeps rows whose
    ``time`` is at or after it. A torn last line (a writer mid-append) is skipped."""
    rows: list[dict[str, Any]] = []
    for path in _segments(Path(telemetry_dir)):
        try:
            if since is not None and path.stat().st_mtime < since:
                continue  # every row of a segment was written before its last modification
            data = path.read_bytes()
        except OSError:
            continue
        for line in data.splitlines():
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if since is None or row.get("time", 0.0) >= since:
                rows.append(row)
    return rows
