"""Time series on tabular datasets (issue 20, item 1): ``with_timestamp_columns`` / ``timestamp_columns``
and the filters ``time_between``, ``time_after``, ``time_before``, ``time_recent`` with v1's boundaries,
over every timestamp encoding (Arrow timestamps of any unit and zone, ISO 8601 text, epoch seconds as
floats and integers); aware and naive arguments; the timestamp surviving ``register`` / ``get_by_name``
and a job's staged copy; ``**`` globs over nested folders of a local, an in-memory and an S3 datastore;
bad input refused with one clear error before anything is stored."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jupyter_mlws import Dataset, Datastore, TabularDataset, Workspace
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError
from tests.data.conftest import S3Server

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
TIMES = [T0 + dt.timedelta(hours=12 * i) for i in range(6)]  # 2 Nov 00:00, 12:00, 3 Nov 00:00, … 4 Nov 12:00
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


def _table() -> pa.Table:
    """Six rows 12 hours apart, their time spelled every way a timestamp column may hold it."""
    micros = [int(t.timestamp()) * 10**6 for t in TIMES]
    return pa.table(
        {
            "x": pa.array(range(6), pa.int64()),
            "utc_us": pa.array(micros, pa.timestamp("us", "UTC")),
            "naive_s": pa.array([m // 10**6 for m in micros], pa.timestamp("s")),
            "paris_ns": pa.array([m * 1000 for m in micros], pa.timestamp("ns", "Europe/Paris")),
            "naive_ms": pa.array([m // 1000 for m in micros], pa.timestamp("ms")),
            # ISO text with mixed zone offsets (and none, which is UTC): the same instants
            "iso": pa.array(
                [
                    TIMES[0].replace(tzinfo=None).isoformat(),
                    TIMES[1].isoformat(),
                    TIMES[2].astimezone(PLUS_ONE).isoformat(),
                    TIMES[3].isoformat().replace("+00:00", "Z"),
                    TIMES[4].astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat(),
                    TIMES[5].replace(tzinfo=None).isoformat(sep=" "),
                ]
            ),
            "epoch": pa.array([t.timestamp() for t in TIMES], pa.float64()),
            "epoch_int": pa.array([int(t.timestamp()) for t in TIMES], pa.int64()),
            "flag": pa.array([True, False] * 3),
        }
    )


def _put(store: Datastore, rel: str, data: bytes, tmp: Path) -> None:
    local = tmp / "upload" / rel
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(data)
    store.upload_files([str(local)], relative_root=str(tmp / "upload"), target_path="", show_progress=False)


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.fixture
def series(ws: Workspace, tmp_path: Path) -> TabularDataset:
    store = ws.get_default_datastore()
    _put(store, "series/part.parquet", _parquet(_table()), tmp_path)
    return Dataset.Tabular.from_parquet_files(path=(store, "series/part.parquet"))


def _xs(ds: TabularDataset) -> list[int]:
    return [int(v) for v in ds.to_pandas_dataframe()["x"]]


# -- setting the columns ------------------------------------------------------------------------------------
def test_timestamp_columns_are_set_on_a_new_dataset_and_cleared_with_none(series: TabularDataset) -> None:
    assert series.timestamp_columns == (None, None)
    timed = series.with_timestamp_columns(timestamp="utc_us", partition_timestamp="naive_s", validate=True)
    assert timed.timestamp_columns == ("utc_us", "naive_s")
    assert series.timestamp_columns == (None, None)  # the original is unchanged (datasets are immutable)
    assert timed.with_timestamp_columns("epoch").timestamp_columns == ("epoch", None)
    cleared = timed.with_timestamp_columns(None)
    assert cleared.timestamp_columns == (None, None)
    assert cleared.spec == series.spec  # cleared, not set to nulls: the same reading spec as before


@pytest.mark.parametrize("column", ["utc_us", "naive_s", "paris_ns", "naive_ms", "iso", "epoch", "epoch_int"])
def test_each_filter_with_its_boundaries_on_every_encoding(series: TabularDataset, column: str) -> None:
    ds = series.with_timestamp_columns(column, validate=True)
    assert _xs(ds.time_between(TIMES[1], TIMES[3])) == [1, 2, 3]
    assert _xs(ds.time_between(TIMES[1], TIMES[3], include_boundary=False)) == [2]
    assert _xs(ds.time_between(TIMES[1], TIMES[3], include_end=False)) == [1, 2]  # [start, end)
    assert _xs(ds.time_between(TIMES[2], TIMES[2])) == [2]
    assert _xs(ds.time_between(TIMES[2], TIMES[2], include_boundary=False)) == []
    assert _xs(ds.time_after(TIMES[4])) == [4, 5]
    assert _xs(ds.time_after(TIMES[4], include_boundary=False)) == [5]
    assert _xs(ds.time_before(TIMES[1])) == [0, 1]
    assert _xs(ds.time_before(TIMES[1], include_boundary=False)) == [0]
    # Filters compose (each is a step of the spec), and are lazy: nothing is read until asked.
    assert _xs(ds.time_after(TIMES[1]).time_before(TIMES[4], include_boundary=False)) == [1, 2, 3]


def test_naive_arguments_are_utc_and_aware_ones_are_converted(series: TabularDataset) -> None:
    ds = series.with_timestamp_columns("paris_ns")
    noon = dt.datetime(2026, 11, 2, 12)  # naive: UTC
    assert _xs(ds.time_after(noon)) == [1, 2, 3, 4, 5]
    assert _xs(ds.time_after(dt.datetime(2026, 11, 2, 13, tzinfo=PLUS_ONE))) == [1, 2, 3, 4, 5]  # 12:00 UTC
    assert _xs(ds.time_after(dt.datetime(2026, 11, 2, 12, tzinfo=PLUS_ONE))) == [1, 2, 3, 4, 5]  # 11:00 UTC
    assert _xs(ds.time_after(dt.datetime(2026, 11, 2, 14, tzinfo=PLUS_ONE))) == [2, 3, 4, 5]  # 13:00 UTC
    assert _xs(ds.time_before(pd.Timestamp("2026-11-02T07:00:00-05:00"))) == [0, 1]  # 12:00 UTC
    assert _xs(ds.time_between(dt.date(2026, 11, 3), dt.date(2026, 11, 4))) == [2, 3, 4]  # dates: their midnight


def test_a_bound_between_two_ticks_of_the_column_is_exact(ws: Workspace, tmp_path: Path) -> None:
    """A seconds column has no row at 00:00:00.5: '>= 00:00:00.5' keeps 00:00:01, not 00:00:00."""
    seconds = [int(T0.timestamp()) + i for i in range(3)]
    table = pa.table(
        {
            "x": [0, 1, 2],
            "s": pa.array(seconds, pa.timestamp("s")),
            "ns": pa.array([s * 10**9 + 1 for s in seconds], pa.timestamp("ns")),  # 1 ns after each second
        }
    )
    store = ws.get_default_datastore()
    _put(store, "ticks/t.parquet", _parquet(table), tmp_path)
    ds = Dataset.Tabular.from_parquet_files(path=(store, "ticks/t.parquet"))
    half = T0 + dt.timedelta(seconds=0.5)
    by_s = ds.with_timestamp_columns("s")
    assert _xs(by_s.time_after(half)) == [1, 2]
    assert _xs(by_s.time_before(half)) == [0]
    assert _xs(by_s.time_between(half, T0 + dt.timedelta(seconds=1.5))) == [1]
    by_ns = ds.with_timestamp_columns("ns")  # 00:00:01.000000001 is after 00:00:01 (nanoseconds kept)
    assert _xs(by_ns.time_after(T0 + dt.timedelta(seconds=1), include_boundary=False)) == [1, 2]
    assert _xs(by_ns.time_before(T0 + dt.timedelta(seconds=1))) == [0]


def test_time_recent_is_the_rows_since_now_minus_the_delta(ws: Workspace, tmp_path: Path) -> None:
    now = dt.datetime.now(UTC)
    ages = [dt.timedelta(days=10), dt.timedelta(days=3), dt.timedelta(hours=20), dt.timedelta(hours=1)]
    table = pa.table({"x": range(4), "at": pa.array([(now - a).isoformat() for a in ages])})
    store = ws.get_default_datastore()
    _put(store, "recent/r.parquet", _parquet(table), tmp_path)
    ds = Dataset.Tabular.from_parquet_files(path=(store, "recent/r.parquet")).with_timestamp_columns("at")
    assert _xs(ds.time_recent(dt.timedelta(days=1))) == [2, 3]
    assert _xs(ds.time_recent(dt.timedelta(days=7), include_boundary=False)) == [1, 2, 3]
    assert _xs(ds.time_recent(pd.Timedelta(days=30))) == [0, 1, 2, 3]


def test_nulls_and_nan_are_in_no_range(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table(
        {
            "x": [0, 1, 2, 3],
            "epoch": [TIMES[0].timestamp(), None, float("nan"), TIMES[1].timestamp()],
            "iso": [TIMES[0].isoformat(), None, "", TIMES[1].isoformat()],
        }
    )
    store = ws.get_default_datastore()
    _put(store, "nulls/n.parquet", _parquet(table), tmp_path)
    ds = Dataset.Tabular.from_parquet_files(path=(store, "nulls/n.parquet"))
    for column in ("epoch", "iso"):
        assert _xs(ds.with_timestamp_columns(column).time_after(dt.datetime(2000, 1, 1))) == [0, 3]


def test_delimited_and_json_lines_files_and_captured_inputs(ws: Workspace, tmp_path: Path) -> None:
    store = ws.get_default_datastore()
    csv = "x,when\n" + "".join(f"{i},{t.replace(tzinfo=None).isoformat()}\n" for i, t in enumerate(TIMES))
    _put(store, "csv/a.csv", csv.encode(), tmp_path)
    from_csv = Dataset.Tabular.from_delimited_files(path=(store, "csv/a.csv")).with_timestamp_columns("when")
    assert _xs(from_csv.time_between(TIMES[1], TIMES[2])) == [1, 2]
    # A service's captured inputs (data set <service>-inputs): one JSON object per row, "$time" in epoch seconds.
    lines = [
        {"x": i, "prediction": i * 2, "$request_id": f"r{i}", "$time": t.timestamp() + 0.25}
        for i, t in enumerate(TIMES)
    ]
    _put(store, "serving/svc/inputs/part-1.jsonl", "".join(json.dumps(r) + "\n" for r in lines).encode(), tmp_path)
    captured = Dataset.Tabular.from_json_lines_files(path=(store, "serving/svc/inputs/*.jsonl"))
    timed = captured.with_timestamp_columns("$time", validate=True)
    assert _xs(timed.time_between(TIMES[1], TIMES[3])) == [1, 2]  # each row 0.25 s after its tick
    assert _xs(timed.time_after(TIMES[5])) == [5]


def test_a_partition_timestamp_bounds_the_partitions_that_can_hold_rows(ws: Workspace, tmp_path: Path) -> None:
    """The partition timestamp (the day of the rows' folder) is filtered on too: a partition that starts
    after the end is out, one that starts before the start keeps its rows in range, a null one is out."""
    day = dt.timedelta(days=1)
    rows = [  # (x, the row's time, its partition's day)
        (0, T0 + dt.timedelta(hours=3), T0),
        (1, T0 + dt.timedelta(hours=9), T0),  # its partition starts before the start (06:00): kept
        (2, T0 + day + dt.timedelta(hours=2), T0 + day),
        (3, T0 + day + dt.timedelta(hours=2), T0 + 2 * day),  # claims a partition after the end: out
        (4, T0 + day + dt.timedelta(hours=3), None),  # no partition: out
    ]
    table = pa.table(
        {
            "x": [r[0] for r in rows],
            "at": pa.array([r[1] for r in rows], pa.timestamp("us", "UTC")),
            "day": pa.array([r[2].date() if r[2] else None for r in rows], pa.date32()),
        }
    )
    store = ws.get_default_datastore()
    _put(store, "parts/p.parquet", _parquet(table), tmp_path)
    ds = Dataset.Tabular.from_parquet_files(path=(store, "parts/p.parquet"))
    timed = ds.with_timestamp_columns("at", "day", validate=True)
    window = timed.time_between(T0 + dt.timedelta(hours=6), T0 + day + dt.timedelta(hours=6))
    assert _xs(window) == [1, 2]
    assert _xs(ds.with_timestamp_columns("at").time_between(T0 + dt.timedelta(hours=6), T0 + 2 * day)) == [1, 2, 3, 4]


# -- registered versions --------------------------------------------------------------------------------------
def test_the_timestamp_and_the_filters_survive_register_and_get_by_name(ws: Workspace, series: TabularDataset) -> None:
    plain = series.register(ws, "events")
    # Set and cleared: the content of version 1 again, which keeps that version.
    again = series.with_timestamp_columns("iso").with_timestamp_columns(None).register(ws, "events")
    assert again.version == 1
    timed = series.with_timestamp_columns("iso", "naive_s")
    # The timestamp columns are part of what a version reads: other content than version 1 …
    with pytest.raises(AlreadyExistsError, match="create_new_version"):
        timed.register(ws, "events")
    second = timed.register(ws, "events", create_new_version=True)
    assert second.version == 2 and second.digest == plain.digest  # … of the same files
    got = Dataset.get_by_name(ws, "events")
    assert isinstance(got, TabularDataset)
    assert got.timestamp_columns == ("iso", "naive_s")
    assert _xs(got.time_between(TIMES[1], TIMES[3])) == [1, 2, 3]
    first = Dataset.get_by_name(ws, "events", version=1)
    assert isinstance(first, TabularDataset) and first.timestamp_columns == (None, None)
    # A filtered dataset registered keeps its filter (now taken at the call for time_recent, as v1).
    window = got.time_after(TIMES[4], include_boundary=False)
    window.register(ws, "late-events")
    late = Dataset.get_by_name(ws, "late-events")
    assert isinstance(late, TabularDataset)
    assert _xs(late) == [5] and late.rows == 1 and late.timestamp_columns == ("iso", "naive_s")


def test_a_jobs_staged_copy_filters_the_same_rows(series: TabularDataset, tmp_path: Path) -> None:
    window = series.with_timestamp_columns("epoch").time_between(TIMES[2], TIMES[4], include_end=False)
    data = window._stage(tmp_path / "staged")
    staged = Dataset._from_staged(tmp_path / "staged", json.loads(json.dumps(data)))
    assert isinstance(staged, TabularDataset)
    assert _xs(staged) == [2, 3] and staged.timestamp_columns == ("epoch", None)


def test_keep_and_drop_columns_take_a_timestamp_role_with_its_column(series: TabularDataset) -> None:
    timed = series.with_timestamp_columns("utc_us", "naive_s")
    assert timed.drop_columns("naive_s").timestamp_columns == ("utc_us", None)
    assert timed.drop_columns(["utc_us"]).timestamp_columns == (None, None)
    assert timed.keep_columns(["x", "utc_us"]).timestamp_columns == ("utc_us", None)
    assert timed.keep_columns(["x", "utc_us", "naive_s"]).timestamp_columns == ("utc_us", "naive_s")
    assert timed.drop_columns("flag").timestamp_columns == ("utc_us", "naive_s")


# -- ** globs -----------------------------------------------------------------------------------------------
_DAYS = ["2026/11/02", "2026/11/03", "2026/12/01"]


def _nested(write: Callable[[str, bytes], None]) -> None:
    """data/<yyyy/mm/dd>/data.{parquet,csv,jsonl}, one row per day, and one file at data/ itself."""
    for i, day in enumerate(_DAYS):
        when = dt.datetime.strptime(day, "%Y/%m/%d").replace(hour=6)
        frame = pd.DataFrame({"x": [i], "day": [day], "when": [when]})
        write(f"data/{day}/data.parquet", _parquet(pa.Table.from_pandas(frame, preserve_index=False)))
        write(f"data/{day}/data.csv", f"x,day,when\n{i},{day},{when.isoformat()}\n".encode())
        write(f"data/{day}/data.jsonl", json.dumps({"x": i, "day": day, "when": when.isoformat()}).encode() + b"\n")
        write(f"data/{day}/notes.txt", b"not data\n")
    write("data/data.parquet", _parquet(pa.table({"x": [9], "day": ["top"], "when": [dt.datetime(2027, 1, 1)]})))


def _check_globs(store: Datastore) -> None:
    from_parquet = Dataset.Tabular.from_parquet_files(path=(store, "data/**/data.parquet"))
    # '**' matches no folder too (data/data.parquet), and files come in the order of their paths.
    assert list(from_parquet.to_pandas_dataframe()["day"]) == [*_DAYS, "top"]
    for make, leaf in (
        (Dataset.Tabular.from_delimited_files, "data.csv"),
        (Dataset.Tabular.from_json_lines_files, "data.jsonl"),
    ):
        ds = make(path=(store, f"data/**/{leaf}"))
        assert list(ds.to_pandas_dataframe()["day"]) == _DAYS
        november = ds.with_timestamp_columns("when").time_between(dt.datetime(2026, 11, 1), dt.datetime(2026, 12, 1))
        assert _xs(november) == [0, 1]
    files = Dataset.File.from_files(path=(store, "data/**/data.parquet"))
    assert files.to_path() == [f"/{d}/data.parquet" for d in _DAYS] + ["/data.parquet"]
    assert Dataset.File.from_files(path=(store, "data/2026/**/*.txt")).to_path() == [
        f"/{d[5:]}/notes.txt" for d in _DAYS
    ]


def test_double_star_globs_on_a_local_datastore(ws: Workspace, tmp_path: Path) -> None:
    store = ws.get_default_datastore()
    _nested(lambda rel, data: _put(store, rel, data, tmp_path))
    _check_globs(store)
    registered = Dataset.Tabular.from_parquet_files(path=(store, "data/**/data.parquet")).register(ws, "days")
    assert registered.file_count == 4


def test_double_star_globs_on_an_in_memory_datastore(ws: Workspace) -> None:
    bucket = f"mlws-glob-{ws.path.name}-{id(ws)}"
    store = Datastore.register(ws, "mem", f"memory://{bucket}/root")
    memory = fsspec.filesystem("memory")
    try:
        _nested(lambda rel, data: memory.pipe(f"/{bucket}/root/{rel}", data))
        _check_globs(store)
    finally:
        memory.rm(f"/{bucket}", recursive=True)


def test_double_star_globs_on_an_s3_datastore(ws: Workspace, s3_server: S3Server) -> None:
    bucket = s3_server.create_bucket()
    store = Datastore.register(ws, "lake", f"s3://{bucket}/prefix", credentials=s3_server.credentials())
    s3 = fsspec.filesystem("s3", **s3_server.credentials())
    _nested(lambda rel, data: s3.pipe(f"{bucket}/prefix/{rel}", data))
    _check_globs(store)


# -- bad input ----------------------------------------------------------------------------------------------
_BAD: list[tuple[str, Callable[[TabularDataset], Any], str]] = [
    ("no timestamp set", lambda ds: ds.time_after(T0), "with_timestamp_columns"),
    ("no timestamp set (recent)", lambda ds: ds.time_recent(dt.timedelta(days=1)), "no timestamp column"),
    ("unknown column", lambda ds: ds.with_timestamp_columns("nope", validate=True), "'nope'.*columns: 'x'"),
    (
        "unknown column at the filter",
        lambda ds: ds.with_timestamp_columns("nope").time_after(T0),
        "no column 'nope'.*columns: 'x'",
    ),
    ("partition alone", lambda ds: ds.with_timestamp_columns(None, "naive_s"), "needs timestamp"),
    ("one column twice", lambda ds: ds.with_timestamp_columns("iso", "iso"), "both 'iso'"),
    ("not a name", lambda ds: ds.with_timestamp_columns(3), "column name or None"),  # type: ignore[arg-type]
    ("not a time column", lambda ds: ds.with_timestamp_columns("flag", validate=True), "'flag' is bool"),
    ("start after end", lambda ds: ds.with_timestamp_columns("iso").time_between(TIMES[3], TIMES[1]), "after"),
    (
        "a string argument",
        lambda ds: ds.with_timestamp_columns("iso").time_after("2026-11-02"),
        r"time_after\(start_time\) is a datetime",
    ),
    (
        "a number argument",
        lambda ds: ds.with_timestamp_columns("iso").time_before(1_700_000_000),
        r"time_before\(end_time\) is a datetime",
    ),
    ("NaT", lambda ds: ds.with_timestamp_columns("iso").time_before(pd.NaT), "not a usable time"),
    (
        "a non-bool boundary",
        lambda ds: ds.with_timestamp_columns("iso").time_after(T0, include_boundary="yes"),
        "True or False",
    ),
    ("a number delta", lambda ds: ds.with_timestamp_columns("iso").time_recent(7), "timedelta"),
    (
        "a negative delta",
        lambda ds: ds.with_timestamp_columns("iso").time_recent(dt.timedelta(days=-1)),
        "negative",
    ),
]


@pytest.mark.parametrize(("case", "call", "message"), _BAD, ids=[c[0] for c in _BAD])
def test_bad_input_is_one_clear_error_and_changes_nothing(
    ws: Workspace, series: TabularDataset, case: str, call: Callable[[TabularDataset], Any], message: str
) -> None:
    series.register(ws, "kept")
    before = (series.spec, [d.id for d in Dataset.list_versions(ws, "kept")], Dataset.list(ws))
    with pytest.raises(InvalidArgumentError, match=message):
        call(series)
    assert (series.spec, [d.id for d in Dataset.list_versions(ws, "kept")], Dataset.list(ws)) == before


def test_a_column_unreadable_as_times_is_named_when_read(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table({"x": [0, 1], "at": [T0.isoformat(), "next tuesday"]})
    store = ws.get_default_datastore()
    _put(store, "bad/b.parquet", _parquet(table), tmp_path)
    ds = Dataset.Tabular.from_parquet_files(path=(store, "bad/b.parquet"))
    with pytest.raises(InvalidArgumentError, match=r"'at' holds 'next tuesday'.*ISO 8601.*set_column_types"):
        ds.with_timestamp_columns("at").time_after(T0, validate=False).to_pandas_dataframe()
    with pytest.raises(InvalidArgumentError, match="no column 'gone'"):  # validate=False: found at the read
        ds.with_timestamp_columns("gone").time_after(T0, validate=False).to_pandas_dataframe()
