"""SQL side of :class:`~jupyter_mlws.core.interfaces.drift.DriftStore` (issue 20)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ....core.interfaces.drift import DriftDetectorRecord, DriftStore
from ....errors import AlreadyExistsError, NotFoundError
from .base import SqlStoreBase
from .schema import drift_detectors

__all__ = ["DriftMixin"]

_COLUMNS = (
    drift_detectors.c.name,
    drift_detectors.c.definition,
    drift_detectors.c.created_time,
    drift_detectors.c.updated_time,
    drift_detectors.c.schedule_id,
)


def _record(row: Sequence[Any]) -> DriftDetectorRecord:
    return DriftDetectorRecord(
        name=row[0], definition=json.loads(row[1]), created_time=row[2], updated_time=row[3], schedule_id=row[4]
    )


def _missing(name: str) -> NotFoundError:
    return NotFoundError(
        f"drift detector {name!r} does not exist in this workspace; list them with DataDriftDetector.list(ws)"
    )


class DriftMixin(SqlStoreBase, DriftStore):
    def add_drift_detector(self, record: DriftDetectorRecord) -> None:
        try:
            with self.sql.write() as conn:
                conn.execute(
                    drift_detectors.insert().values(
                        name=record.name,
                        definition=json.dumps(dict(record.definition), sort_keys=True),
                        schedule_id=record.schedule_id,
                        created_time=record.created_time,
                        updated_time=record.updated_time,
                    )
                )
                self.emit(conn, "drift.created", {"name": record.name})
        except IntegrityError:
            raise AlreadyExistsError(
                f"a drift detector named {record.name!r} already exists; get it with "
                "DataDriftDetector.get_by_name, update it, or delete it first"
            ) from None

    def get_drift_detector(self, name: str) -> DriftDetectorRecord:
        with self.sql.read() as conn:
            row = conn.execute(select(*_COLUMNS).where(drift_detectors.c.name == name)).first()
        if row is None:
            raise _missing(name)
        return _record(row)

    def list_drift_detectors(self) -> list[DriftDetectorRecord]:
        with self.sql.read() as conn:
            return [_record(r) for r in conn.execute(select(*_COLUMNS).order_by(drift_detectors.c.name)).all()]

    def update_drift_detector(
        self, name: str, definition: Mapping[str, Any], updated_time: float, schedule_id: str | None
    ) -> DriftDetectorRecord:
        with self.sql.write() as conn:
            done = conn.execute(
                drift_detectors.update()
                .where(drift_detectors.c.name == name)
                .values(
                    definition=json.dumps(dict(definition), sort_keys=True),
                    updated_time=updated_time,
                    schedule_id=schedule_id,
                )
            )
            if done.rowcount == 0:
                raise _missing(name)
            self.emit(conn, "drift.updated", {"name": name})
        return self.get_drift_detector(name)

    def delete_drift_detector(self, name: str) -> None:
        with self.sql.write() as conn:
            done = conn.execute(delete(drift_detectors).where(drift_detectors.c.name == name))
            if done.rowcount == 0:
                raise _missing(name)
            self.emit(conn, "drift.deleted", {"name": name})
