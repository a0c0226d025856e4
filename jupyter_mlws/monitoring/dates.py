"""The dates the drift surfaces take (REST bodies, CLI arguments): ISO 8601, a date or a date and time.

One parser, so that ``POST monitors/{name}/backfill`` and ``mlws drift backfill`` accept the same text
and refuse it with the same message. A time without a zone is UTC (intervals are aligned in UTC).
"""

from __future__ import annotations

import datetime as dt

from ..errors import InvalidArgumentError

__all__ = ["EXPECTED", "parse_utc"]

EXPECTED = "an ISO 8601 date or date and time, e.g. 2026-11-02 or 2026-11-02T06:00:00Z (no zone: UTC)"


def parse_utc(value: object, field: str) -> dt.datetime:
    """``value`` as an aware UTC datetime; an InvalidArgumentError naming ``field`` and the format otherwise."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            # 3.11's fromisoformat takes "Z", offsets, "2026-11-02" and "2026-11-02 06:00"; a date alone
            # is midnight. It also takes compact forms ("20261102"), which are ISO 8601 too.
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidArgumentError(f"{field} must be {EXPECTED}; got {_shown(value)}") from None
    else:
        raise InvalidArgumentError(f"{field} must be {EXPECTED}; got {_shown(value)}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC time
        raise InvalidArgumentError(f"{field} {_shown(value)} is out of range once moved to UTC") from None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
