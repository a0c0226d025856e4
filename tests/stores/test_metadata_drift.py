"""The drift detector concern of the metadata store contract (``DriftStore``, issue 20): detectors by
name with their definition and schedule id, change events, updates and deletes; and the schedule's
``target_kind`` field that lets a schedule fire a drift check.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.core.interfaces import DriftDetectorRecord, ScheduleRecord
from jupyter_mlws.errors import AlreadyExistsError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore


def detector(name: str = "d", **definition: object) -> DriftDetectorRecord:
    return DriftDetectorRecord(
        name=name, definition={"frequency": "Week", **definition}, created_time=1.0, updated_time=1.0
    )


def kinds(store: SqlMetadataStore) -> list[tuple[str, object]]:
    return [(e.kind, e.data.get("name")) for e in store.read_events(0) if e.kind.startswith("drift.")]


def test_a_detector_round_trips_updates_and_deletes(store: SqlMetadataStore) -> None:
    store.add_drift_detector(detector("b", features=["x", "y"]))
    store.add_drift_detector(detector("a"))
    got = store.get_drift_detector("b")
    assert got.definition == {"frequency": "Week", "features": ["x", "y"]} and got.schedule_id is None
    assert [r.name for r in store.list_drift_detectors()] == ["a", "b"]
    changed = store.update_drift_detector("b", {"frequency": "Day"}, 5.0, "sched-1")
    assert changed.definition == {"frequency": "Day"} and changed.schedule_id == "sched-1"
    assert changed.updated_time == 5.0 and changed.created_time == 1.0
    store.delete_drift_detector("b")
    assert [r.name for r in store.list_drift_detectors()] == ["a"]
    assert kinds(store) == [
        ("drift.created", "b"),
        ("drift.created", "a"),
        ("drift.updated", "b"),
        ("drift.deleted", "b"),
    ]


def test_names_are_unique_and_missing_ones_are_named(store: SqlMetadataStore) -> None:
    store.add_drift_detector(detector("d"))
    with pytest.raises(AlreadyExistsError, match="'d' already exists"):
        store.add_drift_detector(detector("d", frequency="Day"))
    assert store.get_drift_detector("d").definition == {"frequency": "Week"}  # the first one is intact
    for call in (
        lambda: store.get_drift_detector("nope"),
        lambda: store.update_drift_detector("nope", {}, 1.0, None),
        lambda: store.delete_drift_detector("nope"),
    ):
        with pytest.raises(NotFoundError, match="'nope' does not exist"):
            call()


def test_a_schedule_keeps_its_target_kind(store: SqlMetadataStore) -> None:
    record = ScheduleRecord(
        id="s1",
        name="drift-d",
        experiment_name="d-drift",
        status="Active",
        catch_up="all",
        created_time=1.0,
        anchor_time=100,
        recurrence={"frequency": "Day", "interval": 1},
        parameters={"detector": "d"},
        target_kind="drift",
    )
    store.add_schedule(record)
    assert store.get_schedule("s1").target_kind == "drift"
    assert store.get_schedule("s1").pipeline_id is None
