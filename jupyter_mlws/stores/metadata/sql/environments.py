"""Registered environments: versions that follow the content hash of a definition."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from ....core.entities import EnvironmentRecord
from ....core.interfaces import EnvironmentStore
from ....errors import NotFoundError
from .base import SqlStoreBase
from .schema import environments

__all__ = ["EnvironmentsMixin"]

_ENV_COLUMNS = (
    environments.c.name,
    environments.c.version,
    environments.c.content_hash,
    environments.c.definition,
    environments.c.created_time,
)


def _environment(row: Sequence[Any]) -> EnvironmentRecord:
    return EnvironmentRecord(row[0], row[1], row[2], json.loads(row[3]), row[4])


class EnvironmentsMixin(SqlStoreBase, EnvironmentStore):
    def register_environment(
        self, name: str, content_hash: str, definition: Mapping[str, Any], created_time: float
    ) -> EnvironmentRecord:
        with self.sql.write() as conn:
            existing = conn.execute(
                select(environments.c.version).where(
                    environments.c.name == name, environments.c.content_hash == content_hash
                )
            ).scalar()
            if existing is None:
                latest = conn.execute(
                    select(func.max(environments.c.version)).where(environments.c.name == name)
                ).scalar()
                conn.execute(
                    environments.insert().values(
                        name=name,
                        version=(latest or 0) + 1,
                        content_hash=content_hash,
                        definition=json.dumps(dict(definition), sort_keys=True),
                        created_time=created_time,
                    )
                )
        return self.get_environment(name, None if existing is None else int(existing))

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        query = select(*_ENV_COLUMNS).where(environments.c.name == name)
        if version is None:
            query = query.order_by(environments.c.version.desc()).limit(1)
        else:
            query = query.where(environments.c.version == version)
        with self.sql.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            what = "is not registered" if version is None else f"has no version {version}"
            raise NotFoundError(f"environment {name!r} {what} in this workspace")
        return _environment(row)

    def list_environments(self) -> list[EnvironmentRecord]:
        with self.sql.read() as conn:
            rows = conn.execute(
                select(*_ENV_COLUMNS).order_by(environments.c.name, environments.c.version.desc())
            ).all()
        return [_environment(r) for r in rows]
