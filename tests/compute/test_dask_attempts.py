"""Attempts of a job on the dask target, on both metadata stores, without a cluster: a retry takes the
run over by compare-and-set (two competing retries: one wins), and the attempt it took the run from
notices, stops writing and leaves the run to the new one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jupyter_mlws import ComputeTarget, Experiment, ScriptRunConfig, Workspace
from jupyter_mlws.compute import dask as dask_target
from jupyter_mlws.compute.dask import DaskCompute, DaskReporter
from jupyter_mlws.core.entities import ATTEMPT_PROPERTY
from jupyter_mlws.core.status import RunStatus


@pytest.fixture
def queued(metadata_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Workspace, str]:
    """A run queued on a dask target whose submission goes nowhere (no cluster is needed here), in a
    workspace on each metadata store."""
    any_ws = Workspace.create(tmp_path / "on-each-store", metadata_url=metadata_url)
    monkeypatch.setattr(DaskCompute, "check", lambda self: None)
    monkeypatch.setattr(DaskCompute, "submit", lambda self, run_id: None)
    ComputeTarget.attach(any_ws, "cluster", DaskCompute.attach_configuration("tcp://127.0.0.1:1"))
    src = tmp_path / "src"
    src.mkdir()
    (src / "job.py").write_text("pass\n")
    run = Experiment(any_ws, "attempts").submit(ScriptRunConfig(str(src), "job.py", compute_target="cluster"))
    return any_ws, run.id


def _attempt(ws: Workspace, run_id: str, pid: int) -> DaskReporter:
    reporter = DaskReporter(ws, run_id)
    reporter.supervisor(pid, "worker-host")
    return reporter


def test_two_retries_compete_and_one_takes_the_run(queued: tuple[Workspace, str]) -> None:
    ws, run_id = queued
    first = _attempt(ws, run_id, 101)
    assert first.transition(RunStatus.PREPARING) and first.transition(RunStatus.STARTING)
    assert first.transition(RunStatus.RUNNING)
    # The worker died and two retries read the run as it was (Running, attempt 1) before either wrote.
    claim = {"supervisor_host": "worker-host", "supervisor_start": None, "job_folder": None}
    assert ws.metadata.reclaim_job(run_id, RunStatus.RUNNING, 1, supervisor_pid=202, **claim) is True
    assert ws.metadata.reclaim_job(run_id, RunStatus.RUNNING, 1, supervisor_pid=303, **claim) is False
    # Nor does one that read the right status but an old attempt (it raced the first to Preparing).
    assert ws.metadata.reclaim_job(run_id, RunStatus.PREPARING, 1, supervisor_pid=404, **claim) is False
    record = ws.metadata.get_run(run_id)
    assert (record.status, record.supervisor_pid) == (RunStatus.PREPARING, 202)
    assert ws.metadata.get_properties(run_id)[ATTEMPT_PROPERTY] == "2"
    assert ws.get_run(run_id).get_details()["attempt"] == 2


def test_an_attempt_that_lost_the_run_stops_and_writes_nothing(
    queued: tuple[Workspace, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, run_id = queued
    monkeypatch.setattr(dask_target, "ATTEMPT_CHECK_S", 0.0)
    old = _attempt(ws, run_id, 101)
    for status in (RunStatus.PREPARING, RunStatus.STARTING, RunStatus.RUNNING):
        assert old.transition(status)
    assert old.status() == RunStatus.RUNNING and not old.lost
    # Its worker was cut off from the scheduler (not dead): Dask ran the task elsewhere.
    new = _attempt(ws, run_id, 202)
    assert new.transition(RunStatus.PREPARING)
    assert old.status() == RunStatus.CANCELED  # as if ended by someone else: its job is stopped
    assert old.lost
    assert old.transition(RunStatus.FINALIZING) is False
    assert old.transition(RunStatus.COMPLETED) is False
    for status in (RunStatus.STARTING, RunStatus.RUNNING, RunStatus.FINALIZING, RunStatus.COMPLETED):
        assert new.transition(status)
    record = ws.metadata.get_run(run_id)
    assert (record.status, record.supervisor_pid) == (RunStatus.COMPLETED, 202)


def test_a_retry_of_a_run_asked_to_cancel_ends_it_canceled(queued: tuple[Workspace, str]) -> None:
    ws, run_id = queued
    first = _attempt(ws, run_id, 101)
    for status in (RunStatus.PREPARING, RunStatus.STARTING, RunStatus.RUNNING):
        assert first.transition(status)
    ws.get_run(run_id).cancel()
    retry = _attempt(ws, run_id, 202)
    assert retry.transition(RunStatus.PREPARING) is False  # not taken over: it is to end
    assert retry.transition(RunStatus.CANCELED, error={"message": "canceled"})
    assert ws.metadata.get_run(run_id).status == RunStatus.CANCELED
    assert time.time() >= ws.metadata.get_run(run_id).end_time  # type: ignore[operator]
