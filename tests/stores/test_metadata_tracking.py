"""The tracking concern of the metadata store contract (``TrackingStore``): metrics, params, tags,
properties and table/image records.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import math

import pytest

from jupyter_mlws.core.entities import MetricPoint, MetricRecordEntry
from jupyter_mlws.errors import InvalidArgumentError, InvalidStateError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore

from .metadata_helpers import add_run, points


def test_metrics_round_trip_in_order_with_nan_and_inf(store: SqlMetadataStore) -> None:
    add_run(store)
    values = [1.5, math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324]
    store.log_batch("r1", points(*values[:3]))
    store.log_batch("r1", points(*values[3:]))
    got = store.get_metric_values("r1", "m")
    assert len(got) == len(values)
    for a, b in zip(got, values, strict=True):
        assert (math.isnan(a) and math.isnan(b)) or a == b
    history = store.get_metric_history("r1", "m")
    assert [p.step for p in history] == [0, 1, 2, 0, 1, 2, 3]
    assert history[0] == MetricPoint("m", 1.5, 0, 1000.0)


def test_series_summary_tracks_latest_and_count(store: SqlMetadataStore) -> None:
    add_run(store)
    store.log_batch("r1", [*points(1.0, 2.0, name="a"), *points(7.0, name="b"), MetricPoint("a", 3.0, None, 5.0)])
    series = {s.name: s for s in store.list_metric_series("r1")}
    assert (series["a"].count, series["a"].last_value, series["a"].last_step) == (3, 3.0, None)
    assert (series["b"].count, series["b"].kind) == (1, "scalar")
    store.log_batch("r1", [MetricPoint("a", math.nan, 9, 6.0)])
    assert math.isnan({s.name: s for s in store.list_metric_series("r1")}["a"].last_value)  # NaN, not missing


def test_unknown_series_reads_empty(store: SqlMetadataStore) -> None:
    add_run(store)
    assert store.get_metric_values("r1", "none") == []
    assert store.get_metric_history("r1", "none") == []
    assert store.get_metric_records("r1", "none") == []


def test_params_are_immutable_and_batch_is_atomic(store: SqlMetadataStore) -> None:
    add_run(store)
    store.log_batch("r1", params={"lr": "0.1"})
    store.log_batch("r1", params={"lr": "0.1"})  # the same value again is fine
    with pytest.raises(InvalidStateError, match="'lr'"):
        store.log_batch("r1", points(1.0), params={"lr": "0.2", "new": "x"}, tags={"t": "v"})
    assert store.get_params("r1") == {"lr": "0.1"}
    assert store.get_metric_values("r1", "m") == []  # nothing of the failed batch was written
    assert store.get_tags("r1") == {}


def test_tags_are_mutable_and_deletable(store: SqlMetadataStore) -> None:
    add_run(store)
    store.log_batch("r1", tags={"a": "1", "b": "2"})
    store.log_batch("r1", tags={"a": "3"})
    store.delete_tags("r1", ["b"])
    assert store.get_tags("r1") == {"a": "3"}


def test_properties_are_immutable(store: SqlMetadataStore) -> None:
    add_run(store)
    store.add_properties("r1", {"k": "v"})
    store.add_properties("r1", {"k": "v", "k2": "w"})
    with pytest.raises(InvalidStateError, match="immutable"):
        store.add_properties("r1", {"k": "other"})
    assert store.get_properties("r1") == {"k": "v", "k2": "w"}


def test_records_and_kind_conflicts(store: SqlMetadataStore) -> None:
    add_run(store)
    store.log_records("r1", "table", "table", [MetricRecordEntry({"x": 1}, 1.0), MetricRecordEntry({"x": 2}, 2.0)])
    assert [e.payload for e in store.get_metric_records("r1", "table")] == [{"x": 1}, {"x": 2}]
    with pytest.raises(InvalidArgumentError, match="another name"):
        store.log_batch("r1", points(1.0, name="table"))
    store.log_batch("r1", points(1.0, name="num"))
    with pytest.raises(InvalidArgumentError):
        store.log_records("r1", "num", "image", [MetricRecordEntry({"file": "f"}, 1.0)])
    with pytest.raises(InvalidArgumentError):
        store.get_metric_values("r1", "table")


def test_concurrent_style_sequences_interleave_in_order(store: SqlMetadataStore) -> None:
    """Two batches that interleave two series keep per-series order."""
    add_run(store)
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


def test_log_points_writes_several_runs_in_one_transaction_all_or_nothing(store: SqlMetadataStore) -> None:
    add_run(store, "r1")
    add_run(store, "r2")
    store.log_points({"r2": points(1.0, 2.0), "r1": [*points(5.0, name="b"), *points(3.0, name="a")]})
    assert store.get_metric_values("r1", "a") == [3.0] and store.get_metric_values("r1", "b") == [5.0]
    assert store.get_metric_values("r2", "m") == [1.0, 2.0]
    store.log_records("r1", "t", "table", [MetricRecordEntry({"x": 1}, 1.0)])
    with pytest.raises(InvalidArgumentError, match="holds rows"):  # r1's "t" is a table: the batch is refused
        store.log_points({"r2": points(3.0), "r1": points(1.0, name="t")})
    assert store.get_metric_values("r2", "m") == [1.0, 2.0]  # nothing of the batch was written
    with pytest.raises(NotFoundError):
        store.log_points({"r2": points(3.0), "gone": points(1.0)})
    assert store.get_metric_values("r2", "m") == [1.0, 2.0]
