"""The activity concern of the metadata store contract (``ActivityStore``).

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.core.entities import ActivityRecord
from jupyter_mlws.errors import NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore


def test_activities_are_recorded_updated_and_announced(store: SqlMetadataStore) -> None:
    before = store.latest_event_id()
    store.create_activity(ActivityRecord("b1", "environment-build", "env:1", "Running", 10.0, details={"v": 1}))
    store.create_activity(ActivityRecord("b2", "environment-build", "env:2", "Running", 20.0, run_id="r"))
    store.update_activity("b1", progress="installing", log="line 1\n")
    store.update_activity("b1", log="line 1\nline 2\n")  # a log append alone is not announced
    store.update_activity("b1", status="Completed", end_time=11.0, details={"v": 1, "cached": False})
    store.update_activity("b2", status="Failed", end_time=21.0, error={"message": "no such package"})
    one = store.get_activity("b1")
    assert (one.status, one.progress, one.end_time, one.log) == ("Completed", "installing", 11.0, "line 1\nline 2\n")
    assert one.details == {"v": 1, "cached": False} and one.error is None and one.run_id is None
    assert [a.activity_id for a in store.list_activities()] == ["b2", "b1"]
    assert [a.activity_id for a in store.list_activities(status="Failed")] == ["b2"]
    assert store.list_activities(kind="deployment") == [] and len(store.list_activities(limit=1)) == 1
    assert store.list_activities()[0].error == {"message": "no such package"} and store.list_activities()[0].log == ""
    events = [e for e in store.read_events(before) if e.kind == "activity.updated"]
    assert [(e.data["activity_id"], e.data["status"]) for e in events] == [
        ("b1", "Running"),
        ("b2", "Running"),
        ("b1", "Running"),
        ("b1", "Completed"),
        ("b2", "Failed"),
    ]
    with pytest.raises(NotFoundError, match="nope"):
        store.get_activity("nope")
    with pytest.raises(NotFoundError, match="nope"):
        store.update_activity("nope", status="Failed")
