"""Canceling jobs and the run-duration limit (issue 3, item 3).

``run.cancel()`` from any process: CancelRequested -> SIGTERM -> SIGKILL after the target's
``cancel_grace_seconds`` -> Canceled. A run canceled while Queued never runs. Exceeding
``max_run_duration_seconds`` ends the run Canceled with the reason in its error details.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from jupyter_mlws import RunStatus
from jupyter_mlws.compute.local import LocalCompute
from jupyter_mlws.core.compute import ComputeTarget

TIMEOUT = 60.0

TRAPS_SIGTERM = """
def on_term(signum, frame):
    mark("got-sigterm", signum)
    wait_for(FLAGS / "exit-now")
    print("leaving after SIGTERM", flush=True)
    sys.exit(143)


signal.signal(signal.SIGTERM, on_term)
mark("pid", os.getpid())
wait_for(FLAGS / "never")
mark("finished")
"""

IGNORES_SIGTERM = """
def on_term(signum, frame):
    print("SIGTERM ignored", flush=True)
    mark("got-sigterm")


signal.signal(signal.SIGTERM, on_term)
mark("pid", os.getpid())
wait_for(FLAGS / "never")
mark("finished")
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.slow
def test_cancel_from_another_process_sends_sigterm_then_ends_canceled(kit: Any) -> None:
    # A long grace period: the job decides when it leaves, so CancelRequested can be observed.
    ComputeTarget.attach(kit.ws, "patient", LocalCompute.attach_configuration(cancel_grace_seconds=300))
    kit.script("trap.py", TRAPS_SIGTERM)
    run = kit.submit("trap.py", compute_target="patient")
    kit.wait_flag("pid")
    assert run.status == RunStatus.RUNNING

    result = kit.mlws("--workspace", str(kit.ws.root), "runs", "cancel", run.id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{run.id}: ")

    assert kit.wait_flag("got-sigterm") == "15"
    assert run.status == RunStatus.CANCEL_REQUESTED  # the job has not left yet
    kit.release("exit-now")
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Canceled"
    assert "cancel" in details["error"]["message"]
    assert details["endTimeUtc"] is not None
    assert not kit.flag("finished").exists()
    log, _ = run.read_log()
    assert b"leaving after SIGTERM" in log  # the driver log is stored for canceled runs too


@pytest.mark.slow
def test_a_job_that_ignores_sigterm_is_killed_after_the_grace_period(kit: Any) -> None:
    ComputeTarget.attach(kit.ws, "fast", LocalCompute.attach_configuration(cancel_grace_seconds=1))
    kit.script("stubborn.py", IGNORES_SIGTERM)
    run = kit.submit("stubborn.py", compute_target="fast")
    pid = int(kit.wait_flag("pid"))

    run.cancel()
    assert run.status in (RunStatus.CANCEL_REQUESTED, RunStatus.CANCELED)
    # The job waits for a flag that never comes: only SIGKILL ends it.
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Canceled"
    assert kit.flag("got-sigterm").exists()
    assert not kit.flag("finished").exists()
    kit.wait_until(lambda: _gone(pid), 10, f"job process {pid} to be gone")
    log, _ = run.read_log()
    assert b"SIGTERM ignored" in log


@pytest.mark.slow
def test_canceling_a_queued_run_ends_it_without_running_it(kit: Any) -> None:
    ComputeTarget.attach(kit.ws, "one", LocalCompute.attach_configuration(max_concurrent_runs=1))
    kit.script(
        "job.py",
        """
        name = sys.argv[1]
        mark("started-" + name)
        if name == "blocker":
            wait_for(FLAGS / "go")
        """,
    )
    blocker = kit.submit("job.py", arguments=["blocker"], compute_target="one")
    kit.wait_flag("started-blocker")
    queued = kit.submit("job.py", arguments=["queued"], compute_target="one")
    assert queued.status == RunStatus.QUEUED

    queued.cancel()
    assert queued.status == RunStatus.CANCELED  # nobody had picked it up: canceled at once
    assert queued.get_details()["endTimeUtc"] is not None

    kit.release("go")
    assert blocker.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    # First in, first out: a run submitted after the canceled one runs, the canceled one never.
    later = kit.submit("job.py", arguments=["later"], compute_target="one")
    assert later.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    assert kit.flag("started-later").exists()
    assert not kit.flag("started-queued").exists()
    assert queued.status == RunStatus.CANCELED
    assert queued.get_file_names() == []


def test_canceling_a_finished_run_is_refused(kit: Any) -> None:
    from jupyter_mlws.errors import InvalidStateError

    run = kit.submit(command="true")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    with pytest.raises(InvalidStateError, match="Completed"):
        run.cancel()
    assert run.status == RunStatus.COMPLETED


@pytest.mark.slow
def test_max_run_duration_cancels_the_run_with_the_reason(kit: Any) -> None:
    kit.script(
        "slow.py",
        """
        mark("pid", os.getpid())
        wait_for(FLAGS / "never")
        mark("finished")
        """,
    )
    run = kit.submit("slow.py", max_run_duration_seconds=1.5)
    pid = int(kit.wait_flag("pid"))
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Canceled"
    assert "max_run_duration_seconds" in details["error"]["message"]
    assert not kit.flag("finished").exists()
    kit.wait_until(lambda: _gone(pid), 10, f"job process {pid} to be gone")
