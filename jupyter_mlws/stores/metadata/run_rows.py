"""What the SQL store and the light SQLite run lister both read, written once, without SQLAlchemy.

The light lister (``sqlite_lister.py``) exists so that a short-lived process (``mlws runs list``) can
list runs without importing SQLAlchemy, which alone costs about a quarter of a second: so the schema
revision, the run columns' order and the run-page summary queries live here, and both readers use them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ...core.entities import RunRecord
from ...core.status import RunStatus

__all__ = ["CHUNK", "RUN_SELECT", "SCHEMA_REVISION", "chunks", "run_record", "summarize_run_rows"]

# The head of sql/migrations/versions; a test checks that Alembic agrees.
SCHEMA_REVISION = "0013"
# SQLite's default limit on bound parameters in one statement was 999 in older builds.
CHUNK = 500

# The columns of ``run_record`` in order, as plain SQL over ``runs r`` (the SQL store builds the same
# select with SQLAlchemy as ``RUN_COLUMNS`` over ``RUNS_JOINED``; a test checks that they agree).
RUN_SELECT = (
    "SELECT r.run_id, r.experiment_id, e.name, r.number, r.status, r.created_time, p.run_id, "
    "r.display_name, r.run_type, r.start_time, r.end_time, r.error, r.compute_target, r.snapshot_id, "
    "r.supervisor_pid, r.supervisor_host, r.heartbeat_time, r.supervisor_start, r.job_folder "
    "FROM runs r JOIN experiments e ON e.id = r.experiment_id LEFT JOIN runs p ON p.key = r.parent_key"
)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def run_record(row: Sequence[Any]) -> RunRecord:
    return RunRecord(
        run_id=row[0],
        experiment_id=row[1],
        experiment_name=row[2],
        number=row[3],
        status=RunStatus(row[4]),
        created_time=row[5],
        parent_run_id=row[6],
        display_name=row[7],
        run_type=row[8],
        start_time=row[9],
        end_time=row[10],
        error=json.loads(row[11]) if row[11] else None,
        compute_target=row[12],
        snapshot_id=row[13],
        supervisor_pid=row[14],
        supervisor_host=row[15],
        heartbeat_time=row[16],
        supervisor_start=row[17],
        job_folder=row[18],
    )


#: ``execute(sql, params)``: the rows of one statement written with ``?`` placeholders.
Execute = Callable[[str, Sequence[Any]], Iterable[Sequence[Any]]]


def summarize_run_rows(execute: Execute, run_ids: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Latest metric values, params and tags of many runs in three queries (list pages).

    Hand-written SQL: this runs for every page of every list, and SQLAlchemy's rendering of the IN
    lists cost more than the queries."""
    result: dict[str, dict[str, dict[str, Any]]] = {rid: {"metrics": {}, "params": {}, "tags": {}} for rid in run_ids}
    nan = math.nan
    for part in chunks(list(run_ids)):
        marks = ", ".join("?" * len(part))
        rows = execute(
            "SELECT r.run_id, s.name, s.last_value, s.count FROM metric_series s "
            f"JOIN runs r ON r.key = s.run_key WHERE r.run_id IN ({marks}) AND s.kind = 'scalar' "
            "ORDER BY s.id",  # metrics in the order they were first logged
            tuple(part),
        )
        for rid, name, value, count in rows:
            if count:
                result[rid]["metrics"][name] = nan if value is None else value
        for table, section in (("run_params", "params"), ("run_tags", "tags")):
            rows = execute(
                f"SELECT r.run_id, t.key, t.value FROM {table} t "
                f"JOIN runs r ON r.key = t.run_key WHERE r.run_id IN ({marks})",
                tuple(part),
            )
            for rid, key, value in rows:
                result[rid][section][key] = value
    return result
