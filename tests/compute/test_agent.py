"""The local agent: one dispatcher per workspace, started on demand, stopped by ``stop(ws)`` or
after ``MLWS_AGENT_IDLE_SECONDS`` with nothing to do."""

from __future__ import annotations

import gc
import os
import warnings
from typing import Any

import pytest

from jupyter_mlws import RunStatus
from jupyter_mlws.compute import agent
from jupyter_mlws.core.jobs import create_job_run

TIMEOUT = 60.0


def _agents_of(kit: Any) -> list[int]:
    """Live agent processes of this workspace, not counting the supervisors they fork (whose parent
    is an agent)."""
    marker = str(kit.ws.root).encode()
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and b"jupyter_mlws.compute.agent" in argv and marker in argv:
            parents[int(entry)] = int(fields[1])
    return sorted(pid for pid, ppid in parents.items() if ppid not in parents)


def test_submit_starts_the_agent_on_demand_and_stop_stops_it(kit: Any) -> None:
    kit.script("job.py", "wait_for(FLAGS / 'go')\n")
    assert agent.running_pid(kit.ws) is None
    run = kit.submit("job.py")
    pid = kit.wait_until(lambda: agent.running_pid(kit.ws), TIMEOUT, "the agent to run")
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert str(kit.ws.root).encode() in f.read()
    kit.wait_status(run, "Running")

    assert agent.stop(kit.ws) is True
    assert agent.running_pid(kit.ws) is None
    assert agent.stop(kit.ws) is False  # nothing left to stop
    # The running job is its supervisor's, not the agent's: it goes on.
    assert run.status == RunStatus.RUNNING
    kit.release("go")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"


@pytest.mark.slow
def test_the_agent_exits_when_idle(kit: Any) -> None:
    run = kit.submit(command="true")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    # MLWS_AGENT_IDLE_SECONDS=5 (conftest): it goes away by itself.
    kit.wait_until(lambda: agent.running_pid(kit.ws) is None, TIMEOUT, "the idle agent to exit")
    # ...and the next submit starts a new one.
    again = kit.submit(command="true")
    assert again.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"


def test_submitting_many_runs_at_once_starts_one_agent(kit: Any) -> None:
    """One dispatcher per workspace (DESIGN, issue 3): a burst of submits must not start a process each."""
    runs = [kit.submit(command="true") for _ in range(8)]
    agents = _agents_of(kit)
    for run in runs:
        assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    assert len(agents) == 1, f"{len(agents)} agent processes were started for one workspace: {agents}"


def test_submitting_leaves_no_resource_warning(kit: Any) -> None:
    """The agent is started detached: the submitting process (a notebook kernel) keeps no child of
    it around, which Python would report as ``ResourceWarning: subprocess N is still running``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = kit.submit(command="true")
        gc.collect()
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    resource = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert resource == []


@pytest.mark.slow
def test_waiting_on_a_queued_run_whose_agent_died_starts_one_agent(kit: Any) -> None:
    """Waiting on a Queued run re-checks its dispatcher every few seconds (reading it does not); it
    must not start one process per check."""
    from jupyter_mlws.compute.local import LocalCompute
    from jupyter_mlws.core.compute import ComputeTarget

    ComputeTarget.attach(kit.ws, "one", LocalCompute.attach_configuration(max_concurrent_runs=1))
    kit.script("job.py", "if sys.argv[1] == 'first':\n    mark('started')\n    wait_for(FLAGS / 'go')\n")
    first = kit.submit("job.py", arguments=["first"], compute_target="one")
    kit.wait_flag("started")
    second = kit.submit("job.py", arguments=["second"], compute_target="one")
    agent.stop(kit.ws)
    kit.release("go")
    assert first.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    assert second.status == RunStatus.QUEUED
    # The waiter's checks restart the dispatcher.
    assert second.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    agents = _agents_of(kit)
    assert len(agents) <= 1, f"{len(agents)} agent processes were started for one workspace: {agents}"


def test_in_a_team_workspace_an_agent_dispatches_only_the_jobs_submitted_on_its_machine(kit: Any) -> None:
    from jupyter_mlws.core.entities import SUBMITTED_FROM
    from jupyter_mlws.core.services.liveness import HOSTNAME

    kit.script("noop.py", "pass\n")
    spec = kit.config("noop.py").job_spec()
    # Made and queued, but no agent told: they wait for the queue to be read.
    mine, _backend = create_job_run(kit.exp, dict(spec))
    theirs, _backend = create_job_run(kit.exp, dict(spec), properties={SUBMITTED_FROM: "a-colleagues-laptop"})
    assert mine.get_properties()[SUBMITTED_FROM] == HOSTNAME
    dispatcher = agent.Agent(kit.ws)
    dispatcher.team = True  # as for a workspace on PostgreSQL + an object store, which members share
    assert {r.run_id for r in dispatcher._queued()} == {mine.id}  # theirs: their machine's agent runs it
    dispatcher.team = False  # a workspace of one machine: every queued job is this agent's
    assert {r.run_id for r in dispatcher._queued()} == {mine.id, theirs.id}
