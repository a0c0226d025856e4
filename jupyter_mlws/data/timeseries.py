"""Time series on tabular datasets (issue 20), with Azure ML v1's names: a dataset's timestamp columns
(``with_timestamp_columns``) live in its reading spec, and the time filters (``time_between`` and the
others) are steps of that spec, applied with pyarrow compute when the table is read.

A timestamp column may be an Arrow timestamp (any unit, with or without a time zone), a date, ISO 8601
text, or epoch seconds as numbers (a web service's captured inputs store ``"$time"`` that way).
Naive times — in the data and in the arguments — are UTC. Bounds are kept in the spec as ISO 8601 UTC
text, so a registered version and a job's staged copy filter the same rows.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "SPEC_KEY",
    "after_column_step",
    "check_columns",
    "filter_table",
    "iso",
    "names_checked",
    "timestamp_columns",
    "utc_instant",
    "with_timestamp_columns",
]

#: The spec's key for the timestamp columns: ``{"timestamp": name, "partition_timestamp": name | None}``.
SPEC_KEY = "timestamp"
_UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_NS_PER_DAY = 86_400 * 10**9
_INT64 = (-(2**63), 2**63 - 1)
_FORMAT_HINT = "DataType.to_datetime('%d/%m/%Y %H:%M')"


# -- the spec ------------------------------------------------------------------------------------------------
def timestamp_columns(spec: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(timestamp, partition_timestamp)`` of a reading spec (v1's ``timestamp_columns``)."""
    found = spec.get(SPEC_KEY) or {}
    return found.get("timestamp"), found.get("partition_timestamp")


def names_checked(timestamp: object, partition_timestamp: object) -> tuple[str | None, str | None]:
    """The two column names of ``with_timestamp_columns``, checked as v1 checks them."""
    fine, coarse = _name(timestamp, "timestamp"), _name(partition_timestamp, "partition_timestamp")
    if coarse is not None and fine is None:
        raise InvalidArgumentError(
            f"with_timestamp_columns(partition_timestamp={coarse!r}) needs timestamp too: the partition timestamp "
            "is the coarse time of the rows' partition, the timestamp their own time"
        )
    if fine is not None and fine == coarse:
        raise InvalidArgumentError(
            f"with_timestamp_columns: timestamp and partition_timestamp are both {fine!r}; name two columns, or "
            "leave partition_timestamp out"
        )
    return fine, coarse


def _name(value: object, what: str) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise InvalidArgumentError(
        f"with_timestamp_columns({what}=...) is a column name or None, got {type(value).__name__} {value!r}"
    )


def with_timestamp_columns(spec: Mapping[str, Any], timestamp: str | None, partition: str | None) -> dict[str, Any]:
    """A copy of ``spec`` with these timestamp columns. None clears the key altogether, so a dataset whose
    columns were set and cleared has the spec (and the registered content) it had before."""
    out = {k: v for k, v in spec.items() if k != SPEC_KEY}
    if timestamp is not None:
        out[SPEC_KEY] = {"timestamp": timestamp, "partition_timestamp": partition}
    return out


def after_column_step(
    spec: Mapping[str, Any], kept: Sequence[str] | None, dropped: Sequence[str] | None
) -> dict[str, Any]:
    """The spec after ``keep_columns(kept)`` or ``drop_columns(dropped)``: a timestamp column that goes
    takes its role with it, as in v1 (the partition timestamp goes with the timestamp, never alone)."""
    timestamp, partition = timestamp_columns(spec)

    def gone(name: str | None) -> bool:
        if name is None:
            return False
        return (kept is not None and name not in kept) or (dropped is not None and name in dropped)

    if gone(timestamp):
        return with_timestamp_columns(spec, None, None)
    if gone(partition):
        return with_timestamp_columns(spec, timestamp, None)
    return dict(spec)


# -- arguments -----------------------------------------------------------------------------------------------
def utc_instant(value: object, what: str) -> _dt.datetime:
    """``value`` (a ``datetime``, or a ``date`` for its midnight) as an aware UTC datetime: naive ones
    are UTC, aware ones converted. A pandas Timestamp's nanoseconds are dropped (microseconds kept)."""
    if isinstance(value, _dt.datetime):
        try:
            moment = value.replace(tzinfo=_UTC) if value.utcoffset() is None else value.astimezone(_UTC)
            # A plain datetime, whatever the subclass (pandas' Timestamp prints nanoseconds in isoformat).
            return _dt.datetime(
                moment.year,
                moment.month,
                moment.day,
                moment.hour,
                moment.minute,
                moment.second,
                moment.microsecond,
                tzinfo=_UTC,
            )
        except (TypeError, ValueError, OverflowError):  # pandas' NaT, or beyond datetime's years in UTC
            raise InvalidArgumentError(f"{what} is not a usable time: {value!r}") from None
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    raise InvalidArgumentError(
        f"{what} is a datetime.datetime (naive ones are UTC), got {type(value).__name__} {value!r}; "
        "e.g. datetime(2026, 11, 2) or datetime(2026, 11, 2, tzinfo=timezone.utc)"
    )


def iso(moment: _dt.datetime) -> str:
    return moment.isoformat()


def _epoch_ns(text: str | None) -> int | None:
    if text is None:
        return None
    return (_dt.datetime.fromisoformat(text) - _EPOCH) // _dt.timedelta(microseconds=1) * 1000


