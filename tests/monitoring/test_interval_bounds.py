"""The edges of the calendar and of a backfill's size: dates a user may type (into a REST body or the
CLI) that datetime cannot move or step past are refused with a message, never an OverflowError."""

from __future__ import annotations

import pytest

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.monitoring.intervals import MAX_INTERVALS, interval_containing, intervals_starting_in, to_utc


def test_a_time_before_the_first_day_in_utc_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match=r"start_date 0001-01-01T00:00:00\+01:00 is out of range"):
        to_utc("0001-01-01T00:00:00+01:00", "start_date")


@pytest.mark.parametrize("frequency", ["Day", "Week", "Month"])
def test_an_interval_ending_after_9999_is_refused(frequency: str) -> None:
    with pytest.raises(InvalidArgumentError, match="ends after 9999-12-31"):
        interval_containing("9999-12-31", frequency)
    with pytest.raises(InvalidArgumentError, match="ends after 9999-12-31"):
        intervals_starting_in("9999-12-01", "9999-12-31T12:00:00", frequency)


def test_a_backfill_holds_at_most_max_intervals() -> None:
    assert len(intervals_starting_in("2024-01-01", "2026-09-27", "Day")) == MAX_INTERVALS
    with pytest.raises(InvalidArgumentError, match=f"more than {MAX_INTERVALS} day intervals .* split the range"):
        intervals_starting_in("0001-01-01", "9999-12-31", "Day")
