"""How a SQLite writer waits for the write lock another process holds (issue 19): briefly at short
intervals, then as SQLite does (its busy timeout); either way it gets the lock once it is free, and
the connection keeps its busy timeout for everything else."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from jupyter_mlws.stores.metadata.sql import engine as sql_engine
from jupyter_mlws.stores.metadata.sql.engine import SqlEngine


def _hold_write_lock(database: str, seconds: float, held: multiprocessing.synchronize.Event) -> None:
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t VALUES ('other')")
    held.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


@pytest.mark.parametrize("hold_s", [0.02, 0.3])  # within the short tries, and past them
def test_a_writer_gets_the_lock_another_process_holds_once_it_is_free(tmp_path: Path, hold_s: float) -> None:
    database = str(tmp_path / "lock.db")
    sql = SqlEngine(f"sqlite:///{database}")
    with sql.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v TEXT)")
    context = multiprocessing.get_context("fork")
    held = context.Event()
    holder = context.Process(target=_hold_write_lock, args=(database, hold_s, held))
    holder.start()
    try:
        assert held.wait(30)
        with sql.write() as conn:  # waits for the other process's commit, then writes
            conn.exec_driver_sql("INSERT INTO t VALUES ('mine')")
    finally:
        holder.join(30)
    assert holder.exitcode == 0
    with sql.read() as conn:
        assert [r[0] for r in conn.execute(text("SELECT v FROM t ORDER BY rowid"))] == ["other", "mine"]
        # The short tries turned SQLite's own wait off for themselves only.
        timeout = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert timeout == int(sql_engine.SQLITE_BUSY_TIMEOUT_S * 1000)
    sql.dispose()


def test_an_error_that_is_no_taken_lock_is_reported_as_before(tmp_path: Path) -> None:
    """Not a taken lock (the database file made unwritable): the usual BEGIN reports it, translated."""
    database = tmp_path / "ro.db"
    sql = SqlEngine(f"sqlite:///{database}")
    with sql.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v TEXT)")
    sql.dispose()
    readonly = SqlEngine(f"sqlite:///file:{database}?mode=ro&uri=true")
    with pytest.raises(Exception) as raised:
        with readonly.write() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES ('x')")
    assert "readonly" in str(raised.value).lower() or "read-only" in str(raised.value).lower()
    readonly.dispose()