# -- reading -------------------------------------------------------------------------------------------------
def filter_table(table: pa.Table, step: Mapping[str, Any]) -> pa.Table:
    """The rows of ``table`` whose timestamp is within the step's bounds (nulls never are)."""
    import pyarrow.compute as pc

    column = str(step["column"])
    partition = step.get("partition_column")
    check_columns(table, [column, *([partition] if partition else [])], "the time filter", convertible=False)
    start, end = _epoch_ns(step.get("start")), _epoch_ns(step.get("end"))
    include_start, include_end = bool(step.get("include_start", True)), bool(step.get("include_end", True))
    mask = _mask(table.column(column), column, (start, include_start), (end, include_end))
    if partition:
        # The partition timestamp is when the rows' partition (a day's folder, a month's file) starts: never
        # after a row's own timestamp. A partition that starts after the end holds no row in range, but one
        # that starts before the start may hold later rows — so only the end bounds it (v1 bounded both,
        # which loses the rows of a partition that straddles the start).
        mask = pc.and_(mask, _mask(table.column(partition), partition, (None, True), (end, include_end)))
    return table.filter(mask)


def check_columns(table: pa.Table, names: Sequence[str], what: str, *, convertible: bool = True) -> None:
    """Each of ``names`` is a column of ``table`` (a clear error listing the columns otherwise) and, with
    ``convertible``, holds times this module reads (its values are converted to see)."""
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise InvalidArgumentError(
            f"{what}: the dataset has no column {', '.join(repr(n) for n in missing)} (columns: "
            f"{', '.join(repr(c) for c in table.column_names[:30])}); name one of those in with_timestamp_columns"
        )
    if convertible:
        for name in names:
            _comparable(table.column(name), name)


def _mask(
    values: pa.ChunkedArray, name: str, start: tuple[int | None, bool], end: tuple[int | None, bool]
) -> pa.ChunkedArray:
    """True where ``values`` (converted to instants) are within ``start`` and ``end`` — each ``(epoch
    nanoseconds or None, included)``; nulls and NaN are False."""
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers, per = _comparable(values, name)
    mask = pc.is_valid(numbers)
    for (bound, inclusive), lower in ((start, True), (end, False)):
        if bound is None:
            continue
        if per is None:  # epoch seconds as floats: compared as floats (NaN compares False)
            limit: float | int = bound / 1e9
        else:
            # The bound in the column's unit, rounded so that the integer comparison is exact: a
            # seconds column has no row at 08:00:00.5, so ">= 08:00:00.5" is ">= 08:00:01".
            limit = -(-bound // per) if lower == inclusive else bound // per
            if not _INT64[0] <= limit <= _INT64[1]:  # beyond the column's range: every row is on one side
                everyone = (limit < _INT64[0]) == lower
                mask = pc.and_(mask, pa.scalar(everyone))
                continue
        if lower:
            cond = pc.greater_equal(numbers, limit) if inclusive else pc.greater(numbers, limit)
        else:
            cond = pc.less_equal(numbers, limit) if inclusive else pc.less(numbers, limit)
        mask = pc.and_(mask, cond)
    return pc.fill_null(mask, False)


def _comparable(values: pa.ChunkedArray, name: str) -> tuple[pa.ChunkedArray, int | None]:
    """``values`` as numbers to compare with a bound: int64 counts of ``per`` nanoseconds since the
    epoch (UTC), or float seconds (``per`` None)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_timestamp(kind):
        # Arrow keeps every timestamp as UTC counts (a zone is only how it is shown); a naive one's wall
        # time is read as UTC — the same counts.
        return pc.cast(values, pa.int64()), _NS_PER_UNIT[kind.unit]
    if pa.types.is_date32(kind):
        return pc.cast(pc.cast(values, pa.int32()), pa.int64()), _NS_PER_DAY
    if pa.types.is_date64(kind):
        return pc.cast(values, pa.int64()), _NS_PER_UNIT["ms"]
    if pa.types.is_null(kind):  # a column with no value at all (JSON lines that never set it)
        return pc.cast(values, pa.int64()), 1
    if pa.types.is_integer(kind):
        try:
            return pc.cast(values, pa.int64()), _NS_PER_UNIT["s"]
        except pa.ArrowInvalid:  # uint64 beyond int64
            raise InvalidArgumentError(f"column {name!r} holds numbers too large for epoch seconds") from None
    if pa.types.is_floating(kind):
        return pc.cast(values, pa.float64()), None
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return _comparable(_parse_iso(values, name), name)
    raise InvalidArgumentError(
        f"column {name!r} is {kind}: a timestamp column holds timestamps, dates, ISO 8601 text or epoch seconds; "
        "name another column in with_timestamp_columns, or read this one with set_column_types="
        f"{{{name!r}: {_FORMAT_HINT}}}"
    )


def _parse_iso(values: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """ISO 8601 text as timestamps: Arrow's parser when every value has a zone offset or none has, else
    pandas' (mixed offsets; naive ones are UTC). A value neither reads is an error naming it."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    for target in (pa.timestamp("us"), pa.timestamp("us", "UTC")):
        try:
            return pc.cast(values, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    text = values.to_pandas()
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna() & text.notna() & (text != "")
    if bool(bad.any()):
        first = text[bad].iloc[0]
        raise InvalidArgumentError(
            f"column {name!r} holds {first!r}, which is not an ISO 8601 time (such as 2026-11-02T08:30:00 or "
            f"2026-11-02T08:30:00+01:00); fix the value, or give the column's format with set_column_types="
            f"{{{name!r}: {_FORMAT_HINT}}}"
        )
    return pa.chunked_array([pa.Array.from_pandas(parsed)])
