"""The run-file concern of the metadata store contract (``RunFileStore``): the index of a run's files.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.core.entities import BlobReference, FileRecord
from jupyter_mlws.errors import AlreadyExistsError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore

from .metadata_helpers import DIGEST, add_run


def test_run_files_index(store: SqlMetadataStore) -> None:
    add_run(store)
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
    add_run(store)
    store.add_run_files("r1", [FileRecord("a_b/x", DIGEST, 1), FileRecord("axb/y", DIGEST, 1)])
    assert [f.path for f in store.list_run_files("r1", "a_b/")] == ["a_b/x"]


def test_run_file_references(store: SqlMetadataStore) -> None:
    assert store.run_file_references() == []
    add_run(store)
    add_run(store, "r2")
    store.add_run_files("r1", [FileRecord("outputs/a.txt", DIGEST, 3)])
    store.add_run_files("r2", [FileRecord("b.txt", "cd" * 32, 3), FileRecord("c.txt", DIGEST, 3)])
    assert sorted(store.run_file_references()) == sorted(
        [
            BlobReference(DIGEST, "run r1 file outputs/a.txt"),
            BlobReference("cd" * 32, "run r2 file b.txt"),
            BlobReference(DIGEST, "run r2 file c.txt"),
        ]
    )
