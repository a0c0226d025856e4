"""The SQL metadata store's schema, migrations and URLs: no drift from the models, upgrades keep data,
a newer schema and bad URLs are clear errors.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.errors import InvalidArgumentError, InvalidStateError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore
from jupyter_mlws.stores.metadata.sql.migrate import MIGRATIONS_DIR, SCHEMA_REVISION
from jupyter_mlws.stores.metadata.sql.schema import metadata as schema_metadata

from .metadata_helpers import add_run


def test_schema_matches_models_no_drift(store: SqlMetadataStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.sql.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema_metadata)
    assert diff == []


def test_schema_revision_constant_is_alembic_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION


def test_reopening_is_idempotent_and_keeps_data(metadata_url: str) -> None:
    first = SqlMetadataStore(metadata_url)
    add_run(first)
    first.close()
    second = SqlMetadataStore(metadata_url)
    assert second.get_run("r1").status == RunStatus.RUNNING
    second.close()


def test_newer_schema_is_refused(metadata_url: str) -> None:
    s = SqlMetadataStore(metadata_url)
    with s.sql.write() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    s.close()
    with pytest.raises(InvalidStateError, match="newer"):
        SqlMetadataStore(metadata_url)


def test_bad_urls_are_clear_errors(tmp_path: object) -> None:
    with pytest.raises(InvalidArgumentError, match="unsupported database"):
        SqlMetadataStore("mysql://x@localhost/db")
    with pytest.raises(InvalidArgumentError, match="metadata_url"):
        SqlMetadataStore("::::")


def test_unreachable_postgres_is_backend_unavailable() -> None:
    from jupyter_mlws.errors import BackendUnavailableError

    engine = create_engine("sqlite://")  # keeps the import used; the real check is below
    engine.dispose()
    with pytest.raises(BackendUnavailableError, match="unavailable"):
        SqlMetadataStore("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_upgrade_from_the_first_schema_keeps_data(metadata_url: str) -> None:
    from jupyter_mlws.stores.metadata.sql.migrate import upgrade

    old = SqlMetadataStore(metadata_url, migrate=False)
    upgrade(old.sql, "0001")
    with old.sql.write() as conn:
        conn.exec_driver_sql("INSERT INTO experiments (name, created_time, last_run_number) VALUES ('e', 1.0, 1)")
        conn.exec_driver_sql(
            "INSERT INTO runs (run_id, experiment_id, number, status, run_type, created_time) "
            "VALUES ('old', 1, 1, 'Completed', 'interactive', 1.0)"
        )
    old.close()
    new = SqlMetadataStore(metadata_url)
    record = new.get_run("old")
    assert (record.status, record.compute_target, record.snapshot_id) == (RunStatus.COMPLETED, None, None)
    add_run(new, "fresh", "e", compute_target="local", snapshot_id="ab" * 32, job_spec={"script": "x.py"})
    assert new.get_run("fresh").number == 2
    assert new.get_job_spec("fresh") == {"script": "x.py"}
    new.close()


def test_a_statement_over_the_database_limits_is_an_invalid_argument_not_an_outage(store: SqlMetadataStore) -> None:
    # "Expression tree is too large" used to be reported as "unavailable" (a 503 clients retry for
    # ever); the request is what is wrong, and saying so is a 400.
    wide = " OR ".join(f"1 = {i}" for i in range(20_000))  # over SQLite's expression depth
    try:
        with store.sql.read() as conn:
            conn.execute(text(f"SELECT 1 WHERE {wide}"))
    except InvalidArgumentError as exc:
        assert "too large for the metadata store" in str(exc)
    else:  # PostgreSQL takes it; SQLite must refuse it as the request's fault
        assert store.sql.dialect == "postgresql"
