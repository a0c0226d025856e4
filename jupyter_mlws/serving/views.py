"""What the surfaces show of a web service's traffic (issue 17): telemetry rows summed up in time
buckets (requests, errors, latency percentiles) and over the whole window (request count, error
rate, latency percentiles, throughput), for the charts of the endpoint page.

Pure functions over telemetry rows as ``Webservice.get_telemetry()`` (a DataFrame's records) or
``telemetry.read_telemetry`` (epoch floats) give them: REST (``server/handlers/webservices.py``)
answers the dict as it is; a CLI or a widget can show the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..core.values import iso_utc
from ..errors import InvalidArgumentError

__all__ = [
    "DEFAULT_BUCKET_S",
    "DEFAULT_WINDOW_S",
    "MAX_BUCKETS",
    "parse_since",
    "percentile",
    "telemetry_view",
]

DEFAULT_WINDOW_S = 15 * 60.0  # without `since`: the last quarter of an hour
DEFAULT_BUCKET_S = 10.0
MAX_BUCKETS = 2000  # a chart holds no more points than this; a wider window needs wider buckets
ERROR_STATUS = 400  # 4xx and 5xx answers count as errors (401 without a key, 400 bad JSON, 500 run() raised)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of sorted ``values`` by linear interpolation between the
    closest ranks (numpy's default); ``None`` for no values."""
    if not values:
        return None
    position = (len(values) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    fraction = position - low
    return float(values[low] + (values[high] - values[low]) * fraction)


def _epoch(value: Any) -> float:
    """A row's time: epoch seconds, or a datetime (pandas' Timestamp is one)."""
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def parse_since(text: str | None, now: float | None = None) -> float | None:
    """``since`` of the telemetry route: epoch seconds (``1764756000``), an ISO 8601 time
    (``2026-12-03T10:00:00Z``; without a zone, UTC) or a negative number of seconds back from now
    (``-300``: the last five minutes). ``None`` or empty: no bound."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    now = time.time() if now is None else now
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number):
            raise InvalidArgumentError(f"since must be a finite number or an ISO 8601 time, not {text[:40]!r}")
        return now + number if number < 0 else number
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise InvalidArgumentError(
            f"since must be epoch seconds, an ISO 8601 time (2026-12-03T10:00:00Z) or negative seconds "
            f"back from now (-300), not {shown!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _summary(latencies: list[float], count: int, errors: int) -> dict[str, Any]:
    latencies.sort()
    return {
        "count": count,
        "errors": errors,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


def telemetry_view(
    rows: Iterable[Mapping[str, Any]],
    since: float | None = None,
    bucket_s: float = DEFAULT_BUCKET_S,
    now: float | None = None,
) -> dict[str, Any]:
    """Telemetry rows (each with ``time``, ``status``, ``latency_ms``) summed up per ``bucket_s``
    seconds from ``since`` (default: ``now`` minus a quarter of an hour) to ``now``.

    Returns ``{"since", "until", "bucket_s", "buckets": [{"time", "count", "errors", "p50_ms",
    "p99_ms"}], "totals": {"requests", "errors", "error_rate", "p50_ms", "p99_ms", "throughput_rps"}}``.
    Buckets start at multiples of ``bucket_s`` (epoch-aligned, so that a refreshed chart's buckets stay
    put), oldest first, every bucket of the window present (a quiet one with count 0 and no
    percentiles), its time the bucket's start. ``errors`` counts answers with status >= 400.
    Throughput is requests per second over the window. Rows outside the window are left out.
    """
    if not (isinstance(bucket_s, int | float) and math.isfinite(bucket_s) and bucket_s > 0):
        raise InvalidArgumentError(f"bucket_s must be a positive number of seconds, got {bucket_s!r}")
    now = time.time() if now is None else now
    start = now - DEFAULT_WINDOW_S if since is None else since
    if start > now:
        start = now
    first = math.floor(start / bucket_s)
    last = math.floor(now / bucket_s)
    count = last - first + 1
    if count > MAX_BUCKETS:
        raise InvalidArgumentError(
            f"{count} buckets of {bucket_s:g} s from since to now are too many (at most {MAX_BUCKETS}): "
            f"pass a later since or a bucket_s of at least {math.ceil((now - start) / MAX_BUCKETS)}"
        )
    latencies: list[list[float]] = [[] for _ in range(count)]
    counts = [0] * count
    errors = [0] * count
    every: list[float] = []
    for row in rows:
        at = _epoch(row["time"])
        if at < start or at > now:
            continue
        index = min(max(math.floor(at / bucket_s) - first, 0), count - 1)
        counts[index] += 1
        if int(row.get("status") or 0) >= ERROR_STATUS:
            errors[index] += 1
        latency = row.get("latency_ms")
        if isinstance(latency, int | float) and math.isfinite(latency):
            latencies[index].append(float(latency))
            every.append(float(latency))
    buckets = [
        {"time": iso_utc((first + i) * bucket_s), **_summary(latencies[i], counts[i], errors[i])} for i in range(count)
    ]
    requests, failed = sum(counts), sum(errors)
    total = _summary(every, requests, failed)
    window = max(now - start, float(bucket_s))
    return {
        "since": iso_utc(start),
        "until": iso_utc(now),
        "bucket_s": float(bucket_s),
        "buckets": buckets,
        "totals": {
            "requests": requests,
            "errors": failed,
            "error_rate": failed / requests if requests else 0.0,
            "p50_ms": total["p50_ms"],
            "p99_ms": total["p99_ms"],
            "throughput_rps": requests / window,
        },
    }
