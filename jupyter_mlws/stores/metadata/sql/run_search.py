"""Compile the filter tree of :mod:`jupyter_mlws.core.search` into SQL over the runs table.

Metric conditions test each series' latest value (kept on ``metric_series``), so a search never
scans metric points; every condition is an EXISTS probe by primary key per candidate run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, false, or_, select

from ....core.search import BoolOp, Comparison, FilterExpr, OrderKey
from ....core.status import RunStatus
from ....errors import InvalidArgumentError
from .schema import metric_series, run_params, run_properties, run_tags, runs

__all__ = ["compile_filter", "compile_order"]

_KEY_VALUE_TABLES: dict[str, Table] = {"params": run_params, "tags": run_tags, "properties": run_properties}
_ATTRIBUTE_COLUMNS: dict[str, Any] = {
    "status": runs.c.status,
    "display_name": runs.c.display_name,
    "run_id": runs.c.run_id,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "created_time": runs.c.created_time,
    "run_number": runs.c.number,
}


def _apply(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "LIKE":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ILIKE":
        return column.ilike(value)  # type: ignore[no-any-return]
    if op == "IN":
        return column.in_(list(value))  # type: ignore[no-any-return]
    if op == "NOT IN":
        return column.not_in(list(value))  # type: ignore[no-any-return]
    raise InvalidArgumentError(f"unsupported comparator {op!r}")


def _status_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(RunStatus.parse(v).value for v in value)
    return RunStatus.parse(value).value


def _comparison(c: Comparison) -> ColumnElement[bool]:
    if c.kind == "metrics":
        if any(v != v for v in (c.value if isinstance(c.value, tuple) else (c.value,))):  # NaN literal
            return false()
        return exists(
            select(1).where(
                metric_series.c.run_key == runs.c.key,
                metric_series.c.name == c.key,
                metric_series.c.kind == "scalar",
                _apply(metric_series.c.last_value, c.op, c.value),
            )
        )
    if c.kind == "attributes":
        column = _ATTRIBUTE_COLUMNS[c.key]
        value = _status_value(c.value) if c.key == "status" and c.op not in ("LIKE", "ILIKE") else c.value
        return _apply(column, c.op, value)
    table = _KEY_VALUE_TABLES[c.kind]
    return exists(
        select(1).where(table.c.run_key == runs.c.key, table.c.key == c.key, _apply(table.c.value, c.op, c.value))
    )


def compile_filter(expr: FilterExpr) -> ColumnElement[bool]:
    if isinstance(expr, BoolOp):
        parts = [compile_filter(item) for item in expr.items]
        return and_(*parts) if expr.op == "and" else or_(*parts)
    return _comparison(expr)


def compile_order(keys: Sequence[OrderKey]) -> list[Any]:
    """ORDER BY terms; missing values sort last; newest runs first after the given keys."""
    terms: list[Any] = []
    for key in keys:
        if key.kind == "metrics":
            column: Any = (
                select(metric_series.c.last_value)
                .where(
                    metric_series.c.run_key == runs.c.key,
                    metric_series.c.name == key.key,
                    metric_series.c.kind == "scalar",
                )
                .scalar_subquery()
            )
        elif key.kind == "attributes":
            column = _ATTRIBUTE_COLUMNS[key.key]
        else:
            table = _KEY_VALUE_TABLES[key.kind]
            column = (
                select(table.c.value).where(table.c.run_key == runs.c.key, table.c.key == key.key).scalar_subquery()
            )
        terms.append((column.asc() if key.ascending else column.desc()).nulls_last())
    terms.extend([runs.c.created_time.desc(), runs.c.key.desc()])
    return terms
