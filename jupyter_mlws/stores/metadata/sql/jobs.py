"""Jobs: job specs, supervisor heartbeats, the per-target queue, snapshots and compute targets."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update

from ....core.entities import (
    ActivityRecord,
    ComputeTargetRecord,
    EnvironmentRecord,
    EventRecord,
    RunRecord,
    SnapshotRecord,
)
from ....core.status import RunStatus
from ....errors import NotFoundError
from .base import RUN_COLUMNS, RUNS_JOINED, SqlStoreBase, run_record
from .schema import activities, compute_targets, environments, runs, snapshots

__all__ = ["JobsMixin"]

_TARGET_COLUMNS = (
    compute_targets.c.name,
    compute_targets.c.type,
    compute_targets.c.config,
    compute_targets.c.created_time,
)


_ENV_COLUMNS = (
    environments.c.name,
    environments.c.version,
    environments.c.content_hash,
    environments.c.definition,
    environments.c.created_time,
)


def _environment(row: Sequence[Any]) -> EnvironmentRecord:
    return EnvironmentRecord(row[0], row[1], row[2], json.loads(row[3]), row[4])


_ACTIVITY_COLUMNS = (
    activities.c.activity_id,
    activities.c.kind,
    activities.c.name,
    activities.c.status,
    activities.c.created_time,
    activities.c.end_time,
    activities.c.progress,
    activities.c.run_id,
    activities.c.details,
    activities.c.error,
)
_ACTIVITY_FIELDS = {"status", "progress", "end_time", "error", "details", "log"}
_JSON_FIELDS = {"details", "error"}


def _activity(row: Sequence[Any], log: str = "") -> ActivityRecord:
    error = json.loads(row[9]) if row[9] else None
    return ActivityRecord(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]), error, log
    )


def _target(row: Sequence[Any]) -> ComputeTargetRecord:
    return ComputeTargetRecord(row[0], row[1], json.loads(row[2]), row[3])


class JobsMixin(SqlStoreBase):
    def get_job_spec(self, run_id: str) -> dict[str, Any]:
        with self.sql.read() as conn:
            row = conn.execute(select(runs.c.job_spec).where(runs.c.run_id == run_id)).first()
        if row is None:
            raise NotFoundError(f"run {run_id!r} not found in this workspace")
        if row[0] is None:
            raise NotFoundError(f"run {run_id!r} is not a job (it has no job definition)")
        spec: dict[str, Any] = json.loads(row[0])
        return spec

    def update_job(
        self,
        run_id: str,
        *,
        heartbeat_time: float | None = None,
        supervisor_pid: int | None = None,
        supervisor_host: str | None = None,
    ) -> None:
        values: dict[str, Any] = {}
        if heartbeat_time is not None:
            values["heartbeat_time"] = heartbeat_time
        if supervisor_pid is not None:
            values["supervisor_pid"] = supervisor_pid
        if supervisor_host is not None:
            values["supervisor_host"] = supervisor_host
        if not values:
            return
        with self.sql.write() as conn:
            result = conn.execute(update(runs).where(runs.c.run_id == run_id).values(**values))
            if result.rowcount != 1:
                raise NotFoundError(f"run {run_id!r} not found in this workspace")

    def list_job_runs(self, compute_target: str | None, statuses: Sequence[RunStatus]) -> list[RunRecord]:
        query = (
            select(*RUN_COLUMNS)
            .select_from(RUNS_JOINED)
            .where(runs.c.status.in_([s.value for s in statuses]), runs.c.compute_target.is_not(None))
        )
        if compute_target is not None:
            query = query.where(runs.c.compute_target == compute_target)
        with self.sql.read() as conn:
            rows = conn.execute(query.order_by(runs.c.key)).all()  # first in, first out
        return [run_record(r) for r in rows]

    # -- snapshots ------------------------------------------------------------------------------------
    def add_snapshot(self, record: SnapshotRecord) -> None:
        with self.sql.write() as conn:
            conn.execute(
                self.insert(snapshots)
                .values(
                    id=record.id,
                    created_time=record.created_time,
                    file_count=record.file_count,
                    total_size=record.total_size,
                    source=record.source,
                )
                .on_conflict_do_nothing()
            )

    def get_snapshot(self, snapshot_id: str) -> SnapshotRecord:
        with self.sql.read() as conn:
            row = conn.execute(
                select(
                    snapshots.c.id,
                    snapshots.c.created_time,
                    snapshots.c.file_count,
                    snapshots.c.total_size,
                    snapshots.c.source,
                ).where(snapshots.c.id == snapshot_id)
            ).first()
        if row is None:
            raise NotFoundError(f"snapshot {snapshot_id!r} not found in this workspace")
        return SnapshotRecord(*row)

    # -- compute targets ------------------------------------------------------------------------------
    def save_compute_target(self, name: str, type: str, config: Mapping[str, Any], created_time: float) -> None:
        stmt = self.insert(compute_targets).values(
            name=name, type=type, config=json.dumps(dict(config)), created_time=created_time
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[compute_targets.c.name],
            set_={"type": stmt.excluded.type, "config": stmt.excluded.config},
        )
        with self.sql.write() as conn:
            conn.execute(stmt)

    def get_compute_target(self, name: str) -> ComputeTargetRecord:
        with self.sql.read() as conn:
            row = conn.execute(select(*_TARGET_COLUMNS).where(compute_targets.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"compute target {name!r} is not attached to this workspace")
        return _target(row)

    def list_compute_targets(self) -> list[ComputeTargetRecord]:
        with self.sql.read() as conn:
            rows = conn.execute(select(*_TARGET_COLUMNS).order_by(compute_targets.c.name)).all()
        return [_target(r) for r in rows]

    def delete_compute_target(self, name: str) -> None:
        with self.sql.write() as conn:
            result = conn.execute(delete(compute_targets).where(compute_targets.c.name == name))
            if result.rowcount != 1:
                raise NotFoundError(f"compute target {name!r} is not attached to this workspace")

    # -- change feed ----------------------------------------------------------------------------------
    def read_events(self, after_id: int, limit: int = 1000) -> list[EventRecord]:
        p = self.placeholder()
        with self.sql.read() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT id, time, kind, run_id, experiment, payload FROM events WHERE id > {p} ORDER BY id LIMIT {p}",
                (after_id, limit),
            ).all()
        records = []
        for event_id, when, kind, run_id, experiment, payload in rows:
            data: dict[str, Any] = json.loads(payload)
            if run_id is not None:
                data["run_id"] = run_id
            if experiment is not None:
                data["experiment"] = experiment
            records.append(EventRecord(event_id, when, kind, data))
        return records

    def latest_event_id(self) -> int:
        with self.sql.read() as conn:
            value = conn.exec_driver_sql("SELECT MAX(id) FROM events").scalar()
        return int(value or 0)

    def prune_events(self, before_time: float) -> int:
        with self.sql.write() as conn:
            result = conn.exec_driver_sql(self.raw("DELETE FROM events WHERE time < ?"), (before_time,))
            return int(result.rowcount or 0)

    # -- environments ---------------------------------------------------------------------------------
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

    # -- activities -----------------------------------------------------------------------------------
    def _emit_activity(self, conn: Any, activity_id: str) -> None:
        row = conn.execute(select(*_ACTIVITY_COLUMNS).where(activities.c.activity_id == activity_id)).first()
        record = _activity(row)
        payload = {
            "activity_id": record.activity_id,
            "kind": record.kind,
            "name": record.name,
            "status": record.status,
            "progress": record.progress,
        }
        self.emit(conn, "activity.updated", payload, run_id=record.run_id)

    def create_activity(self, record: ActivityRecord) -> None:
        with self.sql.write() as conn:
            conn.execute(
                activities.insert().values(
                    activity_id=record.activity_id,
                    kind=record.kind,
                    name=record.name,
                    status=record.status,
                    created_time=record.created_time,
                    end_time=record.end_time,
                    progress=record.progress,
                    run_id=record.run_id,
                    details=json.dumps(record.details),
                    error=None if record.error is None else json.dumps(record.error),
                    log=record.log,
                )
            )
            self._emit_activity(conn, record.activity_id)

    def update_activity(self, activity_id: str, **fields: Any) -> None:
        unknown = set(fields) - _ACTIVITY_FIELDS
        if unknown:
            raise ValueError(f"activities have no field(s) {sorted(unknown)}")
        values = {k: (json.dumps(v) if k in _JSON_FIELDS and v is not None else v) for k, v in fields.items()}
        with self.sql.write() as conn:
            result = conn.execute(update(activities).where(activities.c.activity_id == activity_id).values(**values))
            if not result.rowcount:
                raise NotFoundError(f"activity {activity_id!r} not found in this workspace")
            if fields.keys() - {"log"}:  # a log append alone is not news for the sidebar
                self._emit_activity(conn, activity_id)

    def get_activity(self, activity_id: str) -> ActivityRecord:
        with self.sql.read() as conn:
            row = conn.execute(
                select(*_ACTIVITY_COLUMNS, activities.c.log).where(activities.c.activity_id == activity_id)
            ).first()
        if row is None:
            raise NotFoundError(f"activity {activity_id!r} not found in this workspace")
        return _activity(row, row[10])

    def list_activities(
        self, kind: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[ActivityRecord]:
        query = select(*_ACTIVITY_COLUMNS)
        if kind is not None:
            query = query.where(activities.c.kind == kind)
        if status is not None:
            query = query.where(activities.c.status == status)
        query = query.order_by(activities.c.created_time.desc(), activities.c.activity_id).limit(limit)
        with self.sql.read() as conn:
            return [_activity(r) for r in conn.execute(query).all()]
