"""Alembic environment: runs on the connection that jupyter-mlws hands over (see migrate.py)."""

from __future__ import annotations

from alembic import context

from jupyter_mlws.stores.metadata.sql.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run Alembic from its own CLI
    raise RuntimeError("run migrations through jupyter_mlws.stores.metadata.sql.migrate.upgrade")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
