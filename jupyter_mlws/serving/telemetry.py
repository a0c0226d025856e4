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


class TelemetryWriter:
    """Buffers request rows and appends them to this process's segment file on :meth:`flush`."""

    def __init__(self, directory: str | os.PathLike[str], *, models: str, generation: int) -> None:
        self.directory = Path(directory)
        self.models = models
        self.generation = generation
        self.rows: list[Row] = []  # appended to directly by the worker's hot path
        self._path: Path | None = None
        self._count = 0
        self._pid = os.getpid()

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

    def flush(self) -> None:
        """Write the buffered rows; an unwritable folder drops them (telemetry never stops scoring)."""
        rows, self.rows = self.rows, []
        while rows:
            if self._path is None or self._count >= SEGMENT_ROWS:
                self._new_segment()
            assert self._path is not None
            room = SEGMENT_ROWS - self._count
            chunk, rows = rows[:room], rows[room:]
            data = b"".join(self._encode(row) for row in chunk)
            try:
                with open(self._path, "ab") as fh:
                    fh.write(data)
            except OSError:
                return
            self._count += len(chunk)

    def _encode(self, row: Row) -> bytes:
        started, status, latency, req_bytes, resp_bytes, path, method, request_id = row
        return orjson.dumps(
            {
                "time": started,
                "status": status,
                "latency_ms": round(latency, 3),
                "request_bytes": req_bytes,
                "response_bytes": resp_bytes,
                "path": path,
                "method": method,
                "models": self.models,
                "generation": self.generation,
                "request_id": request_id,
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )

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
