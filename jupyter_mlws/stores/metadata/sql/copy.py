"""Copy a workspace's metadata into another, empty database (issue 19: ``mlws workspace migrate``).

Every table of the schema is read in dependency order (``schema.metadata.sorted_tables``: a parent
before the tables that refer to it) from one read transaction of the source — a consistent snapshot —
and inserted, primary keys and all, into the target in one write transaction: run ids, run numbers
(and each experiment's counter), model versions (and each name's counter) and blob digests are kept,
and a failure leaves the target as empty as it was. A column that refers to its own table (a run's
parent) is filled in after its table's rows, so no order of keys can break a foreign key. PostgreSQL's
sequences are then moved past the copied keys, so that the next run or event gets a new one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ....core.interfaces import MetadataCopier
from ....errors import InvalidArgumentError, InvalidStateError, MlwsError
from .engine import SqlEngine
from .migrate import SCHEMA_REVISION, current_revision, ensure_schema
from .schema import metadata, model_files, pipeline_step_runs, run_files, runs, snapshots

__all__ = ["SqlMetadataCopier"]

BATCH = 1000


class SqlMetadataCopier(MetadataCopier):
    """:class:`MetadataCopier` between any two SQL databases this package supports."""

    def copy(self, source_url: str, target_url: str) -> dict[str, int]:
        with _engine(source_url) as source, _engine(target_url) as target:
            if source.safe_url == target.safe_url:
                raise InvalidArgumentError(f"the workspace's database is {source.safe_url} already: name another one")
            with source.read() as conn:
                revision = current_revision(conn)
            if revision != SCHEMA_REVISION:
                raise InvalidStateError(
                    f"the database {source.safe_url} is at schema revision {revision!r}, not {SCHEMA_REVISION!r}: "
                    "open the workspace once with this version of jupyter-mlws (it upgrades it), then migrate"
                )
            _refuse_foreign(target)  # before anything is created or upgraded there
            ensure_schema(target)
            copied: dict[str, int] = {}
            with source.read() as src, target.write() as dst:
                _refuse_data(target, dst)
                for table in metadata.sorted_tables:
                    with _naming(table, target):
                        copied[table.name] = _copy_table(src, dst, table)
                if target.dialect == "postgresql":
                    _reset_sequences(dst)
            return copied

    def count_rows(self, url: str) -> dict[str, int]:
        with _engine(url) as sql, sql.read() as conn:
            return _counts(conn)

    def referenced_digests(self, url: str) -> set[str]:
        found: set[str] = set()
        with _engine(url) as sql, sql.read() as conn:
            found.update(d for (d,) in conn.execute(select(run_files.c.digest).distinct()))
            found.update(d for (d,) in conn.execute(select(model_files.c.digest).distinct()))
            found.update(d for (d,) in conn.execute(select(snapshots.c.id)))
            found.update(d for (d,) in conn.execute(select(runs.c.snapshot_id).where(runs.c.snapshot_id.is_not(None))))
            for (outputs,) in conn.execute(
                select(pipeline_step_runs.c.outputs).where(pipeline_step_runs.c.outputs.is_not(None))
            ):
                found.update(str(v) for v in (json.loads(outputs) or {}).values())
        return found


@contextmanager
def _engine(url: str) -> Iterator[SqlEngine]:
    sql = SqlEngine(url)
    try:
        yield sql
    finally:
        sql.dispose()


def _counts(conn: Connection) -> dict[str, int]:
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in metadata.sorted_tables}


def _refuse_foreign(target: SqlEngine) -> None:
    """A target holding tables that are not a workspace's, or a workspace's at another schema
    revision, is refused as it is: nothing is created or upgraded in it."""
    names = set(inspect(target.engine).get_table_names())
    foreign = sorted(names - set(metadata.tables) - {"alembic_version"})
    if foreign:
        raise InvalidStateError(
            f"the database {target.safe_url} holds other tables ({', '.join(foreign[:5])}): a migration copies "
            "into an empty database only — create a new one (CREATE DATABASE …) and migrate into it"
        )
    if "alembic_version" in names:
        with target.read() as conn:
            revision = current_revision(conn)
        if revision != SCHEMA_REVISION:
            raise InvalidStateError(
                f"the database {target.safe_url} holds a workspace at schema revision {revision!r}, not "
                f"{SCHEMA_REVISION!r}: migrate into a new empty database"
            )


def _refuse_data(target: SqlEngine, conn: Connection) -> None:
    held = {name: n for name, n in _counts(conn).items() if n}
    if held:
        what = ", ".join(f"{n} {name}" for name, n in sorted(held.items()))
        raise InvalidStateError(
            f"the database {target.safe_url} holds a workspace's data already ({what}): a migration copies into "
            "an empty database only — create a new one (CREATE DATABASE …) and migrate into it, or open the "
            "workspace that is there with Workspace.create(path, metadata_url=…, artifact_url=…)"
        )


@contextmanager
def _naming(table: Table, target: SqlEngine) -> Iterator[None]:
    """Database errors of one table's copy (a value too long for PostgreSQL's column, …) as one clear
    error naming the table; the target's transaction is rolled back."""
    try:
        yield
    except MlwsError:
        raise
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise InvalidStateError(
            f"copying the table {table.name!r} into {target.safe_url} failed, nothing was copied: {first}"
        ) from exc


def _self_references(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]


def _copy_table(src: Connection, dst: Connection, table: Table) -> int:
    key_columns = list(table.primary_key.columns)
    later = _self_references(table)
    if later and len(key_columns) != 1:
        raise InvalidStateError(f"cannot copy {table.name}: a self-reference needs a one-column primary key")
    links: list[dict[str, Any]] = []
    count = 0
    result = src.execution_options(stream_results=True).execute(select(table).order_by(*key_columns))
    for batch in result.partitions(BATCH):
        rows = [dict(row._mapping) for row in batch]
        for row in rows:
            for column in later:
                if row[column.name] is not None:
                    links.append({"_key": row[key_columns[0].name], "_column": column.name, "_value": row[column.name]})
                    row[column.name] = None
        dst.execute(table.insert(), rows)
        count += len(rows)
    for column in later:
        params = [{"_key": link["_key"], "_value": link["_value"]} for link in links if link["_column"] == column.name]
        if params:
            stmt = update(table).where(key_columns[0] == bindparam("_key")).values({column.name: bindparam("_value")})
            dst.execute(stmt, params)
    return count


def _reset_sequences(conn: Connection) -> None:
    """Move each serial column's sequence past the copied keys (they were inserted explicitly)."""
    for table in metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        conn.execute(
            text(
                f'SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX("{column.name}"), 1), '
                f'MAX("{column.name}") IS NOT NULL) FROM "{table.name}"'
            ),
            {"table": table.name, "column": column.name},
        )
