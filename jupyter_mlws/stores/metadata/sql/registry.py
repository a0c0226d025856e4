"""The model registry: versions from a never-decreasing counter, files, tags, properties, aliases."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.engine import Connection

from ....core.entities import PENDING_VERSION, BlobReference, FileRecord, ModelVersionRecord
from ....core.interfaces import ModelRegistryStore
from ....errors import InvalidStateError, NotFoundError
from .base import SqlStoreBase, chunks
from .schema import (
    model_aliases,
    model_files,
    model_properties,
    model_tags,
    model_versions,
    webservice_models,
    webservices,
)

__all__ = ["RegistryMixin"]

_VERSION_COLUMNS = (
    model_versions.c.key,
    model_versions.c.name,
    model_versions.c.version,
    model_versions.c.created_time,
    model_versions.c.description,
    model_versions.c.run_id,
    model_versions.c.datasets,
)


# Hand-written SQL of a registration (a hot path: see _insert_versions); the same on SQLite and PostgreSQL.
_BUMP_VERSION = (
    "INSERT INTO model_names (name, last_version, created_time) VALUES (?, 1, ?) "
    "ON CONFLICT (name) DO UPDATE SET last_version = model_names.last_version + 1 RETURNING last_version"
)
_INSERT_VERSION = (
    "INSERT INTO model_versions (name, version, description, run_id, datasets, created_time) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING key"
)
_INSERT_MODEL_FILE = "INSERT INTO model_files (model_key, path, digest, size) VALUES (?, ?, ?, ?)"


class RegistryMixin(SqlStoreBase, ModelRegistryStore):
    def register_model_version(
        self,
        *,
        name: str,
        files: Sequence[FileRecord],
        created_time: float,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        run_id: str | None = None,
        datasets: Sequence[tuple[str, str]] = (),
    ) -> ModelVersionRecord:
        # One transaction: a crash before commit leaves no version visible (its blobs are orphans
        # that garbage collection may remove).
        with self.sql.write() as conn:
            version = self._bump_version(conn, name, created_time)
            # Built from what is written, not read back (three queries less a registration; a
            # ParallelRunStep registers one per partition, issue 19): a new version has no aliases yet.
            record = ModelVersionRecord(
                name=name,
                version=version,
                created_time=created_time,
                description=description,
                run_id=run_id,
                tags=dict(sorted((tags or {}).items())),
                properties=dict(sorted((properties or {}).items())),
                datasets=tuple((purpose, ref) for purpose, ref in datasets),
            )
            self._insert_versions(conn, [(record, files)])
        return record

    def reserve_model_version(self, name: str) -> int:
        with self.sql.write() as conn:
            return self._bump_version(conn, name, time.time())

    def _insert_versions(
        self, conn: Connection, models: Sequence[tuple[ModelVersionRecord, Sequence[FileRecord]]]
    ) -> None:
        """Write model versions (in the caller's transaction), numbers taken here for those still
        ``PENDING_VERSION`` (name by name in sorted order: two commits that take numbers of
        the same names lock their counters in one order). Hand-written SQL, the files, tags and
        properties of all of them inserted at once: a ParallelRunStep's group commit writes one
        version per mini-batch (issue 19)."""
        taken: dict[int, int] = {}
        pending = [i for i, (record, _files) in enumerate(models) if record.version == PENDING_VERSION]
        for i in sorted(pending, key=lambda i: models[i][0].name):
            taken[i] = self._bump_version(conn, models[i][0].name, models[i][0].created_time)
        files: list[tuple[int, str, str, int]] = []
        tags: list[tuple[int, str, str]] = []
        properties: list[tuple[int, str, str]] = []
        for i, (record, its_files) in enumerate(models):
            version = taken.get(i, record.version)
            datasets_json = json.dumps([list(d) for d in record.datasets]) if record.datasets else None
            key = conn.exec_driver_sql(
                self.raw(_INSERT_VERSION),
                (record.name, version, record.description, record.run_id, datasets_json, record.created_time),
            ).scalar_one()
            files += [(key, f.path, f.digest, f.size) for f in its_files]
            tags += [(key, k, v) for k, v in record.tags.items()]
            properties += [(key, k, v) for k, v in record.properties.items()]
            self.emit(conn, "model.version.created", {"name": record.name, "version": version}, record.run_id)
        if files:
            conn.exec_driver_sql(self.raw(_INSERT_MODEL_FILE), files)
        self.insert_new_values(conn, model_tags, "model_key", tags)
        self.insert_new_values(conn, model_properties, "model_key", properties)

    def _bump_version(self, conn: Connection, name: str, created_time: float) -> int:
        """The next version number of ``name`` (its counter made at its first version), in ``conn``'s
        transaction: under the write lock (SQLite) or the counter row's lock (PostgreSQL)."""
        version: int = conn.exec_driver_sql(self.raw(_BUMP_VERSION), (name, created_time)).scalar_one()
        return version

    def _records(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> list[ModelVersionRecord]:
        keys = [row[0] for row in rows]
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        props: dict[int, dict[str, str]] = defaultdict(dict)
        aliases: dict[int, list[str]] = defaultdict(list)
        for part in chunks(keys):
            for k, key, value in conn.execute(
                select(model_tags.c.model_key, model_tags.c.key, model_tags.c.value).where(
                    model_tags.c.model_key.in_(part)
                )
            ):
                tags[k][key] = value
            for k, key, value in conn.execute(
                select(model_properties.c.model_key, model_properties.c.key, model_properties.c.value).where(
                    model_properties.c.model_key.in_(part)
                )
            ):
                props[k][key] = value
            for k, alias in conn.execute(
                select(model_aliases.c.model_key, model_aliases.c.alias).where(model_aliases.c.model_key.in_(part))
            ):
                aliases[k].append(alias)
        return [
            ModelVersionRecord(
                name=row[1],
                version=row[2],
                created_time=row[3],
                description=row[4],
                run_id=row[5],
                tags=dict(sorted(tags[row[0]].items())),
                properties=dict(sorted(props[row[0]].items())),
                aliases=tuple(sorted(aliases[row[0]])),
                datasets=tuple(tuple(d) for d in json.loads(row[6])) if row[6] else (),
            )
            for row in rows
        ]

    def _key_of(self, conn: Connection, name: str, version: int) -> int:
        key = conn.execute(
            select(model_versions.c.key).where(model_versions.c.name == name, model_versions.c.version == version)
        ).scalar()
        if key is None:
            raise NotFoundError(self._missing(conn, name, f"version {version}"))
        return int(key)

    def _missing(self, conn: Connection, name: str, what: str) -> str:
        versions = (
            conn.execute(
                select(model_versions.c.version).where(model_versions.c.name == name).order_by(model_versions.c.version)
            )
            .scalars()
            .all()
        )
        if not versions:
            return f"model {name!r} is not registered in this workspace"
        listed = ", ".join(str(v) for v in versions[-10:])
        return f"model {name!r} has no {what}; its versions are: {listed}"

    def get_model_version(self, name: str, version: int | None = None, alias: str | None = None) -> ModelVersionRecord:
        with self.sql.read() as conn:
            query = select(*_VERSION_COLUMNS).where(model_versions.c.name == name)
            if alias is not None:
                query = query.join(model_aliases, model_aliases.c.model_key == model_versions.c.key).where(
                    model_aliases.c.alias == alias
                )
                what = f"alias {alias!r}"
            elif version is not None:
                query = query.where(model_versions.c.version == version)
                what = f"version {version}"
            else:
                query = query.order_by(model_versions.c.version.desc()).limit(1)
                what = "versions"
            row = conn.execute(query).first()
            if row is None:
                raise NotFoundError(self._missing(conn, name, what))
            return self._records(conn, [row])[0]

    def list_model_versions(
        self,
        name: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        properties: Mapping[str, str | None] | None = None,
        latest: bool = False,
    ) -> list[ModelVersionRecord]:
        query = select(*_VERSION_COLUMNS)
        if name is not None:
            query = query.where(model_versions.c.name == name)
        for table, wanted in ((model_tags, tags), (model_properties, properties)):
            for key, value in (wanted or {}).items():
                cond = [table.c.model_key == model_versions.c.key, table.c.key == key]
                if value is not None:
                    cond.append(table.c.value == value)
                query = query.where(exists(select(1).where(*cond)))
        query = query.order_by(model_versions.c.name, model_versions.c.version.desc())
        with self.sql.read() as conn:
            rows = conn.execute(query).all()
            if latest:
                seen: set[str] = set()
                rows = [r for r in rows if not (r[1] in seen or seen.add(r[1]))]  # type: ignore[func-returns-value]
            return self._records(conn, rows)

    def list_model_files(self, name: str, version: int) -> list[FileRecord]:
        with self.sql.read() as conn:
            key = self._key_of(conn, name, version)
            rows = conn.execute(
                select(model_files.c.path, model_files.c.digest, model_files.c.size)
                .where(model_files.c.model_key == key)
                .order_by(model_files.c.path)
            ).all()
        return [FileRecord(*row) for row in rows]

    def set_model_tags(self, name: str, version: int, tags: Mapping[str, str]) -> None:
        with self.sql.write() as conn:
            self.upsert_values(conn, model_tags, "model_key", self._key_of(conn, name, version), tags)

    def remove_model_tags(self, name: str, version: int, keys: Sequence[str]) -> None:
        with self.sql.write() as conn:
            key = self._key_of(conn, name, version)
            conn.execute(delete(model_tags).where(model_tags.c.model_key == key, model_tags.c.key.in_(list(keys))))

    def add_model_properties(self, name: str, version: int, properties: Mapping[str, str]) -> None:
        with self.sql.write() as conn:
            key = self._key_of(conn, name, version)
            self.insert_immutable(conn, model_properties, "model_key", key, properties, "property")

    def set_model_alias(self, name: str, version: int, alias: str) -> None:
        with self.sql.write() as conn:
            key = self._key_of(conn, name, version)
            stmt = self.insert(model_aliases).values(name=name, alias=alias, model_key=key)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[model_aliases.c.name, model_aliases.c.alias], set_={"model_key": key}
                )
            )

    def delete_model_version(self, name: str, version: int) -> None:
        with self.sql.write() as conn:
            key = self._key_of(conn, name, version)
            # v1 refuses to delete a version a live service uses (issue 17): checked in this transaction.
            using = conn.execute(
                select(webservices.c.name)
                .select_from(webservice_models.join(webservices, webservices.c.key == webservice_models.c.service_key))
                .where(webservice_models.c.model_key == key)
                .order_by(webservices.c.name)
            ).all()
            if using:
                names = ", ".join(repr(r[0]) for r in using)
                raise InvalidStateError(
                    f"model {name}:{version} is used by the web service(s) {names}; delete or update those "
                    "services first"
                )
            # Children first: SQLite only cascades with foreign_keys on, and we do not rely on it.
            for table in (model_aliases, model_files, model_tags, model_properties):
                conn.execute(delete(table).where(table.c.model_key == key))
            conn.execute(delete(model_versions).where(model_versions.c.key == key))

    def model_file_references(self) -> list[BlobReference]:
        query = select(model_files.c.digest, model_versions.c.name, model_versions.c.version, model_files.c.path).join(
            model_versions, model_versions.c.key == model_files.c.model_key
        )
        with self.sql.read() as conn:
            return [BlobReference(d, f"model {n}:{v} file {p}") for d, n, v, p in conn.execute(query)]
