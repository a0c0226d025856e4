"""The metadata store contract: the same tests on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from jupyter_mlws.core.entities import ActivityRecord, FileRecord, MetricPoint, MetricRecordEntry
from jupyter_mlws.core.search import parse_filter, parse_order_by
from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, InvalidStateError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore
from jupyter_mlws.stores.metadata.sql.migrate import MIGRATIONS_DIR, SCHEMA_REVISION
from jupyter_mlws.stores.metadata.sql.schema import metadata as schema_metadata

DIGEST = "ab" * 32


@pytest.fixture
def store(metadata_url: str) -> Iterator[SqlMetadataStore]:
    s = SqlMetadataStore(metadata_url)
    yield s
    s.close()


def _run(store: SqlMetadataStore, run_id: str = "r1", experiment: str = "exp", **kw: object) -> str:
    exp = store.get_or_create_experiment(experiment)
    store.create_run(
        run_id=run_id,
        experiment_id=exp.id,
        status=kw.pop("status", RunStatus.RUNNING),  # type: ignore[arg-type]
        run_type="interactive",
        created_time=kw.pop("created_time", time.time()),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return run_id


def _points(*values: float, name: str = "m") -> list[MetricPoint]:
    return [MetricPoint(name, v, i, 1000.0 + i) for i, v in enumerate(values)]


# -- schema ---------------------------------------------------------------------------------------------
def test_schema_matches_models_no_drift(store: SqlMetadataStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.sql.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema_metadata)
    assert diff == []


def test_schema_revision_constant_is_alembic_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION


def test_reopening_is_idempotent_and_keeps_data(metadata_url: str) -> None:
    first = SqlMetadataStore(metadata_url)
    _run(first)
    first.close()
    second = SqlMetadataStore(metadata_url)
    assert second.get_run("r1").status == RunStatus.RUNNING
    second.close()


def test_newer_schema_is_refused(metadata_url: str) -> None:
    s = SqlMetadataStore(metadata_url)
    with s.sql.write() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    s.close()
    with pytest.raises(InvalidStateError, match="newer"):
        SqlMetadataStore(metadata_url)


# -- experiments and runs -------------------------------------------------------------------------------
def test_experiments_are_created_once(store: SqlMetadataStore) -> None:
    a = store.get_or_create_experiment("a")
    assert store.get_or_create_experiment("a") == a
    store.get_or_create_experiment("b")
    assert [e.name for e in store.list_experiments()] == ["a", "b"]
    with pytest.raises(NotFoundError, match="'zzz'"):
        store.get_experiment("zzz")


def test_run_numbers_count_per_experiment(store: SqlMetadataStore) -> None:
    _run(store, "a1", "a")
    _run(store, "a2", "a")
    _run(store, "b1", "b")
    assert [store.get_run(r).number for r in ("a1", "a2", "b1")] == [1, 2, 1]


def test_create_run_keeps_everything(store: SqlMetadataStore) -> None:
    _run(store, "p")
    _run(
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
    _run(store, "r")
    with pytest.raises(AlreadyExistsError):
        _run(store, "r")
    with pytest.raises(NotFoundError):
        _run(store, "x", parent_run_id="missing")


def test_missing_run_is_not_found(store: SqlMetadataStore) -> None:
    with pytest.raises(NotFoundError, match="'nope'"):
        store.get_run("nope")
    with pytest.raises(NotFoundError):
        store.log_batch("nope", _points(1.0))


def test_transition_is_compare_and_set(store: SqlMetadataStore) -> None:
    _run(store)
    assert store.transition_run("r1", RunStatus.RUNNING, RunStatus.COMPLETED, end_time=9.0, error={"message": "x"})
    assert not store.transition_run("r1", RunStatus.RUNNING, RunStatus.FAILED)
    rec = store.get_run("r1")
    assert (rec.status, rec.end_time, rec.error) == (RunStatus.COMPLETED, 9.0, {"message": "x"})


def test_display_name(store: SqlMetadataStore) -> None:
    _run(store)
    store.set_display_name("r1", "nice")
    assert store.get_run("r1").display_name == "nice"
    with pytest.raises(NotFoundError):
        store.set_display_name("nope", "x")


def test_children_direct_and_recursive(store: SqlMetadataStore) -> None:
    _run(store, "root")
    _run(store, "c1", parent_run_id="root")
    _run(store, "c2", parent_run_id="root")
    _run(store, "g1", parent_run_id="c1")
    assert [r.run_id for r in store.get_child_runs("root")] == ["c1", "c2"]
    assert sorted(r.run_id for r in store.get_child_runs("root", recursive=True)) == ["c1", "c2", "g1"]


# -- tracking -------------------------------------------------------------------------------------------
def test_metrics_round_trip_in_order_with_nan_and_inf(store: SqlMetadataStore) -> None:
    _run(store)
    values = [1.5, math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324]
    store.log_batch("r1", _points(*values[:3]))
    store.log_batch("r1", _points(*values[3:]))
    got = store.get_metric_values("r1", "m")
    assert len(got) == len(values)
    for a, b in zip(got, values, strict=True):
        assert (math.isnan(a) and math.isnan(b)) or a == b
    history = store.get_metric_history("r1", "m")
    assert [p.step for p in history] == [0, 1, 2, 0, 1, 2, 3]
    assert history[0] == MetricPoint("m", 1.5, 0, 1000.0)


def test_series_summary_tracks_latest_and_count(store: SqlMetadataStore) -> None:
    _run(store)
    store.log_batch("r1", [*_points(1.0, 2.0, name="a"), *_points(7.0, name="b"), MetricPoint("a", 3.0, None, 5.0)])
    series = {s.name: s for s in store.list_metric_series("r1")}
    assert (series["a"].count, series["a"].last_value, series["a"].last_step) == (3, 3.0, None)
    assert (series["b"].count, series["b"].kind) == (1, "scalar")
    store.log_batch("r1", [MetricPoint("a", math.nan, 9, 6.0)])
    assert math.isnan({s.name: s for s in store.list_metric_series("r1")}["a"].last_value)  # NaN, not missing


def test_unknown_series_reads_empty(store: SqlMetadataStore) -> None:
    _run(store)
    assert store.get_metric_values("r1", "none") == []
    assert store.get_metric_history("r1", "none") == []
    assert store.get_metric_records("r1", "none") == []


def test_params_are_immutable_and_batch_is_atomic(store: SqlMetadataStore) -> None:
    _run(store)
    store.log_batch("r1", params={"lr": "0.1"})
    store.log_batch("r1", params={"lr": "0.1"})  # the same value again is fine
    with pytest.raises(InvalidStateError, match="'lr'"):
        store.log_batch("r1", _points(1.0), params={"lr": "0.2", "new": "x"}, tags={"t": "v"})
    assert store.get_params("r1") == {"lr": "0.1"}
    assert store.get_metric_values("r1", "m") == []  # nothing of the failed batch was written
    assert store.get_tags("r1") == {}


def test_tags_are_mutable_and_deletable(store: SqlMetadataStore) -> None:
    _run(store)
    store.log_batch("r1", tags={"a": "1", "b": "2"})
    store.log_batch("r1", tags={"a": "3"})
    store.delete_tags("r1", ["b"])
    assert store.get_tags("r1") == {"a": "3"}


def test_properties_are_immutable(store: SqlMetadataStore) -> None:
    _run(store)
    store.add_properties("r1", {"k": "v"})
    store.add_properties("r1", {"k": "v", "k2": "w"})
    with pytest.raises(InvalidStateError, match="immutable"):
        store.add_properties("r1", {"k": "other"})
    assert store.get_properties("r1") == {"k": "v", "k2": "w"}


def test_records_and_kind_conflicts(store: SqlMetadataStore) -> None:
    _run(store)
    store.log_records("r1", "table", "table", [MetricRecordEntry({"x": 1}, 1.0), MetricRecordEntry({"x": 2}, 2.0)])
    assert [e.payload for e in store.get_metric_records("r1", "table")] == [{"x": 1}, {"x": 2}]
    with pytest.raises(InvalidArgumentError, match="another name"):
        store.log_batch("r1", _points(1.0, name="table"))
    store.log_batch("r1", _points(1.0, name="num"))
    with pytest.raises(InvalidArgumentError):
        store.log_records("r1", "num", "image", [MetricRecordEntry({"file": "f"}, 1.0)])
    with pytest.raises(InvalidArgumentError):
        store.get_metric_values("r1", "table")


def test_concurrent_style_sequences_interleave_in_order(store: SqlMetadataStore) -> None:
    """Two batches that interleave two series keep per-series order."""
    _run(store)
    store.log_batch(
        "r1",
        [
            MetricPoint("a", 1.0, None, 1.0),
            MetricPoint("b", 10.0, None, 1.0),
            MetricPoint("a", 2.0, None, 1.0),
        ],
    )
    store.log_batch("r1", [MetricPoint("b", 20.0, None, 1.0), MetricPoint("a", 3.0, None, 1.0)])
    assert store.get_metric_values("r1", "a") == [1.0, 2.0, 3.0]
    assert store.get_metric_values("r1", "b") == [10.0, 20.0]


# -- files ----------------------------------------------------------------------------------------------
def test_run_files_index(store: SqlMetadataStore) -> None:
    _run(store)
    store.add_run_files("r1", [FileRecord("outputs/a.txt", DIGEST, 3), FileRecord("outputs_x/b.txt", DIGEST, 3)])
    assert [f.path for f in store.list_run_files("r1", "outputs/")] == ["outputs/a.txt"]
    assert store.get_run_file("r1", "outputs/a.txt") == FileRecord("outputs/a.txt", DIGEST, 3)
    with pytest.raises(AlreadyExistsError, match=r"outputs/a\.txt"):
        store.add_run_files("r1", [FileRecord("new.txt", DIGEST, 1), FileRecord("outputs/a.txt", DIGEST, 1)])
    assert [f.path for f in store.list_run_files("r1")] == [
        "outputs/a.txt",
        "outputs_x/b.txt",
    ]  # nothing half-added
    store.add_run_files("r1", [FileRecord("outputs/a.txt", "cd" * 32, 9)], overwrite=True)
    assert store.get_run_file("r1", "outputs/a.txt").size == 9
    with pytest.raises(NotFoundError, match="get_file_names"):
        store.get_run_file("r1", "missing")


def test_prefix_with_like_wildcards_is_literal(store: SqlMetadataStore) -> None:
    _run(store)
    store.add_run_files("r1", [FileRecord("a_b/x", DIGEST, 1), FileRecord("axb/y", DIGEST, 1)])
    assert [f.path for f in store.list_run_files("r1", "a_b/")] == ["a_b/x"]


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
        _run(store, rid, created_time=100.0 + i, display_name=name, status=status, start_time=100.0 + i)
        store.log_batch(rid, [MetricPoint("acc", acc, None, 1.0)], params={"lr": lr}, tags={"best": best})
    _run(store, "child", parent_run_id="r1", created_time=200.0)
    store.log_batch("child", [MetricPoint("acc", 0.99, None, 1.0)])
    _run(store, "other", experiment="other", created_time=300.0)
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


# -- model registry -------------------------------------------------------------------------------------
def _register(store: SqlMetadataStore, name: str = "m", **kw: object) -> int:
    record = store.register_model_version(
        name=name,
        files=[FileRecord("model.pkl", DIGEST, 3)],
        created_time=time.time(),
        **kw,  # type: ignore[arg-type]
    )
    return record.version


def test_versions_count_up_and_are_never_reused(store: SqlMetadataStore) -> None:
    assert [_register(store) for _ in range(3)] == [1, 2, 3]
    store.delete_model_version("m", 3)
    assert _register(store) == 4
    store.delete_model_version("m", 4)
    store.delete_model_version("m", 2)
    store.delete_model_version("m", 1)
    assert _register(store) == 5
    assert _register(store, "other") == 1


def test_model_version_lookup_and_errors(store: SqlMetadataStore) -> None:
    _register(store, description="first", run_id="r9", datasets=[("training", "ds:1")])
    _register(store, tags={"stage": "dev"}, properties={"acc": "0.9"})
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
    _register(store)
    _register(store)
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
    _register(store, "a", tags={"team": "x"})
    _register(store, "a", tags={"team": "y"})
    _register(store, "b", tags={"team": "x"}, properties={"fw": "sk"})
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


def test_bad_urls_are_clear_errors(tmp_path: object) -> None:
    with pytest.raises(InvalidArgumentError, match="unsupported database"):
        SqlMetadataStore("mysql://x@localhost/db")
    with pytest.raises(InvalidArgumentError, match="metadata_url"):
        SqlMetadataStore("::::")


def test_unreachable_postgres_is_backend_unavailable() -> None:
    from jupyter_mlws.errors import BackendUnavailableError

    engine = create_engine("sqlite://")  # keeps the import used; the real check is below
    engine.dispose()
    with pytest.raises(BackendUnavailableError, match="unavailable"):
        SqlMetadataStore("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_upgrade_from_the_first_schema_keeps_data(metadata_url: str) -> None:
    from jupyter_mlws.stores.metadata.sql.migrate import upgrade

    old = SqlMetadataStore(metadata_url, migrate=False)
    upgrade(old.sql, "0001")
    with old.sql.write() as conn:
        conn.exec_driver_sql("INSERT INTO experiments (name, created_time, last_run_number) VALUES ('e', 1.0, 1)")
        conn.exec_driver_sql(
            "INSERT INTO runs (run_id, experiment_id, number, status, run_type, created_time) "
            "VALUES ('old', 1, 1, 'Completed', 'interactive', 1.0)"
        )
    old.close()
    new = SqlMetadataStore(metadata_url)
    record = new.get_run("old")
    assert (record.status, record.compute_target, record.snapshot_id) == (RunStatus.COMPLETED, None, None)
    _run(new, "fresh", "e", compute_target="local", snapshot_id="ab" * 32, job_spec={"script": "x.py"})
    assert new.get_run("fresh").number == 2
    assert new.get_job_spec("fresh") == {"script": "x.py"}
    new.close()


def test_jobs_snapshots_and_compute_targets(store: SqlMetadataStore) -> None:
    from jupyter_mlws.core.entities import SnapshotRecord

    _run(store, "job", compute_target="local", job_spec={"a": 1}, status=RunStatus.QUEUED)
    _run(store, "job2", compute_target="docker", status=RunStatus.QUEUED)
    _run(store, "interactive")
    store.update_job("job", heartbeat_time=5.0, supervisor_pid=42, supervisor_host="h")
    rec = store.get_run("job")
    assert (rec.heartbeat_time, rec.supervisor_pid, rec.supervisor_host) == (5.0, 42, "h")
    assert [r.run_id for r in store.list_job_runs("local", [RunStatus.QUEUED])] == ["job"]
    assert [r.run_id for r in store.list_job_runs(None, [RunStatus.QUEUED, RunStatus.RUNNING])] == ["job", "job2"]
    with pytest.raises(NotFoundError, match="not a job"):
        store.get_job_spec("interactive")
    snap = SnapshotRecord("cd" * 32, 1.0, 3, 100, "/src")
    store.add_snapshot(snap)
    store.add_snapshot(snap)
    assert store.get_snapshot("cd" * 32) == snap
    with pytest.raises(NotFoundError):
        store.get_snapshot("ef" * 32)
    store.save_compute_target("gpu", "docker", {"image": "x"}, 1.0)
    store.save_compute_target("gpu", "docker", {"image": "y"}, 2.0)
    assert store.get_compute_target("gpu").config == {"image": "y"}
    assert [t.name for t in store.list_compute_targets()] == ["gpu"]
    store.delete_compute_target("gpu")
    with pytest.raises(NotFoundError, match="not attached"):
        store.get_compute_target("gpu")


def test_change_feed_records_runs_statuses_and_models(store: SqlMetadataStore) -> None:
    start = store.latest_event_id()
    _run(store, "r1")
    assert store.transition_run("r1", RunStatus.RUNNING, RunStatus.COMPLETED)
    assert not store.transition_run("r1", RunStatus.RUNNING, RunStatus.FAILED)  # no change, no event
    _register(store, run_id="r1")
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


def test_environment_versions_follow_content(store: SqlMetadataStore) -> None:
    first = store.register_environment("env", "a" * 64, {"python": {"pip_packages": ["x"]}}, 1.0)
    assert (first.version, first.definition) == (1, {"python": {"pip_packages": ["x"]}})
    assert store.register_environment("env", "a" * 64, {"python": {"pip_packages": ["x"]}}, 2.0).version == 1
    assert store.register_environment("env", "b" * 64, {"python": {}}, 3.0).version == 2
    assert store.register_environment("other", "a" * 64, {}, 4.0).version == 1
    assert store.get_environment("env").version == 2
    assert store.get_environment("env", 1).content_hash == "a" * 64
    assert [(e.name, e.version) for e in store.list_environments()] == [("env", 2), ("env", 1), ("other", 1)]
    with pytest.raises(NotFoundError):
        store.get_environment("env", 3)
