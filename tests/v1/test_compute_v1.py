"""Issue 14 item 6: compute the Azure ML v1 way — the try/except creation pattern, AmlCompute as a
local target whose max_nodes is its concurrency, the cloud-only classes refusing, and v1's
keywords of run.wait_for_completion."""

from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import jupyter_mlws
from jupyter_mlws import (
    AmlCompute,
    ComputeTarget,
    ComputeTargetException,
    Experiment,
    LocalCompute,
    ScriptRunConfig,
    WebserviceException,
    Workspace,
)
from jupyter_mlws.compute import agent
from jupyter_mlws.core.interfaces.compute import default_concurrency
from jupyter_mlws.errors import ActivityFailedException, InvalidArgumentError, NotFoundError

TIMEOUT = 120.0

# Waits for a file named by its first argument; writes "started-<second argument>" first.
HOLD = """\
import sys, time
from pathlib import Path
folder, name = Path(sys.argv[1]), sys.argv[2]
(folder / f"started-{name}").write_text("")
deadline = time.time() + 120
while not (folder / "release").exists() and time.time() < deadline:
    time.sleep(0.05)
print(f"{name} done")
"""


@pytest.fixture(autouse=True)
def _agent_stops(monkeypatch: pytest.MonkeyPatch, ws: Workspace) -> Iterator[None]:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    yield
    agent.stop(ws)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(agent.socket_path(ws))


def wait_until(predicate: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def get_or_create(ws: Workspace, name: str, max_nodes: int | None = 4) -> tuple[ComputeTarget, bool]:
    """v1's notebook cell, word for word but the imports."""
    try:
        cluster = ComputeTarget(workspace=ws, name=name)
        found = True
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=max_nodes)
        cluster = ComputeTarget.create(ws, name, config)
        cluster.wait_for_completion(show_output=True)
        found = False
    return cluster, found


