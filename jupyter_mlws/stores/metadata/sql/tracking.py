"""Metrics, params, tags and properties. ``log_batch`` is the one write primitive."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from ....core.entities import MetricPoint, MetricRecordEntry, MetricSeriesInfo
from ....core.interfaces import MetricTuple, TrackingStore
from ....errors import InvalidArgumentError
from ..run_rows import summarize_run_rows
from .base import SqlStoreBase
from .schema import metric_records, metric_series, run_params, run_properties, run_tags

__all__ = ["TrackingMixin"]

_NAME, _VALUE, _STEP, _TIME = (itemgetter(i) for i in range(4))
_KIND_HINT = {
    "scalar": "numbers (run.log)",
    "table": "rows (run.log_row / run.log_table)",
    "image": "images (run.log_image)",
    "text": "text or booleans (run.log)",
    "confusion_matrix": "a confusion matrix (run.log_confusion_matrix)",
    "accuracy_table": "an accuracy table (run.log_accuracy_table)",
    "residuals": "residuals (run.log_residuals)",
    "predictions": "predictions (run.log_predictions)",
}
_NEW_SERIES = (
    "INSERT INTO metric_series (run_key, name, kind, count) VALUES (?, ?, ?, 0) ON CONFLICT (run_key, name) DO NOTHING"
)
_SERIES = "SELECT id, kind FROM metric_series WHERE run_key = ? AND name = ?"
_ADVANCE_SERIES = (
    "UPDATE metric_series SET count = count + ?, last_value = ?, last_step = ?, last_time = ? WHERE id = ? "
    "RETURNING count"
)
#: Kinds kept as JSON records (everything but numbers).
RECORD_KINDS = frozenset(_KIND_HINT) - {"scalar"}


class TrackingMixin(SqlStoreBase, TrackingStore):
    def _series_id(
        self,
        conn: Connection,
        run_key: int,
        name: str,
        kind: str,
        created: dict[tuple[int, str], tuple[int, str]],
    ) -> int:
        cached = self._series.get((run_key, name)) or created.get((run_key, name))
        if cached is None:
            # Hand-written SQL: a new series per short run (a ParallelRunStep's mini-batches) made
            # SQLAlchemy's statement building most of a metric write (issue 19).
            conn.exec_driver_sql(self.raw(_NEW_SERIES), (run_key, name, kind))
            row = conn.exec_driver_sql(self.raw(_SERIES), (run_key, name)).one()
            cached = (row[0], row[1])
            # Cached only once the transaction commits: a rolled-back id must not be reused.
            created[(run_key, name)] = cached
        if cached[1] != kind:
            raise InvalidArgumentError(
                f"metric {name!r} of this run holds {_KIND_HINT[cached[1]]}; it cannot take "
                f"{_KIND_HINT[kind]}: log them under another name"
            )
        return cached[0]

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[MetricTuple] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        created: dict[tuple[int, str], tuple[int, str]] = {}
        with self.sql.write() as conn:
            run_key = self.run_key(conn, run_id)
            if metrics:
                self._insert_points(conn, run_key, metrics, created)
            if params:
                self.insert_immutable(conn, run_params, "run_key", run_key, params, "param")
            if tags:
                self.upsert_values(conn, run_tags, "run_key", run_key, tags)
        self._series.update(created)

    def log_points(self, points: Mapping[str, Sequence[MetricTuple]]) -> None:
        created: dict[tuple[int, str], tuple[int, str]] = {}
        with self.sql.write() as conn:
            # In one order (runs, then names in _insert_points) in every process: PostgreSQL locks
            # each series row it advances, and two writers taking them in opposite orders deadlock.
            for run_id, metrics in sorted(points.items()):
                if metrics:
                    self._insert_points(conn, self.run_key(conn, run_id), metrics, created)
        self._series.update(created)

    def _insert_points(
        self,
        conn: Connection,
        run_key: int,
        metrics: Sequence[MetricTuple],
        created: dict[tuple[int, str], tuple[int, str]],
    ) -> None:
        # The hot path of durable logging: per point only C-level work (map, zip, executemany).
        names = list(map(_NAME, metrics))
        first = names[0]
        if names.count(first) == len(names):
            groups: dict[str, Sequence[MetricTuple]] = {first: metrics}
        else:
            grouped: dict[str, list[MetricTuple]] = defaultdict(list)
            for m in metrics:
                grouped[m[0]].append(m)
            groups = dict(sorted(grouped.items()))
        rows: list[tuple[int, int, int | None, float, float]] = []
        for name, points in groups.items():
            sid = self._series_id(conn, run_key, name, "scalar", created)
            _, step, value, ts = points[-1][0], points[-1][2], points[-1][1], points[-1][3]
            # Sequence numbers come from the series counter, under the write lock (SQLite) or the
            # row lock of this UPDATE (PostgreSQL): concurrent writers never collide.
            end = conn.exec_driver_sql(
                self.raw(_ADVANCE_SERIES), (len(points), None if value != value else value, step, ts, sid)
            ).scalar_one()
            seqs = range(end - len(points), end)
            rows.extend(zip(repeat(sid), seqs, map(_STEP, points), map(_VALUE, points), map(_TIME, points)))
        p = self.placeholder()
        conn.exec_driver_sql(
            f"INSERT INTO metric_points (series_id, seq, step, value, timestamp) VALUES ({p}, {p}, {p}, {p}, {p})",
            rows,
        )

    def log_records(self, run_id: str, name: str, kind: str, entries: Sequence[MetricRecordEntry]) -> None:
        if kind not in RECORD_KINDS:
            raise InvalidArgumentError(f"unknown record kind {kind!r}")
        if not entries:
            return
        created: dict[tuple[int, str], tuple[int, str]] = {}
        with self.sql.write() as conn:
            run_key = self.run_key(conn, run_id)
            sid = self._series_id(conn, run_key, name, kind, created)
            conn.execute(
                metric_records.insert(),
                [{"series_id": sid, "payload": json.dumps(e.payload), "timestamp": e.timestamp} for e in entries],
            )
            conn.execute(
                update(metric_series)
                .where(metric_series.c.id == sid)
                .values(count=metric_series.c.count + len(entries), last_time=entries[-1].timestamp)
            )
        self._series.update(created)

    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None:
        with self.sql.write() as conn:
            run_key = self.run_key(conn, run_id)
            conn.execute(delete(run_tags).where(run_tags.c.run_key == run_key, run_tags.c.key.in_(list(keys))))

    def add_properties(self, run_id: str, properties: Mapping[str, str]) -> None:
        with self.sql.write() as conn:
            run_key = self.run_key(conn, run_id)
            self.insert_immutable(conn, run_properties, "run_key", run_key, properties, "property")

    def _values_of(self, table: object, run_id: str) -> dict[str, str]:
        with self.sql.read() as conn:
            return self.read_values(table, "run_key", self.run_key(conn, run_id), conn)  # type: ignore[arg-type]

    def get_params(self, run_id: str) -> dict[str, str]:
        return self._values_of(run_params, run_id)

    def get_tags(self, run_id: str) -> dict[str, str]:
        return self._values_of(run_tags, run_id)

    def get_properties(self, run_id: str) -> dict[str, str]:
        return self._values_of(run_properties, run_id)

    def list_metric_series(self, run_id: str) -> list[MetricSeriesInfo]:
        with self.sql.read() as conn:
            rows = conn.execute(
                select(
                    metric_series.c.name,
                    metric_series.c.kind,
                    metric_series.c.count,
                    metric_series.c.last_value,
                    metric_series.c.last_step,
                    metric_series.c.last_time,
                )
                .where(metric_series.c.run_key == self.run_key(conn, run_id))
                .order_by(metric_series.c.id)
            ).all()
        # A numeric series whose last value is NaN keeps NULL in last_value (as SQLite must).
        # Other kinds keep no last value (text included: ``last_value`` is a number column).
        return [
            MetricSeriesInfo(
                *row[:3], math.nan if row[1] == "scalar" and row[2] and row[3] is None else row[3], *row[4:]
            )
            for row in rows
        ]

    def _series_for_read(self, conn: Connection, run_id: str, name: str, kind: str) -> int | None:
        run_key = self.run_key(conn, run_id)
        row = conn.execute(
            select(metric_series.c.id, metric_series.c.kind).where(
                metric_series.c.run_key == run_key, metric_series.c.name == name
            )
        ).first()
        if row is None:
            return None
        if row[1] != kind:
            raise InvalidArgumentError(f"metric {name!r} holds {_KIND_HINT[row[1]]}, not {_KIND_HINT[kind]}")
        return int(row[0])

    def get_metric_history(self, run_id: str, name: str) -> list[MetricPoint]:
        nan = math.nan
        with self.sql.read() as conn:
            sid = self._series_for_read(conn, run_id, name, "scalar")
            if sid is None:
                return []
            p = self.placeholder()
            rows = conn.exec_driver_sql(
                f"SELECT value, step, timestamp FROM metric_points WHERE series_id = {p} ORDER BY seq", (sid,)
            ).all()
        return [MetricPoint(name, nan if v is None else v, s, t) for v, s, t in rows]

    def get_metric_values(self, run_id: str, name: str) -> list[float]:
        with self.sql.read() as conn:
            sid = self._series_for_read(conn, run_id, name, "scalar")
            if sid is None:
                return []
            p = self.placeholder()
            cursor = conn.exec_driver_sql(f"SELECT value FROM metric_points WHERE series_id = {p} ORDER BY seq", (sid,))
            values = [row[0] for row in cursor]
        if None in values:
            values = [math.nan if v is None else v for v in values]
        return values

    def get_metric_records(self, run_id: str, name: str) -> list[MetricRecordEntry]:
        with self.sql.read() as conn:
            run_key = self.run_key(conn, run_id)
            row = conn.execute(
                select(metric_series.c.id).where(metric_series.c.run_key == run_key, metric_series.c.name == name)
            ).first()
            if row is None:
                return []
            rows = conn.execute(
                select(metric_records.c.payload, metric_records.c.timestamp)
                .where(metric_records.c.series_id == row[0])
                .order_by(metric_records.c.id)
            ).all()
        return [MetricRecordEntry(json.loads(payload), ts) for payload, ts in rows]

    def summarize_runs(self, run_ids: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """Latest metric values, params and tags of many runs in three queries (list pages)."""
        if not run_ids:
            return {}
        with self.sql.read() as conn:
            return summarize_run_rows(lambda sql, params: conn.exec_driver_sql(self.raw(sql), tuple(params)), run_ids)
