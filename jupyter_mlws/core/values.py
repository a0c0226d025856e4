"""Value helpers shared by the facades, the services and the adapters.

Number coercion for metrics, text-valued metrics and Azure ML v1's chart documents, string maps
for tags/params/properties, JSON-able table rows, and UTC times in ISO 8601. One definition each:
the CLI, the REST API, the magics and ``get_details()`` format a time the same way.
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import reprlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidArgumentError
from .names import validate_key
from .redaction import REDACTOR

__all__ = [
    "CHART_KINDS",
    "as_number",
    "as_step",
    "as_text",
    "chart_value",
    "finite_number",
    "is_finite_number",
    "iso_utc",
    "json_row",
    "metric_value",
    "row_columns",
    "str_map",
    "text",
    "text_values",
    "typed_value",
]


def _shown(value: object) -> str:
    """At most 40 characters of a refused value for its error, whatever its size or nesting: ``str``
    of a list nested 100,000 deep raises RecursionError, of a 10,000-digit int ValueError."""
    try:
        shown = reprlib.repr(value) if isinstance(value, list | tuple | dict | set | int) else str(value)
    except Exception:  # a value whose str() fails is still refused, by its type
        shown = f"<{type(value).__name__}>"
    return shown[:40]


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
        f"metric {name!r} takes numbers here, got {type(value).__name__} {_shown(value)!r}: "
        "log text or booleans with run.log(), lists with run.log_list(), rows with run.log_row(), "
        "a dict of columns with run.log_table()"
    )


def as_text(value: object) -> str | bool | None:
    """A text-valued metric as Azure ML v1 keeps it: a string or a boolean (numpy's ``str_`` and
    ``bool_`` too); ``None`` when ``value`` is neither. Core does not import numpy: a numpy boolean
    is recognised by its dtype."""
    if isinstance(value, str):
        return str(value)  # a str subclass (numpy.str_) stored as plain str
    if isinstance(value, bool):
        return value
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", None) == "b" and getattr(value, "shape", None) == ():
        item = getattr(value, "item", None)
        inner = item() if callable(item) else None
        if isinstance(inner, bool):
            return inner
    return None


def text_values(name: str, values: Sequence[object]) -> list[str | bool]:
    """The values of a text-valued metric (``log_list`` of strings), each a string or a boolean."""
    out: list[str | bool] = []
    for value in values:
        text = as_text(value)
        if text is None:
            raise InvalidArgumentError(
                f"metric {name!r} takes text (strings or booleans) here, got {type(value).__name__} "
                f"{_shown(value)!r}: log numbers under another name"
            )
        out.append(REDACTOR.text(text) if REDACTOR and isinstance(text, str) else text)
    return out


def metric_value(name: str, value: object) -> float | str | bool:
    """What ``run.log(name, value)`` stores: a number as float, text and booleans as they are (v1's
    text-valued metrics). Anything else is refused naming the metric and what to log it with."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):  # numbers first: the hot path
        try:
            return float(value)
        except OverflowError:
            raise InvalidArgumentError(f"metric {name!r}: {_shown(value)}... is too large for a float") from None
    text = as_text(value)
    if text is not None:
        return text
    try:
        return as_number(name, value)
    except InvalidArgumentError:
        pass
    raise InvalidArgumentError(
        f"run.log({name!r}) takes a number, a string or a boolean, got {type(value).__name__} "
        f"{_shown(value)!r}: log a list with run.log_list(), one row with run.log_row(), a dict of "
        "columns with run.log_table(), a v1 chart dict with run.log_confusion_matrix(), "
        "log_accuracy_table(), log_residuals() or log_predictions(), anything else with run.upload_file()"
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
    if REDACTOR:  # a secret the job obtained never becomes a tag, param or property (issue 21)
        return {REDACTOR.text(validate_key(kind, k)): REDACTOR.text(text(v)) for k, v in values.items()}
    return {validate_key(kind, k): text(v) for k, v in values.items()}


def json_row(name: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """One row of a table metric as JSON: numbers, strings, booleans or None per column."""
    clean: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str) and REDACTOR:
            clean[key] = REDACTOR.text(value)
        elif isinstance(value, bool | str) or value is None:
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


# -- Azure ML v1's chart metrics -----------------------------------------------------------------------------
# ``log_confusion_matrix``, ``log_accuracy_table``, ``log_residuals`` and ``log_predictions`` take one JSON
# document each, ``{"schema_type": ..., "schema_version": ..., "data": {...}}`` (a dict, or the same as a
# JSON string). Checked here, once, for every surface that logs them (a run, an offline run, a Docker
# job's side and its supervisor), and kept as plain JSON.

#: The ``data`` fields of each kind, as v1 documents them.
CHART_KINDS: dict[str, tuple[str, ...]] = {
    "confusion_matrix": ("class_labels", "matrix"),
    "accuracy_table": (
        "probability_tables",
        "percentile_tables",
        "probability_thresholds",
        "percentile_thresholds",
        "class_labels",
    ),
    "residuals": ("bin_edges", "bin_counts"),
    "predictions": ("bin_averages", "bin_errors", "bin_counts", "bin_edges"),
}

_METHOD = {kind: f"log_{kind}" for kind in CHART_KINDS}


def _number(where: str, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        item = getattr(value, "item", None)  # numpy scalars
        try:
            inner = item() if callable(item) and not isinstance(value, str | bytes) else None
        except (ValueError, RuntimeError):  # an array of several values
            inner = None
        if isinstance(inner, bool) or not isinstance(inner, numbers.Real):
            raise InvalidArgumentError(f"{where} must be a number, got {type(value).__name__} {_shown(value)!r}")
        value = inner
    try:
        number = float(value)  # an integer too large for a float is no count a chart can draw
    except OverflowError:
        raise InvalidArgumentError(f"{where} is too large: {_shown(value)}...") from None
    if isinstance(value, numbers.Integral):
        return int(value)
    if not math.isfinite(number):
        raise InvalidArgumentError(f"{where} must be a finite number, got {number!r}")
    return number


def _list(where: str, value: object, length: int | None = None) -> list[Any]:
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist) and not isinstance(value, str | bytes):
        value = tolist()
    if not isinstance(value, list | tuple):
        raise InvalidArgumentError(f"{where} must be a list, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise InvalidArgumentError(f"{where} must have {length} entries, got {len(value)}")
    return list(value)


def _numbers(where: str, value: object, length: int | None = None) -> list[int | float]:
    return [_number(f"{where}[{i}]", v) for i, v in enumerate(_list(where, value, length))]


def _labels(where: str, value: object) -> list[Any]:
    labels = _list(where, value)
    if not labels:
        raise InvalidArgumentError(f"{where} must name at least one class")
    out: list[Any] = []
    for i, label in enumerate(labels):
        if isinstance(label, str | bool) or label is None:
            out.append(label)
        else:
            out.append(_number(f"{where}[{i}]", label))
    return out


def _tables(where: str, value: object, classes: int, thresholds: int) -> list[list[list[int | float]]]:
    """Per class, per threshold, the counts ``[TP, FP, TN, FN]``."""
    return [
        [_numbers(f"{where}[{c}][{t}]", row, 4) for t, row in enumerate(_list(f"{where}[{c}]", table, thresholds))]
        for c, table in enumerate(_list(where, value, classes))
    ]


def _check_data(kind: str, where: str, data: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "confusion_matrix":
        labels = _labels(f"{where}.class_labels", data["class_labels"])
        n = len(labels)
        rows = _list(f"{where}.matrix", data["matrix"], n)
        matrix = [_numbers(f"{where}.matrix[{i}]", row, n) for i, row in enumerate(rows)]
        return {"class_labels": labels, "matrix": matrix}
    if kind == "residuals":
        counts = _numbers(f"{where}.bin_counts", data["bin_counts"])
        edges = _numbers(f"{where}.bin_edges", data["bin_edges"], len(counts) + 1)
        return {"bin_edges": edges, "bin_counts": counts}
    if kind == "predictions":
        averages = _numbers(f"{where}.bin_averages", data["bin_averages"])
        k = len(averages)
        return {
            "bin_averages": averages,
            "bin_errors": _numbers(f"{where}.bin_errors", data["bin_errors"], k),
            "bin_counts": _numbers(f"{where}.bin_counts", data["bin_counts"], k),
            "bin_edges": _numbers(f"{where}.bin_edges", data["bin_edges"], k + 1),
        }
    labels = _labels(f"{where}.class_labels", data["class_labels"])
    probability = _numbers(f"{where}.probability_thresholds", data["probability_thresholds"])
    percentile = _numbers(f"{where}.percentile_thresholds", data["percentile_thresholds"])
    return {
        "probability_tables": _tables(
            f"{where}.probability_tables", data["probability_tables"], len(labels), len(probability)
        ),
        "percentile_tables": _tables(
            f"{where}.percentile_tables", data["percentile_tables"], len(labels), len(percentile)
        ),
        "probability_thresholds": probability,
        "percentile_thresholds": percentile,
        "class_labels": labels,
    }


def chart_value(kind: str, name: str, value: object) -> dict[str, Any]:
    """The checked, plain-JSON document of a v1 chart metric ``kind`` logged under ``name``.

    ``value`` is a dict or a JSON string ``{"schema_type": kind, "schema_version": "...", "data":
    {...}}``; a wrong shape is refused naming the metric, the field and what it needs.
    """
    if kind not in CHART_KINDS:
        raise InvalidArgumentError(f"unknown chart kind {kind!r}; known: {', '.join(CHART_KINDS)}")
    method = f"{_METHOD[kind]}({name!r})"
    fields = ", ".join(CHART_KINDS[kind])
    shape = f'{{"schema_type": "{kind}", "schema_version": "1.0.0", "data": {{{fields}}}}}'
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except RecursionError:
            raise InvalidArgumentError(f"{method}: the JSON value is nested too deeply; it takes {shape}") from None
        except ValueError as exc:
            raise InvalidArgumentError(f"{method}: the value is not valid JSON ({exc}); it takes {shape}") from None
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(f"{method} takes a dict or a JSON string {shape}, got {type(value).__name__}")
    schema_type = value.get("schema_type")
    if schema_type != kind:
        raise InvalidArgumentError(
            f"{method}: schema_type must be {kind!r}, got {schema_type!r}"
            + (f" (log it with log_{schema_type}())" if schema_type in CHART_KINDS else "")
        )
    version = value.get("schema_version")
    if not isinstance(version, str) or not version:
        raise InvalidArgumentError(f"{method}: schema_version must be a string such as '1.0.0', got {version!r}")
    data = value.get("data")
    if not isinstance(data, Mapping):
        raise InvalidArgumentError(f"{method}: data must be an object with {fields}, got {type(data).__name__}")
    missing = [f for f in CHART_KINDS[kind] if f not in data]
    if missing:
        raise InvalidArgumentError(f"{method}: data lacks {', '.join(missing)} (it takes {fields})")
    return {"schema_type": kind, "schema_version": version, "data": _check_data(kind, f"{method}: data", data)}


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


def typed_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``true`` -> True, ``[1, 2]`` -> [1, 2], ``'x'``/``x`` -> "x"."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text[:1] in ("[", "{", '"'):
        try:
            return json.loads(text)
        except ValueError:
            pass
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return text
