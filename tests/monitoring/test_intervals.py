"""Intervals of a drift detector, aligned in UTC: days at midnight, weeks on Mondays, months on the 1st."""

from __future__ import annotations

import datetime as dt

import pytest

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.monitoring.intervals import check_frequency, interval_containing, intervals_starting_in, to_utc

UTC = dt.UTC


def d(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_the_interval_containing_a_moment() -> None:
    # 2026-11-04 is a Wednesday
    assert interval_containing("2026-11-04T15:30:00", "Day") == (d(2026, 11, 4), d(2026, 11, 5))
    assert interval_containing(dt.date(2026, 11, 4), "Week") == (d(2026, 11, 2), d(2026, 11, 9))
    assert interval_containing(d(2026, 12, 31, 23), "Month") == (d(2026, 12, 1), d(2027, 1, 1))
    # an aware time in another zone is converted first: 01:00 at +02:00 is the day before in UTC
    tz = dt.timezone(dt.timedelta(hours=2))
    assert interval_containing(dt.datetime(2026, 11, 5, 1, tzinfo=tz), "Day") == (d(2026, 11, 4), d(2026, 11, 5))


def test_a_backfill_checks_every_interval_that_starts_in_the_range() -> None:
    weeks = intervals_starting_in("2026-11-02", "2026-11-30", "Week")
    assert [s.day for s, _ in weeks] == [2, 9, 16, 23]
    # a start inside a week skips that week (it starts before the range)
    assert [s.day for s, _ in intervals_starting_in("2026-11-03", "2026-11-30", "Week")] == [9, 16, 23]
    months = intervals_starting_in(d(2026, 11, 1), d(2027, 2, 1), "month")
    assert [(s.month, e.month) for s, e in months] == [(11, 12), (12, 1), (1, 2)]
    assert len(intervals_starting_in("2026-11-01", "2026-11-08", "Day")) == 7


def test_mistakes_are_named() -> None:
    with pytest.raises(InvalidArgumentError, match="frequency must be one of Day, Week, Month"):
        check_frequency("Hour")
    with pytest.raises(InvalidArgumentError, match="not after start_date"):
        intervals_starting_in("2026-11-09", "2026-11-02", "Week")
    with pytest.raises(InvalidArgumentError, match="no week interval starts"):
        intervals_starting_in("2026-11-03", "2026-11-05", "Week")
    with pytest.raises(InvalidArgumentError, match="start_date 'soon' is no date"):
        to_utc("soon", "start_date")
    with pytest.raises(InvalidArgumentError, match="must be a datetime"):
        to_utc(3, "end_date")
    assert check_frequency("week") == "Week"
