"""``ScheduleRecurrence``: validation with messages that name the fix, and fire times — minutes and
hours by arithmetic, days, weeks and months in wall-clock time of a zone (daylight saving kept)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jupyter_mlws import ScheduleRecurrence, TimeZone
from jupyter_mlws.errors import InvalidArgumentError

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")


def ts(*args: int, tz: dt.tzinfo = UTC) -> int:
    return int(dt.datetime(*args, tzinfo=tz).timestamp())  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"frequency": "Fortnight", "interval": 1}, "frequency must be one of Minute, Hour, Day, Week, Month"),
        ({"frequency": "Day", "interval": 0}, "at least 1"),
        ({"frequency": "Day", "interval": True}, "whole number"),
        ({"frequency": "Hour", "interval": 1, "hours": [3]}, "only with frequency 'Day' or 'Week'"),
        ({"frequency": "Day", "interval": 1, "hours": [24]}, "hours must hold integers from 0 to 23"),
        (
            {"frequency": "Day", "interval": 1, "week_days": ["Monday"]},
            "week_days can be given only with frequency 'Week'",
        ),
        ({"frequency": "Week", "interval": 1, "week_days": ["Caturday"]}, "day names"),
        ({"frequency": "Day", "interval": 1, "time_of_day": "25:00"}, "'HH:MM'"),
        ({"frequency": "Day", "interval": 1, "time_of_day": "08:00", "hours": [8]}, "either time_of_day or hours"),
        ({"frequency": "Day", "interval": 1, "time_zone": "Mars/Olympus"}, "IANA name"),
        ({"frequency": "Day", "interval": 1, "start_time": "tomorrow"}, "YYYY-MM-DDThh:mm:ss"),
    ],
)
def test_invalid_recurrences_name_the_fix(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words.replace("(", r"\(").replace(")", r"\)")):
        ScheduleRecurrence(**kwargs)  # type: ignore[arg-type]


def test_minutes_count_from_the_anchor_and_the_anchor_fires() -> None:
    r = ScheduleRecurrence("Minute", 5)
    a = ts(2030, 1, 1, 12, 0, 7)
    assert r.fire_times(a, None, a + 900, 10) == [a, a + 300, a + 600, a + 900]
    assert r.fire_times(a, a, a + 900, 2) == [a + 300, a + 600]
    assert r.fire_times(a, a + 300, a + 599, 10) == []
    assert r.latest_fire_time(a, None, a + 3599) == a + 3300
    assert r.next_fire_time(a, a + 300) == a + 600


def test_daily_hours_keep_wall_clock_time_across_daylight_saving() -> None:
    r = ScheduleRecurrence(
        "Day", 1, start_time="2030-03-30T00:00:00", time_zone="Europe/Paris", hours=[8], minutes=[0, 30]
    )
    a = r.anchor(0)
    assert a == ts(2030, 3, 30, 0, 0, tz=PARIS)
    times = r.fire_times(a, None, ts(2030, 4, 1, 0, 0, tz=PARIS), 10)
    local = [dt.datetime.fromtimestamp(t, PARIS).strftime("%m-%d %H:%M %Z") for t in times]
    # Summer time starts on 2030-03-31: 08:00 stays 08:00 local (CET -> CEST).
    assert local == ["03-30 08:00 CET", "03-30 08:30 CET", "03-31 08:00 CEST", "03-31 08:30 CEST"]
    assert times[2] - times[0] == 23 * 3600


def test_weekly_days_every_other_week_and_windows_zone_names() -> None:
    r = ScheduleRecurrence(
        "Week", 2, start_time=dt.datetime(2030, 1, 7, 9, 0), time_zone=TimeZone.PacificStandardTime,
        week_days=["Wednesday", "Monday"], time_of_day="09:15",
    )  # fmt: skip
    la = ZoneInfo("America/Los_Angeles")
    times = r.fire_times(r.anchor(0), None, ts(2030, 2, 1, tz=la), 10)
    assert [dt.datetime.fromtimestamp(t, la).strftime("%a %m-%d %H:%M") for t in times] == [
        "Mon 01-07 09:15", "Wed 01-09 09:15", "Mon 01-21 09:15", "Wed 01-23 09:15",
    ]  # fmt: skip


def test_monthly_keeps_the_day_or_the_last_day_of_shorter_months() -> None:
    r = ScheduleRecurrence("Month", 1, start_time="2031-01-31T06:00:00Z")
    times = r.fire_times(r.anchor(0), None, ts(2031, 5, 1), 10)
    assert [dt.datetime.fromtimestamp(t, UTC).strftime("%m-%d") for t in times] == ["01-31", "02-28", "03-31", "04-30"]


def test_json_round_trip() -> None:
    r = ScheduleRecurrence("Week", 1, start_time="2030-01-01T00:00:00+00:00", week_days=["Friday"], hours=[1, 2])
    assert ScheduleRecurrence.from_dict(r.to_dict()) == r
    assert "frequency='Week'" in repr(r)
