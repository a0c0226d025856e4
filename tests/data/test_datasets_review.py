"""Review of the dataset core (issue 15, items 2 and 3): each test proves one defect that was found
and fixed — versions registered again (or derived) on a datastore subfolder, on an S3 datastore, on a
datastore given with '..', from an http(s) URL or from a moved folder; a job's staged input read
through the table steps or registered; files changed between a version's check and the read (local
and object store) or before it is registered again; empty CSV fields, FROM_FIRST_FILE headers and
JSON Lines encodings as in v1; clear errors for unknown URL schemes, an S3 URL endpoint that does not
answer, URLs carrying secrets, partition_format, downloads onto files; the workspace's own .mlws left
out of a project folder; and ``Model.list(dataset_id=<id>)`` as v1 spells it."""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jupyter_mlws import Dataset, Datastore, DataType, FileDataset, Model, Workspace
from jupyter_mlws.data import tabular
from jupyter_mlws.errors import (
    BackendUnavailableError,
    DatasetChangedError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)
from tests.data.conftest import S3Server, free_port


@pytest.fixture
def lake(ws: Workspace, tmp_path: Path) -> Datastore:
    """A folder datastore holding two CSVs below ``data/sub``."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("x,y\n1,2\n3,4\n")
    (src / "b.csv").write_text("x,y\n5,6\n")
    store = Datastore.register(ws, "lake", tmp_path / "lake")
    store.upload(str(src), target_path="data/sub", show_progress=False)
    return store


def test_a_version_derived_from_a_datastore_subfolder_version_registers_and_reads(
    ws: Workspace, lake: Datastore, tmp_path: Path
) -> None:
    table = Dataset.Tabular.from_delimited_files(lake.path("data/sub/*.csv")).register(ws, "table")
    first = table.take(1).register(ws, "first-row")
    assert Dataset.get_by_name(ws, "first-row").to_pandas_dataframe()["x"].tolist() == [1]
    again = Dataset.get_by_name(ws, "table").register(ws, "table-copy")
    assert again.digest == table.digest and again.to_pandas_dataframe().shape == (3, 2)
    assert first.digest == table.digest  # the same files, read through a step

    files = Dataset.File.from_files(lake.path("data/sub")).register(ws, "files")
    one = files.take(1).register(ws, "one-file")
    assert Dataset.get_by_name(ws, "one-file").download(str(tmp_path / "dl")) == [str(tmp_path / "dl" / "a.csv")]
    assert one.file_count == 1


def test_a_staged_job_input_reads_through_steps_and_is_not_registered_half_way(ws: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
    table = Dataset.Tabular.from_delimited_files(str(src)).register(ws, "table")
    staged = Dataset._from_staged(tmp_path / "job", table._stage(tmp_path / "job"))
    assert staged.take(2).to_pandas_dataframe()["x"].tolist() == [1, 3]
    assert staged.keep_columns("y").to_pandas_dataframe().columns.tolist() == ["y"]
    left, right = staged.random_split(0.5, seed=3)
    assert sorted(left.to_pandas_dataframe()["x"].tolist() + right.to_pandas_dataframe()["x"].tolist()) == [1, 3, 5]

    for ds in (staged, staged.take(1)):
        with pytest.raises(InvalidStateError, match=r"job's copy of dataset 'table' version 1.*Dataset\.get_by_name"):
            ds.register(ws, "from-job")
    files = Dataset.File.from_files(str(src)).register(ws, "files")
    staged_files = Dataset._from_staged(tmp_path / "job-files", files._stage(tmp_path / "job-files"))
    assert isinstance(staged_files, FileDataset)
    assert staged_files.take(1).to_path() == ["/a.csv"]
    for ds in (staged_files, staged_files.take(1)):
        with pytest.raises(InvalidStateError, match=r"job's copy of dataset 'files' version 1"):
            ds.register(ws, "from-job")
    with pytest.raises(NotFoundError):
        Dataset.get_by_name(ws, "from-job")  # nothing stored


def test_an_unknown_url_scheme_or_a_missing_filesystem_package_is_a_clear_error() -> None:
    with pytest.raises(InvalidArgumentError, match=r"foo://bucket/x.*Protocol not known"):
        Dataset.File.from_files("foo://bucket/x")
    with pytest.raises(BackendUnavailableError, match=r"gcs://bucket/x"):
        Dataset.Tabular.from_parquet_files("gcs://bucket/x")


def test_model_list_takes_a_dataset_id_string_as_v1(ws: Workspace, lake: Datastore, tmp_path: Path) -> None:
    table = Dataset.Tabular.from_delimited_files(lake.path("data/sub")).register(ws, "table")
    (tmp_path / "m.pkl").write_bytes(b"model")
    model = Model.register(ws, str(tmp_path / "m.pkl"), "churn", datasets=[("training", table)])
    assert table.id is not None
    assert [m.id for m in Model.list(ws, dataset_id=table.id)] == [model.id]
    assert Model.list(ws, dataset_id="no-such-id") == []


def test_empty_csv_fields_read_as_nulls_unless_empty_as_string_as_in_v1(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("a,b,when\n1,,2024-01-02\n2,y,\n,z,2024-01-04\n")
    typed = {"when": DataType.to_datetime("%Y-%m-%d")}
    df = Dataset.Tabular.from_delimited_files(str(tmp_path / "e.csv"), set_column_types=typed).to_pandas_dataframe()
    assert df["b"].isna().tolist() == [True, False, False] and df["when"].isna().tolist() == [False, True, False]
    untyped = Dataset.Tabular.from_delimited_files(str(tmp_path / "e.csv"), infer_column_types=False)
    assert untyped.to_pandas_dataframe()["a"].isna().tolist() == [False, False, True]
    kept = Dataset.Tabular.from_delimited_files(str(tmp_path / "e.csv"), empty_as_string=True).to_pandas_dataframe()
    assert kept["b"].tolist() == ["", "y", "z"] and kept["a"].isna().tolist() == [False, False, True]


def test_partition_format_is_refused_for_every_format_not_ignored(tmp_path: Path) -> None:
    pd.DataFrame({"v": [1]}).to_parquet(tmp_path / "p.parquet")
    (tmp_path / "j.jsonl").write_text('{"v": 1}\n')
    with pytest.raises(InvalidArgumentError, match="partition_format is not supported"):
        Dataset.Tabular.from_parquet_files(str(tmp_path / "p.parquet"), partition_format="{v}/x.parquet")
    with pytest.raises(InvalidArgumentError, match="partition_format is not supported"):
        Dataset.Tabular.from_json_lines_files(str(tmp_path / "j.jsonl"), partition_format="{v}/x.jsonl")


def test_a_file_changed_between_the_check_and_the_read_is_reported_not_returned(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("x\n1\n")
    version = Dataset.Tabular.from_delimited_files(str(src)).register(ws, "table")
    real = tabular.read_table

    def a_writer_gets_in_first(*args: Any, **kwargs: Any) -> Any:
        (src / "a.csv").write_text("x\n7\n")  # after the check, before the read: another process's write
        return real(*args, **kwargs)

    monkeypatch.setattr(tabular, "read_table", a_writer_gets_in_first)
    with pytest.raises(DatasetChangedError, match=r"'a.csv'"):
        Dataset.get_by_name(ws, "table").to_pandas_dataframe()
    assert version.to_pandas_dataframe(validate=False)["x"].tolist() == [7]  # the opt-out reads what is there


def test_a_datastore_folder_given_with_dot_dot_keeps_its_versions_readable(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.csv").write_text("x\n1\n")
    store = Datastore.register(ws, "odd", str(tmp_path / "a" / ".." / "b"))
    store.upload(str(tmp_path / "src"), target_path="d", show_progress=False)
    Dataset.File.from_files(store.path("d")).register(ws, "files")
    assert Dataset.get_by_name(ws, "files").download(str(tmp_path / "dl")) == [str(tmp_path / "dl" / "x.csv")]


def test_a_project_folder_holding_the_workspace_leaves_its_state_and_secrets_out(tmp_path: Path) -> None:
    project = Workspace.create(tmp_path / "project")
    Datastore.register(project, "s3ish", "memory://bucket", credentials={"key": "k", "secret": "s3cr3t"})
    (tmp_path / "project" / "x.csv").write_text("x\n1\n")
    (tmp_path / "project" / ".git").mkdir()
    (tmp_path / "project" / ".git" / "index").write_bytes(b"changes with every commit")
    version = Dataset.File.from_files(str(tmp_path / "project")).register(project, "project")
    assert [e.path for e in version.manifest.entries] == ["x.csv"]
    got = Dataset.get_by_name(project, "project").download(str(tmp_path / "dl"))  # the database moved on meanwhile
    assert got == [str(tmp_path / "dl" / "x.csv")]


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain HTTP server on loopback serving a folder (v1's public-URL datasets)."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


def test_a_dataset_of_an_http_url_registers_and_reads_back(
    ws: Workspace, web: tuple[str, Path], tmp_path: Path
) -> None:
    base, folder = web
    (folder / "t.csv").write_text("x,y\n1,2\n3,4\n")
    Dataset.Tabular.from_delimited_files(f"{base}/t.csv").register(ws, "web-table")
    assert Dataset.get_by_name(ws, "web-table").to_pandas_dataframe()["x"].tolist() == [1, 3]
    Dataset.File.from_files(f"{base}/t.csv").register(ws, "web-files")
    (folder / "t.csv").write_text("x,y\n1,2\n3,5\n")
    with pytest.raises(DatasetChangedError, match=r"'t.csv'"):
        Dataset.get_by_name(ws, "web-files").download(str(tmp_path / "dl"))


def test_an_s3_url_whose_endpoint_does_not_answer_is_named_after_a_bounded_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError, match=re.escape(endpoint)):
        Dataset.File.from_files("s3://bucket/data/*.csv")
    assert time.monotonic() - started < 8


def test_an_s3_url_dataset_registers_and_reads_back(
    ws: Workspace, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_server.create_bucket()
    creds = s3_server.credentials()
    monkeypatch.setenv("AWS_ENDPOINT_URL", creds["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["secret"])
    import s3fs

    s3fs.S3FileSystem(skip_instance_cache=True).pipe(f"{bucket}/d/t.csv", b"x\n1\n2\n")
    Dataset.Tabular.from_delimited_files(f"s3://{bucket}/d/*.csv").register(ws, "s3-url")
    assert Dataset.get_by_name(ws, "s3-url").to_pandas_dataframe()["x"].tolist() == [1, 2]


def test_download_or_mount_onto_a_file_and_keys_that_cannot_be_one_folder_are_clear_errors(
    ws: Workspace, s3_server: S3Server, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.csv").write_text("x\n1\n")
    files = Dataset.File.from_files(str(tmp_path / "src")).register(ws, "files")
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(InvalidArgumentError, match="is a file, not a folder"):
        files.download(str(tmp_path / "taken"))
    with pytest.raises(InvalidArgumentError, match=r"mount point .* is a file"):
        files.mount(str(tmp_path / "taken")).start()

    bucket = s3_server.create_bucket()
    lake = Datastore.register(ws, "lake", f"s3://{bucket}", credentials=s3_server.credentials())
    lake.filesystem.pipe(f"{bucket}/d/a", b"a file")
    lake.filesystem.pipe(f"{bucket}/d/a/b", b"and a key below it")
    both = Dataset.File.from_files(lake.path("d"))
    with pytest.raises(InvalidArgumentError, match="holds both 'a' and 'a/b'"):
        both.download(str(tmp_path / "dl"))
    assert not (tmp_path / "dl").exists() or not any((tmp_path / "dl").iterdir())  # nothing half copied

    lake.filesystem.pipe(f"{bucket}/e/sub/x.csv", b"x\n1\n")
    lake.filesystem.pipe(f"{bucket}/e/sub/y.csv", b"x\n2\n")
    Dataset.File.from_files(lake.path("e/sub")).register(ws, "on-s3")
    Dataset.get_by_name(ws, "on-s3").skip(1).register(ws, "on-s3-y")  # a derived version's root on S3
    assert Dataset.get_by_name(ws, "on-s3-y").download(str(tmp_path / "y")) == [str(tmp_path / "y" / "y.csv")]


def test_json_lines_in_another_encoding_are_read_with_it(tmp_path: Path) -> None:
    (tmp_path / "j.jsonl").write_bytes('{"n": "caf\xe9"}\n'.encode("latin1"))
    ds = Dataset.Tabular.from_json_lines_files(str(tmp_path / "j.jsonl"), encoding="latin1")
    assert ds.to_pandas_dataframe()["n"].tolist() == ["café"]


def test_registering_a_version_again_after_its_files_changed_is_refused_not_stored_with_other_bytes(
    ws: Workspace, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("x\n1\n")
    (src / "b.csv").write_text("x\n2\n")
    Dataset.File.from_files(str(src)).register(ws, "files")
    before = (src / "a.csv").stat()
    (src / "a.csv").write_text("x\n9\n")  # in place, same size, mtime put back
    os.utime(src / "a.csv", ns=(before.st_atime_ns, before.st_mtime_ns))
    version1 = Dataset.get_by_name(ws, "files", 1)
    for again in (version1, version1.take(1)):
        with pytest.raises(DatasetChangedError, match=r"'a.csv'.*changed since the version was registered"):
            again.register(ws, "copy-of-1")
    with pytest.raises(NotFoundError):
        Dataset.get_by_name(ws, "copy-of-1")
    assert version1.skip(1).register(ws, "b-only").file_count == 1  # its files unchanged: registered


def test_a_dataset_url_carrying_a_password_or_a_token_is_refused_not_stored(ws: Workspace) -> None:
    for url in ("https://user:hunter2@example.invalid/t.csv", "https://example.invalid/t.csv?sig=s3cr3t&se=2030"):
        with pytest.raises(InvalidArgumentError, match="carries a password or a query") as caught:
            Dataset.Tabular.from_delimited_files(url, validate=False)
        assert "hunter2" not in str(caught.value) and "s3cr3t" not in str(caught.value)


def test_header_from_first_file_reads_the_other_files_first_rows_as_data_as_in_v1(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "1.csv").write_text("id,name\n1,ann\n")
    (tmp_path / "parts" / "2.csv").write_text("2,bob\n3,cy\n")
    (tmp_path / "parts" / "3.csv").write_text("4,dee\n")
    ds = Dataset.Tabular.from_delimited_files(str(tmp_path / "parts"), header="FROM_FIRST_FILE", include_path=True)
    df = ds.to_pandas_dataframe()
    assert df.columns.tolist() == ["id", "name", "Path"]
    assert df["id"].tolist() == [1, 2, 3, 4] and df["name"].tolist() == ["ann", "bob", "cy", "dee"]
    r_name = Dataset.Tabular.from_delimited_files(str(tmp_path / "parts"), header="ONLY_FIRST_FILE_HAS_HEADERS")
    assert r_name.to_pandas_dataframe()["id"].tolist() == [1, 2, 3, 4]
    same = Dataset.Tabular.from_delimited_files(str(tmp_path / "parts" / "1.csv"), header="ALL_FILES_SAME_HEADERS")
    assert same.to_pandas_dataframe()["id"].tolist() == [1]


def test_an_object_written_between_the_check_and_the_table_read_is_reported_not_returned(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec

    memory = fsspec.filesystem("memory")
    memory.pipe("/review-race/d/a.csv", b"x\n1\n")
    Dataset.Tabular.from_delimited_files("memory://review-race/d/*.csv").register(ws, "remote-table")
    real = tabular.read_table

    def a_writer_gets_in_first(*args: Any, **kwargs: Any) -> Any:
        memory.pipe("/review-race/d/a.csv", b"x\n7\n")  # after the check, before the read
        return real(*args, **kwargs)

    monkeypatch.setattr(tabular, "read_table", a_writer_gets_in_first)
    try:
        with pytest.raises(DatasetChangedError, match=r"'a.csv'"):
            Dataset.get_by_name(ws, "remote-table").to_pandas_dataframe()
    finally:
        memory.rm("/review-race", recursive=True)


def test_the_same_bytes_moved_to_another_folder_register_as_a_new_readable_version(
    ws: Workspace, tmp_path: Path
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "a.csv").write_text("x\n1\n")
    first = Dataset.Tabular.from_delimited_files(str(tmp_path / "old")).register(ws, "moved")
    assert Dataset.Tabular.from_delimited_files(str(tmp_path / "old")).register(ws, "moved").version == 1  # kept
    (tmp_path / "old").rename(tmp_path / "new")
    moved = Dataset.Tabular.from_delimited_files(str(tmp_path / "new")).register(ws, "moved", create_new_version=True)
    assert moved.version == 2 and moved.digest == first.digest
    assert Dataset.get_by_name(ws, "moved").to_pandas_dataframe()["x"].tolist() == [1]
