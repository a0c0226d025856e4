"""Jobs outlive their submitter; dead jobs and dead supervisors never leave a run Running forever;
bounded concurrency, first in first out, across processes (issue 3, item 3).

Reading a run changes nothing (issue 12): a dead supervisor is found by the agent's sweep, by
``Workspace.reconcile_jobs()``, or by ``Run.wait_for_completion`` while it waits.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Run, RunStatus
from jupyter_mlws.compute import agent, supervision
from jupyter_mlws.compute.local import LocalCompute
from jupyter_mlws.core.compute import ComputeTarget
from jupyter_mlws.core.layout import live_dir
from jupyter_mlws.core.services import liveness
from jupyter_mlws.core.status import TERMINAL_STATUSES

TIMEOUT = 60.0

BLOCKS = """
mark("cwd", os.getcwd())
mark("pid", os.getpid())
print("job started", flush=True)
wait_for(FLAGS / "go")
print("job done", flush=True)
"""

SUBMIT_FROM_CHILD = """
import sys, time
from jupyter_mlws import Experiment, ScriptRunConfig, Workspace

ws = Workspace(sys.argv[1])
for arg in sys.argv[4:]:
    config = ScriptRunConfig(source_directory=sys.argv[2], script="job.py", arguments=[arg], compute_target=sys.argv[3])
    print(Experiment(ws, "jobs").submit(config).id, flush=True)
if sys.argv[4:] == ["linger"]:
    time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _ended(run: Run) -> RunStatus | None:
    status = run.status  # a read only: something else (the agent's sweep) must end the run
    return status if status in TERMINAL_STATUSES else None


def _reconciled(kit: Any, run: Run) -> RunStatus | None:
    kit.ws.reconcile_jobs()
    return _ended(run)


@pytest.mark.slow
def test_the_run_completes_when_its_submitter_is_killed(kit: Any) -> None:
    kit.script("job.py", BLOCKS)
    # A fresh workspace: the submitting process is also the one that starts the agent.
    assert agent.running_pid(kit.ws) is None
    child = kit.python(SUBMIT_FROM_CHILD, str(kit.ws.root), str(kit.src), "local", "linger")
    assert child.stdout is not None
    run_id = child.stdout.readline().strip()
    assert run_id, child.communicate(timeout=TIMEOUT)[1]
    run = kit.ws.get_run(run_id)
    kit.wait_flag("pid")

    child.send_signal(signal.SIGKILL)
    assert child.wait(TIMEOUT) == -signal.SIGKILL
    assert run.status == RunStatus.RUNNING
    kit.release("go")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    log, _ = run.read_log()
    assert b"job started" in log and b"job done" in log


def test_killing_the_jobs_process_fails_the_run(kit: Any) -> None:
    kit.script("job.py", BLOCKS)
    run = kit.submit("job.py")
    pid = int(kit.wait_flag("pid"))
    os.kill(pid, signal.SIGKILL)
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Failed"
    assert "SIGKILL" in details["error"]["message"]
    assert details["error"]["exit_code"] == -signal.SIGKILL
    assert "job started" in details["error"]["log_tail"]
    assert not Path(kit.flag("cwd").read_text()).exists()


@pytest.mark.slow
def test_killing_the_supervisor_ends_the_run_through_the_agents_sweep(kit: Any) -> None:
    kit.script("job.py", BLOCKS)
    run = kit.submit("job.py")
    job_pid = int(kit.wait_flag("pid"))
    workdir = Path(kit.flag("cwd").read_text())
    record = kit.ws.metadata.get_run(run.id)
    assert record.status == RunStatus.RUNNING
    assert record.supervisor_pid is not None and record.supervisor_pid != job_pid
    assert record.supervisor_host == supervision.HOSTNAME
    assert record.heartbeat_time is not None

    os.kill(record.supervisor_pid, signal.SIGKILL)
    try:
        assert agent.running_pid(kit.ws) is not None  # the agent sweeps; this test only reads
        status = kit.wait_until(lambda: _ended(run), TIMEOUT, "the agent's sweep to end the run")
        assert status == RunStatus.FAILED
        details = run.get_details()
        message = details["error"]["message"]
        assert "supervisor" in message and str(record.supervisor_pid) in message
        assert details["endTimeUtc"] is not None
        # The job does not run on unsupervised.
        kit.wait_until(lambda: _gone(job_pid), TIMEOUT, f"job process {job_pid} to be gone")
        assert run.status == RunStatus.FAILED  # and it stays so
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # nobody is left to clean up this working folder