# -- the try/except pattern, end to end ---------------------------------------------------------------------
def test_the_v1_creation_pattern_makes_a_local_cluster_that_runs_a_job(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster, found = get_or_create(ws, "cpu-cluster")
    assert not found and type(cluster) is AmlCompute
    out = capsys.readouterr().out
    assert "Succeeded" in out and "Minimum number of nodes requested have been provisioned" in out
    assert "this machine" in out and "STANDARD_D2_V2" in out  # honest: nothing was provisioned

    again, found = get_or_create(ws, "cpu-cluster")
    assert found and type(again) is AmlCompute and again == cluster

    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text("print('trained on the cluster')\n")
    exp = Experiment(workspace=ws, name="v1-compute")
    by_name = exp.submit(ScriptRunConfig(source_directory=str(src), script="train.py", compute_target="cpu-cluster"))
    by_object = exp.submit(ScriptRunConfig(source_directory=str(src), script="train.py", compute_target=cluster))
    details = by_name.wait_for_completion(show_output=True, wait_post_processing=True)
    assert details["status"] == "Completed"
    assert "trained on the cluster" in capsys.readouterr().out
    assert by_object.wait_for_completion()["status"] == "Completed"
    for run in (by_name, by_object):
        assert run.get_properties()["mlws.compute_target"] == "cpu-cluster"


def test_max_nodes_is_how_many_jobs_run_at_once(ws: Workspace, tmp_path: Path) -> None:
    cluster = ComputeTarget.create(ws, "one-node", AmlCompute.provisioning_configuration(max_nodes=1))
    assert type(cluster) is AmlCompute
    assert cluster.config["max_concurrent_runs"] == 1 and cluster.max_nodes == 1
    src, flags = tmp_path / "src", tmp_path / "flags"
    src.mkdir()
    flags.mkdir()
    (src / "hold.py").write_text(HOLD)
    exp = Experiment(ws, "concurrency")
    runs = [
        exp.submit(ScriptRunConfig(str(src), "hold.py", [str(flags), str(i)], compute_target=cluster)) for i in range(3)
    ]
    wait_until((flags / "started-0").exists, "the first job to start")
    # One node, taken: the others wait in the queue (whatever the number of cores).
    assert [r.status for r in runs[1:]] == ["Queued", "Queued"]
    assert cluster.get_status().current_node_count == 1
    # Two nodes: the next job starts while the first still holds its node; the third still waits.
    cluster.update(max_nodes=2)
    wait_until((flags / "started-1").exists, "a second job to start on the second node")
    assert runs[0].status == "Running" and runs[2].status == "Queued" and not (flags / "started-2").exists()
    status = cluster.get_status()
    assert status.current_node_count == 2 and status.scale_settings.maximum_node_count == 2
    assert status.node_state_counts.running_node_count + status.node_state_counts.preparing_node_count == 2
    (flags / "release").write_text("")
    for run in runs:
        assert run.wait_for_completion()["status"] == "Completed"
    assert (flags / "started-2").exists()


# -- an AmlCompute stays one, read again in another Workspace object ----------------------------------------
def test_a_created_cluster_is_an_aml_compute_in_a_fresh_workspace_object(ws: Workspace) -> None:
    config = AmlCompute.provisioning_configuration(
        vm_size="STANDARD_NC6",
        vm_priority="lowpriority",
        min_nodes=1,
        max_nodes=3,
        idle_seconds_before_scaledown=600,
        admin_user_password="not-stored",
        tags={"team": "ml"},
        description="GPU cluster",
    )
    ComputeTarget.create(ws, "gpu-cluster", config)
    ComputeTarget.attach(ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2))

    fresh = Workspace(ws.root)
    target = ComputeTarget(workspace=fresh, name="gpu-cluster")
    assert type(target) is AmlCompute and target.workspace is fresh
    assert (target.vm_size, target.vm_priority, target.max_nodes) == ("STANDARD_NC6", "lowpriority", 3)
    assert target.config["tags"] == {"team": "ml"} and target.config["description"] == "GPU cluster"
    assert "not-stored" not in repr(target.config)  # credentials mean nothing here and are never stored
    assert {t.name: type(t) for t in ComputeTarget.list(fresh)} == {
        "gpu-cluster": AmlCompute,
        "local": ComputeTarget,
        "two": ComputeTarget,
    }
    assert [n for n, t in fresh.compute_targets.items() if type(t) is AmlCompute] == ["gpu-cluster"]
    assert type(AmlCompute(fresh, "gpu-cluster")) is AmlCompute
    copied = copy.copy(target)
    assert type(copied) is AmlCompute and copied == target and copied.config == target.config
    assert [s["name"] for s in AmlCompute.supported_vmsizes(workspace=fresh)] == ["local"]

    status = target.get_status()
    assert (status.provisioning_state, status.allocation_state) == ("Succeeded", "Steady")
    assert (status.vm_size, status.vm_priority, status.current_node_count) == ("STANDARD_NC6", "lowpriority", 0)
    assert (status.scale_settings.minimum_node_count, status.scale_settings.maximum_node_count) == (1, 3)
    assert status.target_node_count == 1 and status.node_state_counts.idle_node_count == 1
    body = status.serialize()
    assert body["provisioningState"] == "Succeeded" and body["scaleSettings"]["maxNodeCount"] == 3
    assert body["scaleSettings"]["nodeIdleTimeBeforeScaleDown"] == "PT600S"
    assert target.provisioning_state == "Succeeded" and target.status.vm_size == "STANDARD_NC6"

    target.update(max_nodes=5)
    assert ComputeTarget(fresh, "gpu-cluster").config["max_concurrent_runs"] == 5 == target.max_nodes
    target.wait_for_completion(show_output=False, min_node_count=1, timeout_in_minutes=20)

    target.delete()
    with pytest.raises(ComputeTargetException):
        ComputeTarget(workspace=ws, name="gpu-cluster")


def test_max_nodes_left_out_is_the_number_of_cores(ws: Workspace) -> None:
    cluster = ComputeTarget.create(ws, "cluster", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2"))
    assert cluster.config["max_concurrent_runs"] == default_concurrency()
    # create again (a re-run notebook without the try/except): re-configures, as v1's create does.
    again = ComputeTarget.create(ws, "cluster", AmlCompute.provisioning_configuration(max_nodes=1))
    assert type(again) is AmlCompute and again.max_nodes == 1


# -- errors ------------------------------------------------------------------------------------------------
def test_a_missing_target_is_a_compute_target_exception_and_a_not_found_error(ws: Workspace) -> None:
    ComputeTarget.attach(ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2))
    with pytest.raises(ComputeTargetException) as caught:
        ComputeTarget(workspace=ws, name="cpu-cluster")
    assert isinstance(caught.value, NotFoundError)  # code written for this project catches it too
    message = str(caught.value)
    assert "'cpu-cluster'" in message and "two" in message and "local" in message and "AmlCompute" in message
    with pytest.raises(ComputeTargetException, match="not AmlCompute"):
        AmlCompute(ws, "two")
    assert type(ComputeTarget(ws, "local")) is ComputeTarget


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_nodes": 0}, "max_nodes"),
        ({"max_nodes": 2.5}, "max_nodes"),
        ({"min_nodes": 3, "max_nodes": 2}, "min_nodes"),
        ({"vm_priority": "spot"}, "vm_priority"),
        ({"idle_seconds_before_scaledown": -1}, "idle_seconds_before_scaledown"),
    ],
)
def test_a_bad_provisioning_configuration_names_the_setting(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ComputeTargetException, match=words):
        AmlCompute.provisioning_configuration(**kwargs)


