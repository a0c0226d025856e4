"""``ScheduleRecurrence`` (Azure ML v1's name): how often a schedule fires, and the fire times it
gives — epoch seconds counted from an anchor (the start time, else the moment the schedule was made).

- ``Minute`` / ``Hour``: every ``interval`` minutes or hours from the anchor.
- ``Day``: every ``interval`` days, at the anchor's time of day, or at each ``hours`` x ``minutes``
  (or ``time_of_day``, "HH:MM") given; an hour or minute left out is the anchor's.
- ``Week``: every ``interval`` weeks, on ``week_days`` (default: the anchor's weekday), at those times.
- ``Month``: every ``interval`` months on the anchor's day of the month (the last day in shorter months).

Wall-clock times are in ``time_zone`` (an IANA name such as "Europe/Paris", or one of v1's
``TimeZone`` names such as "Pacific Standard Time"; default UTC), through :mod:`zoneinfo`, so a daily
08:00 stays 08:00 across daylight-saving changes. A naive ``start_time`` is read in that zone.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InvalidArgumentError

__all__ = ["FREQUENCIES", "WEEK_DAYS", "ScheduleRecurrence", "TimeZone"]

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SECONDS = {"Minute": 60, "Hour": 3600}
# A period's longest span in seconds (a month, a week, …) plus a day of slack for daylight saving:
# the latest fire time at or before any moment lies within this span of it.
_SPAN = {"Minute": 60, "Hour": 3600, "Day": 86400, "Week": 7 * 86400, "Month": 31 * 86400}


class TimeZone(str, enum.Enum):
    """A few of v1's ``TimeZone`` values (Windows names); any IANA name is accepted as well."""

    UTC = "UTC"
    GMTStandardTime = "GMT Standard Time"
    WEuropeStandardTime = "W. Europe Standard Time"
    CentralEuropeStandardTime = "Central Europe Standard Time"
    EasternStandardTime = "Eastern Standard Time"
    CentralStandardTime = "Central Standard Time"
    MountainStandardTime = "Mountain Standard Time"
    PacificStandardTime = "Pacific Standard Time"
    IndiaStandardTime = "India Standard Time"
    ChinaStandardTime = "China Standard Time"
    TokyoStandardTime = "Tokyo Standard Time"
    AUSEasternStandardTime = "AUS Eastern Standard Time"


_WINDOWS_ZONES = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
}


def _zone(name: str | None) -> ZoneInfo:
    if name is None:
        return ZoneInfo("UTC")
    key = _WINDOWS_ZONES.get(name, name)
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgumentError(
            f"unknown time_zone {name!r}: use an IANA name such as 'Europe/Paris' or 'America/New_York', "
            "or a TimeZone value such as TimeZone.PacificStandardTime"
        ) from None


def _int_list(name: str, values: Any, low: int, high: int) -> list[int] | None:
    if values is None:
        return None
    if isinstance(values, int) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        raise InvalidArgumentError(f"{name} must be a non-empty list of integers from {low} to {high}")
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidArgumentError(f"{name} must hold integers from {low} to {high}, got {value!r}")
        out.append(value)
    return sorted(set(out))


