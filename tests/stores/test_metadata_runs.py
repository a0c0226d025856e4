"""The run concern of the metadata store contract (``RunStore``): experiments, run numbers, status
compare-and-set, children and search.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import math

import pytest

from jupyter_mlws.core.entities import PENDING_VERSION, FileRecord, MetricPoint, ModelVersionRecord
from jupyter_mlws.core.interfaces.runs import HeldEnd
from jupyter_mlws.core.search import parse_filter, parse_order_by
from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.errors import AlreadyExistsError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore

from .metadata_helpers import DIGEST, add_run, points


def test_experiments_are_created_once(store: SqlMetadataStore) -> None:
    a = store.get_or_create_experiment("a")
    assert store.get_or_create_experiment("a") == a
    store.get_or_create_experiment("b")
    assert [e.name for e in store.list_experiments()] == ["a", "b"]
    with pytest.raises(NotFoundError, match="'zzz'"):
        store.get_experiment("zzz")


def test_run_numbers_count_per_experiment(store: SqlMetadataStore) -> None:
    add_run(store, "a1", "a")
    add_run(store, "a2", "a")
    add_run(store, "b1", "b")
    assert [store.get_run(r).number for r in ("a1", "a2", "b1")] == [1, 2, 1]


def test_create_run_keeps_everything(store: SqlMetadataStore) -> None:
    add_run(store, "p")
    add_run(
        store,
        "c",
        display_name="child",
        parent_run_id="p",
        tags={"t": "1"},
        properties={"p": "2"},
        start_time=5.0,
    )
    rec = store.get_run("c")
    assert (rec.parent_run_id, rec.display_name, rec.start_time) == ("p", "child", 5.0)
    assert store.get_tags("c") == {"t": "1"}
    assert store.get_properties("c") == {"p": "2"}


def test_duplicate_run_id_and_unknown_parent(store: SqlMetadataStore) -> None:
    add_run(store, "r")
    with pytest.raises(AlreadyExistsError):
        add_run(store, "r")
    with pytest.raises(NotFoundError):
        add_run(store, "x", parent_run_id="missing")


def test_create_runs_in_one_transaction(store: SqlMetadataStore) -> None:
    """Several runs at once (a ParallelRunStep's mini-batches, issue 19): numbered in order, each
    kept whole; one that cannot be made (an id taken) makes none of them."""
    add_run(store, "step")
    exp = store.get_experiment("exp")

    def child(run_id: str, index: int) -> dict[str, object]:
        return {
            "run_id": run_id,
            "experiment_id": exp.id,
            "status": RunStatus.NOT_STARTED,
            "run_type": "mlws.parallel.MiniBatch",
            "created_time": 1.0,
            "parent_run_id": "step",
            "display_name": f"store={index}",
            "tags": {"store": str(index)},
            "properties": {"mlws.parallel.index": str(index)},
        }

    made = store.create_runs([child(f"mb{i}", i) for i in range(3)])
    assert [(r.run_id, r.number, r.parent_run_id) for r in made] == [
        ("mb0", 2, "step"),
        ("mb1", 3, "step"),
        ("mb2", 4, "step"),
    ]
    assert [r.run_id for r in store.get_child_runs("step")] == ["mb0", "mb1", "mb2"]
    assert store.get_tags("mb1") == {"store": "1"} and store.get_properties("mb1") == {"mlws.parallel.index": "1"}
    assert store.get_run("mb2").display_name == "store=2"
    with pytest.raises(AlreadyExistsError):
        store.create_runs([child("mb3", 3), child("mb0", 0)])
    with pytest.raises(NotFoundError):
        store.get_run("mb3")
    assert store.create_runs([]) == []


def test_missing_run_is_not_found(store: SqlMetadataStore) -> None:
    with pytest.raises(NotFoundError, match="'nope'"):
        store.get_run("nope")
    with pytest.raises(NotFoundError):
        store.log_batch("nope", points(1.0))


def test_transition_is_compare_and_set(store: SqlMetadataStore) -> None:
    add_run(store)
    assert store.transition_run("r1", RunStatus.RUNNING, RunStatus.COMPLETED, end_time=9.0, error={"message": "x"})
    assert not store.transition_run("r1", RunStatus.RUNNING, RunStatus.FAILED)
    rec = store.get_run("r1")
    assert (rec.status, rec.end_time, rec.error) == (RunStatus.COMPLETED, 9.0, {"message": "x"})


def test_display_name(store: SqlMetadataStore) -> None:
    add_run(store)
    store.set_display_name("r1", "nice")
    assert store.get_run("r1").display_name == "nice"
    with pytest.raises(NotFoundError):
        store.set_display_name("nope", "x")


def test_children_direct_and_recursive(store: SqlMetadataStore) -> None:
    add_run(store, "root")
    add_run(store, "c1", parent_run_id="root")
    add_run(store, "c2", parent_run_id="root")
    add_run(store, "g1", parent_run_id="c1")
    assert [r.run_id for r in store.get_child_runs("root")] == ["c1", "c2"]
    assert sorted(r.run_id for r in store.get_child_runs("root", recursive=True)) == ["c1", "c2", "g1"]
    # Only the children in the statuses asked for (a sweep's controller reads its active trials).
    assert store.transition_run("c2", RunStatus.RUNNING, RunStatus.COMPLETED, end_time=9.0)
    assert [r.run_id for r in store.get_child_runs("root", statuses=[RunStatus.RUNNING])] == ["c1"]
    assert [r.run_id for r in store.get_child_runs("root", statuses=[RunStatus.COMPLETED])] == ["c2"]
    assert store.get_child_runs("root", statuses=[]) == []
    running = store.get_child_runs("root", recursive=True, statuses=[RunStatus.RUNNING])
    assert sorted(r.run_id for r in running) == ["c1", "g1"]


# -- search ---------------------------------------------------------------------------------------------
@pytest.fixture
def seeded(store: SqlMetadataStore) -> SqlMetadataStore:
    rows = [
        ("r1", 0.9, "0.01", "yes", RunStatus.COMPLETED, "alpha"),
        ("r2", 0.4, "0.01", "no", RunStatus.FAILED, "beta"),
        ("r3", 0.7, "0.1", "no", RunStatus.COMPLETED, "Alphabet"),
        ("r4", math.nan, "0.1", "yes", RunStatus.RUNNING, None),
    ]
    for i, (rid, acc, lr, best, status, name) in enumerate(rows):
        add_run(store, rid, created_time=100.0 + i, display_name=name, status=status, start_time=100.0 + i)
        store.log_batch(rid, [MetricPoint("acc", acc, None, 1.0)], params={"lr": lr}, tags={"best": best})
    add_run(store, "child", parent_run_id="r1", created_time=200.0)
    store.log_batch("child", [MetricPoint("acc", 0.99, None, 1.0)])
    add_run(store, "other", experiment="other", created_time=300.0)
    return store


def _ids(store: SqlMetadataStore, text: str | None, order: list[str] | None = None, **kw: object) -> list[str]:
    exp = store.get_experiment("exp").id
    result = store.search_runs(
        experiment_ids=kw.pop("experiment_ids", [exp]),  # type: ignore[arg-type]
        filter=parse_filter(text),
        order_by=parse_order_by(order),
        max_results=kw.pop("max_results", 100),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return [r.run_id for r in result.runs]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ["r4", "r3", "r2", "r1"]),
        ("metrics.acc > 0.5", ["r3", "r1"]),
        ("metrics.acc >= 0.7", ["r3", "r1"]),
        ("metrics.acc < 0.5", ["r2"]),
        ("metrics.acc <= 0.4", ["r2"]),
        ("metrics.acc = 0.9", ["r1"]),
        ("metrics.acc != 0.9", ["r3", "r2"]),
        ("metrics.acc IN (0.9, 0.4)", ["r2", "r1"]),
        ("params.lr = '0.01'", ["r2", "r1"]),
        ("params.lr != '0.01'", ["r4", "r3"]),
        ("params.lr LIKE '0.0%'", ["r2", "r1"]),
        ("tags.best = 'yes'", ["r4", "r1"]),
        ("metrics.acc > 0.5 and params.lr = '0.01' or tags.best = 'yes'", ["r4", "r1"]),
        ("metrics.acc > 0.5 and (params.lr = '0.01' or tags.best = 'no')", ["r3", "r1"]),
        ("attributes.status = 'Completed'", ["r3", "r1"]),
        ("attributes.status = 'completed'", ["r3", "r1"]),
        ("status IN ('Failed', 'Running')", ["r4", "r2"]),
        ("attributes.display_name LIKE 'Alpha%'", ["r3"]),
        ("attributes.display_name ILIKE 'alpha%'", ["r3", "r1"]),
        ("attributes.run_number > 2", ["r4", "r3"]),
        ("attributes.start_time >= 102000", ["r4", "r3"]),
        ("attributes.run_id = 'r2'", ["r2"]),
        ("metrics.missing > 0", []),
    ],
)
def test_search_filters(seeded: SqlMetadataStore, text: str | None, expected: list[str]) -> None:
    assert _ids(seeded, text) == expected


def test_search_order_children_experiments_and_paging(seeded: SqlMetadataStore) -> None:
    assert _ids(seeded, None, ["metrics.acc DESC"]) == ["r1", "r3", "r2", "r4"]  # NaN/missing last
    assert _ids(seeded, None, ["metrics.acc"]) == ["r2", "r3", "r1", "r4"]
    assert _ids(seeded, None, ["params.lr", "attributes.run_number DESC"]) == ["r2", "r1", "r4", "r3"]
    assert _ids(seeded, "metrics.acc > 0.95", include_children=True) == ["child"]
    assert _ids(seeded, None, parent_run_id="r1") == ["child"]
    assert _ids(seeded, None, experiment_ids=None)[0] == "other"
    first = seeded.search_runs(experiment_ids=None, filter=None, order_by=[], max_results=2)
    assert first.next_offset == 2
    second = seeded.search_runs(experiment_ids=None, filter=None, order_by=[], max_results=2, offset=2)
    third = seeded.search_runs(experiment_ids=None, filter=None, order_by=[], max_results=2, offset=4)
    ids = [r.run_id for page in (first, second, third) for r in page.runs]
    assert ids == ["other", "r4", "r3", "r2", "r1"] and third.next_offset is None


def test_write_held_is_one_group_commit(store: SqlMetadataStore) -> None:
    """A ParallelRunStep worker's group commit (issue 19): files, model versions numbered earlier and
    ends, in one transaction; an end whose run moved meanwhile does not apply and says so."""
    add_run(store, "a")
    add_run(store, "b")
    add_run(store, "c", status=RunStatus.CANCELED)
    version = store.reserve_model_version("m")
    assert store.reserve_model_version("m") == version + 1  # a number taken is never handed out again
    model = ModelVersionRecord(name="m", version=version, created_time=5.0, run_id="a", tags={"store": "1"})
    # Registrations whose numbers the commit takes: in registration order, a name's counter shared.
    later = ModelVersionRecord(name="m", version=PENDING_VERSION, created_time=6.0, run_id="b")
    other = ModelVersionRecord(name="a-model", version=PENDING_VERSION, created_time=6.5, run_id="b")
    last = ModelVersionRecord(name="m", version=PENDING_VERSION, created_time=7.0, run_id="b")
    ends = [
        HeldEnd("a", RunStatus.RUNNING, RunStatus.COMPLETED, {"end_time": 7.0}),
        HeldEnd("b", RunStatus.RUNNING, RunStatus.FAILED, {"end_time": 8.0, "error": {"message": "boom"}}),
        HeldEnd("c", RunStatus.RUNNING, RunStatus.COMPLETED, {"end_time": 9.0}),
    ]
    applied = store.write_held(
        {"a": [FileRecord("outputs/model.txt", DIGEST, 3)], "b": [FileRecord("log.txt", DIGEST, 3)]},
        [(model, [FileRecord("model.txt", DIGEST, 3)]), (later, []), (other, []), (last, [])],
        ends,
    )
    assert applied == [True, True, False]
    assert [(v.version, v.run_id) for v in store.list_model_versions(name="a-model")] == [(1, "b")]
    assert [(v.version, v.run_id, v.created_time) for v in store.list_model_versions(name="m")][:2] == [
        (version + 3, "b", 7.0),
        (version + 2, "b", 6.0),
    ]
    assert [(r.status, r.end_time) for r in map(store.get_run, "abc")] == [
        (RunStatus.COMPLETED, 7.0),
        (RunStatus.FAILED, 8.0),
        (RunStatus.CANCELED, None),
    ]
    assert store.get_run("b").error == {"message": "boom"}
    assert [f.path for f in store.list_run_files("a")] == ["outputs/model.txt"]
    found = store.get_model_version("m", version)
    assert (found.run_id, found.tags, found.created_time) == ("a", {"store": "1"}, 5.0)
    assert [f.path for f in store.list_model_files("m", version)] == ["model.txt"]
    assert store.register_model_version(name="m", files=[], created_time=1.0).version == version + 4
    # All or nothing: a file name the run already has fails the whole commit.
    with pytest.raises(AlreadyExistsError, match="a group commit names a file a run already has"):
        store.write_held(
            {"a": [FileRecord("outputs/model.txt", DIGEST, 3)]},
            [],
            [HeldEnd("b", RunStatus.FAILED, RunStatus.COMPLETED, {})],
        )
    assert store.get_run("b").status == RunStatus.FAILED
