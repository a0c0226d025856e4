"""Jobs: job specs, supervisor heartbeats, the per-target queue, snapshots and compute targets."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, text, update

from ....core.entities import ATTEMPT_PROPERTY, BlobReference, ComputeTargetRecord, RunRecord, SnapshotRecord
from ....core.interfaces import JobStore
from ....core.status import RunStatus
from ....errors import NotFoundError
from ..run_rows import run_record
from .base import RUN_COLUMNS, RUNS_JOINED, SqlStoreBase, chunks
from .schema import compute_targets, run_properties, runs, snapshots

__all__ = ["JobsMixin", "db_now_sql"]


def db_now_sql(dialect: str) -> str:
    """An SQL expression for the database's clock in Unix seconds (float): heartbeats are written
    and judged in it, so the hosts' own clocks never need to agree."""
    if dialect == "postgresql":
        return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)"
    return "((julianday('now') - 2440587.5) * 86400.0)"


# A supervisor's claim of a job: its status compared and set, the supervisor and a first heartbeat.
_CLAIM = (
    "UPDATE runs SET status = ?, supervisor_pid = ?, supervisor_host = ?, supervisor_start = ?, "
    "job_folder = ?, heartbeat_time = {now} WHERE run_id = ? AND status = ?"
)
_STATUS_EVENT = (
    "INSERT INTO events (time, kind, run_id, experiment, payload) SELECT ?, 'run.status', r.run_id, e.name, ? "
    "FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.run_id = ?"
)


class _LostReclaimError(Exception):
    """Rolls a reclaim back: another attempt took the run first."""


_ACTIVE = tuple(s.value for s in RunStatus if not s.is_terminal)

_TARGET_COLUMNS = (
    compute_targets.c.name,
    compute_targets.c.type,
    compute_targets.c.config,
    compute_targets.c.created_time,
)


def _target(row: Sequence[Any]) -> ComputeTargetRecord:
    return ComputeTargetRecord(row[0], row[1], json.loads(row[2]), row[3])


class JobsMixin(SqlStoreBase, JobStore):
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

    def claim_job(
        self,
        run_id: str,
        expected: RunStatus,
        new: RunStatus,
        *,
        supervisor_pid: int,
        supervisor_host: str,
        supervisor_start: int | None,
        job_folder: str | None,
    ) -> bool:
        # One statement: the loser of a race writes nothing (its pid must not replace the winner's).
        statement = _CLAIM.format(now=db_now_sql(self.sql.dialect))
        values = (new.value, supervisor_pid, supervisor_host, supervisor_start, job_folder, run_id, expected.value)
        with self.sql.write() as conn:
            if conn.exec_driver_sql(self.raw(statement), values).rowcount != 1:
                return False
            event = json.dumps({"status": new.value, "previous": expected.value})
            conn.exec_driver_sql(self.raw(_STATUS_EVENT), (time.time(), event, run_id))
            return True

    def reclaim_job(
        self,
        run_id: str,
        expected: RunStatus,
        attempt: int,
        *,
        supervisor_pid: int,
        supervisor_host: str,
        supervisor_start: int | None,
        job_folder: str | None,
    ) -> bool:
        # Both compare-and-sets in one transaction: the status (the run did not move on meanwhile)
        # and the attempt property (no other retry took it first); a loser writes nothing.
        statement = _CLAIM.format(now=db_now_sql(self.sql.dialect))
        new = RunStatus.PREPARING
        values = (new.value, supervisor_pid, supervisor_host, supervisor_start, job_folder, run_id, expected.value)
        try:
            with self.sql.write() as conn:
                if conn.exec_driver_sql(self.raw(statement), values).rowcount != 1:
                    return False
                run_key = conn.execute(select(runs.c.key).where(runs.c.run_id == run_id)).scalar_one()
                current = conn.execute(
                    select(run_properties.c.value).where(
                        run_properties.c.run_key == run_key, run_properties.c.key == ATTEMPT_PROPERTY
                    )
                ).scalar_one_or_none()
                if (current or "1") != str(attempt):
                    raise _LostReclaimError
                if current is None:
                    conn.execute(
                        run_properties.insert().values(run_key=run_key, key=ATTEMPT_PROPERTY, value=str(attempt + 1))
                    )
                else:
                    conn.execute(
                        update(run_properties)
                        .where(
                            run_properties.c.run_key == run_key,
                            run_properties.c.key == ATTEMPT_PROPERTY,
                            run_properties.c.value == current,
                        )
                        .values(value=str(attempt + 1))
                    )
                event = json.dumps({"status": new.value, "previous": expected.value, "attempt": attempt + 1})
                conn.exec_driver_sql(self.raw(_STATUS_EVENT), (time.time(), event, run_id))
        except _LostReclaimError:
            return False
        return True

    def heartbeat(self, run_ids: Sequence[str]) -> None:
        if not run_ids:
            return
        now = text(db_now_sql(self.sql.dialect))
        with self.sql.write() as conn:
            for chunk in chunks(list(run_ids)):
                conn.execute(
                    update(runs).where(runs.c.run_id.in_(chunk), runs.c.status.in_(_ACTIVE)).values(heartbeat_time=now)
                )

    def database_time(self) -> float:
        with self.sql.read() as conn:
            value = conn.exec_driver_sql(f"SELECT {db_now_sql(self.sql.dialect)}").scalar()
        return float(value) if value is not None else time.time()

    def list_interactive_runs(self, statuses: Sequence[RunStatus]) -> list[RunRecord]:
        query = (
            select(*RUN_COLUMNS)
            .select_from(RUNS_JOINED)
            .where(
                runs.c.status.in_([s.value for s in statuses]),
                runs.c.compute_target.is_(None),
                runs.c.supervisor_pid.is_not(None),
            )
        )
        with self.sql.read() as conn:
            rows = conn.execute(query.order_by(runs.c.key)).all()
        return [run_record(r) for r in rows]

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

    def snapshot_references(self) -> list[BlobReference]:
        with self.sql.read() as conn:
            found = [BlobReference(d, f"snapshot {d}") for (d,) in conn.execute(select(snapshots.c.id))]
            found += [
                BlobReference(d, f"run {run_id} snapshot")
                for run_id, d in conn.execute(
                    select(runs.c.run_id, runs.c.snapshot_id).where(runs.c.snapshot_id.is_not(None))
                )
            ]
        return found

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