class ScheduleRecurrence:
    """How often a schedule fires (see the module docs). Invalid combinations raise at once."""

    def __init__(
        self,
        frequency: str,
        interval: int,
        start_time: dt.datetime | str | None = None,
        time_zone: str | TimeZone | None = None,
        hours: Sequence[int] | None = None,
        minutes: Sequence[int] | None = None,
        week_days: Sequence[str] | None = None,
        time_of_day: str | None = None,
    ) -> None:
        if not isinstance(frequency, str) or frequency.capitalize() not in FREQUENCIES:
            raise InvalidArgumentError(f"frequency must be one of {', '.join(FREQUENCIES)}, got {frequency!r}")
        self.frequency = frequency.capitalize()
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise InvalidArgumentError(f"interval must be a whole number of at least 1, got {interval!r}")
        self.interval = interval
        self.time_zone = time_zone.value if isinstance(time_zone, TimeZone) else time_zone
        if self.time_zone is not None and not isinstance(self.time_zone, str):
            raise InvalidArgumentError(f"time_zone must be a string, got {type(self.time_zone).__name__}")
        self._tz = _zone(self.time_zone)
        self.start_time = self._start(start_time)
        self.hours = _int_list("hours", hours, 0, 23)
        self.minutes = _int_list("minutes", minutes, 0, 59)
        self.week_days = self._week_days(week_days)
        self.time_of_day = self._time_of_day(time_of_day)
        calendar_only = {
            "hours": self.hours,
            "minutes": self.minutes,
            "time_of_day": self.time_of_day,
        }
        given = [k for k, v in calendar_only.items() if v is not None]
        if given and self.frequency not in ("Day", "Week"):
            raise InvalidArgumentError(
                f"{', '.join(given)} can be given only with frequency 'Day' or 'Week' (this one is {self.frequency!r})"
            )
        if self.week_days is not None and self.frequency != "Week":
            raise InvalidArgumentError(f"week_days can be given only with frequency 'Week', not {self.frequency!r}")
        if self.time_of_day is not None and (self.hours is not None or self.minutes is not None):
            raise InvalidArgumentError("give either time_of_day or hours/minutes, not both")

    def _start(self, value: dt.datetime | str | None) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidArgumentError(
                    f"start_time {value!r} is not a date and time: use 'YYYY-MM-DDThh:mm:ss' or a datetime"
                ) from None
        if not isinstance(value, dt.datetime):
            raise InvalidArgumentError(f"start_time must be a datetime or an ISO string, got {type(value).__name__}")
        return value if value.tzinfo is not None else value.replace(tzinfo=self._tz)

    @staticmethod
    def _week_days(values: Sequence[str] | None) -> list[str] | None:
        if values is None:
            return None
        if isinstance(values, str):
            values = [values]
        out = []
        for value in values:
            name = value.capitalize() if isinstance(value, str) else None
            if name not in WEEK_DAYS:
                raise InvalidArgumentError(f"week_days must hold day names ({', '.join(WEEK_DAYS)}), got {value!r}")
            out.append(name)
        if not out:
            raise InvalidArgumentError("week_days must name at least one day")
        return sorted(set(out), key=WEEK_DAYS.index)

    @staticmethod
    def _time_of_day(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = dt.datetime.strptime(value, "%H:%M")
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"time_of_day must be 'HH:MM' (24-hour clock), got {value!r}") from None
        return parsed.strftime("%H:%M")

    # -- JSON ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "frequency": self.frequency,
            "interval": self.interval,
            "start_time": None if self.start_time is None else self.start_time.isoformat(),
            "time_zone": self.time_zone,
            "hours": self.hours,
            "minutes": self.minutes,
            "week_days": self.week_days,
            "time_of_day": self.time_of_day,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ScheduleRecurrence:
        return cls(**dict(data))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if v is not None)
        return f"ScheduleRecurrence({shown})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScheduleRecurrence) and other.to_dict() == self.to_dict()

    __hash__ = None  # type: ignore[assignment]

    # -- fire times ------------------------------------------------------------------------------------
    def anchor(self, created_time: float) -> int:
        """The epoch second fire times count from: the start time, else the creation time."""
        when = self.start_time.timestamp() if self.start_time is not None else created_time
        return int(when)

    def span(self) -> int:
        """Seconds within which the latest fire time at or before any moment after the anchor lies."""
        return self.interval * _SPAN[self.frequency] + 86400

    def fire_times(self, anchor: int, after: int | None, until: int, limit: int) -> list[int]:
        """Fire times ``t`` with ``after < t <= until`` and ``t >= anchor``, ascending, at most ``limit``."""
        low = anchor - 1 if after is None else max(after, anchor - 1)
        if until <= low or limit <= 0:
            return []
        if self.frequency in _SECONDS:
            period = self.interval * _SECONDS[self.frequency]
            k = max(0, (low - anchor) // period + 1)
            out: list[int] = []
            t = anchor + k * period
            while t <= until and len(out) < limit:
                out.append(t)
                t += period
            return out
        return self._calendar_times(anchor, low, until, limit)

    def next_fire_time(self, anchor: int, after: int | None) -> int | None:
        """The first fire time after ``after`` (None: from the anchor)."""
        horizon = max(anchor, after or anchor) + self.span() * 2
        found = self.fire_times(anchor, after, horizon, 1)
        return found[0] if found else None

    def latest_fire_time(self, anchor: int, after: int | None, until: int) -> int | None:
        """The last fire time in ``(after, until]`` (not before the anchor), or None."""
        low = until - self.span()
        if after is not None:
            low = max(low, after)
        found = self.fire_times(anchor, low, until, 1_000_000)
        return found[-1] if found else None

    def _times_of_day(self, a: dt.datetime) -> list[tuple[int, int, int]]:
        if self.time_of_day is not None:
            hour, minute = (int(p) for p in self.time_of_day.split(":"))
            return [(hour, minute, 0)]
        if self.hours is None and self.minutes is None:
            return [(a.hour, a.minute, a.second)]
        hours = self.hours if self.hours is not None else [a.hour]
        minutes = self.minutes if self.minutes is not None else [a.minute]
        return [(h, m, 0) for h in hours for m in minutes]

    def _days(self, a: dt.date, start: dt.date) -> Iterator[dt.date]:
        if self.frequency == "Day":
            n = max(0, (start - a).days // self.interval)
            day = a + dt.timedelta(days=n * self.interval)
            while True:
                yield day
                day += dt.timedelta(days=self.interval)
        elif self.frequency == "Week":
            week = a - dt.timedelta(days=a.weekday())
            days = [WEEK_DAYS.index(d) for d in self.week_days] if self.week_days else [a.weekday()]
            n = max(0, ((start - week).days // 7) // self.interval)
            week += dt.timedelta(weeks=n * self.interval)
            while True:
                for d in days:
                    yield week + dt.timedelta(days=d)
                week += dt.timedelta(weeks=self.interval)
        else:  # Month
            n = max(0, ((start.year - a.year) * 12 + start.month - a.month) // self.interval)
            while True:
                months = a.month - 1 + n * self.interval
                year, month = a.year + months // 12, months % 12 + 1
                yield dt.date(year, month, min(a.day, calendar.monthrange(year, month)[1]))
                n += 1

    def _calendar_times(self, anchor: int, low: int, until: int, limit: int) -> list[int]:
        a = dt.datetime.fromtimestamp(anchor, self._tz)
        start = dt.datetime.fromtimestamp(max(low, anchor), self._tz).date() - dt.timedelta(days=1)
        times = self._times_of_day(a)
        out: list[int] = []
        for day in self._days(a.date(), start):
            for hour, minute, second in times:
                t = int(dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=self._tz).timestamp())
                if t > until + 86400:  # a whole day past the window (daylight saving moves a time by hours)
                    return out
                if low < t <= until and t >= anchor:
                    out.append(t)
                    if len(out) >= limit:
                        return out
        return out  # pragma: no cover - the generators never end
