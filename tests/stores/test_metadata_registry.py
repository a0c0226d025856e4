"""The model-registry concern of the metadata store contract (``ModelRegistryStore``).

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.core.entities import BlobReference, FileRecord
from jupyter_mlws.errors import InvalidStateError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore

from .metadata_helpers import DIGEST, register_model


def test_versions_count_up_and_are_never_reused(store: SqlMetadataStore) -> None:
    assert [register_model(store) for _ in range(3)] == [1, 2, 3]
    store.delete_model_version("m", 3)
    assert register_model(store) == 4
    store.delete_model_version("m", 4)
    store.delete_model_version("m", 2)
    store.delete_model_version("m", 1)
    assert register_model(store) == 5
    assert register_model(store, "other") == 1


def test_registration_returns_the_record_as_stored(store: SqlMetadataStore) -> None:
    # The record is built from what was written, not read back (issue 19's many-models path): it
    # must equal a read of the version, tags and properties sorted, no aliases, datasets as tuples.
    record = store.register_model_version(
        name="m",
        files=[FileRecord("model.pkl", DIGEST, 3)],
        created_time=1234.5,
        description="d",
        tags={"z": "1", "a": "2"},
        properties={"q": "x", "b": "y"},
        run_id="r1",
        datasets=[("training", "ds:1"), ("sample_input", "ds:2")],
    )
    assert record == store.get_model_version("m", record.version)
    bare = store.register_model_version(name="m", files=[], created_time=1235.0)
    assert bare == store.get_model_version("m", 2)


def test_model_version_lookup_and_errors(store: SqlMetadataStore) -> None:
    register_model(store, description="first", run_id="r9", datasets=[("training", "ds:1")])
    register_model(store, tags={"stage": "dev"}, properties={"acc": "0.9"})
    assert store.get_model_version("m").version == 2
    v1 = store.get_model_version("m", 1)
    assert (v1.description, v1.run_id, v1.datasets) == ("first", "r9", (("training", "ds:1"),))
    assert store.get_model_version("m", 2).tags == {"stage": "dev"}
    with pytest.raises(NotFoundError, match="versions are: 1, 2"):
        store.get_model_version("m", 7)
    with pytest.raises(NotFoundError, match="not registered"):
        store.get_model_version("nope")
    assert [f.path for f in store.list_model_files("m", 1)] == ["model.pkl"]


def test_model_tags_properties_aliases(store: SqlMetadataStore) -> None:
    register_model(store)
    register_model(store)
    store.set_model_tags("m", 1, {"a": "1", "b": "2"})
    store.remove_model_tags("m", 1, ["b"])
    store.add_model_properties("m", 1, {"p": "x"})
    with pytest.raises(InvalidStateError):
        store.add_model_properties("m", 1, {"p": "y"})
    store.set_model_alias("m", 1, "production")
    assert store.get_model_version("m", alias="production").version == 1
    store.set_model_alias("m", 2, "production")  # moves
    assert store.get_model_version("m", alias="production").version == 2
    assert store.get_model_version("m", 1).aliases == ()
    v1 = store.get_model_version("m", 1)
    assert (v1.tags, v1.properties) == ({"a": "1"}, {"p": "x"})
    store.delete_model_version("m", 2)
    with pytest.raises(NotFoundError):
        store.get_model_version("m", alias="production")


def test_list_model_versions_filters(store: SqlMetadataStore) -> None:
    register_model(store, "a", tags={"team": "x"})
    register_model(store, "a", tags={"team": "y"})
    register_model(store, "b", tags={"team": "x"}, properties={"fw": "sk"})
    listed = [(r.name, r.version) for r in store.list_model_versions()]
    assert listed == [("a", 2), ("a", 1), ("b", 1)]
    assert [(r.name, r.version) for r in store.list_model_versions(latest=True)] == [("a", 2), ("b", 1)]
    assert [(r.name, r.version) for r in store.list_model_versions(tags={"team": "x"})] == [
        ("a", 1),
        ("b", 1),
    ]
    assert [(r.name, r.version) for r in store.list_model_versions(tags={"team": "x"}, latest=True)] == [
        ("a", 1),
        ("b", 1),
    ]
    assert [r.name for r in store.list_model_versions(properties={"fw": None})] == ["b"]
    assert [r.version for r in store.list_model_versions(name="a")] == [2, 1]


def test_model_file_references(store: SqlMetadataStore) -> None:
    assert store.model_file_references() == []
    register_model(store, "m")
    register_model(store, "m")
    assert sorted(store.model_file_references()) == [
        BlobReference(DIGEST, "model m:1 file model.pkl"),
        BlobReference(DIGEST, "model m:2 file model.pkl"),
    ]
    store.delete_model_version("m", 1)
    assert store.model_file_references() == [BlobReference(DIGEST, "model m:2 file model.pkl")]