def test_create_refuses_the_local_name_another_type_and_other_configurations(ws: Workspace) -> None:
    config = AmlCompute.provisioning_configuration(max_nodes=2)
    with pytest.raises(ComputeTargetException, match="built-in"):
        ComputeTarget.create(ws, "local", config)
    ComputeTarget.attach(ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2))
    with pytest.raises(ComputeTargetException, match="exists already as a 'local' target"):
        ComputeTarget.create(ws, "two", config)
    with pytest.raises(ComputeTargetException, match="provisioning_configuration"):
        ComputeTarget.create(ws, "other", {"type": "local"})
    with pytest.raises(ComputeTargetException, match="built-in"):
        ComputeTarget(ws, "local").delete()


CLOUD_COMPUTE = [
    "AksCompute",
    "ComputeInstance",
    "RemoteCompute",
    "HDInsightCompute",
    "DatabricksCompute",
    "KubernetesCompute",
    "SynapseCompute",
]
CLOUD_SERVICES = ["AksWebservice", "AciWebservice"]


@pytest.mark.parametrize("name", CLOUD_COMPUTE)
def test_cloud_only_compute_classes_import_and_refuse_naming_the_local_equivalent(ws: Workspace, name: str) -> None:
    cls = getattr(jupyter_mlws, name)
    uses: list[Callable[[], Any]] = [
        lambda: cls(ws, "aks"),
        lambda: cls(workspace=ws, name="aks"),
        lambda: cls.provisioning_configuration(vm_size="Standard_D3_v2"),
        lambda: cls.attach_configuration(resource_id="x"),
    ]
    for use in uses:
        with pytest.raises(ComputeTargetException) as caught:
            use()
        message = str(caught.value)
        assert name in message and "cloud-only" in message
        assert "AmlCompute.provisioning_configuration" in message and "LocalCompute" in message
        assert "DockerCompute" in message


@pytest.mark.parametrize("name", CLOUD_SERVICES)
def test_cloud_only_web_services_import_and_refuse_naming_the_local_deployment(ws: Workspace, name: str) -> None:
    cls = getattr(jupyter_mlws, name)
    for use in (lambda: cls(ws, "svc"), lambda: cls.deploy_configuration(cpu_cores=1, memory_gb=1)):
        with pytest.raises(WebserviceException) as caught:
            use()
        message = str(caught.value)
        assert name in message and "cloud-only" in message
        assert "LocalWebservice.deploy_configuration" in message and "DockerWebservice" in message


# -- run.wait_for_completion with v1's keywords ---------------------------------------------------------------
def test_wait_for_completion_takes_v1_keywords(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    exp = Experiment(ws, "waiting")
    done = exp.start_logging()
    done.complete()
    assert done.wait_for_completion(show_output=False, wait_post_processing=True)["status"] == "Completed"
    assert done.wait_for_completion(wait_post_processing=False, raise_on_error=True)["status"] == "Completed"
    # v1's positional order: show_output, wait_post_processing, raise_on_error
    assert done.wait_for_completion(True, True, True)["status"] == "Completed"
    assert "Execution Summary" in capsys.readouterr().out
    assert done.wait_for_completion(False, 30)["status"] == "Completed"  # the project's timeout still works

    failed = exp.start_logging()
    failed.fail("diverged")
    assert failed.wait_for_completion(False, False, False)["status"] == "Failed"
    with pytest.raises(ActivityFailedException, match="diverged"):
        failed.wait_for_completion(show_output=False, wait_post_processing=True, raise_on_error=True)
    with pytest.raises(InvalidArgumentError, match="wait_post_processing"):
        done.wait_for_completion(wait_post_processing="yes")  # type: ignore[arg-type]
