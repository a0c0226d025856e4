"""Shared plumbing of the SQL store's parts: the engine, id caches, dialect-specific upserts."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from ....core.entities import ExperimentRecord, FileRecord, ModelVersionRecord
from ....errors import InvalidStateError, NotFoundError
from ..run_rows import chunks
from .engine import SqlEngine
from .schema import experiments, runs

__all__ = ["SqlStoreBase", "chunks"]

parent_runs = runs.alias("parent_runs")
RUN_COLUMNS = (
    runs.c.run_id,
    runs.c.experiment_id,
    experiments.c.name,
    runs.c.number,
    runs.c.status,
    runs.c.created_time,
    parent_runs.c.run_id,
    runs.c.display_name,
    runs.c.run_type,
    runs.c.start_time,
    runs.c.end_time,
    runs.c.error,
    runs.c.compute_target,
    runs.c.snapshot_id,
    runs.c.supervisor_pid,
    runs.c.supervisor_host,
    runs.c.heartbeat_time,
    runs.c.supervisor_start,
    runs.c.job_folder,
)
RUNS_JOINED = runs.join(experiments, experiments.c.id == runs.c.experiment_id).outerjoin(
    parent_runs, parent_runs.c.key == runs.c.parent_key
)
_PLURALS = {"property": "properties"}


class SqlStoreBase:
    """What every SQL mixin shares: the engine, the id caches, upserts and the change-feed append.

    It implements no interface itself; each mixin pairs it with the one concern it implements.
    """

    sql: SqlEngine

    def __init__(self, url: str) -> None:
        self.sql = SqlEngine(url)
        self.url = url
        # Ids never change once committed, so they are cached for the hot paths (log_batch).
        self._run_keys: dict[str, int] = {}
        self._series: dict[tuple[int, str], tuple[int, str]] = {}
        self._experiments: dict[str, ExperimentRecord] = {}
        # Statements built once: building an upsert costs more than executing it (a ParallelRunStep
        # registers a tagged model per partition, issue 19). Statements are immutable; values bind.
        self._statements: dict[tuple[str, ...], Any] = {}

    def insert(self, table: Table) -> Any:
        """An INSERT that understands ``on_conflict_do_nothing/update`` on both dialects."""
        # The dialect modules are imported on first use: PostgreSQL's alone costs a SQLite
        # workspace's CLI start ~50 ms (issue 22).
        dialect = "postgresql" if self.sql.dialect == "postgresql" else "sqlite"
        return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(table)

    def placeholder(self) -> str:
        return "?" if self.sql.engine.dialect.paramstyle == "qmark" else "%s"

    def emit(
        self,
        conn: Connection,
        kind: str,
        payload: Mapping[str, Any],
        run_id: str | None = None,
        experiment: str | None = None,
    ) -> None:
        """Append to the change feed inside the caller's transaction."""
        conn.exec_driver_sql(
            self.raw("INSERT INTO events (time, kind, run_id, experiment, payload) VALUES (?, ?, ?, ?, ?)"),
            (time.time(), kind, run_id, experiment, json.dumps(dict(payload))),
        )

    def _insert_versions(
        self, conn: Connection, models: Sequence[tuple[ModelVersionRecord, Sequence[FileRecord]]]
    ) -> None:
        """Write model versions in ``conn``'s transaction (numbers taken for those still pending):
        ``RegistryMixin``'s, declared here for ``RunsMixin.write_held`` (a group commit spans runs and
        models)."""
        raise NotImplementedError

    def raw(self, statement: str) -> str:
        """Hand-written SQL (``?`` placeholders) in this driver's parameter style."""
        return statement if self.placeholder() == "?" else statement.replace("?", "%s")

    def run_key(self, conn: Connection, run_id: str) -> int:
        key = self._run_keys.get(run_id)
        if key is None:
            key = conn.exec_driver_sql(self.raw("SELECT key FROM runs WHERE run_id = ?"), (run_id,)).scalar()
            if key is None:
                raise NotFoundError(f"run {run_id!r} not found in this workspace")
            self._run_keys[run_id] = key
        return key

    def insert_immutable(
        self,
        conn: Connection,
        table: Table,
        owner_column: str,
        owner_key: int,
        values: Mapping[str, str],
        what: str,
    ) -> None:
        """Insert key/values that may be set once: the same value again is fine, another raises."""
        if not values:
            return
        owner = table.c[owner_column]
        conn.execute(
            self.insert(table).on_conflict_do_nothing(),
            [{owner_column: owner_key, "key": k, "value": v} for k, v in values.items()],
        )
        keys = list(values)
        for part in chunks(keys):
            stored = conn.execute(
                select(table.c.key, table.c.value).where(owner == owner_key, table.c.key.in_(part))
            ).all()
            for key, value in stored:
                if value != values[key]:
                    raise InvalidStateError(
                        f"{what} {key!r} is already set to {value!r} and cannot change "
                        f"(tried {values[key]!r}); {_PLURALS.get(what, what + 's')} are immutable, use a tag for "
                        "values that change"
                    )

    def upsert_values(
        self, conn: Connection, table: Table, owner_column: str, owner_key: int, values: Mapping[str, str]
    ) -> None:
        if not values:
            return
        stmt = self._statements.get(("upsert", table.name, owner_column))
        if stmt is None:
            stmt = self.insert(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c[owner_column], table.c.key], set_={"value": stmt.excluded.value}
            )
            self._statements[("upsert", table.name, owner_column)] = stmt
        conn.execute(stmt, [{owner_column: owner_key, "key": k, "value": v} for k, v in values.items()])

    def insert_new_values(
        self, conn: Connection, table: Table, owner_column: str, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Key-value rows ``(owner key, key, value)`` of owners made in this transaction: none of
        theirs exists, so a plain insert of them all at once, in hand-written SQL (run and model
        creation are hot paths: a ParallelRunStep makes one of each per partition, issue 19)."""
        if rows:
            statement = f"INSERT INTO {table.name} ({owner_column}, key, value) VALUES (?, ?, ?)"
            conn.exec_driver_sql(self.raw(statement), list(rows))

    def read_values(self, table: Table, owner_column: str, owner_key: int, conn: Connection) -> dict[str, str]:
        rows = conn.execute(
            select(table.c.key, table.c.value).where(table.c[owner_column] == owner_key).order_by(table.c.key)
        )
        return {row[0]: row[1] for row in rows}

    def close(self) -> None:
        self.sql.dispose()
