"""Experiments and runs: creation, status changes (compare-and-set), children and search."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ....core.entities import ExperimentRecord, FileRecord, ModelVersionRecord, RunRecord, RunSearchResult
from ....core.interfaces import RunStore
from ....core.interfaces.runs import HeldEnd
from ....core.search import FilterExpr, OrderKey
from ....core.status import RunStatus
from ....errors import AlreadyExistsError, NotFoundError
from ..run_rows import run_record
from .base import RUN_COLUMNS, RUNS_JOINED, SqlStoreBase
from .jobs import db_now_sql
from .run_search import compile_filter, compile_order
from .schema import experiments, run_files, run_properties, run_tags, runs

__all__ = ["RunsMixin"]

_BUMP_RUN_NUMBER = (
    "UPDATE experiments SET last_run_number = last_run_number + 1 WHERE id = ? RETURNING last_run_number, name"
)
_INSERT_RUN = (
    "INSERT INTO runs (run_id, experiment_id, number, parent_key, display_name, status, run_type, created_time, "
    "start_time, compute_target, snapshot_id, job_spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING key"
)
# A run with the process that logs it (an interactive run): its first heartbeat in the same insert.
_INSERT_SUPERVISED_RUN = (
    "INSERT INTO runs (run_id, experiment_id, number, parent_key, display_name, status, run_type, created_time, "
    "start_time, compute_target, snapshot_id, job_spec, supervisor_pid, supervisor_host, supervisor_start, "
    "heartbeat_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}) RETURNING key"
)
_GET_RUN = (
    "SELECT r.run_id, r.experiment_id, e.name, r.number, r.status, r.created_time, p.run_id, r.display_name, "
    "r.run_type, r.start_time, r.end_time, r.error, r.compute_target, r.snapshot_id, r.supervisor_pid, "
    "r.supervisor_host, r.heartbeat_time, r.supervisor_start, r.job_folder "
    "FROM runs r JOIN experiments e ON e.id = r.experiment_id "
    "LEFT OUTER JOIN runs p ON p.key = r.parent_key WHERE r.run_id = ?"
)
_STATUS_EVENT = (
    "INSERT INTO events (time, kind, run_id, experiment, payload) SELECT ?, 'run.status', r.run_id, e.name, ? "
    "FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.run_id = ?"
)
_TRANSITION = (
    "UPDATE runs SET status = ?, start_time = COALESCE(?, start_time), end_time = COALESCE(?, end_time), "
    "error = COALESCE(?, error) WHERE run_id = ? AND status = ?"
)


class RunsMixin(SqlStoreBase, RunStore):
    def get_or_create_experiment(self, name: str) -> ExperimentRecord:
        try:
            return self.get_experiment(name)
        except NotFoundError:
            pass
        try:
            with self.sql.write() as conn:
                conn.execute(
                    self.insert(experiments)
                    .values(name=name, created_time=time.time(), last_run_number=0)
                    .on_conflict_do_nothing()
                )
        except IntegrityError:  # created concurrently
            pass
        return self.get_experiment(name)

    def get_experiment(self, name: str) -> ExperimentRecord:
        cached = self._experiments.get(name)
        if cached is not None:
            return cached  # experiments are never renamed or deleted
        with self.sql.read() as conn:
            row = conn.execute(
                select(experiments.c.id, experiments.c.name, experiments.c.created_time).where(
                    experiments.c.name == name
                )
            ).first()
        if row is None:
            raise NotFoundError(f"experiment {name!r} not found in this workspace")
        record = self._experiments[name] = ExperimentRecord(id=row[0], name=row[1], created_time=row[2])
        return record

    def list_experiments(self) -> list[ExperimentRecord]:
        with self.sql.read() as conn:
            rows = conn.execute(
                select(experiments.c.id, experiments.c.name, experiments.c.created_time).order_by(experiments.c.name)
            ).all()
        return [ExperimentRecord(id=r[0], name=r[1], created_time=r[2]) for r in rows]

    def create_run(
        self,
        *,
        run_id: str,
        experiment_id: int,
        status: RunStatus,
        run_type: str,
        created_time: float,
        parent_run_id: str | None = None,
        display_name: str | None = None,
        start_time: float | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        compute_target: str | None = None,
        snapshot_id: str | None = None,
        job_spec: Mapping[str, Any] | None = None,
        supervisor_pid: int | None = None,
        supervisor_host: str | None = None,
        supervisor_start: int | None = None,
    ) -> RunRecord:
        return self.create_runs(
            [
                {
                    "run_id": run_id,
                    "experiment_id": experiment_id,
                    "status": status,
                    "run_type": run_type,
                    "created_time": created_time,
                    "parent_run_id": parent_run_id,
                    "display_name": display_name,
                    "start_time": start_time,
                    "tags": tags,
                    "properties": properties,
                    "compute_target": compute_target,
                    "snapshot_id": snapshot_id,
                    "job_spec": job_spec,
                    "supervisor_pid": supervisor_pid,
                    "supervisor_host": supervisor_host,
                    "supervisor_start": supervisor_start,
                }
            ]
        )[0]

    def create_runs(self, runs: Sequence[Mapping[str, Any]]) -> list[RunRecord]:
        # Hand-written SQL on the hot paths (run creation, status reads and changes): building
        # SQLAlchemy statements costs more than the database work itself here. One transaction.
        with self.sql.write() as conn:
            created = [self._insert_run(conn, **run) for run in runs]
            for table, field in ((run_tags, "tags"), (run_properties, "properties")):
                rows = [
                    (key, k, v)
                    for (_r, key), run in zip(created, runs, strict=True)
                    for k, v in (run.get(field) or {}).items()
                ]
                self.insert_new_values(conn, table, "run_key", rows)
        for record, key in created:  # cached once the transaction committed
            self._run_keys[record.run_id] = key
        return [record for record, _key in created]

    def _insert_run(
        self,
        conn: Connection,
        *,
        run_id: str,
        experiment_id: int,
        status: RunStatus,
        run_type: str,
        created_time: float,
        parent_run_id: str | None = None,
        display_name: str | None = None,
        start_time: float | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        compute_target: str | None = None,
        snapshot_id: str | None = None,
        job_spec: Mapping[str, Any] | None = None,
        supervisor_pid: int | None = None,
        supervisor_host: str | None = None,
        supervisor_start: int | None = None,
    ) -> tuple[RunRecord, int]:
        """One run inserted in the caller's transaction: its record and its key (its tags and
        properties are the caller's to insert: :meth:`create_runs` does, for all its runs at once)."""
        bumped = conn.exec_driver_sql(self.raw(_BUMP_RUN_NUMBER), (experiment_id,)).first()
        if bumped is None:
            raise NotFoundError(f"experiment id {experiment_id} not found in this workspace")
        number, experiment_name = bumped
        parent_key = self.run_key(conn, parent_run_id) if parent_run_id else None
        spec = json.dumps(dict(job_spec)) if job_spec is not None else None
        values: tuple[Any, ...] = (run_id, experiment_id, number, parent_key, display_name, status.value)
        values += (run_type, created_time, start_time, compute_target, snapshot_id, spec)
        statement = _INSERT_RUN
        if supervisor_pid is not None:
            values += (supervisor_pid, supervisor_host, supervisor_start)
            statement = _INSERT_SUPERVISED_RUN.format(now=db_now_sql(self.sql.dialect))
        try:
            key = conn.exec_driver_sql(self.raw(statement), values).scalar_one()
        except IntegrityError:
            raise AlreadyExistsError(f"a run with id {run_id!r} exists already") from None
        event = {"status": status.value, "parent_run_id": parent_run_id, "display_name": display_name}
        self.emit(conn, "run.created", event, run_id, experiment_name)
        record = RunRecord(
            run_id=run_id,
            experiment_id=experiment_id,
            experiment_name=experiment_name,
            number=number,
            status=status,
            created_time=created_time,
            parent_run_id=parent_run_id,
            display_name=display_name,
            run_type=run_type,
            start_time=start_time,
            compute_target=compute_target,
            snapshot_id=snapshot_id,
            supervisor_pid=supervisor_pid,
            supervisor_host=supervisor_host,
            supervisor_start=supervisor_start,
        )
        return record, key

    def get_run(self, run_id: str) -> RunRecord:
        with self.sql.read() as conn:
            row = conn.exec_driver_sql(self.raw(_GET_RUN), (run_id,)).first()
        if row is None:
            raise NotFoundError(f"run {run_id!r} not found in this workspace")
        return run_record(row)

    def transition_run(
        self,
        run_id: str,
        expected: RunStatus,
        new: RunStatus,
        *,
        start_time: float | None = None,
        end_time: float | None = None,
        error: Mapping[str, object] | None = None,
    ) -> bool:
        error_json = json.dumps(dict(error), default=str) if error is not None else None
        values = (new.value, start_time, end_time, error_json, run_id, expected.value)
        with self.sql.write() as conn:
            result = conn.exec_driver_sql(self.raw(_TRANSITION), values)
            if result.rowcount != 1:
                return False
            event = json.dumps({"status": new.value, "previous": expected.value})
            conn.exec_driver_sql(self.raw(_STATUS_EVENT), (time.time(), event, run_id))
            return True

    def write_held(
        self,
        files: Mapping[str, Sequence[FileRecord]],
        models: Sequence[tuple[ModelVersionRecord, Sequence[FileRecord]]],
        ends: Sequence[HeldEnd],
    ) -> list[bool]:
        try:
            with self.sql.write() as conn:
                self._insert_versions(conn, models)  # RegistryMixin's
                return self._write_held_runs(conn, files, ends)
        except IntegrityError as exc:  # nothing was written: the transaction rolled back
            names = ", ".join(f"{run_id}: {[f.path for f in records]}" for run_id, records in files.items())
            raise AlreadyExistsError(
                f"a group commit names a file a run already has (the runs' files: {names}); files of a run "
                "are immutable, upload under another name"
            ) from exc

    def _write_held_runs(
        self, conn: Connection, files: Mapping[str, Sequence[FileRecord]], ends: Sequence[HeldEnd]
    ) -> list[bool]:
        """The files in one statement, then each end as a compare-and-set with its status event."""
        now = time.time()
        rows = [
            {
                "run_key": self.run_key(conn, run_id),
                "path": f.path,
                "digest": f.digest,
                "size": f.size,
                "created_time": now,
            }
            for run_id, records in files.items()
            for f in records
        ]
        if rows:
            conn.execute(run_files.insert(), rows)
        applied = []
        for end in ends:
            error = end.fields.get("error")
            values = (
                end.new.value,
                end.fields.get("start_time"),
                end.fields.get("end_time"),
                json.dumps(dict(error), default=str) if error is not None else None,
                end.run_id,
                end.expected.value,
            )
            ok = conn.exec_driver_sql(self.raw(_TRANSITION), values).rowcount == 1
            if ok:
                event = json.dumps({"status": end.new.value, "previous": end.expected.value})
                conn.exec_driver_sql(self.raw(_STATUS_EVENT), (now, event, end.run_id))
            applied.append(ok)
        return applied

    def set_display_name(self, run_id: str, display_name: str | None) -> None:
        with self.sql.write() as conn:
            result = conn.execute(update(runs).where(runs.c.run_id == run_id).values(display_name=display_name))
            if result.rowcount != 1:
                raise NotFoundError(f"run {run_id!r} not found in this workspace")

    def search_runs(
        self,
        *,
        experiment_ids: Sequence[int] | None,
        filter: FilterExpr | None,
        order_by: Sequence[OrderKey],
        max_results: int,
        offset: int = 0,
        include_children: bool = False,
        parent_run_id: str | None = None,
    ) -> RunSearchResult:
        query = select(*RUN_COLUMNS).select_from(RUNS_JOINED)
        with self.sql.read() as conn:
            if parent_run_id is not None:
                query = query.where(runs.c.parent_key == self.run_key(conn, parent_run_id))
            elif not include_children:
                query = query.where(runs.c.parent_key.is_(None))
            if experiment_ids is not None:
                query = query.where(runs.c.experiment_id.in_(list(experiment_ids)))
            if filter is not None:
                query = query.where(compile_filter(filter))
            query = query.order_by(*compile_order(order_by)).offset(offset).limit(max_results + 1)
            rows = conn.execute(query).all()
        more = len(rows) > max_results
        return RunSearchResult(
            runs=[run_record(r) for r in rows[:max_results]],
            next_offset=offset + max_results if more else None,
        )

    def get_child_runs(
        self, run_id: str, recursive: bool = False, statuses: Sequence[RunStatus] | None = None
    ) -> list[RunRecord]:
        found: list[RunRecord] = []
        wanted = None if statuses is None else {s.value for s in statuses}
        with self.sql.read() as conn:
            frontier = [self.run_key(conn, run_id)]
            while frontier:
                query = (
                    select(runs.c.key, *RUN_COLUMNS)
                    .select_from(RUNS_JOINED)
                    .where(runs.c.parent_key.in_(frontier))
                    .order_by(runs.c.created_time, runs.c.number)
                )
                if wanted is not None and not recursive:
                    query = query.where(runs.c.status.in_(sorted(wanted)))
                rows = conn.execute(query).all()
                records = [run_record(r[1:]) for r in rows]
                found.extend(r for r in records if wanted is None or r.status.value in wanted)
                frontier = [r[0] for r in rows] if recursive else []
        return found