@pytest.mark.slow
def test_reads_are_pure_and_waiting_ends_a_run_whose_supervisor_and_agent_died(kit: Any) -> None:
    kit.script("job.py", BLOCKS)
    run = kit.submit("job.py")
    job_pid = int(kit.wait_flag("pid"))
    workdir = Path(kit.flag("cwd").read_text())
    kit.wait_status(run, "Running")
    assert agent.stop(kit.ws)  # nobody sweeps now
    supervisor_pid = kit.record(run).supervisor_pid
    assert supervisor_pid is not None
    os.kill(supervisor_pid, signal.SIGKILL)
    try:
        kit.wait_until(lambda: _gone(supervisor_pid) and _gone(job_pid), TIMEOUT, "the supervisor and job to be gone")
        before = kit.record(run)
        activities = kit.ws.metadata.list_activities(limit=1000)
        files = run.get_file_names()
        for _ in range(3):
            assert run.status == RunStatus.RUNNING
            assert run.get_status() == "Running"
            details = run.get_details()
            assert details["status"] == "Running" and "error" not in details
            run.read_log()
        # Nothing changed: the record, the run's files, the activities, the live logs, no agent.
        assert kit.record(run) == before
        assert run.get_file_names() == files
        assert kit.ws.metadata.list_activities(limit=1000) == activities
        assert live_dir(kit.ws.path, run.id).is_dir()
        assert agent.running_pid(kit.ws) is None

        details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
        assert details["status"] == "Failed"
        assert "supervisor" in details["error"]["message"] and str(supervisor_pid) in details["error"]["message"]
        assert details["error"]["reason"] == "stale"
        # The dead job's logs so far were kept, its live folder removed.
        log, _ = run.read_log()
        assert b"job started" in log
        assert not live_dir(kit.ws.path, run.id).exists()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _job_run(kit: Any, status: RunStatus) -> Run:
    """A job run as a supervisor would leave it, created straight through the store."""
    return Run.create(
        kit.exp,
        status=status,
        run_type="script",
        compute_target="local",
        job_spec={"kind": "script", "script": "job.py", "arguments": []},
    )


def test_a_run_without_heartbeat_for_too_long_is_failed_by_reconcile(kit: Any) -> None:
    run = _job_run(kit, RunStatus.RUNNING)
    # A supervisor on another machine: only its heartbeat tells whether it lives.
    stale = time.time() - liveness.STALE_AFTER_S - 60
    kit.ws.metadata.update_job(run.id, supervisor_pid=os.getpid(), supervisor_host="elsewhere", heartbeat_time=stale)
    assert run.status == RunStatus.RUNNING  # reading changes nothing
    assert kit.ws.reconcile_jobs() == [run.id]
    assert run.status == RunStatus.FAILED
    assert kit.ws.reconcile_jobs() == []  # ended once
    error = run.get_details()["error"]
    assert "heartbeat" in error["message"] and "elsewhere" in error["message"]


