"""SQL side of :class:`~jupyter_mlws.core.interfaces.webservices.WebserviceStore` (issue 17)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError

from ....core.interfaces.webservices import WebserviceRecord, WebserviceStore
from ....errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from .base import SqlStoreBase
from .schema import model_versions, webservice_models, webservices

__all__ = ["WebservicesMixin"]

_COLUMNS = (
    webservices.c.name,
    webservices.c.compute_type,
    webservices.c.generation,
    webservices.c.models,
    webservices.c.inference,
    webservices.c.config,
    webservices.c.created_time,
    webservices.c.updated_time,
    webservices.c.state,
    webservices.c.error,
    webservices.c.description,
    webservices.c.tags,
    webservices.c.properties,
)


def _record(row: Sequence[Any]) -> WebserviceRecord:
    return WebserviceRecord(
        name=row[0],
        compute_type=row[1],
        generation=row[2],
        models=tuple(json.loads(row[3])),
        inference=json.loads(row[4]),
        config=json.loads(row[5]),
        created_time=row[6],
        updated_time=row[7],
        state=row[8],
        error=row[9],
        description=row[10],
        tags=json.loads(row[11]),
        properties=json.loads(row[12]),
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class WebservicesMixin(SqlStoreBase, WebserviceStore):
    def _model_keys(self, conn: Connection, models: Sequence[str]) -> list[int]:
        keys = []
        for model_id in models:
            name, _, version = model_id.rpartition(":")
            if not name or not version.isdigit():
                raise InvalidArgumentError(f"model id {model_id!r} must be 'name:version'")
            key = conn.execute(
                select(model_versions.c.key).where(
                    model_versions.c.name == name, model_versions.c.version == int(version)
                )
            ).scalar()
            if key is None:
                raise NotFoundError(f"model {model_id} is not registered in this workspace")
            keys.append(int(key))
        return keys

    def _service_key(self, conn: Connection, name: str) -> int:
        key = conn.execute(select(webservices.c.key).where(webservices.c.name == name)).scalar()
        if key is None:
            raise NotFoundError(f"web service {name!r} does not exist in this workspace")
        return int(key)

    def _set_models(self, conn: Connection, service_key: int, models: Sequence[str]) -> None:
        conn.execute(delete(webservice_models).where(webservice_models.c.service_key == service_key))
        for model_key in dict.fromkeys(self._model_keys(conn, models)):
            conn.execute(webservice_models.insert().values(service_key=service_key, model_key=model_key))

    def create_webservice(self, record: WebserviceRecord) -> None:
        values = {
            "name": record.name,
            "compute_type": record.compute_type,
            "generation": record.generation,
            "models": _dumps(list(record.models)),
            "inference": _dumps(dict(record.inference)),
            "config": _dumps(dict(record.config)),
            "description": record.description,
            "tags": _dumps(dict(record.tags)),
            "properties": _dumps(dict(record.properties)),
            "state": record.state,
            "error": record.error,
            "created_time": record.created_time,
            "updated_time": record.updated_time,
        }
        try:
            with self.sql.write() as conn:
                insert = webservices.insert().values(**values).returning(webservices.c.key)
                key = conn.execute(insert).scalar_one()
                self._set_models(conn, int(key), record.models)
                self.emit(conn, "webservice.created", {"name": record.name, "models": list(record.models)})
        except IntegrityError:
            raise AlreadyExistsError(
                f"a web service named {record.name!r} already exists; update it, delete it first, or pass "
                "overwrite=True"
            ) from None

    def update_webservice(
        self,
        name: str,
        *,
        generation: int,
        models: Sequence[str],
        inference: Mapping[str, Any],
        config: Mapping[str, Any],
        updated_time: float,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "generation": generation,
            "models": _dumps(list(models)),
            "inference": _dumps(dict(inference)),
            "config": _dumps(dict(config)),
            "updated_time": updated_time,
        }
        if tags is not None:
            values["tags"] = _dumps(dict(tags))
        if properties is not None:
            values["properties"] = _dumps(dict(properties))
        if description is not None:
            values["description"] = description
        with self.sql.write() as conn:
            key = self._service_key(conn, name)
            conn.execute(webservices.update().where(webservices.c.key == key).values(**values))
            self._set_models(conn, key, models)
            self.emit(conn, "webservice.updated", {"name": name, "generation": generation, "models": list(models)})

    def set_webservice_state(self, name: str, state: str, error: str | None) -> bool:
        with self.sql.write() as conn:
            row = conn.execute(
                select(webservices.c.key, webservices.c.state, webservices.c.error).where(webservices.c.name == name)
            ).first()
            if row is None:
                raise NotFoundError(f"web service {name!r} does not exist in this workspace")
            if (row[1], row[2]) == (state, error):
                return False
            conn.execute(webservices.update().where(webservices.c.key == row[0]).values(state=state, error=error))
            self.emit(conn, "webservice.state", {"name": name, "state": state})
            return True

    def get_webservice(self, name: str) -> WebserviceRecord:
        with self.sql.read() as conn:
            row = conn.execute(select(*_COLUMNS).where(webservices.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"web service {name!r} does not exist in this workspace")
        return _record(row)

    def list_webservices(self) -> list[WebserviceRecord]:
        with self.sql.read() as conn:
            return [_record(r) for r in conn.execute(select(*_COLUMNS).order_by(webservices.c.name)).all()]

    def delete_webservice(self, name: str) -> None:
        with self.sql.write() as conn:
            key = self._service_key(conn, name)
            # Children first: SQLite only cascades with foreign_keys on, and we do not rely on it.
            conn.execute(delete(webservice_models).where(webservice_models.c.service_key == key))
            conn.execute(delete(webservices).where(webservices.c.key == key))
            self.emit(conn, "webservice.deleted", {"name": name})

    def services_using_model(self, name: str, version: int | None = None) -> list[str]:
        with self.sql.read() as conn:
            return self._services_using(conn, name, version)

    def _services_using(self, conn: Connection, name: str, version: int | None) -> list[str]:
        query = (
            select(webservices.c.name)
            .select_from(
                webservice_models.join(webservices, webservices.c.key == webservice_models.c.service_key).join(
                    model_versions, model_versions.c.key == webservice_models.c.model_key
                )
            )
            .where(model_versions.c.name == name)
            .distinct()
            .order_by(webservices.c.name)
        )
        if version is not None:
            query = query.where(model_versions.c.version == version)
        return [r[0] for r in conn.execute(query).all()]
