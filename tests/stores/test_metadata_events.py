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
