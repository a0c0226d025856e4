"""Registered datastores: name, URL, non-secret options, the default flag."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update

from ....core.interfaces import DatastoreRecord, DatastoreStore
from ....errors import NotFoundError
from .base import SqlStoreBase
from .schema import datastores

__all__ = ["DatastoresMixin"]

_COLUMNS = (
    datastores.c.name,
    datastores.c.url,
    datastores.c.options,
    datastores.c.is_default,
    datastores.c.created_time,
)


def _datastore(row: Sequence[Any]) -> DatastoreRecord:
    return DatastoreRecord(row[0], row[1], json.loads(row[2]), bool(row[3]), row[4])


class DatastoresMixin(SqlStoreBase, DatastoreStore):
    def put_datastore(self, name: str, url: str, options: Mapping[str, Any], created_time: float) -> DatastoreRecord:
        text = json.dumps(dict(options), sort_keys=True)
        stmt = self.insert(datastores).values(name=name, url=url, options=text, is_default=0, created_time=created_time)
        stmt = stmt.on_conflict_do_update(index_elements=[datastores.c.name], set_={"url": url, "options": text})
        with self.sql.write() as conn:
            conn.execute(stmt)
        return self.get_datastore(name)

    def get_datastore(self, name: str) -> DatastoreRecord:
        with self.sql.read() as conn:
            row = conn.execute(select(*_COLUMNS).where(datastores.c.name == name)).first()
        if row is None:
            raise self._missing_datastore(name)
        return _datastore(row)

    def list_datastores(self) -> list[DatastoreRecord]:
        with self.sql.read() as conn:
            rows = conn.execute(select(*_COLUMNS).order_by(datastores.c.name)).all()
        return [_datastore(r) for r in rows]

    def delete_datastore(self, name: str) -> None:
        with self.sql.write() as conn:
            deleted = conn.execute(datastores.delete().where(datastores.c.name == name)).rowcount
        if not deleted:
            raise self._missing_datastore(name)

    def set_default_datastore(self, name: str | None) -> None:
        with self.sql.write() as conn:
            found = name is None or (
                conn.execute(select(datastores.c.name).where(datastores.c.name == name)).scalar() is not None
            )
            if found:
                conn.execute(update(datastores).where(datastores.c.is_default != 0).values(is_default=0))
                if name is not None:
                    conn.execute(update(datastores).where(datastores.c.name == name).values(is_default=1))
        if not found and name is not None:
            raise self._missing_datastore(name)

    def _missing_datastore(self, name: str) -> NotFoundError:
        with self.sql.read() as conn:
            names = list(conn.execute(select(datastores.c.name).order_by(datastores.c.name)).scalars())
        known = ", ".join(repr(n) for n in names) or "none yet"
        return NotFoundError(
            f"datastore {name!r} is not registered in this workspace (registered: {known}); "
            "register it with Datastore.register(ws, name, url)"
        )
