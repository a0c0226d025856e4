"""Self-test of tests/support/postgres.py: a real server starts, serves databases and goes away."""

from __future__ import annotations

import os
import time

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.support.postgres import ENV_URL, PostgresServer, find_bindir


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _process_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_server_serves_isolated_databases_and_stops() -> None:
    if not os.environ.get(ENV_URL):
        try:
            find_bindir()
        except RuntimeError as exc:
            if os.environ.get("MLWS_REQUIRE_POSTGRES"):
                raise
            pytest.skip(str(exc))

    with PostgresServer() as pg:
        assert pg.running
        pid, tmpdir = pg.pid, pg.tmpdir
        assert pg.url.startswith("postgresql+psycopg://")

        first = pg.create_database("mlws_selftest_a")
        second = pg.create_database("mlws_selftest_b")
        assert make_url(first).database == "mlws_selftest_a"
        assert make_url(second).database == "mlws_selftest_b"

        for url in (first, second):
            with psycopg.connect(_libpq(url)) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
                assert conn.execute("select current_database()").fetchone() == (make_url(url).database,)

        # Databases are isolated, and re-creating one gives a fresh, empty database even while a
        # session is still connected to the old one.
        with psycopg.connect(_libpq(first), autocommit=True) as conn:
            conn.execute("create table t (x int)")
            with psycopg.connect(_libpq(second)) as other:
                assert other.execute("select to_regclass('t')").fetchone() == (None,)
            pg.create_database("mlws_selftest_a")
        with psycopg.connect(_libpq(first)) as conn:
            assert conn.execute("select to_regclass('t')").fetchone() == (None,)

        with pytest.raises(ValueError, match="database name"):
            pg.create_database("Robert'); drop table students;--")

    assert not pg.running
    if pid is not None:  # we started the server ourselves: it and its files are gone
        assert _process_gone(pid), f"postgres (pid {pid}) still running after stop()"
        assert tmpdir is not None and not tmpdir.exists()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(_libpq(first), connect_timeout=2)
    pg.stop()  # idempotent
