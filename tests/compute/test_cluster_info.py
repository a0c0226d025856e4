"""``describe_cluster`` against a real Dask cluster (``LocalDaskCluster``: ``dask scheduler`` + 2 ``dask
worker`` processes on loopback), and ``ComputeTargetService.describe``: what a backend tells, and its
failure as ``{"error": …}`` (issue 19, "Surfaces")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import ComputeTarget, Workspace
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from jupyter_mlws.compute.dask_cluster_info import describe_cluster
from jupyter_mlws.core.interfaces.compute import ComputeBackend
from jupyter_mlws.errors import BackendUnavailableError, InvalidArgumentError
from tests.support.dask_cluster import WORKER_MEMORY_BYTES, shown_cluster, start_cluster, unreachable_address


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalDaskCluster]:
    with shown_cluster() as started:
        yield started


def _wait_for_event(name: str) -> bool:
    from distributed import Event

    return bool(Event(name).wait(60))


def test_the_workers_of_a_real_cluster_and_what_they_execute(cluster: LocalDaskCluster) -> None:
    from distributed import Client, Event

    info = describe_cluster({"scheduler_address": cluster.address})
    assert info["scheduler"] == cluster.address
    assert info["dashboard"] == cluster.dashboard_url
    assert [(w["name"], w["host"], w["nthreads"], w["executing"]) for w in info["workers"]] == [
        ("worker-0", "127.0.0.1", 1, 0),
        ("worker-1", "127.0.0.1", 1, 0),
    ]
    assert {w["memory_limit"] for w in info["workers"]} == {WORKER_MEMORY_BYTES}

    # A task held on a worker shows as executing there (the scheduler learns it from the heartbeats).
    with Client(cluster.address, set_as_default=False) as client:
        future = client.submit(_wait_for_event, "mlws-test-go", pure=False)
        try:
            deadline = time.monotonic() + 60
            while sum(w["executing"] for w in describe_cluster({"scheduler_address": cluster.address})["workers"]) != 1:
                assert time.monotonic() < deadline, "the running task never showed as executing"
                time.sleep(0.2)
        finally:
            Event("mlws-test-go", client=client).set()
        assert future.result(timeout=60) is True


def test_the_targets_dashboard_url_wins_and_bad_configs_are_named(cluster: LocalDaskCluster) -> None:
    config = {"scheduler_address": cluster.address, "dashboard_url": "https://dask.example/status"}
    assert describe_cluster(config)["dashboard"] == "https://dask.example/status"
    with pytest.raises(InvalidArgumentError, match="scheduler_address"):
        describe_cluster({})


def test_a_scheduler_that_is_down() -> None:
    """A cluster that was there and is gone: started, then stopped."""
    gone = start_cluster(workers=1)
    gone.stop()
    address = gone.address
    with pytest.raises(BackendUnavailableError, match=f"{address} does not answer"):
        describe_cluster({"scheduler_address": address}, timeout=0.5)


class _Telling(ComputeBackend):
    type = "telling"

    def submit(self, run_id: str) -> None:
        raise AssertionError("not run")

    def describe(self) -> dict[str, Any]:
        if self.config.get("fail") == "mlws":
            raise BackendUnavailableError("the engine is down")
        if self.config.get("fail") == "other":
            raise ConnectionRefusedError("refused")
        return {"nodes": 3}


@pytest.mark.parametrize(
    ("config", "cluster"),
    [
        ({}, {"nodes": 3}),
        ({"fail": "mlws"}, {"error": "the engine is down"}),
        ({"fail": "other"}, {"error": "ConnectionRefusedError: refused"}),
    ],
)
def test_the_service_describes_a_target_and_its_failures(
    tmp_path: Path, config: dict[str, Any], cluster: dict[str, Any]
) -> None:
    ws = Workspace.create(tmp_path / "ws")
    target = {"name": "t", "type": "telling", "config": config}
    described = ws.services.compute_targets.describe(target, lambda: _Telling(ws, "t", config))
    assert described == {**target, "cluster": cluster}
    # A backend that tells nothing (the default hook): no cluster.
    local = ComputeTarget(ws, "local")
    assert ws.services.compute_targets.describe(local.serialize(), local.backend)["cluster"] is None


def test_the_service_describes_a_real_dask_target(tmp_path: Path, cluster: LocalDaskCluster) -> None:
    """The ``dask`` type is the real ``DaskCompute``: its ``describe`` is the cluster's, and a scheduler
    that does not answer is the target's ``error``."""
    ws = Workspace.create(tmp_path / "ws")
    target = ComputeTarget.attach(ws, "cluster", {"type": "dask", "scheduler_address": cluster.address})
    described = ws.services.compute_targets.describe(target.serialize(), target.backend)
    assert described["type"] == "dask"
    assert described["cluster"]["dashboard"] == cluster.dashboard_url
    assert [w["name"] for w in described["cluster"]["workers"]] == ["worker-0", "worker-1"]

    address = unreachable_address()
    gone = ComputeTarget.attach(ws, "gone", {"type": "dask", "scheduler_address": address})
    error = ws.services.compute_targets.describe(gone.serialize(), gone.backend)["cluster"]["error"]
    assert address in error and "does not answer" in error
