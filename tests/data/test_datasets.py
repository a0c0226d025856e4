"""Datasets (issue 15, items 2 and 3): file and tabular datasets from globs, datastore paths and URLs;
the three tabular formats and v1's column types; registration with manifests and digests (the same
content keeps its version, other content needs create_new_version, kinds never mix, concurrent
registrations get distinct versions); reads of a version that check its bytes — an in-place edit with
the mtime put back is reported; the same on an S3 datastore against a real S3-compatible server."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from jupyter_mlws import (
    Dataset,
    DatasetConsumptionConfig,
    Datastore,
    DataType,
    FileDataset,
    Model,
    TabularDataset,
    Workspace,
)
from jupyter_mlws.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    DatasetChangedError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)
from tests.data.conftest import S3Server, free_port


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def _edit_in_place_keeping_mtime(path: Path, text: str) -> None:
    """What an editor that restores timestamps does: same inode, same size, same mtime."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    with open(path, "r+", encoding="utf-8") as handle:
        handle.write(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)


@pytest.fixture
def csvs(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "data",
        {
            "2024/jan.csv": "id,name,score,when\n1,ann,0.5,2024-01-02\n2,bob,1.5,2024-01-03\n",
            "2024/feb.csv": "id,name,score,when\n3,cy,2.5,2024-02-02\n",
            "notes.txt": "not data\n",
        },
    )


