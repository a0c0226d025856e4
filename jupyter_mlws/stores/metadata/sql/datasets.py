"""Dataset versions (one transaction each, numbered by a per-name counter) and run inputs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select

from ....core.interfaces import DatasetInputRecord, DatasetStore, DatasetVersionRecord
from ....errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from .base import SqlStoreBase
from .schema import dataset_names, dataset_versions, run_dataset_inputs, runs

__all__ = ["DatasetsMixin"]

_SUMMARY = (
    dataset_versions.c.id,
    dataset_versions.c.name,
    dataset_versions.c.version,
    dataset_names.c.kind,
    dataset_versions.c.digest,
    dataset_versions.c.content_key,
    dataset_versions.c.description,
    dataset_versions.c.tags,
    dataset_versions.c.created_time,
    dataset_versions.c.file_count,
    dataset_versions.c.total_size,
    dataset_versions.c.rows,
    dataset_versions.c.schema,
)
_JOINED = dataset_versions.join(dataset_names, dataset_names.c.name == dataset_versions.c.name)


def _record(row: Sequence[Any], definition: str | None = None) -> DatasetVersionRecord:
    return DatasetVersionRecord(
        id=row[0],
        name=row[1],
        version=row[2],
        kind=row[3],
        digest=row[4],
        content_key=row[5],
        description=row[6],
        tags=json.loads(row[7]),
        created_time=row[8],
        file_count=row[9],
        total_size=row[10],
        rows=row[11],
        schema=json.loads(row[12]) if row[12] is not None else None,
        definition=json.loads(definition) if definition else {},
    )


class _ReuseError(Exception):
    """Raised inside the registration transaction to roll the counter back and answer ``record``."""

    def __init__(self, record: DatasetVersionRecord) -> None:
        self.record = record


class DatasetsMixin(SqlStoreBase, DatasetStore):
    def add_dataset_version(
        self, record: DatasetVersionRecord, create_new_version: bool
    ) -> tuple[DatasetVersionRecord, bool]:
        try:
            return self._add_dataset_version(record, create_new_version), True
        except _ReuseError as reuse:
            return reuse.record, False

    def _add_dataset_version(self, record: DatasetVersionRecord, create_new_version: bool) -> DatasetVersionRecord:
        with self.sql.write() as conn:
            # The upsert takes the name's row lock (PostgreSQL) or the write lock (SQLite): concurrent
            # registrations of one name run this transaction one after the other.
            bump = self.insert(dataset_names).values(
                name=record.name, kind=record.kind, last_version=1, created_time=record.created_time
            )
            version, kind = conn.execute(
                bump.on_conflict_do_update(
                    index_elements=[dataset_names.c.name], set_={"last_version": dataset_names.c.last_version + 1}
                ).returning(dataset_names.c.last_version, dataset_names.c.kind)
            ).one()
            if kind != record.kind:
                raise InvalidArgumentError(
                    f"dataset {record.name!r} is registered as a {kind} dataset; a {record.kind} dataset cannot take "
                    f"that name: register it under another name"
                )
            latest_row = conn.execute(
                select(*_SUMMARY)
                .select_from(_JOINED)
                .where(dataset_versions.c.name == record.name)
                .order_by(dataset_versions.c.version.desc())
                .limit(1)
            ).first()
            if latest_row is not None:
                latest = _record(latest_row)
                if latest.content_key == record.content_key:
                    raise _ReuseError(latest)  # rolls the counter back: nothing written
                if not create_new_version:
                    raise AlreadyExistsError(
                        f"dataset {record.name!r} exists (latest version {latest.version}) with other content; pass "
                        "create_new_version=True to register this as its next version, or choose another name"
                    )
            conn.execute(
                dataset_versions.insert().values(
                    id=record.id,
                    name=record.name,
                    version=version,
                    digest=record.digest,
                    content_key=record.content_key,
                    description=record.description,
                    tags=json.dumps(dict(record.tags), sort_keys=True),
                    created_time=record.created_time,
                    file_count=record.file_count,
                    total_size=record.total_size,
                    rows=record.rows,
                    schema=None if record.schema is None else json.dumps([dict(c) for c in record.schema]),
                    definition=json.dumps(dict(record.definition), sort_keys=True),
                )
            )
            # Announced with the version it names: a rollback (a kept version, a refusal) emits nothing.
            self.emit(conn, "dataset.version.created", {"name": record.name, "version": version, "kind": kind})
        return replace(record, version=version)

    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersionRecord:
        query = select(*_SUMMARY, dataset_versions.c.definition).select_from(_JOINED)
        query = query.where(dataset_versions.c.name == name)
        if version is None:
            query = query.order_by(dataset_versions.c.version.desc()).limit(1)
        else:
            query = query.where(dataset_versions.c.version == version)
        with self.sql.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise self._missing_dataset(name, version)
        return _record(row[:-1], row[-1])

    def get_dataset_by_id(self, dataset_id: str) -> DatasetVersionRecord:
        query = select(*_SUMMARY, dataset_versions.c.definition).select_from(_JOINED)
        with self.sql.read() as conn:
            row = conn.execute(query.where(dataset_versions.c.id == dataset_id)).first()
        if row is None:
            raise NotFoundError(
                f"no dataset version has the id {dataset_id!r}; list them with Dataset.list(ws) or `mlws datasets list`"
            )
        return _record(row[:-1], row[-1])

    def list_datasets(self) -> list[DatasetVersionRecord]:
        latest = (
            select(dataset_versions.c.name, func.max(dataset_versions.c.version).label("version"))
            .group_by(dataset_versions.c.name)
            .subquery()
        )
        query = (
            select(*_SUMMARY)
            .select_from(
                _JOINED.join(
                    latest,
                    (latest.c.name == dataset_versions.c.name) & (latest.c.version == dataset_versions.c.version),
                )
            )
            .order_by(dataset_versions.c.name)
        )
        with self.sql.read() as conn:
            return [_record(r) for r in conn.execute(query).all()]

    def list_dataset_versions(self, name: str) -> list[DatasetVersionRecord]:
        query = select(*_SUMMARY).select_from(_JOINED).where(dataset_versions.c.name == name)
        with self.sql.read() as conn:
            rows = conn.execute(query.order_by(dataset_versions.c.version)).all()
        if not rows:
            raise self._missing_dataset(name, None)
        return [_record(r) for r in rows]

    def add_run_inputs(self, run_id: str, inputs: Sequence[DatasetInputRecord]) -> None:
        if not inputs:
            return
        with self.sql.write() as conn:
            key = self.run_key(conn, run_id)
            for item in inputs:
                values = {
                    "dataset_id": item.dataset_id,
                    "dataset_name": item.dataset_name,
                    "version": item.version,
                    "digest": item.digest,
                    "mode": item.mode,
                }
                stmt = self.insert(run_dataset_inputs).values(run_key=key, input_name=item.input_name, **values)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[run_dataset_inputs.c.run_key, run_dataset_inputs.c.input_name], set_=values
                    )
                )

    def list_run_inputs(self, run_id: str) -> list[DatasetInputRecord]:
        query = (
            select(
                run_dataset_inputs.c.input_name,
                run_dataset_inputs.c.dataset_id,
                run_dataset_inputs.c.dataset_name,
                run_dataset_inputs.c.version,
                run_dataset_inputs.c.digest,
                run_dataset_inputs.c.mode,
            )
            .select_from(run_dataset_inputs.join(runs, runs.c.key == run_dataset_inputs.c.run_key))
            .where(runs.c.run_id == run_id)
            .order_by(run_dataset_inputs.c.input_name)
        )
        with self.sql.read() as conn:
            rows = conn.execute(query).all()
        return [DatasetInputRecord(run_id, r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def list_dataset_runs(self, dataset_id: str) -> list[str]:
        query = (
            select(runs.c.run_id)
            .select_from(run_dataset_inputs.join(runs, runs.c.key == run_dataset_inputs.c.run_key))
            .where(run_dataset_inputs.c.dataset_id == dataset_id)
            .group_by(runs.c.run_id, runs.c.key)
            .order_by(runs.c.key)
        )
        with self.sql.read() as conn:
            return list(conn.execute(query).scalars())

    def _missing_dataset(self, name: str, version: int | None) -> NotFoundError:
        with self.sql.read() as conn:
            versions = list(
                conn.execute(
                    select(dataset_versions.c.version)
                    .where(dataset_versions.c.name == name)
                    .order_by(dataset_versions.c.version)
                ).scalars()
            )
            names = [] if versions else list(conn.execute(select(dataset_names.c.name).order_by("name")).scalars())
        if versions:
            return NotFoundError(
                f"dataset {name!r} has no version {version} (versions: {', '.join(map(str, versions))}); "
                f"use one of those or version='latest'"
            )
        known = ", ".join(repr(n) for n in names[:20]) or "none yet"
        return NotFoundError(
            f"dataset {name!r} is not registered in this workspace (registered: {known}); register one with "
            "ds.register(ws, name) or `mlws datasets register PATH --name NAME`"
        )
