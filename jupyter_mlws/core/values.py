"""Value helpers shared by the facades, the services and the adapters.

Number coercion for metrics, string maps for tags/params/properties, JSON-able table rows, and UTC
times in ISO 8601. One definition each: the CLI, the REST API, the magics and ``get_details()``
format a time the same way.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidArgumentError
from .names import validate_key

__all__ = [
    "as_number",
    "as_step",
    "finite_number",
    "is_finite_number",
    "iso_utc",
    "json_row",
    "row_columns",
    "str_map",
    "text",
]


def as_number(name: str, value: object) -> float:
    """A metric value as float; anything non-numeric is refused where it was logged."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | str):
        return float(value)
    if isinstance(value, bool):
        return float(value)
    item = getattr(value, "item", None)  # numpy / torch scalars and 0-d arrays
    if callable(item) and not isinstance(value, str | bytes):
        try:
            inner = item()
        except (ValueError, RuntimeError):
            inner = None
        if isinstance(inner, numbers.Real):
            return float(inner)
    raise InvalidArgumentError(
        f"metric {name!r} takes numbers, got {type(value).__name__} {str(value)[:40]!r}: "
        "log text with run.tag() or run.log_param(), lists with run.log_list(), rows with run.log_row()"
    )


def is_finite_number(value: object) -> bool:
    """Whether ``value`` is a real, finite number (not a bool): for settings checked in bulk."""
    try:
        finite_number("value", value)
    except InvalidArgumentError:
        return False
    return True


def finite_number(name: str, value: object) -> int | float:
    """An argument that must be a real, finite number (a duration, a timeout, a limit): ``int`` stays
    ``int``, anything else becomes ``float``. NaN, infinities, booleans, text and integers too large
    for a float are refused, naming ``name``: NaN compares false with everything, so a check such as
    ``value <= 0`` lets it through and it silently means "no limit".

    Metric *values* are not arguments: NaN and infinities there are data (as in MLflow and Azure ML)
    and ``as_number`` keeps them.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} must be a number, got {type(value).__name__} {str(value)[:40]!r}")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidArgumentError(f"{name} is too large: {str(value)[:40]}...") from None
    if not math.isfinite(number):
        raise InvalidArgumentError(f"{name} must be a finite number, got {number!r} (use None for no limit)")
    return value if isinstance(value, int) else number


MAX_STEP = (1 << 63) - 1  # what a store's 64-bit integer column holds


def as_step(value: object) -> int | None:
    """A metric step: an integer (a signed 64-bit one, as stores keep it) or ``None``."""
    step: int | None
    if value is None or type(value) is int:
        step = value
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        step = int(value)
    else:
        raise InvalidArgumentError(f"step must be an integer or None, got {value!r}")
    if step is not None and not -MAX_STEP - 1 <= step <= MAX_STEP:
        # Refused here: a store would fail on it in the background writer, holding up every later point.
        raise InvalidArgumentError(
            f"step of {step.bit_length()} bits is out of range: a step is a signed 64-bit integer (|step| < 2**63)"
        )
    return step


def text(value: object) -> str:
    """A tag, param or property value as stored: ``None`` is the empty string."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def str_map(kind: str, values: Mapping[str, Any] | None) -> dict[str, str]:
    """Validated keys and string values of a tags/params/properties dict; ``kind`` names it in errors."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidArgumentError(f"{kind}s must be a dict, got {type(values).__name__}")
    return {validate_key(kind, k): text(v) for k, v in values.items()}


def json_row(name: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """One row of a table metric as JSON: numbers, strings, booleans or None per column."""
    clean: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, bool | str) or value is None:
            clean[key] = value
        elif isinstance(value, numbers.Real) or callable(getattr(value, "item", None)):
            number = as_number(f"{name}.{key}", value)
            # JSON has no NaN/inf: keep them as strings that float() reads back.
            clean[key] = number if math.isfinite(number) else str(number)
        else:
            raise InvalidArgumentError(
                f"metric {name!r}: column {key!r} takes numbers, strings, booleans or None, got {type(value).__name__}"
            )
    return clean


def row_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Table rows (as stored by :func:`json_row`) back as columns, NaN/inf restored."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    columns = {k: [row.get(k) for row in rows] for k in keys}
    for values in columns.values():
        for i, v in enumerate(values):
            if isinstance(v, str) and v in ("nan", "inf", "-inf"):
                values[i] = float(v)
    return columns


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def iso_utc(ts: float | None) -> str | None:
    """``2026-01-31T12:00:00.123456Z`` (``None`` stays ``None``).

    REST list pages format hundreds of these: the date part is cached per second (runs cluster in
    time), only the microseconds are formatted each time.
    """
    if ts is None:
        return None
    # Rounded as datetime.fromtimestamp rounds (the fraction alone, half to even), so every
    # surface shows the same microsecond for the same float.
    fraction, whole = math.modf(ts)
    micros = round(fraction * 1_000_000)
    seconds = int(whole)
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    elif micros < 0:
        seconds, micros = seconds - 1, micros + 1_000_000
    return f"{_second(seconds)}.{micros:06d}Z"
