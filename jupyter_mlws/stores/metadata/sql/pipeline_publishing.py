"""SQL side of :class:`~jupyter_mlws.core.interfaces.pipeline_publishing.PipelinePublishingStore` (issue 16)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.engine import Connection

from ....core.interfaces.pipeline_publishing import (
    ACTIVE,
    DISABLED,
    PipelineEndpointRecord,
    PipelinePublishingStore,
    PublishedPipelineRecord,
    ScheduleFireRecord,
    ScheduleRecord,
)
from ....errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from .base import SqlStoreBase
from .schema import (
    pipeline_endpoint_versions,
    pipeline_endpoints,
    pipeline_tokens,
    published_pipelines,
    schedule_fires,
    schedules,
)

__all__ = ["PipelinePublishingMixin"]

_STATUSES = (ACTIVE, DISABLED)
# Fields of a schedule that ``update_schedule`` may change; the fire bookkeeping has its own calls.
_UPDATABLE = frozenset(
    {
        "name",
        "description",
        "experiment_name",
        "recurrence",
        "parameters",
        "continue_on_step_failure",
        "status",
        "catch_up",
        "anchor_time",
        "datastore_name",
        "path_on_datastore",
        "polling_interval",
        "data_path_parameter_name",
        "fingerprint",
    }
)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _unflag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _check_status(status: str) -> None:
    if status not in _STATUSES:
        raise InvalidArgumentError(f"status {status!r} is not one of {', '.join(_STATUSES)}")


def _pipeline(row: Row[Any]) -> PublishedPipelineRecord:
    m = row._mapping
    return PublishedPipelineRecord(
        id=m["id"],
        name=m["name"],
        description=m["description"],
        version=m["version"],
        definition=json.loads(m["definition"]),
        status=m["status"],
        created_time=m["created_time"],
        continue_on_step_failure=_unflag(m["continue_on_step_failure"]),
    )


def _schedule(row: Row[Any]) -> ScheduleRecord:
    m = row._mapping
    return ScheduleRecord(
        id=m["id"],
        name=m["name"],
        description=m["description"],
        pipeline_id=m["pipeline_id"],
        pipeline_endpoint_id=m["pipeline_endpoint_id"],
        experiment_name=m["experiment_name"],
        recurrence=json.loads(m["recurrence"]) if m["recurrence"] is not None else None,
        datastore_name=m["datastore_name"],
        path_on_datastore=m["path_on_datastore"],
        polling_interval=m["polling_interval"],
        data_path_parameter_name=m["data_path_parameter_name"],
        parameters=json.loads(m["parameters"]),
        continue_on_step_failure=_unflag(m["continue_on_step_failure"]),
        status=m["status"],
        catch_up=m["catch_up"],
        created_time=m["created_time"],
        anchor_time=m["anchor_time"],
        last_fire_time=m["last_fire_time"],
        fingerprint=m["fingerprint"],
        next_poll_time=m["next_poll_time"],
        target_kind=m["target_kind"],
    )


def _schedule_values(record: ScheduleRecord | Mapping[str, Any]) -> dict[str, Any]:
    """Column values of (part of) a schedule: JSON fields encoded, flags as integers."""
    fields = dict(record) if isinstance(record, Mapping) else {k: getattr(record, k) for k in schedules.c.keys()}
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "recurrence":
            values[key] = None if value is None else json.dumps(dict(value), sort_keys=True)
        elif key == "parameters":
            values[key] = json.dumps(dict(value or {}), sort_keys=True)
        elif key == "continue_on_step_failure":
            values[key] = _flag(value)
        else:
            values[key] = value
    return values


def _fire(row: Sequence[Any]) -> ScheduleFireRecord:
    return ScheduleFireRecord(
        schedule_id=row[0], fire_time=row[1], claimed_time=row[2], claimed_by=row[3], run_id=row[4], error=row[5]
    )


class PipelinePublishingMixin(SqlStoreBase, PipelinePublishingStore):
    # -- published pipelines -------------------------------------------------------------------------
    def add_published_pipeline(self, record: PublishedPipelineRecord) -> None:
        _check_status(record.status)
        with self.sql.write() as conn:
            conn.execute(
                published_pipelines.insert().values(
                    id=record.id,
                    name=record.name,
                    description=record.description,
                    version=record.version,
                    definition=json.dumps(dict(record.definition), sort_keys=True),
                    status=record.status,
                    continue_on_step_failure=_flag(record.continue_on_step_failure),
                    created_time=record.created_time,
                )
            )

    def get_published_pipeline(self, pipeline_id: str) -> PublishedPipelineRecord:
        with self.sql.read() as conn:
            row = conn.execute(select(published_pipelines).where(published_pipelines.c.id == pipeline_id)).first()
        if row is None:
            raise NotFoundError(
                f"no published pipeline has the id {pipeline_id!r}; list them with PublishedPipeline.list(ws) "
                "(active_only=False shows disabled ones too)"
            )
        return _pipeline(row)

    def list_published_pipelines(self, active_only: bool = True) -> list[PublishedPipelineRecord]:
        query = select(published_pipelines).order_by(published_pipelines.c.created_time, published_pipelines.c.id)
        if active_only:
            query = query.where(published_pipelines.c.status == ACTIVE)
        with self.sql.read() as conn:
            return [_pipeline(r) for r in conn.execute(query).all()]

    def set_published_pipeline_status(self, pipeline_id: str, status: str) -> None:
        _check_status(status)
        with self.sql.write() as conn:
            done = conn.execute(
                published_pipelines.update().where(published_pipelines.c.id == pipeline_id).values(status=status)
            )
        if not done.rowcount:
            self.get_published_pipeline(pipeline_id)  # raises the NotFoundError

    # -- tokens --------------------------------------------------------------------------------------
    def add_pipeline_token(self, token_hash: str, scope: str, target_id: str, created_time: float) -> None:
        with self.sql.write() as conn:
            conn.execute(
                pipeline_tokens.insert().values(
                    token_hash=token_hash, scope=scope, target_id=target_id, created_time=created_time
                )
            )

    def find_pipeline_token(self, token_hash: str) -> tuple[str, str] | None:
        with self.sql.read() as conn:
            row = conn.execute(
                select(pipeline_tokens.c.scope, pipeline_tokens.c.target_id).where(
                    pipeline_tokens.c.token_hash == token_hash
                )
            ).first()
        return None if row is None else (row[0], row[1])

    def revoke_pipeline_tokens(self, scope: str, target_id: str) -> int:
        with self.sql.write() as conn:
            done = conn.execute(
                pipeline_tokens.delete().where(
                    pipeline_tokens.c.scope == scope, pipeline_tokens.c.target_id == target_id
                )
            )
        return int(done.rowcount or 0)

    # -- endpoints -----------------------------------------------------------------------------------
    def _versions(self, conn: Connection, endpoint_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {e: {} for e in endpoint_ids}
        if not endpoint_ids:
            return found
        rows = conn.execute(
            select(
                pipeline_endpoint_versions.c.endpoint_id,
                pipeline_endpoint_versions.c.version,
                pipeline_endpoint_versions.c.pipeline_id,
            )
            .where(pipeline_endpoint_versions.c.endpoint_id.in_(list(endpoint_ids)))
            .order_by(pipeline_endpoint_versions.c.created_time)
        ).all()
        for endpoint_id, version, pipeline_id in rows:
            found[endpoint_id][version] = pipeline_id
        return found

    def _endpoints(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[PipelineEndpointRecord]:
        versions = self._versions(conn, [r._mapping["id"] for r in rows])
        return [
            PipelineEndpointRecord(
                id=m["id"],
                name=m["name"],
                description=m["description"],
                status=m["status"],
                default_version=m["default_version"],
                created_time=m["created_time"],
                versions=versions[m["id"]],
            )
            for m in (r._mapping for r in rows)
        ]

    def add_pipeline_endpoint(self, record: PipelineEndpointRecord, pipeline_id: str) -> PipelineEndpointRecord:
        _check_status(record.status)
        with self.sql.write() as conn:
            self._require_pipeline(conn, pipeline_id)
            taken = conn.execute(
                self.insert(pipeline_endpoints)
                .values(
                    id=record.id,
                    name=record.name,
                    description=record.description,
                    status=record.status,
                    default_version="0",
                    last_version=0,
                    created_time=record.created_time,
                )
                .on_conflict_do_nothing()
                .returning(pipeline_endpoints.c.id)
            ).first()
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT that did nothing.
            if taken is None:
                raise AlreadyExistsError(
                    f"a pipeline endpoint named {record.name!r} exists; add this pipeline to it with "
                    f"PipelineEndpoint.get(ws, name={record.name!r}).add_default(pipeline), or choose another name"
                )
            conn.execute(
                pipeline_endpoint_versions.insert().values(
                    endpoint_id=record.id, version="0", pipeline_id=pipeline_id, created_time=record.created_time
                )
            )
        return PipelineEndpointRecord(
            id=record.id,
            name=record.name,
            description=record.description,
            status=record.status,
            default_version="0",
            created_time=record.created_time,
            versions={"0": pipeline_id},
        )

    def get_pipeline_endpoint(self, name: str | None = None, endpoint_id: str | None = None) -> PipelineEndpointRecord:
        if (name is None) == (endpoint_id is None):
            raise InvalidArgumentError("give a pipeline endpoint's name or its id (one of them)")
        query = select(pipeline_endpoints)
        if name is not None:
            query = query.where(pipeline_endpoints.c.name == name)
        else:
            query = query.where(pipeline_endpoints.c.id == endpoint_id)
        with self.sql.read() as conn:
            row = conn.execute(query).first()
            if row is not None:
                return self._endpoints(conn, [row])[0]
            names = list(conn.execute(select(pipeline_endpoints.c.name).order_by(pipeline_endpoints.c.name)).scalars())
        known = ", ".join(repr(n) for n in names[:20]) or "none yet"
        what = f"named {name!r}" if name is not None else f"with the id {endpoint_id!r}"
        raise NotFoundError(
            f"no pipeline endpoint {what} in this workspace (endpoints: {known}); create one with "
            "PipelineEndpoint.publish(ws, name, pipeline, description)"
        )

    def list_pipeline_endpoints(self, active_only: bool = True) -> list[PipelineEndpointRecord]:
        query = select(pipeline_endpoints).order_by(pipeline_endpoints.c.name)
        if active_only:
            query = query.where(pipeline_endpoints.c.status == ACTIVE)
        with self.sql.read() as conn:
            return self._endpoints(conn, conn.execute(query).all())

    def add_pipeline_endpoint_version(self, endpoint_id: str, pipeline_id: str, make_default: bool) -> str:
        with self.sql.write() as conn:
            self._require_pipeline(conn, pipeline_id)
            existing = conn.execute(
                select(pipeline_endpoint_versions.c.version).where(
                    pipeline_endpoint_versions.c.endpoint_id == endpoint_id,
                    pipeline_endpoint_versions.c.pipeline_id == pipeline_id,
                )
            ).scalar()
            if existing is None:
                # The counter's row lock (PostgreSQL) or the write lock (SQLite) orders concurrent adds.
                number = conn.execute(
                    pipeline_endpoints.update()
                    .where(pipeline_endpoints.c.id == endpoint_id)
                    .values(last_version=pipeline_endpoints.c.last_version + 1)
                    .returning(pipeline_endpoints.c.last_version, pipeline_endpoints.c.created_time)
                ).first()
                if number is None:
                    raise NotFoundError(f"no pipeline endpoint has the id {endpoint_id!r}")
                existing = str(number[0])
                conn.execute(
                    pipeline_endpoint_versions.insert().values(
                        endpoint_id=endpoint_id,
                        version=existing,
                        pipeline_id=pipeline_id,
                        created_time=max(float(number[1]), time.time()),
                    )
                )
            if make_default:
                conn.execute(
                    pipeline_endpoints.update()
                    .where(pipeline_endpoints.c.id == endpoint_id)
                    .values(default_version=existing)
                )
        return str(existing)

    def set_pipeline_endpoint_default(self, endpoint_id: str, version: str) -> None:
        with self.sql.write() as conn:
            versions = self._versions(conn, [endpoint_id])[endpoint_id]
            if version not in versions:
                known = ", ".join(repr(v) for v in versions) or "none"
                raise NotFoundError(
                    f"the pipeline endpoint has no version {version!r} (versions: {known}); add a pipeline with "
                    "endpoint.add(pipeline) first"
                )
            conn.execute(
                pipeline_endpoints.update()
                .where(pipeline_endpoints.c.id == endpoint_id)
                .values(default_version=version)
            )

    def set_pipeline_endpoint_status(self, endpoint_id: str, status: str) -> None:
        _check_status(status)
        with self.sql.write() as conn:
            done = conn.execute(
                pipeline_endpoints.update().where(pipeline_endpoints.c.id == endpoint_id).values(status=status)
            )
        if not done.rowcount:
            raise NotFoundError(f"no pipeline endpoint has the id {endpoint_id!r}")

    def _require_pipeline(self, conn: Connection, pipeline_id: str) -> None:
        found = conn.execute(select(published_pipelines.c.id).where(published_pipelines.c.id == pipeline_id)).first()
        if found is None:
            raise NotFoundError(
                f"no published pipeline has the id {pipeline_id!r}; publish it first with pipeline.publish(name)"
            )

    # -- schedules -----------------------------------------------------------------------------------
    def add_schedule(self, record: ScheduleRecord) -> None:
        _check_status(record.status)
        with self.sql.write() as conn:
            conn.execute(schedules.insert().values(**_schedule_values(record)))

    def get_schedule(self, schedule_id: str) -> ScheduleRecord:
        with self.sql.read() as conn:
            row = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
        if row is None:
            raise NotFoundError(
                f"no schedule has the id {schedule_id!r}; list them with Schedule.list(ws, active_only=False)"
            )
        return _schedule(row)

    def list_schedules(
        self, active_only: bool = True, pipeline_id: str | None = None, pipeline_endpoint_id: str | None = None
    ) -> list[ScheduleRecord]:
        query = select(schedules).order_by(schedules.c.created_time, schedules.c.id)
        if active_only:
            query = query.where(schedules.c.status == ACTIVE)
        if pipeline_id is not None:
            query = query.where(schedules.c.pipeline_id == pipeline_id)
        if pipeline_endpoint_id is not None:
            query = query.where(schedules.c.pipeline_endpoint_id == pipeline_endpoint_id)
        with self.sql.read() as conn:
            return [_schedule(r) for r in conn.execute(query).all()]

    def update_schedule(self, schedule_id: str, changes: Mapping[str, Any]) -> ScheduleRecord:
        unknown = sorted(set(changes) - _UPDATABLE)
        if unknown:
            raise InvalidArgumentError(
                f"a schedule's {', '.join(unknown)} cannot be changed; changeable: {', '.join(sorted(_UPDATABLE))}"
            )
        if "status" in changes:
            _check_status(changes["status"])
        if changes:
            with self.sql.write() as conn:
                done = conn.execute(
                    schedules.update().where(schedules.c.id == schedule_id).values(**_schedule_values(changes))
                )
            if not done.rowcount:
                self.get_schedule(schedule_id)  # raises the NotFoundError
        return self.get_schedule(schedule_id)

    def _advance(self, conn: Connection, schedule_id: str, fire_time: int) -> None:
        conn.execute(
            schedules.update()
            .where(
                schedules.c.id == schedule_id,
                or_(schedules.c.last_fire_time.is_(None), schedules.c.last_fire_time < fire_time),
            )
            .values(last_fire_time=fire_time)
        )

    def claim_schedule_fire(self, fire: ScheduleFireRecord) -> bool:
        with self.sql.write() as conn:
            inserted = conn.execute(
                self.insert(schedule_fires)
                .values(
                    schedule_id=fire.schedule_id,
                    fire_time=fire.fire_time,
                    claimed_time=fire.claimed_time,
                    claimed_by=fire.claimed_by,
                    run_id=fire.run_id,
                    error=fire.error,
                )
                .on_conflict_do_nothing(index_elements=[schedule_fires.c.schedule_id, schedule_fires.c.fire_time])
                .returning(schedule_fires.c.fire_time)
            ).first()
            won = inserted is not None  # RETURNING, not rowcount: psycopg reports -1 for a skipped INSERT
            self._advance(conn, fire.schedule_id, fire.fire_time)
        return won

    def skip_schedule_fires(self, schedule_id: str, up_to: int) -> None:
        with self.sql.write() as conn:
            self._advance(conn, schedule_id, up_to)

    def set_schedule_fire_result(
        self, schedule_id: str, fire_time: int, run_id: str | None, error: str | None = None
    ) -> None:
        with self.sql.write() as conn:
            done = conn.execute(
                schedule_fires.update()
                .where(schedule_fires.c.schedule_id == schedule_id, schedule_fires.c.fire_time == fire_time)
                .values(run_id=run_id, error=error)
            )
        if not done.rowcount:
            raise NotFoundError(f"schedule {schedule_id!r} has no fire at {fire_time}")

    def list_schedule_fires(self, schedule_id: str, limit: int = 100) -> list[ScheduleFireRecord]:
        query = (
            select(
                schedule_fires.c.schedule_id,
                schedule_fires.c.fire_time,
                schedule_fires.c.claimed_time,
                schedule_fires.c.claimed_by,
                schedule_fires.c.run_id,
                schedule_fires.c.error,
            )
            .where(schedule_fires.c.schedule_id == schedule_id)
            .order_by(schedule_fires.c.fire_time.desc())
            .limit(limit)
        )
        with self.sql.read() as conn:
            return [_fire(r) for r in conn.execute(query).all()]

    def claim_schedule_poll(self, schedule_id: str, now: float, next_poll_time: float) -> bool:
        with self.sql.write() as conn:
            done = conn.execute(
                schedules.update()
                .where(
                    schedules.c.id == schedule_id,
                    or_(schedules.c.next_poll_time.is_(None), schedules.c.next_poll_time <= now),
                )
                .values(next_poll_time=next_poll_time)
            )
        return bool(done.rowcount)

    def swap_schedule_fingerprint(self, schedule_id: str, old: str | None, new: str) -> bool:
        current = schedules.c.fingerprint.is_(None) if old is None else schedules.c.fingerprint == old
        with self.sql.write() as conn:
            done = conn.execute(
                schedules.update().where(schedules.c.id == schedule_id, current).values(fingerprint=new)
            )
        return bool(done.rowcount)
