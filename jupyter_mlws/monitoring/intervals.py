"""A detector's intervals, aligned in UTC as Azure ML's data drift did: days start at midnight, weeks
on Mondays, months on the 1st. Every time here is an aware ``datetime`` in UTC; a naive one given by a
user is read as UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import InvalidArgumentError

__all__ = [
    "FREQUENCIES",
    "MAX_INTERVALS",
    "Interval",
    "check_frequency",
    "interval_containing",
    "intervals_starting_in",
    "iso",
    "next_start",
    "to_utc",
]

FREQUENCIES = ("Day", "Week", "Month")
MAX_INTERVALS = 1000  # of one backfill: nearly three years of days
Interval = tuple[dt.datetime, dt.datetime]  # [start, end)


def check_frequency(value: Any) -> str:
    """v1's frequency names ("Day", "Week", "Month"), any case."""
    if isinstance(value, str):
        for name in FREQUENCIES:
            if value.strip().lower() == name.lower():
                return name
    raise InvalidArgumentError(f"frequency must be one of {', '.join(FREQUENCIES)}, got {value!r}")


def to_utc(value: Any, what: str) -> dt.datetime:
    """A datetime, a date or an ISO 8601 text as an aware UTC datetime (naive = UTC)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidArgumentError(
                f"{what} {value!r} is no date; give a datetime or an ISO 8601 text such as 2026-11-02 or "
                "2026-11-02T00:00:00Z"
            ) from None
    if isinstance(value, dt.datetime):
        try:
            return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the calendar's first day in UTC
            raise InvalidArgumentError(f"{what} {value.isoformat()} is out of range once moved to UTC") from None
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise InvalidArgumentError(f"{what} must be a datetime, a date or an ISO 8601 text, got {type(value).__name__}")


def _start_of(moment: dt.datetime, frequency: str) -> dt.datetime:
    day = dt.datetime(moment.year, moment.month, moment.day, tzinfo=dt.UTC)
    if frequency == "Day":
        return day
    if frequency == "Week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def next_start(start: dt.datetime, frequency: str) -> dt.datetime:
    """The start of the interval after the one starting at ``start``."""
    try:
        if frequency == "Day":
            return start + dt.timedelta(days=1)
        if frequency == "Week":
            return start + dt.timedelta(days=7)
        if start.month == 12:
            return start.replace(year=start.year + 1, month=1)
        return start.replace(month=start.month + 1)
    except (OverflowError, ValueError):  # past 9999-12-31: datetime's calendar ends there
        raise InvalidArgumentError(
            f"the {frequency.lower()} interval starting {iso(start)} ends after 9999-12-31, where dates end"
        ) from None


def interval_containing(moment: Any, frequency: str, what: str = "target_date") -> Interval:
    start = _start_of(to_utc(moment, what), frequency)  # 0001-01-01 is a Monday: no week starts before it
    return start, next_start(start, frequency)


def intervals_starting_in(start_date: Any, end_date: Any, frequency: str) -> list[Interval]:
    """Every interval that starts in ``[start_date, end_date)``, oldest first."""
    low, high = to_utc(start_date, "start_date"), to_utc(end_date, "end_date")
    if high <= low:
        raise InvalidArgumentError(
            f"end_date {iso(high)} is not after start_date {iso(low)}; give a start before the end"
        )
    start = _start_of(low, frequency)
    if start < low:
        start = next_start(start, frequency)
    found: list[Interval] = []
    while start < high:
        if len(found) == MAX_INTERVALS:  # each is a child run: a typo'd year must not make millions
            raise InvalidArgumentError(
                f"more than {MAX_INTERVALS} {frequency.lower()} intervals start between {iso(low)} and {iso(high)}; "
                f"a backfill checks at most {MAX_INTERVALS}: split the range"
            )
        end = next_start(start, frequency)
        found.append((start, end))
        start = end
    if not found:
        starts = {"Day": "at midnight UTC", "Week": "on a Monday", "Month": "on the 1st"}[frequency]
        raise InvalidArgumentError(
            f"no {frequency.lower()} interval starts between {iso(low)} and {iso(high)} (a {frequency.lower()} "
            f"starts {starts}); widen the range"
        )
    return found


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()
