"""The dask compute target on a real cluster (``dask scheduler`` + 2 ``dask worker`` processes on
loopback): a job's logs, outputs and metrics; cancel; a worker killed mid-run (one run, attempt 2);
Dask's retry budget exhausted (Failed with the reason); the settings' errors; what a SQLite workspace
refuses; AmlCompute on an attached cluster."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import (
    ComputeTarget,
    GridParameterSampling,
    HyperDriveConfig,
    PrimaryMetricGoal,
    Workspace,
    choice,
)
from jupyter_mlws.compute import dask as dask_target
from jupyter_mlws.compute.dask import DaskCompute
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from jupyter_mlws.core.compute import AmlCompute
from jupyter_mlws.core.locator import open_located, workspace_locator
from jupyter_mlws.errors import BackendUnavailableError, InvalidArgumentError, InvalidStateError
from tests.compute.conftest import JobKit
from tests.support.dask_cluster import dask_cluster, start_cluster  # noqa: F401 - the module's cluster

TIMEOUT = 120.0


@pytest.fixture
def cluster_kit(kit: JobKit, dask_cluster: LocalDaskCluster) -> JobKit:  # noqa: F811 - the fixture
    ComputeTarget.attach(kit.ws, "cluster", DaskCompute.attach_configuration(dask_cluster.address))
    return kit


def test_a_job_runs_on_a_dask_worker_with_logs_outputs_and_metrics(cluster_kit: JobKit) -> None:
    kit = cluster_kit
    kit.script(
        "train.py",
        """
        from jupyter_mlws import Run
        run = Run.get_context()
        run.log("acc", 0.91)
        print("training on", os.getpid())
        Path("outputs").mkdir(exist_ok=True)
        Path("outputs/model.txt").write_text("weights")
        """,
    )
    run = kit.submit("train.py", compute_target="cluster")
    run.wait_for_completion(timeout=TIMEOUT)
    assert run.status == "Completed"
    assert run.get_metrics() == {"acc": 0.91}
    assert "outputs/model.txt" in run.get_file_names()
    log = run.get_details()["logFiles"]
    assert "user_logs/std_log.txt" in log
    worker_pid = kit.record(run).supervisor_pid
    assert worker_pid is not None and worker_pid != os.getpid()
    assert "training on" in _log(kit.ws, run.id)
    details = run.get_details()
    assert details["attempt"] == 1
    assert details["target"] == "cluster"


def test_a_run_submitted_by_a_process_that_exits_at_once_still_runs(cluster_kit: JobKit) -> None:
    kit = cluster_kit
    kit.script("quick.py", "print('ran')\n")
    code = """
        import sys
        from jupyter_mlws import Experiment, ScriptRunConfig, Workspace
        ws = Workspace(sys.argv[1])
        run = Experiment(ws, "jobs").submit(ScriptRunConfig(sys.argv[2], "quick.py", compute_target="cluster"))
        print(run.id)
    """
    proc = kit.python(code, str(kit.ws.root), str(kit.src))
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    run = kit.exp.workspace.get_run(out.strip())
    run.wait_for_completion(timeout=TIMEOUT)
    assert run.status == "Completed"


def test_cancel_stops_the_job_and_its_process_group(cluster_kit: JobKit) -> None:
    kit = cluster_kit
    kit.script(
        "long.py",
        """
        import subprocess
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        mark("pids", f"{os.getpid()} {child.pid}")
        time.sleep(600)
        """,
    )
    run = kit.submit("long.py", compute_target="cluster")
    pids = [int(p) for p in kit.wait_flag("pids", TIMEOUT).split()]
    run.cancel()
    run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert run.status == "Canceled"
    for pid in pids:
        kit.wait_until(lambda pid=pid: not _alive(pid), what=f"process {pid} to be gone")


def test_a_worker_killed_mid_run_is_retried_as_the_same_run(cluster_kit: JobKit, tmp_path: Path) -> None:
    kit = cluster_kit
    kit.script(
        "resumable.py",
        """
        from jupyter_mlws import Run
        first = not (FLAGS / "started").exists()
        run = Run.get_context()
        run.log("attempt_seen", 1 if first else 2)
        run.flush()  # acknowledged before the worker dies
        mark("started")
        if first:
            print("first attempt: waiting to be killed")
            time.sleep(600)
        print("second attempt: done")
        """,
    )
    run = kit.submit("resumable.py", compute_target="cluster")
    kit.wait_flag("started", TIMEOUT)
    worker = kit.wait_until(lambda: kit.record(run).supervisor_pid, what="the worker's pid")
    os.kill(worker, signal.SIGKILL)  # the worker process running the task (its nanny restarts it)
    run.wait_for_completion(timeout=TIMEOUT)
    assert run.status == "Completed"
    details = run.get_details()
    assert details["attempt"] == 2
    assert details["properties"]["mlws.attempt"] == "2"
    assert [r.id for r in kit.exp.get_runs()] == [run.id]  # one run, never a second
    assert run.get_metrics()["attempt_seen"] == [1, 2]
    text = _log(kit.ws, run.id)
    assert "attempt 2 of run" in text and "second attempt: done" in text


def test_the_run_fails_with_the_reason_once_dask_gives_up(kit: JobKit) -> None:
    # allowed-failures=1: the task may lose one worker; the second death is Dask's KilledWorker.
    cluster = start_cluster(workers=1, env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"})
    try:
        ComputeTarget.attach(kit.ws, "fragile", DaskCompute.attach_configuration(cluster.address))
        kit.script("kill_worker.py", "os.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(60)\n")
        run = kit.submit("kill_worker.py", compute_target="fragile")
        run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
        assert run.status == "Failed"
        error = run.get_details()["error"]
        assert "allowed-failures" in error["message"] and "KilledWorker" in error["message"]
        assert run.get_details()["attempt"] == 2
    finally:
        cluster.stop()


def test_a_sweeps_trials_run_on_the_cluster(cluster_kit: JobKit) -> None:
    kit = cluster_kit
    kit.script(
        "trial.py",
        """
        from jupyter_mlws import Run
        x = float(sys.argv[sys.argv.index("--x") + 1])
        Run.get_context().log("score", -((x - 3) ** 2))
        """,
    )
    config = HyperDriveConfig(
        run_config=kit.config("trial.py", compute_target="cluster"),
        hyperparameter_sampling=GridParameterSampling({"--x": choice(1, 2, 3, 4)}),
        primary_metric_name="score",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=4,
        max_concurrent_runs=2,
    )
    sweep = kit.exp.submit(config)
    sweep.wait_for_completion(timeout=TIMEOUT)
    assert sweep.status == "Completed"
    trials = sweep.get_children()
    assert len(trials) == 4 and {t.status for t in trials} == {"Completed"}
    assert {t.get_details()["target"] for t in trials} == {"cluster"}
    assert sweep.get_best_run_by_primary_metric().get_metrics()["score"] == 0


def test_settings_are_checked_when_attached(ws: Workspace) -> None:
    with pytest.raises(InvalidArgumentError, match="scheduler_address='tcp://HOST:PORT'"):
        ComputeTarget.attach(ws, "c", {"type": "dask", "scheduler_address": "localhost:8786"})
    with pytest.raises(InvalidArgumentError, match="unknown dask compute setting"):
        ComputeTarget.attach(ws, "c", {"type": "dask", "scheduler_address": "tcp://a:1", "workers": 3})
    with pytest.raises(InvalidArgumentError, match="dashboard_url"):
        ComputeTarget.attach(ws, "c", DaskCompute.attach_configuration("tcp://a:1", dashboard_url="ftp://x"))


def test_an_unreachable_scheduler_is_a_clear_error_at_submit(kit: JobKit) -> None:
    ComputeTarget.attach(kit.ws, "gone", DaskCompute.attach_configuration("tcp://127.0.0.1:9"))
    kit.script("noop.py", "print('never')\n")
    with pytest.raises(
        BackendUnavailableError, match=re.escape("cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    ):
        kit.submit("noop.py", compute_target="gone")
    assert list(kit.exp.get_runs()) == []  # checked before the run is made


def test_a_sqlite_workspace_refuses_workers_on_other_machines(
    cluster_kit: JobKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = cluster_kit
    kit.script("noop.py", "print('never')\n")
    monkeypatch.setattr(dask_target, "_local_hosts", lambda: {"some-other-name"})  # 127.0.0.1 is elsewhere now
    with pytest.raises(InvalidStateError, match="SQLite file") as err:
        kit.submit("noop.py", compute_target="cluster")
    assert "mlws dask local" in str(err.value) and "mlws workspace migrate" in str(err.value)


def test_a_worker_elsewhere_never_opens_a_sqlite_workspace(ws: Workspace) -> None:
    locator = workspace_locator(ws)
    assert open_located(locator).root == ws.root  # here: the folder itself
    elsewhere = {**locator, "host": "another-host"}
    with pytest.raises(InvalidStateError, match="SQLite file"):
        open_located(elsewhere)


def test_aml_compute_is_provisioned_onto_an_attached_cluster(ws: Workspace) -> None:
    ComputeTarget.attach(ws, "team-cluster", DaskCompute.attach_configuration("tcp://127.0.0.1:8786"))
    target = ComputeTarget.create(
        ws, "cpu-cluster", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    )
    assert target.type == "dask"
    assert target.config["scheduler_address"] == "tcp://127.0.0.1:8786"
    assert target.config["vm_size"] == "STANDARD_D2_V2" and target.config["max_nodes"] == 4
    # v1's create again re-configures it
    again = ComputeTarget.create(ws, "cpu-cluster", AmlCompute.provisioning_configuration(max_nodes=2))
    assert again.config["max_nodes"] == 2


def _log(ws: Workspace, run_id: str) -> str:
    return ws.services.queries.read_log(run_id)[0].decode()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _no_stale_clients() -> Iterator[None]:
    yield
    dask_target.close_clients()
