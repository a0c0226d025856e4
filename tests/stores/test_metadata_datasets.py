"""The dataset concern of the metadata store contract (``DatasetStore``): versions numbered per name
in one transaction, the same content answered instead of a new version, kinds never mixed, run inputs.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace

import pytest

from jupyter_mlws.core.interfaces import DatasetInputRecord, DatasetVersionRecord
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore
from tests.stores.metadata_helpers import add_run


def version(name: str = "d", kind: str = "tabular", content: str = "c1", **kw: object) -> DatasetVersionRecord:
    base = DatasetVersionRecord(
        id=uuid.uuid4().hex,
        name=name,
        version=0,
        kind=kind,
        digest=content.ljust(64, "0")[:64],
        content_key=content,
        description="a dataset",
        tags={"team": "x"},
        created_time=1.0,
        file_count=2,
        total_size=10,
        rows=3 if kind == "tabular" else None,
        schema=[{"name": "a", "type": "int64"}] if kind == "tabular" else None,
        definition={"manifest": {"files": []}, "content": content},
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_versions_count_up_and_the_same_content_is_answered(store: SqlMetadataStore) -> None:
    first, created = store.add_dataset_version(version(content="c1"), create_new_version=False)
    assert (first.version, created) == (1, True)
    again, created = store.add_dataset_version(version(content="c1"), create_new_version=True)
    assert (again.version, again.id, created) == (1, first.id, False)
    with pytest.raises(AlreadyExistsError, match=r"'d' exists \(latest version 1\).*create_new_version=True"):
        store.add_dataset_version(version(content="c2"), create_new_version=False)
    second, created = store.add_dataset_version(version(content="c2"), create_new_version=True)
    assert (second.version, created) == (2, True)
    # The refusals above did not use up a number, and a number is never handed out twice.
    third, _ = store.add_dataset_version(version(content="c3"), create_new_version=True)
    assert third.version == 3

    got = store.get_dataset_version("d", 1)
    assert (got.id, got.digest, got.rows, got.schema, got.tags) == (
        first.id,
        first.digest,
        3,
        [{"name": "a", "type": "int64"}],
        {"team": "x"},
    )
    assert got.definition == {"manifest": {"files": []}, "content": "c1"}
    assert store.get_dataset_version("d").version == 3
    assert store.get_dataset_by_id(second.id).version == 2
    assert [v.version for v in store.list_dataset_versions("d")] == [1, 2, 3]
    assert all(v.definition == {} for v in store.list_dataset_versions("d"))  # lists stay small


def test_a_name_keeps_its_kind_and_lists_show_the_latest(store: SqlMetadataStore) -> None:
    store.add_dataset_version(version("tab", "tabular"), create_new_version=False)
    store.add_dataset_version(version("files", "file"), create_new_version=False)
    store.add_dataset_version(version("tab", "tabular", content="c2"), create_new_version=True)
    with pytest.raises(InvalidArgumentError, match=r"'tab' is registered as a tabular dataset; a file dataset"):
        store.add_dataset_version(version("tab", "file", content="c9"), create_new_version=True)
    assert [(d.name, d.version, d.kind) for d in store.list_datasets()] == [("files", 1, "file"), ("tab", 2, "tabular")]
    assert store.add_dataset_version(version("tab", "tabular", content="c4"), True)[0].version == 3


def test_unknown_names_versions_and_ids_are_named(store: SqlMetadataStore) -> None:
    store.add_dataset_version(version("known"), create_new_version=False)
    with pytest.raises(NotFoundError, match=r"'missing' is not registered.*registered: 'known'"):
        store.get_dataset_version("missing")
    with pytest.raises(NotFoundError, match=r"'known' has no version 7 \(versions: 1\)"):
        store.get_dataset_version("known", 7)
    with pytest.raises(NotFoundError, match="no dataset version has the id 'nope'"):
        store.get_dataset_by_id("nope")
    with pytest.raises(NotFoundError):
        store.list_dataset_versions("missing")


def test_concurrent_registrations_of_one_name_get_distinct_versions(store: SqlMetadataStore) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            results.append(store.add_dataset_version(version("race", content=f"c{i}"), True)[0].version)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == list(range(1, 9))


def test_a_failed_registration_leaves_nothing(store: SqlMetadataStore) -> None:
    store.add_dataset_version(version("d"), create_new_version=False)
    bad = version("d", content="c2", id="x" * 65)  # longer than the id column on PostgreSQL; SQLite: same id below
    duplicate_id = version("d", content="c3", id=store.get_dataset_version("d").id)
    for record in (bad, duplicate_id):
        try:
            store.add_dataset_version(record, create_new_version=True)
        except Exception:  # the store's own error; what matters is what is left
            pass
        else:
            if record is duplicate_id:
                pytest.fail("a second version with an existing id was stored")
    versions = [v.version for v in store.list_dataset_versions("d")]
    assert versions in ([1], [1, 2])  # SQLite accepts the 65-character id; the duplicate id never lands
    assert store.add_dataset_version(version("d", content="c4"), True)[0].version == versions[-1] + 1


def test_a_new_version_is_announced_on_the_change_feed_and_a_kept_one_is_not(store: SqlMetadataStore) -> None:
    start = store.latest_event_id()
    store.add_dataset_version(version("tab", "tabular"), create_new_version=False)
    store.add_dataset_version(version("files", "file"), create_new_version=False)
    # The same content again keeps its version: nothing is written, nothing announced.
    assert store.add_dataset_version(version("tab", "tabular"), create_new_version=True)[1] is False
    # Refusals roll back with their event: another kind, other content without create_new_version.
    with pytest.raises(InvalidArgumentError):
        store.add_dataset_version(version("tab", "file", content="c9"), create_new_version=True)
    with pytest.raises(AlreadyExistsError):
        store.add_dataset_version(version("tab", "tabular", content="c2"), create_new_version=False)
    store.add_dataset_version(version("tab", "tabular", content="c2"), create_new_version=True)
    events = store.read_events(start)
    assert [(e.kind, e.data) for e in events] == [
        ("dataset.version.created", {"name": "tab", "version": 1, "kind": "tabular"}),
        ("dataset.version.created", {"name": "files", "version": 1, "kind": "file"}),
        ("dataset.version.created", {"name": "tab", "version": 2, "kind": "tabular"}),
    ]
    assert [e.id for e in events] == sorted(e.id for e in events) and events[0].id > start


def test_run_inputs_and_the_runs_of_a_version(store: SqlMetadataStore) -> None:
    first, _ = store.add_dataset_version(version("d"), create_new_version=False)
    add_run(store, "r1")
    add_run(store, "r2")
    store.add_run_inputs("r1", [DatasetInputRecord("r1", "train", first.id, "d", 1, first.digest, "direct")])
    store.add_run_inputs(
        "r2",
        [
            DatasetInputRecord("r2", "train", first.id, "d", 1, first.digest, "direct"),
            DatasetInputRecord("r2", "extra", None, None, None, "f" * 64, "download"),
        ],
    )
    assert store.list_dataset_runs(first.id) == ["r1", "r2"]
    inputs = store.list_run_inputs("r2")
    assert [(i.input_name, i.dataset_id, i.dataset_name, i.version, i.mode) for i in inputs] == [
        ("extra", None, None, None, "download"),
        ("train", first.id, "d", 1, "direct"),
    ]
    # The same input name again replaces it.
    store.add_run_inputs("r1", [DatasetInputRecord("r1", "train", None, None, None, "e" * 64, "direct")])
    assert store.list_dataset_runs(first.id) == ["r2"]
    assert store.list_run_inputs("nobody") == []
