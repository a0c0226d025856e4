"""The job concern of the metadata store contract (``JobStore``): job specs, supervision fields, the
queue, snapshots and compute targets.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.core.entities import BlobReference, SnapshotRecord
from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.errors import NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore

from .metadata_helpers import add_run


def test_jobs_snapshots_and_compute_targets(store: SqlMetadataStore) -> None:

    add_run(store, "job", compute_target="local", job_spec={"a": 1}, status=RunStatus.QUEUED)
    add_run(store, "job2", compute_target="docker", status=RunStatus.QUEUED)
    add_run(store, "interactive")
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


def test_snapshot_references(store: SqlMetadataStore) -> None:
    assert store.snapshot_references() == []
    store.add_snapshot(SnapshotRecord("cd" * 32, 1.0, 3, 100, "/src"))
    add_run(store, "job", compute_target="local", snapshot_id="ef" * 32, status=RunStatus.QUEUED)
    add_run(store, "plain")
    assert sorted(store.snapshot_references()) == [
        BlobReference("cd" * 32, f"snapshot {'cd' * 32}"),
        BlobReference("ef" * 32, "run job snapshot"),
    ]
