"""The telemetry aggregation behind the endpoint page's charts (``serving/views.py``): pure functions
over telemetry rows, checked with hand-made rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.serving.views import MAX_BUCKETS, parse_since, percentile, telemetry_view

NOW = 1_764_756_000.0  # 2025-12-03T10:00:00Z, a multiple of 10


def row(at: float, status: int = 200, latency: float = 10.0) -> dict[str, object]:
    return {"time": at, "status": status, "latency_ms": latency, "path": "/score", "method": "POST"}


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([float(i) for i in range(1, 101)], 99) == pytest.approx(99.01)
    assert percentile([1.0, 2.0], 0) == 1.0 and percentile([1.0, 2.0], 100) == 2.0


def test_buckets_are_aligned_complete_and_sum_to_the_totals() -> None:
    rows = [
        row(NOW - 59.5, latency=5),  # bucket NOW-60
        row(NOW - 55, status=401, latency=1),  # same bucket, an error
        row(NOW - 31, latency=20),  # bucket NOW-40
        row(NOW - 30, status=500, latency=100),  # bucket NOW-30
        row(NOW - 3600),  # before the window: left out
        row(NOW + 5),  # after now: left out
    ]
    view = telemetry_view(rows, since=NOW - 60, bucket_s=10, now=NOW)
    assert view["since"] == "2025-12-03T09:59:00.000000Z" and view["until"] == "2025-12-03T10:00:00.000000Z"
    assert view["bucket_s"] == 10.0
    buckets = view["buckets"]
    assert [b["time"][11:19] for b in buckets] == [f"09:59:{s:02d}" for s in range(0, 60, 10)] + ["10:00:00"]
    assert [b["count"] for b in buckets] == [2, 0, 1, 1, 0, 0, 0]
    assert [b["errors"] for b in buckets] == [1, 0, 0, 1, 0, 0, 0]
    assert buckets[0]["p50_ms"] == 3.0 and buckets[0]["p99_ms"] == pytest.approx(4.96)
    quiet = {"time": "2025-12-03T09:59:10.000000Z", "count": 0, "errors": 0, "p50_ms": None, "p99_ms": None}
    assert buckets[1] == quiet
    totals = view["totals"]
    assert totals["requests"] == 4 and totals["errors"] == 2 and totals["error_rate"] == 0.5
    assert totals["p50_ms"] == 12.5  # of 1, 5, 20, 100
    assert totals["p99_ms"] == pytest.approx(97.6)
    assert totals["throughput_rps"] == pytest.approx(4 / 60)


def test_rows_with_datetimes_as_the_facade_gives_them() -> None:
    at = datetime.fromtimestamp(NOW - 1, UTC)
    view = telemetry_view([{"time": at, "status": 200, "latency_ms": 2.0}], since=NOW - 10, bucket_s=5, now=NOW)
    assert view["totals"]["requests"] == 1 and view["totals"]["p50_ms"] == 2.0


def test_no_rows_and_the_default_window() -> None:
    view = telemetry_view([], now=NOW)
    assert len(view["buckets"]) == 91  # a quarter of an hour of 10-s buckets, and the current one
    assert view["totals"] == {
        "requests": 0,
        "errors": 0,
        "error_rate": 0.0,
        "p50_ms": None,
        "p99_ms": None,
        "throughput_rps": 0.0,
    }
    assert len(telemetry_view([], since=NOW + 100, now=NOW)["buckets"]) == 1  # a window from the future: now


def test_rows_without_a_latency_count_but_have_no_percentile() -> None:
    view = telemetry_view([{"time": NOW - 1, "status": 404}], since=NOW - 10, bucket_s=10, now=NOW)
    assert view["totals"]["requests"] == 1 and view["totals"]["errors"] == 1 and view["totals"]["p50_ms"] is None


def test_bad_buckets_are_refused_with_the_fix() -> None:
    with pytest.raises(InvalidArgumentError, match="positive"):
        telemetry_view([], bucket_s=0, now=NOW)
    with pytest.raises(InvalidArgumentError, match="positive"):
        telemetry_view([], bucket_s=float("nan"), now=NOW)
    with pytest.raises(InvalidArgumentError, match=f"at most {MAX_BUCKETS}.*at least 36"):
        telemetry_view([], since=NOW - 72_000, bucket_s=1, now=NOW)


def test_parse_since() -> None:
    assert parse_since(None) is None and parse_since("  ") is None
    assert parse_since("1764755000", now=NOW) == 1_764_755_000.0
    assert parse_since("-300", now=NOW) == NOW - 300
    assert parse_since("2025-12-03T09:55:00Z") == NOW - 300
    assert parse_since("2025-12-03T09:55:00") == NOW - 300  # no zone: UTC
    assert parse_since("2025-12-03T10:55:00+01:00") == NOW - 300
    for bad in ("yesterday", "inf", "nan", "2025-13-01"):
        with pytest.raises(InvalidArgumentError, match="since"):
            parse_since(bad, now=NOW)