# -- tabular --------------------------------------------------------------------------------------------
def test_delimited_files_from_a_glob_with_v1_column_types(ws: Workspace, csvs: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files(
        str(csvs / "**" / "*.csv"),
        set_column_types={
            "id": DataType.to_long(),
            "score": DataType.to_float(),
            "when": DataType.to_datetime("%Y-%m-%d"),
        },
    )
    assert isinstance(ds, TabularDataset) and not ds.is_registered
    df = ds.to_pandas_dataframe()
    assert list(df.columns) == ["id", "name", "score", "when"]
    assert df["id"].tolist() == [3, 1, 2]  # files in path order: 2024/feb.csv, 2024/jan.csv
    assert str(df["id"].dtype) == "int64" and str(df["score"].dtype) == "float64"
    assert df["when"].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-02", "2024-01-02", "2024-01-03"]

    registered = ds.register(ws, "sales", description="monthly", tags={"team": "a"})
    assert (registered.name, registered.version, registered.kind, registered.rows) == ("sales", 1, "tabular", 3)
    assert registered.schema == [
        {"name": "id", "type": "int64"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": "double"},
        {"name": "when", "type": "timestamp[us]"},
    ]
    assert [e.path for e in registered.manifest.entries] == ["2024/feb.csv", "2024/jan.csv"]
    assert registered.digest == registered.manifest.digest and len(registered.digest or "") == 64
    assert registered.file_count == 2 and registered.total_size == sum(
        (csvs / p).stat().st_size for p in ("2024/jan.csv", "2024/feb.csv")
    )
    again = Dataset.get_by_name(ws, "sales")
    pd.testing.assert_frame_equal(again.to_pandas_dataframe(), df)
    assert Dataset.get_by_id(ws, registered.id or "").version == 1
    assert ws.datasets["sales"].id == registered.id
    assert (again.description, again.tags) == ("monthly", {"team": "a"})


def test_parquet_and_json_lines_and_the_table_steps(ws: Workspace, tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": list(range(100)), "y": [f"v{i}" for i in range(100)], "z": [i / 2 for i in range(100)]})
    folder = tmp_path / "pq"
    folder.mkdir()
    frame.iloc[:60].to_parquet(folder / "a.parquet")
    frame.iloc[60:].to_parquet(folder / "b.parquet")
    pq = Dataset.Tabular.from_parquet_files(str(folder / "*.parquet"), include_path=True)
    df = pq.to_pandas_dataframe()
    assert df["x"].tolist() == list(range(100)) and set(df["Path"]) == {"a.parquet", "b.parquet"}

    lines = tmp_path / "rows.jsonl"
    lines.write_text("\n".join(json.dumps({"x": i, "flag": i % 2 == 0}) for i in range(10)) + "\n")
    js = Dataset.Tabular.from_json_lines_files(str(lines), set_column_types={"x": DataType.to_string()})
    got = js.to_pandas_dataframe()
    assert got["x"].tolist() == [str(i) for i in range(10)] and got["flag"].tolist()[:2] == [True, False]

    base = pq.drop_columns("Path")
    assert base.take(5).to_pandas_dataframe()["x"].tolist() == [0, 1, 2, 3, 4]
    assert base.skip(95).to_pandas_dataframe()["x"].tolist() == [95, 96, 97, 98, 99]
    assert list(base.keep_columns(["z", "x"]).to_pandas_dataframe().columns) == ["z", "x"]
    train, test = base.random_split(0.7, seed=7)
    a, b = train.to_pandas_dataframe()["x"].tolist(), test.to_pandas_dataframe()["x"].tolist()
    assert sorted(a + b) == list(range(100)) and not set(a) & set(b) and 55 <= len(a) <= 85
    assert train.to_pandas_dataframe()["x"].tolist() == a  # the same seed, the same split
    with pytest.raises(InvalidArgumentError, match="keep_columns: no column 'nope'"):
        base.keep_columns(["nope"]).to_pandas_dataframe()

    # A derived dataset registers with its steps; its rows are what the steps leave.
    registered = base.take(10).register(ws, "first-ten")
    assert registered.rows == 10 and Dataset.get_by_name(ws, "first-ten").to_pandas_dataframe()["x"].tolist() == list(
        range(10)
    )
    converted = Dataset.get_by_name(ws, "first-ten").to_parquet_files()
    assert converted.to_pandas_dataframe()["x"].tolist() == list(range(10))
    as_csv = Dataset.get_by_name(ws, "first-ten").to_csv_files(separator=";")
    assert as_csv.to_pandas_dataframe()["y"].tolist() == [f"v{i}" for i in range(10)]
    assert as_csv.source.startswith("workspaceblobstore:converted/")


def test_register_pandas_dataframe_keeps_the_version_of_the_same_frame(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    first = Dataset.Tabular.register_pandas_dataframe(frame, ws.get_default_datastore(), "frame", tags={"k": "v"})
    assert (first.version, first.rows, first.tags) == (1, 3, {"k": "v"})
    same = Dataset.Tabular.register_pandas_dataframe(frame.copy(), (ws.get_default_datastore(), ""), "frame")
    assert (same.version, same.id) == (1, first.id)
    assert "already holds this content" in capsys.readouterr().out
    changed = Dataset.Tabular.register_pandas_dataframe(frame.assign(a=[1, 2, 4]), ws.get_default_datastore(), "frame")
    assert changed.version == 2 and changed.digest != first.digest
    pd.testing.assert_frame_equal(Dataset.get_by_name(ws, "frame", 1).to_pandas_dataframe(), frame)


# -- files ----------------------------------------------------------------------------------------------
def test_file_dataset_download_mount_and_to_path(ws: Workspace, csvs: Path, tmp_path: Path) -> None:
    files = Dataset.File.from_files(str(csvs)).register(ws, "raw")
    assert isinstance(files, FileDataset) and files.to_path() == ["/2024/feb.csv", "/2024/jan.csv", "/notes.txt"]
    target = tmp_path / "out"
    paths = files.download(target)
    assert sorted(Path(p).relative_to(target).as_posix() for p in paths) == [
        "2024/feb.csv",
        "2024/jan.csv",
        "notes.txt",
    ]
    assert (target / "notes.txt").read_text() == "not data\n"
    with pytest.raises(AlreadyExistsError, match=r"out/2024/feb.csv exists already \(and 2 more\).*overwrite=True"):
        files.download(target)
    (target / "notes.txt").write_text("mine")
    assert len(files.download(target, overwrite=True)) == 3 and (target / "notes.txt").read_text() == "not data\n"

    with files.mount() as mounted:
        folder = Path(mounted)
        assert mounted.mount_point == str(folder)
        assert (folder / "2024" / "jan.csv").read_text().startswith("id,name")
        assert not stat.S_IMODE((folder / "notes.txt").stat().st_mode) & 0o222  # write-protected
    assert not folder.exists()
    context = files.mount()
    context.start()
    assert context.mount_point and Path(context.mount_point, "notes.txt").is_file()
    context.stop()
    assert not Path(str(context.mount_point or "")).exists() or context.mount_point is None


def test_datastore_paths_and_as_named_input(ws: Workspace, csvs: Path) -> None:
    store = ws.get_default_datastore()
    store.upload(str(csvs), target_path="sales", show_progress=False)
    tab = Dataset.Tabular.from_delimited_files((store, "sales/2024/*.csv"))
    assert tab.to_pandas_dataframe()["id"].tolist() == [3, 1, 2]
    registered = tab.register(ws, "sales")
    assert registered.source.startswith("workspaceblobstore:")
    files = Dataset.File.from_files([store.path("sales/notes.txt"), store.path("sales/2024/jan.csv")])
    assert files.to_path() == ["/2024/jan.csv", "/notes.txt"]

    config = registered.as_named_input("sales_data")
    assert isinstance(config, DatasetConsumptionConfig) and (config.name, config.mode) == ("sales_data", "direct")
    mounted = files.as_named_input("raw").as_mount()
    assert mounted.mode == "mount" and files.as_named_input("raw").as_download("/data").path_on_compute == "/data"
    with pytest.raises(InvalidArgumentError, match="as_mount\\(\\) is for file datasets"):
        config.as_mount()
    with pytest.raises(InvalidArgumentError, match="an input name starts with a letter"):
        registered.as_named_input("bad name")


# -- fingerprints, versions, changes --------------------------------------------------------------------
def test_an_in_place_edit_with_the_mtime_restored_is_a_new_version_and_v1_reports_it(ws: Workspace, csvs: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files(str(csvs / "2024" / "*.csv"))
    v1 = ds.register(ws, "sales")
    assert ds.register(ws, "sales", create_new_version=True).version == 1  # same bytes: kept
    v1.to_pandas_dataframe()  # warms the stat cache: the edit below must still be seen

    _edit_in_place_keeping_mtime(
        csvs / "2024" / "jan.csv", "id,name,score,when\n1,ann,0.5,2024-01-02\n2,bob,9.5,2024-01-03\n"
    )
    v2 = ds.register(ws, "sales", create_new_version=True)
    assert v2.version == 2 and v2.digest != v1.digest
    assert Dataset.get_by_name(ws, "sales").to_pandas_dataframe()["score"].tolist() == [2.5, 0.5, 9.5]
    old = Dataset.get_by_name(ws, "sales", version=1)
    with pytest.raises(DatasetChangedError) as caught:
        old.to_pandas_dataframe()
    entry = next(e for e in v1.manifest.entries if e.path == "jan.csv")
    assert caught.value.path == "jan.csv" and caught.value.expected == entry.sha256
    assert caught.value.found == next(e.sha256 for e in v2.manifest.entries if e.path == "jan.csv")
    assert "jan.csv" in str(caught.value) and entry.sha256 in str(caught.value) and caught.value.http_status == 409
    assert old.to_pandas_dataframe(validate=False)["score"].tolist()[-1] == 9.5  # the opt-out, for one read
    files = Dataset.File.from_files(str(csvs / "2024")).register(ws, "raw-files")
    _edit_in_place_keeping_mtime(csvs / "2024" / "feb.csv", "id,name,score,when\n3,cy,7.5,2024-02-02\n")
    with pytest.raises(DatasetChangedError, match=r"feb\.csv"):
        files.download(str(csvs.parent / "dl"))
    assert not list((csvs.parent / "dl").rglob("feb.csv"))  # the changed file was not left behind
    with pytest.raises(DatasetChangedError):
        with files.mount():
            pass


def test_bad_input_gets_clear_errors_and_nothing_is_stored(ws: Workspace, csvs: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="matches no files"):
        Dataset.File.from_files(str(csvs / "*.parquet"))
    with pytest.raises(NotFoundError, match="does not exist"):
        Dataset.File.from_files(str(tmp_path / "missing"))
    lake = Datastore.register(ws, "lake", tmp_path / "lake")
    lake.upload(str(csvs / "2024"), show_progress=False)
    on_lake = Dataset.File.from_files(lake.path("")).register(ws, "on-lake")
    lake.unregister()
    with pytest.raises(NotFoundError, match="datastore 'lake' is not registered"):
        Dataset.get_by_name(ws, "on-lake").download(str(tmp_path / "x"))
    assert on_lake.version == 1

    _write(tmp_path / "bad", {"ragged.csv": "a,b,c\n1,2,3\n4,5\n6,7,8\n", "mixed.csv": "a,b\n1,x\n2,y\nthree,z\n"})
    with pytest.raises(InvalidArgumentError, match=r"'ragged.csv' line 3: 2 field\(s\) where the header has 3"):
        Dataset.Tabular.from_delimited_files(str(tmp_path / "bad" / "ragged.csv"))
    with pytest.raises(InvalidArgumentError, match=r"'mixed.csv' line 4, column 'a': 'three' is not a long"):
        Dataset.Tabular.from_delimited_files(
            str(tmp_path / "bad" / "mixed.csv"), set_column_types={"a": DataType.to_long()}
        )
    with pytest.raises(InvalidArgumentError, match=r"line 3, column 'd': 'soon' matches none of the datetime formats"):
        _write(tmp_path / "dates", {"d.csv": "d\n2024-01-01\nsoon\n"})
        Dataset.Tabular.from_delimited_files(
            str(tmp_path / "dates"), set_column_types={"d": DataType.to_datetime("%Y-%m-%d")}
        )
    with pytest.raises(InvalidArgumentError, match="set_column_types\\['a'\\] is 'int'"):
        Dataset.Tabular.from_delimited_files(str(csvs), set_column_types={"a": "int"})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgumentError, match="names column\\(s\\) 'nope'"):
        Dataset.Tabular.from_delimited_files(str(csvs / "2024"), set_column_types={"nope": DataType.to_long()})
    _write(tmp_path / "clash", {"a.csv": "v\n1\n", "b.csv": "v\nx\n"})
    with pytest.raises(
        InvalidArgumentError, match=r"column 'v' is int64 in dataset file 'a.csv' but string in 'b.csv'"
    ):
        Dataset.Tabular.from_delimited_files(str(tmp_path / "clash")).to_pandas_dataframe()

    Dataset.File.from_files(str(csvs)).register(ws, "files")
    with pytest.raises(InvalidArgumentError, match="'files' is registered as a file dataset; a tabular dataset"):
        Dataset.Tabular.from_delimited_files(str(csvs / "2024")).register(ws, "files", create_new_version=True)
    with pytest.raises(AlreadyExistsError, match="create_new_version=True"):
        Dataset.File.from_files(str(csvs / "2024")).register(ws, "files")
    with pytest.raises(NotFoundError, match=r"'files' has no version 5 \(versions: 1\)"):
        Dataset.get_by_name(ws, "files", 5)
    with pytest.raises(InvalidArgumentError, match="positive integer or 'latest'"):
        Dataset.get_by_name(ws, "files", "newest")
    with pytest.raises(NotFoundError, match=r"'nothing' is not registered.*registered: 'files'"):
        Dataset.get_by_name(ws, "nothing")
    with pytest.raises(InvalidArgumentError):
        Dataset.File.from_files(str(csvs)).register(ws, "bad/name")
    with pytest.raises(InvalidArgumentError):
        Dataset()
    assert [(d.name, d.version) for d in Dataset.list(ws)] == [("files", 1), ("on-lake", 1)]  # refusals stored nothing


def _register_in_child(root: str, data: str, index: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    ws = Workspace(root)
    path = Path(data) / f"part-{index}.csv"
    path.write_text(f"n\n{index}\n")
    ds = Dataset.Tabular.from_delimited_files(str(path)).register(ws, "race", create_new_version=True)
    out.put(ds.version)


def test_two_processes_registering_one_name_get_distinct_versions(ws: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "race"
    data.mkdir()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_register_in_child, args=(str(ws.root), str(data), i, queue)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert sorted(queue.get(timeout=5) for _ in procs) == [1, 2, 3, 4]
    assert [d.version for d in Dataset.list_versions(ws, "race")] == [1, 2, 3, 4]


def test_models_record_the_dataset_version_and_lineage_lists_them(ws: Workspace, csvs: Path, tmp_path: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files(str(csvs / "2024")).register(ws, "sales")
    (tmp_path / "model.pkl").write_bytes(b"model")
    model = Model.register(ws, str(tmp_path / "model.pkl"), "churn", datasets=[("training", ds)])
    assert model.datasets == [("training", f"sales:1:{ds.digest}")]
    assert [m.id for m in Model.list(ws, dataset_id=ds)] == [model.id]
    assert [m.id for m in Model.list(ws, dataset_id="sales:1")] == [model.id]
    assert ds.get_lineage() == {"runs": [], "models": ["churn:1"]}
    with pytest.raises(InvalidStateError, match="not registered"):
        Dataset.File.from_files(str(csvs)).get_lineage()


# -- S3 -------------------------------------------------------------------------------------------------
def test_the_same_flow_on_an_s3_datastore(ws: Workspace, s3_server: S3Server, csvs: Path) -> None:
    bucket = s3_server.create_bucket()
    store = Datastore.register(ws, "lake", f"s3://{bucket}/prefix", credentials=s3_server.credentials())
    store.upload(str(csvs / "2024"), target_path="sales", show_progress=False)
    tab = Dataset.Tabular.from_delimited_files((store, "sales/*.csv"), set_column_types={"id": DataType.to_long()})
    v1 = tab.register(ws, "s3-sales")
    assert v1.rows == 3 and v1.source.startswith("lake:")
    assert Dataset.get_by_name(ws, "s3-sales").to_pandas_dataframe()["id"].tolist() == [3, 1, 2]
    assert tab.register(ws, "s3-sales", create_new_version=True).version == 1

    # Overwrite one object with other bytes of the same size: version 2, and version 1 reports it.
    changed = csvs / "changed" / "jan.csv"
    changed.parent.mkdir()
    changed.write_text("id,name,score,when\n1,ann,0.5,2024-01-02\n2,bob,9.5,2024-01-03\n")
    store.upload_files([str(changed)], target_path="sales", overwrite=True, show_progress=False)
    v2 = tab.register(ws, "s3-sales", create_new_version=True)
    assert v2.version == 2 and v2.digest != v1.digest
    with pytest.raises(DatasetChangedError, match=r"jan\.csv"):
        Dataset.get_by_name(ws, "s3-sales", 1).to_pandas_dataframe()
    files = Dataset.File.from_files(store.path("sales")).register(ws, "s3-files")
    with files.mount() as folder:
        assert sorted(os.listdir(folder)) == ["feb.csv", "jan.csv"]


def test_an_s3_endpoint_that_stops_answering_is_named(ws: Workspace, s3_server: S3Server, csvs: Path) -> None:
    bucket = s3_server.create_bucket()
    store = Datastore.register(ws, "lake", f"s3://{bucket}", credentials=s3_server.credentials())
    store.upload(str(csvs / "2024"), target_path="x", show_progress=False)
    registered = Dataset.File.from_files(store.path("x")).register(ws, "x")
    # The endpoint moves away (nothing listens there any more): the datastore's stored endpoint says so.
    dead = f"http://127.0.0.1:{free_port()}"
    ws.metadata.put_datastore("lake", store.url, {"endpoint_url": dead}, 0.0)
    again = Dataset.get_by_name(ws, "x")
    with pytest.raises(BackendUnavailableError, match=f"{dead}.*does not answer"):
        again.download(str(csvs.parent / "dl"))
    assert registered.version == 1


def test_separators_headers_bools_and_untyped_text(tmp_path: Path) -> None:
    _write(tmp_path, {"t.tsv": "007\tyes\ttrue\n010\tno\tfalse\n"})
    plain = Dataset.Tabular.from_delimited_files(str(tmp_path / "t.tsv"), separator="\t", header=False)
    df = plain.to_pandas_dataframe()
    assert df.shape == (2, 3) and df.iloc[:, 2].tolist() == [True, False]
    text = Dataset.Tabular.from_delimited_files(
        str(tmp_path / "t.tsv"), separator="\t", header=False, infer_column_types=False
    ).to_pandas_dataframe()
    assert text.iloc[:, 0].tolist() == ["007", "010"]  # kept as written, not read as numbers
    assert repr(DataType.to_datetime(["%d/%m/%Y"])) == "DataType.to_datetime(['%d/%m/%Y'])"
    with pytest.raises(InvalidArgumentError, match="separator is one character"):
        Dataset.Tabular.from_delimited_files(str(tmp_path / "t.tsv"), separator="::")


def test_preview_reads_only_the_rows_it_shows(ws: Workspace, tmp_path: Path) -> None:
    # A bad line far below the first rows: the preview (a head read) is fine; a full read names the line.
    body = "".join(f"{i},v{i}\n" for i in range(200_000))  # beyond the first 1 MiB block
    _write(tmp_path / "big", {"a.csv": "n,s\n" + body + "1,2,3\n", "b.csv": "n,s\n7,x\n"})
    ds = Dataset.Tabular.from_delimited_files(str(tmp_path / "big"))  # validation reads the head only
    preview = ds.preview(3)
    assert preview["columns"] == [{"name": "n", "type": "int64"}, {"name": "s", "type": "string"}]
    assert preview["rows"] == [[0, "v0"], [1, "v1"], [2, "v2"]]
    with pytest.raises(InvalidArgumentError, match=r"'a.csv' line 200002: 3 field\(s\) where the header has 2"):
        ds.to_pandas_dataframe()
    files = Dataset.File.from_files(str(tmp_path / "big")).register(ws, "big-files")
    assert [row[0] for row in files.preview()["rows"]] == ["a.csv", "b.csv"]