def test_a_fresh_heartbeat_keeps_the_run_until_it_goes_stale(kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _job_run(kit, RunStatus.RUNNING)
    kit.ws.metadata.update_job(
        run.id, supervisor_pid=os.getpid(), supervisor_host="elsewhere", heartbeat_time=time.time()
    )
    assert kit.ws.reconcile_jobs() == []
    assert run.status == RunStatus.RUNNING
    monkeypatch.setattr(liveness, "STALE_AFTER_S", 0.2)
    assert kit.wait_until(lambda: _reconciled(kit, run), TIMEOUT, "the heartbeat to go stale") == RunStatus.FAILED
    assert "heartbeat" in run.get_details()["error"]["message"]


def test_a_cancel_requested_run_whose_supervisor_died_ends_canceled(kit: Any) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    run = _job_run(kit, RunStatus.RUNNING)
    kit.ws.metadata.update_job(
        run.id, supervisor_pid=dead_pid, supervisor_host=supervision.HOSTNAME, heartbeat_time=time.time()
    )
    assert kit.ws.metadata.transition_run(run.id, RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED)
    assert run.status == RunStatus.CANCEL_REQUESTED  # reading changes nothing
    # Waiting is not reading: the waiter checks the supervisor every few seconds.
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Canceled"
    assert "supervisor" in details["error"]["message"]


@pytest.mark.slow
def test_a_queued_run_is_dispatched_after_the_agent_died(kit: Any) -> None:
    ComputeTarget.attach(kit.ws, "one", LocalCompute.attach_configuration(max_concurrent_runs=1))
    kit.script(
        "job.py",
        """
        mark("started-" + sys.argv[1])
        if sys.argv[1] == "first":
            wait_for(FLAGS / "go")
        """,
    )
    first = kit.submit("job.py", arguments=["first"], compute_target="one")
    kit.wait_flag("started-first")
    second = kit.submit("job.py", arguments=["second"], compute_target="one")
    assert agent.stop(kit.ws)  # the dispatcher dies; the running job's supervisor does not
    assert agent.running_pid(kit.ws) is None
    kit.release("go")
    assert first.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    created = kit.record(second).created_time
    kit.wait_until(lambda: time.time() - created > supervision.DISPATCH_AFTER_S + 0.5, TIMEOUT, "the run to wait")
    assert second.status == RunStatus.QUEUED
    assert second.get_details()["status"] == "Queued"
    assert agent.running_pid(kit.ws) is None  # reading a queued run starts nothing
    # Waiting on a run that waits in the queue restarts the dispatcher.
    assert second.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    assert kit.flag("started-second").exists()


@pytest.mark.slow
def test_bounded_concurrency_first_in_first_out_across_processes(kit: Any) -> None:
    ComputeTarget.attach(kit.ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2))
    kit.script(
        "job.py",
        """
        name = sys.argv[1]
        mark("start-" + name, repr(time.time()))
        if name in ("0", "1"):
            wait_for(FLAGS / "go")
        time.sleep(0.1)
        mark("end-" + name, repr(time.time()))
        """,
    )
    runs = [kit.submit("job.py", arguments=[str(i)], compute_target="two") for i in range(5)]
    child = kit.python(SUBMIT_FROM_CHILD, str(kit.ws.root), str(kit.src), "two", *map(str, range(5, 10)))
    out, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 0, err
    runs += [kit.ws.get_run(run_id) for run_id in out.split()]
    assert len(runs) == 10
    assert [r.number for r in runs] == sorted(r.number for r in runs)

    # Runs 0 and 1 hold both slots until released: everything after them waits in the queue.
    kit.wait_flag("start-0")
    kit.wait_flag("start-1")
    assert [r.status.value for r in runs[2:]] == ["Queued"] * 8
    assert not any(kit.flag(f"start-{i}").exists() for i in range(2, 10))
    kit.release("go")

    for run in runs:
        assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    start = [float(kit.flag(f"start-{i}").read_text()) for i in range(10)]
    end = [float(kit.flag(f"end-{i}").read_text()) for i in range(10)]
    # Never more than two jobs at once.
    events = sorted([(t, 1) for t in start] + [(t, -1) for t in end], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak == 2
    # First in, first out: when run j starts, every earlier run but at most one has ended (it
    # holds the other slot), whatever process submitted it.
    for j in range(2, 10):
        ended_before = sum(1 for i in range(j) if end[i] < start[j])
        assert ended_before >= j - 1, (j, start, end)
