"""The web service concern of the metadata store contract (``WebserviceStore``, issue 17): services by
name, the model versions they use (and the registry's refusal to delete those), state mirroring with
change events, updates and deletes.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.core.interfaces import WebserviceRecord
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, InvalidStateError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore
from tests.stores.metadata_helpers import register_model


def service(name: str = "svc", models: tuple[str, ...] = ("m:1",), **kw: object) -> WebserviceRecord:
    return WebserviceRecord(  # type: ignore[arg-type]
        name=name,
        compute_type="local",
        generation=1,
        models=models,
        inference={"entry_script": "score.py"},
        config={"port": 0},
        created_time=1.0,
        updated_time=1.0,
        **kw,
    )


def events(store: SqlMetadataStore, kind: str) -> list[dict[str, object]]:
    return [dict(e.data) for e in store.read_events(0) if e.kind == kind]


def test_a_service_round_trips_and_lists_by_name(store: SqlMetadataStore) -> None:
    register_model(store, "m")
    store.create_webservice(service("b", tags={"team": "x"}, description="d"))
    store.create_webservice(service("a"))
    got = store.get_webservice("b")
    assert got == service("b", tags={"team": "x"}, description="d")
    assert got.models == ("m:1",) and got.state == "Transitioning" and got.error is None
    assert [s.name for s in store.list_webservices()] == ["a", "b"]
    assert events(store, "webservice.created") == [{"name": "b", "models": ["m:1"]}, {"name": "a", "models": ["m:1"]}]


def test_names_are_unique_and_models_must_exist(store: SqlMetadataStore) -> None:
    register_model(store, "m")
    store.create_webservice(service())
    with pytest.raises(AlreadyExistsError, match="'svc' already exists"):
        store.create_webservice(service())
    with pytest.raises(NotFoundError, match="model m:7 is not registered"):
        store.create_webservice(service("other", models=("m:7",)))
    with pytest.raises(InvalidArgumentError, match="name:version"):
        store.create_webservice(service("other", models=("m",)))
    assert [s.name for s in store.list_webservices()] == ["svc"]  # the failed creates left nothing behind


def test_a_used_model_version_cannot_be_deleted_until_the_service_goes(store: SqlMetadataStore) -> None:
    register_model(store, "m")
    register_model(store, "m")
    store.create_webservice(service("svc", models=("m:1",)))
    store.create_webservice(service("svc2", models=("m:1", "m:2")))
    assert store.services_using_model("m", 1) == ["svc", "svc2"]
    assert store.services_using_model("m") == ["svc", "svc2"]
    with pytest.raises(InvalidStateError, match="used by the web service\\(s\\) 'svc', 'svc2'"):
        store.delete_model_version("m", 1)
    assert store.get_model_version("m", 1).version == 1  # nothing was deleted
    store.delete_webservice("svc")
    store.update_webservice(
        "svc2", generation=2, models=["m:2"], inference={"entry_script": "s.py"}, config={}, updated_time=5.0
    )
    assert store.services_using_model("m", 1) == []
    store.delete_model_version("m", 1)
    with pytest.raises(InvalidStateError, match="'svc2'"):
        store.delete_model_version("m", 2)
    updated = store.get_webservice("svc2")
    assert (updated.generation, updated.models, updated.updated_time) == (2, ("m:2",), 5.0)
    assert events(store, "webservice.deleted") == [{"name": "svc"}]
    assert events(store, "webservice.updated") == [{"name": "svc2", "generation": 2, "models": ["m:2"]}]


def test_state_changes_are_mirrored_once_each(store: SqlMetadataStore) -> None:
    register_model(store, "m")
    store.create_webservice(service())
    assert store.set_webservice_state("svc", "Healthy", None) is True
    assert store.set_webservice_state("svc", "Healthy", None) is False
    assert store.set_webservice_state("svc", "Failed", "boom") is True
    got = store.get_webservice("svc")
    assert (got.state, got.error) == ("Failed", "boom")
    states = [{"name": "svc", "state": "Healthy"}, {"name": "svc", "state": "Failed"}]
    assert events(store, "webservice.state") == states


def test_unknown_services_are_named(store: SqlMetadataStore) -> None:
    for call in (
        lambda: store.get_webservice("nope"),
        lambda: store.delete_webservice("nope"),
        lambda: store.set_webservice_state("nope", "Healthy", None),
        lambda: store.update_webservice("nope", generation=2, models=[], inference={}, config={}, updated_time=1.0),
    ):
        with pytest.raises(NotFoundError, match="web service 'nope' does not exist"):
            call()
