"""The pipeline step concern of the metadata store contract (``PipelineStepStore``): step runs by
reuse key, only completed ones with outputs reusable, newest first; the latest earlier run of a step.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.core.entities import BlobReference
from jupyter_mlws.core.interfaces import StepRunRecord
from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.errors import NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore
from tests.stores.metadata_helpers import add_run


def step(run_id: str, name: str = "train", key: str | None = "k1", **kw: object) -> StepRunRecord:
    return StepRunRecord(run_id=run_id, step_name=name, reuse_key=key, parts={"source": "s1"}, created_time=1.0, **kw)  # type: ignore[arg-type]


def pipeline(store: SqlMetadataStore, parent: str, *children: str, status: RunStatus = RunStatus.COMPLETED) -> None:
    add_run(store, parent)
    for child in children:
        add_run(store, child, parent_run_id=parent, status=status)


def test_completed_step_runs_with_outputs_are_found_by_key_newest_first(store: SqlMetadataStore) -> None:
    pipeline(store, "p1", "s1")
    pipeline(store, "p2", "s2")
    pipeline(store, "p3", "s3", status=RunStatus.FAILED)
    pipeline(store, "p4", "s4")
    for run_id in ("s1", "s2", "s3"):
        store.add_step_run(step(run_id))
    store.add_step_run(step("s4"))  # completed, but its outputs were never recorded
    for run_id in ("s1", "s2", "s3"):
        store.set_step_outputs(run_id, {"out": f"m-{run_id}"})
    found = store.find_reusable_step_runs("k1")
    assert [r.run_id for r in found] == ["s2", "s1"]
    assert found[0].outputs == {"out": "m-s2"} and found[0].parent_run_id == "p2"
    assert store.find_reusable_step_runs("other") == []
    assert [r.run_id for r in store.find_reusable_step_runs("k1", limit=1)] == ["s2"]


def test_a_step_row_round_trips_and_is_replaced(store: SqlMetadataStore) -> None:
    pipeline(store, "p1", "s1")
    store.add_step_run(step("s1"))
    assert store.get_step_run("s1").outputs is None
    store.add_step_run(step("s1", key="k2", reused_from="old", outputs={"o": "m"}))
    got = store.get_step_run("s1")
    assert (got.reuse_key, got.reused_from, got.outputs, got.parts) == ("k2", "old", {"o": "m"}, {"source": "s1"})
    assert got.experiment_id is not None


def test_unknown_step_runs_are_not_found(store: SqlMetadataStore) -> None:
    add_run(store, "plain")
    with pytest.raises(NotFoundError, match="plain"):
        store.get_step_run("plain")
    with pytest.raises(NotFoundError, match="plain"):
        store.set_step_outputs("plain", {"o": "m"})


def test_latest_step_run_skips_the_asking_pipeline_and_other_steps(store: SqlMetadataStore) -> None:
    pipeline(store, "p1", "a1", "b1")
    pipeline(store, "p2", "a2")
    store.add_step_run(step("a1", name="a"))
    store.add_step_run(step("b1", name="b"))
    store.add_step_run(step("a2", name="a"))
    exp = store.get_run("a1").experiment_id
    assert store.latest_step_run("a", exp, before_parent="p2").run_id == "a1"  # type: ignore[union-attr]
    assert store.latest_step_run("a", exp, before_parent="p9").run_id == "a2"  # type: ignore[union-attr]
    assert store.latest_step_run("c", exp, before_parent="p9") is None
    assert [r.run_id for r in store.list_step_runs("p1")] == ["a1", "b1"]


def test_step_output_references(store: SqlMetadataStore) -> None:
    assert store.step_output_references() == []
    add_run(store, "s1")
    add_run(store, "s2")
    store.add_step_run(step("s1"))
    store.add_step_run(step("s2"))  # no outputs yet
    store.set_step_outputs("s1", {"b": "cd" * 32, "a": "ab" * 32})
    assert store.step_output_references() == [
        BlobReference("ab" * 32, "step run s1 output a"),
        BlobReference("cd" * 32, "step run s1 output b"),
    ]
