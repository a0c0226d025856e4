"""Run lists from a SQLite workspace with the standard library's ``sqlite3`` alone (issue 22).

``mlws runs list`` must start fast, and importing SQLAlchemy alone takes about a quarter of a second
here. This lister answers the lists a person types — newest runs first, of some experiments, with one
status — with the same SQL text as the SQL store (``run_rows.py``). It opens the database read-only
and only when it is at the current schema revision: a database to create or migrate is the full
store's work, as is every other search (a filter expression, an order, children, PostgreSQL).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from ...core.entities import ExperimentRecord, RunSearchResult
from ...core.interfaces import RunLister
from ...core.search import Comparison, FilterExpr, OrderKey
from ...core.status import RunStatus
from ...errors import BackendUnavailableError, InvalidArgumentError, NotFoundError
from .run_rows import RUN_SELECT, SCHEMA_REVISION, run_record, summarize_run_rows

__all__ = ["SqliteRunLister", "open_sqlite_lister"]

_BUSY_TIMEOUT_S = 30.0  # a writer holds the lock for milliseconds; WAL readers do not wait for it anyway


def open_sqlite_lister(url: str) -> SqliteRunLister | None:
    """A lister for a ``sqlite:///path`` URL whose file exists at the current schema, else ``None``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None  # query options (e.g. a custom timeout) belong to the full store's engine
    path = unquote(url[len(prefix) :])  # as SQLAlchemy reads the URL: "%25" is "%"
    try:
        if not path or path == ":memory:" or not Path(path).is_file():
            return None
        conn = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S, check_same_thread=False
        )
    except (OSError, sqlite3.Error):
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        row = None
    if row is None or row[0] != SCHEMA_REVISION:
        conn.close()
        return None
    return SqliteRunLister(conn)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Database errors as the store reports them (a closed or unreadable database is unavailable)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise BackendUnavailableError(f"could not read the workspace's database: {exc}") from exc


def _one_status(expr: FilterExpr | None) -> str | None:
    """The status of a filter that is exactly ``attributes.status = '…'``, or ``None``."""
    if isinstance(expr, Comparison) and expr.kind == "attributes" and expr.key == "status" and expr.op == "=":
        if isinstance(expr.value, str):
            try:
                return RunStatus.parse(expr.value).value
            except InvalidArgumentError:
                return None  # the full store names the unknown status in its error
    return None


class SqliteRunLister(RunLister):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()  # one connection, shared by the threads of a process

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._lock, _translated():
            return self._conn.execute(sql, tuple(params)).fetchall()

    def get_experiment(self, name: str) -> ExperimentRecord:
        rows = self._rows("SELECT id, name, created_time FROM experiments WHERE name = ?", (name,))
        if not rows:
            raise NotFoundError(f"experiment {name!r} not found in this workspace")
        return ExperimentRecord(id=rows[0][0], name=rows[0][1], created_time=rows[0][2])

    def search_runs(
        self,
        *,
        experiment_ids: Sequence[int] | None,
        filter: FilterExpr | None,
        order_by: Sequence[OrderKey],
        max_results: int,
        offset: int = 0,
        include_children: bool = False,
    ) -> RunSearchResult | None:
        status = _one_status(filter)
        if (filter is not None and status is None) or order_by or include_children:
            return None
        where = ["r.parent_key IS NULL"]
        params: list[Any] = []
        if experiment_ids is not None:
            ids = list(experiment_ids)
            if len(ids) > 500:
                return None
            where.append(f"r.experiment_id IN ({', '.join('?' * len(ids))})" if ids else "0")
            params.extend(ids)
        if status is not None:
            where.append("r.status = ?")
            params.append(status)
        # The store's default order: newest first, ties by the row key (compile_order in sql/run_search.py).
        sql = f"{RUN_SELECT} WHERE {' AND '.join(where)} ORDER BY r.created_time DESC, r.key DESC LIMIT ? OFFSET ?"
        rows = self._rows(sql, [*params, max_results + 1, offset])
        more = len(rows) > max_results
        return RunSearchResult(
            runs=[run_record(r) for r in rows[:max_results]],
            next_offset=offset + max_results if more else None,
        )

    def summarize_runs(self, run_ids: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
        if not run_ids:
            return {}
        # One read transaction, as the store's: a page's metrics, params and tags from one commit.
        with self._lock, _translated():
            self._conn.execute("BEGIN")
            try:
                return summarize_run_rows(lambda sql, params: self._conn.execute(sql, tuple(params)), run_ids)
            finally:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
