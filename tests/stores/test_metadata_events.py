"""The change-feed concern of the metadata store contract (``EventStore``).

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore

from .metadata_helpers import add_run, register_model


def test_change_feed_records_runs_statuses_and_models(store: SqlMetadataStore) -> None:
    start = store.latest_event_id()
    add_run(store, "r1")
    assert store.transition_run("r1", RunStatus.RUNNING, RunStatus.COMPLETED)
    assert not store.transition_run("r1", RunStatus.RUNNING, RunStatus.FAILED)  # no change, no event
    register_model(store, run_id="r1")
    events = store.read_events(start)
    assert [e.kind for e in events] == ["run.created", "run.status", "model.version.created"]
    assert events[0].data == {
        "status": "Running", "parent_run_id": None, "display_name": None, "run_id": "r1", "experiment": "exp",
    }  # fmt: skip
    assert events[1].data == {"status": "Completed", "previous": "Running", "run_id": "r1", "experiment": "exp"}
    assert events[2].data == {"name": "m", "version": 1, "run_id": "r1"}
    assert [e.id for e in events] == sorted(e.id for e in events) and events[0].id > start
    assert store.read_events(events[0].id, limit=1) == [events[1]]
    assert store.latest_event_id() == events[-1].id
    assert store.prune_events(events[-1].time + 1) == 3
    assert store.read_events(start) == []


def test_family_changed_names_changes_of_a_run_and_its_children_only(store: SqlMetadataStore) -> None:
    add_run(store, "parent")
    start = store.latest_event_id()
    assert store.family_changed("parent", start) == (start, False)  # nothing new
    add_run(store, "child", parent_run_id="parent")
    add_run(store, "grandchild", parent_run_id="child")
    add_run(store, "other")
    created_child = start + 1
    assert store.family_changed("parent", start) == (store.latest_event_id(), True)  # the child's creation
    assert store.family_changed("parent", created_child) == (store.latest_event_id(), False)  # later: not family
    seen = store.latest_event_id()
    assert store.transition_run("grandchild", RunStatus.RUNNING, RunStatus.COMPLETED)
    register_model(store, run_id="child", name="from-child")  # a model event naming the child
    latest = store.latest_event_id()
    assert store.family_changed("parent", seen) == (latest, True)
    assert store.family_changed("child", seen) == (latest, True)  # its child (grandchild) and itself
    assert store.family_changed("other", seen) == (latest, False)
    assert store.transition_run("parent", RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED)
    assert store.family_changed("parent", latest) == (store.latest_event_id(), True)  # the run itself


def test_a_feed_pruned_empty_whose_ids_begin_again_counts_as_changed(store: SqlMetadataStore) -> None:
    add_run(store, "p")
    add_run(store, "q")
    add_run(store, "r")
    seen = store.latest_event_id()
    assert store.prune_events(store.read_events(0)[-1].time + 1) >= 3
    add_run(store, "unrelated")  # SQLite numbers it from the table's highest id again
    latest, changed = store.family_changed("p", seen)
    assert latest == store.latest_event_id()
    assert changed or latest > seen  # on PostgreSQL ids never go back: the new one is simply later
