"""Engines, transactions and the one place where database errors become MlwsErrors.

SQLite runs in WAL mode so readers never block the writer, and every write transaction starts with
``BEGIN IMMEDIATE``: a writer waits for the lock up front (up to the busy timeout) instead of failing
with "database is locked" when it upgrades a read lock, which is what makes several processes logging
to one workspace safe.
"""

from __future__ import annotations

import os
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from ....errors import BackendUnavailableError, InvalidArgumentError, MlwsError

__all__ = ["SqlEngine"]

SQLITE_BUSY_TIMEOUT_S = 120.0
FAST_LOCK_WAIT_S = 0.05  # how long a writer tries for the lock at short intervals (see _begin_immediate_soon)
#: How a PostgreSQL connection finds a password that the workspace URL does not carry.
PGPASS_HELP = (
    "jupyter-mlws never stores database passwords in the workspace: give it to libpq in the "
    "PGPASSWORD environment variable or a ~/.pgpass line (host:port:database:user:password, file mode "
    "0600; PGPASSFILE names another file) in every process that opens the workspace"
)
_live_engines: weakref.WeakSet[SqlEngine] = weakref.WeakSet()


class SqlEngine:
    """One SQLAlchemy engine plus read/write transaction helpers."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except Exception:
            raise InvalidArgumentError(
                f"invalid metadata_url {url!r}: use sqlite:///path/to/mlws.db or "
                "postgresql+psycopg://user:password@host/dbname"
            ) from None
        self.url = url
        self.dialect = parsed.get_backend_name()
        self.safe_url = parsed.render_as_string(hide_password=True)
        if self.dialect == "sqlite":
            self.engine = self._sqlite_engine(parsed)
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise BackendUnavailableError(
                    'PostgreSQL needs the psycopg driver: pip install "jupyter-mlws[postgres]"'
                ) from None
            self.engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=20)
        else:
            raise InvalidArgumentError(
                f"unsupported database {self.dialect!r} in metadata_url; use sqlite or postgresql"
            )
        _live_engines.add(self)

    @staticmethod
    def _sqlite_engine(parsed: Any) -> Engine:
        database = parsed.database
        if database and database != ":memory:" and not parsed.query.get("uri"):
            Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _create_private(database)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            # Take transaction control away from the driver: SQLAlchemy's "begin" event below does it.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives any process crash; only an OS crash may lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # LIKE is case-sensitive, as on PostgreSQL; ILIKE is the case-insensitive one.
            cursor.execute("PRAGMA case_sensitive_like=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            if not conn.get_execution_options().get("mlws_write", False):
                conn.exec_driver_sql("BEGIN")
            elif not _begin_immediate_soon(conn.connection.dbapi_connection):
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits up to the busy timeout, as SQLite does

        return engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        with self.translate_errors(), self.engine.connect() as conn:
            conn.execution_options(mlws_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot)."""
        with self.translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        try:
            yield
        except MlwsError:
            raise
        except OperationalError as exc:
            if _statement_limit(exc):
                # The request, not the store, is the problem: a retry cannot help (a 400, not a 503).
                raise InvalidArgumentError(
                    f"the request is too large for the metadata store ({_first_line(exc)}); "
                    "narrow it: fewer terms, values or keys"
                ) from exc
            hint = ""
            if self.dialect == "postgresql" and "password" in _first_line(exc).lower():
                hint = f". {PGPASS_HELP}"
            raise BackendUnavailableError(
                f"the metadata store {self.safe_url} is unavailable: {_first_line(exc)}{hint}"
            ) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise BackendUnavailableError(
                    f"lost the connection to the metadata store {self.safe_url}: {_first_line(exc)}"
                ) from exc
            raise
        except SQLAlchemyError:
            raise

    def dispose(self, close: bool = True) -> None:
        self.engine.dispose(close=close)


def _create_private(database: str) -> None:
    """Create an empty database file with mode 0600 unless one exists (SQLite takes an empty file
    as an empty database). An existing file keeps its mode: opening a workspace warns about it."""
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # SQLite itself will say what is wrong with the path
    os.close(fd)


# SQLite's limits on one statement, and PostgreSQL's class 54 ("program limit exceeded").
_SQLITE_LIMITS = (
    "too many sql variables",
    "expression tree is too large",
    "too many terms in compound select",
    "parser stack overflow",
    "string or blob too big",
    "too many columns",
)


def _statement_limit(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if isinstance(code, str) and code.startswith("54"):
        return True
    message = _first_line(exc).lower()
    return any(limit in message for limit in _SQLITE_LIMITS)


def _begin_immediate_soon(dbapi_connection: Any) -> bool:
    """``BEGIN IMMEDIATE`` if the write lock is free now or within ``FAST_LOCK_WAIT_S``; whether it
    began. SQLite's own wait for a taken lock (its busy handler) sleeps 1, 2, 5, 10, 15… ms between
    tries, so a writer that meets another process's transaction of a millisecond loses several; here
    the tries come after a tenth of a millisecond, then twice as long each time, up to 2 ms. A writer
    still waiting after that waits the usual way (the caller's ``BEGIN IMMEDIATE``)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")  # SQLite's handler off for these tries only
        try:
            deadline = time.monotonic() + FAST_LOCK_WAIT_S
            pause = 0.0001
            while True:
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    return True
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        return False  # not a taken lock: the caller's BEGIN reports it
                if time.monotonic() + pause > deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.002)
        finally:
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    finally:
        cursor.close()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _after_fork_in_child() -> None:
    # Pooled connections must never be shared with a forked child: drop them without closing.
    for engine in list(_live_engines):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
