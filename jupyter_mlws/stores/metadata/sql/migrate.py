"""Bring a database to the current schema with Alembic, once, even with many processes starting.

Opening a workspace must be fast, so the common case (already at ``SCHEMA_REVISION``) is one small
query and Alembic is not even imported. Upgrades are serialised with a file lock (SQLite) or an
advisory lock (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

from ....errors import InvalidStateError
from ..run_rows import SCHEMA_REVISION
from .engine import SqlEngine

__all__ = ["SCHEMA_REVISION", "current_revision", "ensure_schema", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_ADVISORY_LOCK_ID = 0x6D6C7773  # "mlws"


def current_revision(conn: Connection) -> str | None:
    try:
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except (OperationalError, ProgrammingError):
        return None  # no alembic_version table: an empty database
    return None if row is None else str(row[0])


def _alembic_config(conn: Connection) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(sql: SqlEngine, revision: str = "head") -> None:
    from alembic import command

    with _migration_lock(sql), sql.engine.connect() as conn:
        if sql.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
            conn.commit()
        try:
            command.upgrade(_alembic_config(conn), revision)  # type: ignore[arg-type]
            conn.commit()
        finally:
            if sql.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _ADVISORY_LOCK_ID})
                conn.commit()


def ensure_schema(sql: SqlEngine) -> None:
    """Create or upgrade the schema unless it is current; refuse a database from a newer version."""
    with sql.read() as conn:
        revision = current_revision(conn)
    if revision == SCHEMA_REVISION:
        return
    if revision is not None and not _is_known(revision):
        raise InvalidStateError(
            f"the metadata store {sql.safe_url} has schema revision {revision!r}, newer than this "
            "jupyter-mlws understands; upgrade jupyter-mlws"
        )
    with sql.translate_errors():
        upgrade(sql)


def _is_known(revision: str) -> bool:
    return any(p.name.startswith(revision + "_") for p in (MIGRATIONS_DIR / "versions").glob("*.py"))


@contextlib.contextmanager
def _migration_lock(sql: SqlEngine) -> Iterator[None]:
    database = sql.engine.url.database
    if sql.dialect != "sqlite" or not database or database == ":memory:":
        yield
        return
    import fcntl

    fd = os.open(f"{database}.migrate.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
