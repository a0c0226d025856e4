"""The publishing concern of the metadata store contract (``PipelinePublishingStore``): published
pipelines and their status, token hashes, endpoints and their numbered versions, schedules, and the
claim of a schedule fire through its unique key (schedule, fire time).

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from jupyter_mlws.core.interfaces import (
    PipelineEndpointRecord,
    PublishedPipelineRecord,
    ScheduleFireRecord,
    ScheduleRecord,
)
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore


def published(pid: str, status: str = "Active", t: float = 1.0) -> PublishedPipelineRecord:
    return PublishedPipelineRecord(
        id=pid,
        name=f"name-{pid}",
        description="d",
        version="1.0",
        definition={"steps": [{"name": "a"}], "parameters": {"lr": 0.1}},
        status=status,
        created_time=t,
        continue_on_step_failure=True,
    )


def schedule(sid: str, pipeline_id: str = "p1", **kw: object) -> ScheduleRecord:
    values: dict[str, object] = {
        "id": sid,
        "name": f"s-{sid}",
        "experiment_name": "exp",
        "status": "Active",
        "catch_up": "latest",
        "created_time": 10.0,
        "anchor_time": 10,
        "pipeline_id": pipeline_id,
        "recurrence": {"frequency": "Minute", "interval": 1},
        "parameters": {"lr": 0.2},
    }
    values.update(kw)
    return ScheduleRecord(**values)  # type: ignore[arg-type]


def test_published_pipelines_round_trip_list_and_change_status_only(store: SqlMetadataStore) -> None:
    store.add_published_pipeline(published("p1", t=1.0))
    store.add_published_pipeline(published("p2", t=2.0))
    assert store.get_published_pipeline("p1") == published("p1")
    assert [p.id for p in store.list_published_pipelines()] == ["p1", "p2"]
    store.set_published_pipeline_status("p1", "Disabled")
    assert [p.id for p in store.list_published_pipelines()] == ["p2"]
    assert [p.id for p in store.list_published_pipelines(active_only=False)] == ["p1", "p2"]
    assert store.get_published_pipeline("p1").status == "Disabled"
    with pytest.raises(NotFoundError, match=r"'nope'.*PublishedPipeline.list"):
        store.get_published_pipeline("nope")
    with pytest.raises(NotFoundError, match="nope"):
        store.set_published_pipeline_status("nope", "Active")
    with pytest.raises(InvalidArgumentError, match="Paused"):
        store.set_published_pipeline_status("p1", "Paused")


def test_tokens_are_found_by_hash_and_revoked_per_target(store: SqlMetadataStore) -> None:
    store.add_pipeline_token("h1", "pipeline", "p1", 1.0)
    store.add_pipeline_token("h2", "pipeline", "p1", 2.0)
    store.add_pipeline_token("h3", "endpoint", "e1", 2.0)
    assert store.find_pipeline_token("h1") == ("pipeline", "p1")
    assert store.find_pipeline_token("h3") == ("endpoint", "e1")
    assert store.find_pipeline_token("unknown") is None
    assert store.revoke_pipeline_tokens("pipeline", "p1") == 2
    assert store.find_pipeline_token("h1") is None and store.find_pipeline_token("h3") is not None


def test_endpoints_number_versions_and_move_the_default(store: SqlMetadataStore) -> None:
    for pid in ("p1", "p2", "p3"):
        store.add_published_pipeline(published(pid))
    record = PipelineEndpointRecord(
        id="e1", name="scoring", description=None, status="Active", default_version="0", created_time=5.0
    )
    made = store.add_pipeline_endpoint(record, "p1")
    assert made.versions == {"0": "p1"} and made.default_version == "0"
    with pytest.raises(AlreadyExistsError, match="scoring"):
        store.add_pipeline_endpoint(replace(record, id="e2"), "p2")
    assert store.add_pipeline_endpoint_version("e1", "p2", make_default=False) == "1"
    assert store.add_pipeline_endpoint_version("e1", "p3", make_default=True) == "2"
    assert store.add_pipeline_endpoint_version("e1", "p2", make_default=False) == "1"  # already there
    got = store.get_pipeline_endpoint(name="scoring")
    assert got.versions == {"0": "p1", "1": "p2", "2": "p3"} and got.default_version == "2"
    assert store.get_pipeline_endpoint(endpoint_id="e1") == got
    store.set_pipeline_endpoint_default("e1", "1")
    assert store.get_pipeline_endpoint(name="scoring").default_version == "1"
    with pytest.raises(NotFoundError, match=r"no version '7'.*'0', '1', '2'"):
        store.set_pipeline_endpoint_default("e1", "7")
    with pytest.raises(NotFoundError, match=r"'other'.*'scoring'"):
        store.get_pipeline_endpoint(name="other")
    with pytest.raises(NotFoundError, match="publish it first"):
        store.add_pipeline_endpoint_version("e1", "unpublished", make_default=False)
    store.set_pipeline_endpoint_status("e1", "Disabled")
    assert store.list_pipeline_endpoints() == []
    assert [e.name for e in store.list_pipeline_endpoints(active_only=False)] == ["scoring"]


def test_schedules_round_trip_filter_and_update(store: SqlMetadataStore) -> None:
    store.add_published_pipeline(published("p1"))
    store.add_published_pipeline(published("p2"))
    store.add_schedule(schedule("s1"))
    store.add_schedule(
        schedule(
            "s2",
            "p2",
            created_time=11.0,
            recurrence=None,
            datastore_name="ds",
            path_on_datastore="raw/",
            polling_interval=5,
        )
    )
    assert store.get_schedule("s1") == schedule("s1")
    assert store.get_schedule("s2").recurrence is None and store.get_schedule("s2").polling_interval == 5
    assert [s.id for s in store.list_schedules(pipeline_id="p2")] == ["s2"]
    changed = store.update_schedule(
        "s1", {"status": "Disabled", "parameters": {"lr": 0.5}, "continue_on_step_failure": False}
    )
    assert (
        changed.status == "Disabled" and changed.parameters == {"lr": 0.5} and changed.continue_on_step_failure is False
    )
    assert [s.id for s in store.list_schedules()] == ["s2"]
    assert [s.id for s in store.list_schedules(active_only=False)] == ["s1", "s2"]
    with pytest.raises(InvalidArgumentError, match="last_fire_time"):
        store.update_schedule("s1", {"last_fire_time": 5})
    with pytest.raises(NotFoundError, match=r"Schedule\.list"):
        store.update_schedule("nope", {"name": "x"})


def test_a_fire_is_claimed_once_and_last_fire_time_never_goes_back(store: SqlMetadataStore) -> None:
    store.add_published_pipeline(published("p1"))
    store.add_schedule(schedule("s1"))
    fire = ScheduleFireRecord("s1", 70, claimed_time=71.0, claimed_by="host:1")
    assert store.claim_schedule_fire(fire) is True
    assert store.claim_schedule_fire(replace(fire, claimed_by="host:2")) is False
    assert store.get_schedule("s1").last_fire_time == 70
    assert store.claim_schedule_fire(replace(fire, fire_time=10)) is True  # an older one (catch-up "all")
    assert store.get_schedule("s1").last_fire_time == 70
    store.skip_schedule_fires("s1", 130)
    store.skip_schedule_fires("s1", 100)
    assert store.get_schedule("s1").last_fire_time == 130
    store.set_schedule_fire_result("s1", 70, "run-1")
    store.set_schedule_fire_result("s1", 10, None, error="boom")
    fires = store.list_schedule_fires("s1")
    assert [(f.fire_time, f.run_id, f.error, f.claimed_by) for f in fires] == [
        (70, "run-1", None, "host:1"),
        (10, None, "boom", "host:1"),
    ]
    with pytest.raises(NotFoundError):
        store.set_schedule_fire_result("s1", 999, "r")


def test_concurrent_claims_of_one_fire_have_exactly_one_winner(metadata_url: str) -> None:
    # Separate stores (connection pools), as separate processes would have.
    stores = [SqlMetadataStore(metadata_url) for _ in range(4)]
    try:
        stores[0].add_published_pipeline(published("p1"))
        stores[0].add_schedule(schedule("s1"))
        wins: list[bool] = []
        barrier = threading.Barrier(len(stores))

        def claim(s: SqlMetadataStore, i: int) -> None:
            barrier.wait()
            wins.append(s.claim_schedule_fire(ScheduleFireRecord("s1", 60, 60.0, f"t{i}")))

        threads = [threading.Thread(target=claim, args=(s, i)) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(wins) == [False, False, False, True]
    finally:
        for s in stores:
            s.close()


def test_data_change_polls_and_fingerprints_are_compare_and_set(store: SqlMetadataStore) -> None:
    store.add_published_pipeline(published("p1"))
    store.add_schedule(schedule("s1", recurrence=None, datastore_name="ds", path_on_datastore="raw", fingerprint="f0"))
    assert store.claim_schedule_poll("s1", now=100.0, next_poll_time=400.0) is True
    assert store.claim_schedule_poll("s1", now=100.0, next_poll_time=400.0) is False  # not due again yet
    assert store.claim_schedule_poll("s1", now=400.0, next_poll_time=700.0) is True
    assert store.swap_schedule_fingerprint("s1", "f0", "f1") is True
    assert store.swap_schedule_fingerprint("s1", "f0", "f1") is False  # someone else saw the change first
    assert store.get_schedule("s1").fingerprint == "f1"
