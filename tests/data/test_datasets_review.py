"""Review of the dataset core (issue 15, items 2 and 3): each test proves one defect that was found
and fixed — a version derived from (or registered again from) another version on a datastore
subfolder, a job's staged input read through the table steps or registered, an unknown URL scheme,
and ``Model.list(dataset_id=<id>)`` as v1 spells it."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlws import Dataset, Datastore, Workspace


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
