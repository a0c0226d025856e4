"""``mlws datasets list | show | register | download | lineage`` (issue 15, item 5) and ``%mlws datasets``.

The CLI contract (DESIGN §6): every list has ``--json``; errors are one line on stderr with exit 1,
usage errors exit 2; a first fingerprint over a few seconds shows a progress bar on stderr.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlws import Dataset, Experiment, Model, Workspace
from jupyter_mlws.cli import datasets as datasets_cli
from jupyter_mlws.core.interfaces.datasets import DatasetInputRecord
from jupyter_mlws.magics.magics import Table
from tests.jupyter.test_magics import folder  # noqa: F401 (the fixture; it takes `shell`, below)
from tests.test_cli import assert_one_line_error, mlws


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    """The session's IPython shell (tests/jupyter may have started it already) with the magics."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "jupyter_mlws")
    return ip


@pytest.fixture
def data(tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MLWS_WORKSPACE", str(ws.root))
    root = tmp_path / "data"
    (root / "csv").mkdir(parents=True)
    (root / "csv" / "a.csv").write_text("x,label\n1,yes\n2,no\n")
    (root / "csv" / "b.csv").write_text("x,label\n3,yes\n")
    (root / "files" / "deep").mkdir(parents=True)
    (root / "files" / "one.bin").write_bytes(b"\x00" * 2048)
    (root / "files" / "deep" / "two.txt").write_text("two")
    yield root


def test_register_list_show_and_versions(capsys: pytest.CaptureFixture[str], data: Path, ws: Workspace) -> None:
    out = mlws(capsys, "datasets", "register", str(data / "csv"), "--name", "table", "--tabular", "-d", "labels")
    assert out.code == 0, out
    assert out.out.startswith("table:1 (tabular, 2 files") and "3 rows" in out.out
    out = mlws(capsys, "datasets", "register", str(data / "files"), "--name", "blobs")
    assert out.code == 0 and out.out.startswith("blobs:1 (file, 2 files"), out

    listed = mlws(capsys, "datasets", "list", "--json").json()
    assert [(d["name"], d["version"], d["kind"]) for d in listed] == [("blobs", 1, "file"), ("table", 1, "tabular")]
    assert set(listed[0]) == {
        "name", "version", "id", "kind", "digest", "description", "tags", "created_time", "file_count",
        "total_size", "rows", "source",
    }  # fmt: skip
    text = mlws(capsys, "datasets", "list").out
    assert "NAME" in text and "3 rows" in text and "2 files" in text and "2.0 KiB" in text

    shown = mlws(capsys, "datasets", "show", "table:1", "--json").json()
    assert shown["description"] == "labels" and shown["rows"] == 3
    assert [c["name"] for c in shown["schema"]] == ["x", "label"]
    assert shown["lineage"] == {"runs": [], "models": []}
    text = mlws(capsys, "datasets", "show", "table").out
    assert "digest:" in text and "x:" in text and "runs:         (none)" in text

    # The same content again keeps version 1 (v1's behaviour); changed content makes version 2.
    again = mlws(capsys, "datasets", "register", str(data / "csv"), "-n", "table", "--tabular", "--create-new-version")
    assert again.code == 0 and "already holds this content" in again.out, again
    assert again.out.splitlines()[-1].startswith("table:1 "), again
    (data / "csv" / "b.csv").write_text("x,label\n3,yes\n4,no\n")
    again = mlws(capsys, "datasets", "register", str(data / "csv"), "-n", "table", "--tabular", "--create-new-version")
    assert again.code == 0 and again.out.startswith("table:2 ") and "4 rows" in again.out, again
    assert mlws(capsys, "datasets", "show", "table:latest", "--json").json()["version"] == 2
    assert mlws(capsys, "datasets", "show", "table:1", "--json").json()["rows"] == 3


def test_download_and_overwrite(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    assert mlws(capsys, "datasets", "register", str(data / "files"), "--name", "blobs").code == 0
    target = tmp_path / "out"
    out = mlws(capsys, "datasets", "download", "blobs:1", str(target))
    assert out.code == 0 and out.out.startswith("2 files of blobs:1"), out
    assert (target / "deep" / "two.txt").read_text() == "two" and (target / "one.bin").stat().st_size == 2048
    line = assert_one_line_error(mlws(capsys, "datasets", "download", "blobs", str(target)))
    assert "--overwrite" in line
    assert mlws(capsys, "datasets", "download", "blobs", str(target), "--overwrite").code == 0


def test_lineage_lists_runs_and_models(capsys: pytest.CaptureFixture[str], data: Path, ws: Workspace) -> None:
    table = Dataset.Tabular.from_delimited_files(str(data / "csv" / "*.csv")).register(ws, "table")
    run = Experiment(ws, "train").start_logging()
    run.complete()
    # What a submitted job records (the job itself: tests/data/test_lineage.py).
    record = DatasetInputRecord(run.id, "training", table.id, "table", 1, table.digest, "direct")
    ws.metadata.add_run_inputs(run.id, [record])
    Model.register(ws, str(data / "csv" / "a.csv"), "clf", datasets=[("training", table)])

    got = mlws(capsys, "datasets", "lineage", "table:1", "--json").json()
    assert got == {"dataset": "table:1", "digest": table.digest, "runs": [run.id], "models": ["clf:1"]}
    text = mlws(capsys, "datasets", "lineage", "table").out
    assert run.id in text and "clf:1" in text
    shown = mlws(capsys, "runs", "show", run.id).out
    assert f"training = table:1 (direct, digest {table.digest})" in shown


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (("datasets", "show", "nope"), 1, "nope"),
        (("datasets", "show", "nope:abc"), 2, "must be a number"),
        (("datasets", "lineage", "nope:0"), 2, "must be a number"),
        (("datasets", "register", "/does/not/exist/*.csv", "--name", "x"), 1, ""),
        (("datasets", "register", "somewhere"), 2, "--name"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], data: Path, argv: tuple[str, ...], code: int, words: str
) -> None:
    prefix = "mlws: error:" if code == 1 else ""
    line = assert_one_line_error(mlws(capsys, *argv), code, prefix)
    assert words in line


def test_a_slow_first_fingerprint_shows_progress_on_stderr(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets_cli, "PROGRESS_AFTER_S", 0.0)  # every fingerprint counts as slow
    out = mlws(capsys, "datasets", "register", str(data / "files"), "--name", "blobs")
    assert out.code == 0 and "fingerprinting blobs" in out.err, out
    assert out.out.startswith("blobs:1")
    monkeypatch.setattr(datasets_cli, "PROGRESS_AFTER_S", 3600.0)
    (data / "files" / "three.txt").write_text("3")
    quick = mlws(capsys, "datasets", "register", str(data / "files"), "-n", "blobs", "--create-new-version")
    assert quick.code == 0 and quick.err == "", quick


# -- %mlws datasets ---------------------------------------------------------------------------------------
def test_the_magic_lists_datasets_and_versions(shell: InteractiveShell, folder: Path) -> None:  # noqa: F811
    ws = Workspace.create(folder)
    (folder / "t.csv").write_text("a,b\n1,2\n3,4\n")
    table = Dataset.Tabular.from_delimited_files(str(folder / "t.csv")).register(ws, "table", description="small")
    Dataset.File.from_files(str(folder / "helper.py")).register(ws, "code")
    Model.register(ws, str(folder / "t.csv"), "m", datasets=[("training", table)])

    listed: Any = shell.run_line_magic("mlws", "datasets")
    assert isinstance(listed, Table)
    assert [row[:4] for row in listed.rows] == [["code", "1", "file", "1 files"], ["table", "1", "tabular", "2 rows"]]
    assert "small" in listed._repr_html_() and "table" in repr(listed)
    versions: Any = shell.run_line_magic("mlws", "dataset table")
    assert versions.rows == [["1", "2 rows", versions.rows[0][2], table.digest[:12], "0 runs, 1 models"]]
    with pytest.raises(UsageError, match="nope"):
        shell.run_line_magic("mlws", "dataset nope")
    with pytest.raises(UsageError, match="takes 0-0"):
        shell.run_line_magic("mlws", "datasets extra")
