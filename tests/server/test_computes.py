"""``GET computes/{name}`` (issue 19, "Surfaces"): a Dask target with its workers, read from a real
scheduler (``LocalDaskCluster``: ``dask scheduler`` + 2 ``dask worker`` processes on loopback); a
scheduler that is down is a ``cluster.error`` in a 200, never a 5xx; an unknown target is a 404 naming
the attached ones. Every reply is validated against openapi.yaml by the ``api`` client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import ComputeTarget, Workspace
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from tests.server.conftest import Api, expect_error
from tests.support.dask_cluster import WORKER_MEMORY_BYTES, shown_cluster, unreachable_address


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalDaskCluster]:
    with shown_cluster() as started:
        yield started


@pytest.fixture
def ws(jp_root_dir: Path) -> Workspace:
    return Workspace.create(Path(jp_root_dir))


async def test_a_dask_target_shows_its_workers(api: Api, ws: Workspace, cluster: LocalDaskCluster) -> None:
    ComputeTarget.attach(ws, "cluster", {"type": "dask", "scheduler_address": cluster.address})
    data = await api.ok("computes/cluster")
    assert (data["name"], data["type"]) == ("cluster", "dask")
    assert data["config"]["scheduler_address"] == cluster.address
    info = data["cluster"]
    assert info["scheduler"] == cluster.address
    assert info["dashboard"] == cluster.dashboard_url
    assert [w["name"] for w in info["workers"]] == ["worker-0", "worker-1"]
    for worker in info["workers"]:
        assert worker["address"].startswith("tcp://127.0.0.1:")
        assert (worker["nthreads"], worker["memory_limit"], worker["executing"]) == (1, WORKER_MEMORY_BYTES, 0)
    # The list names the target without asking its scheduler.
    listed = {t["name"]: t for t in (await api.ok("computes"))["items"]}
    assert listed["cluster"]["type"] == "dask" and "cluster" not in listed["cluster"]


async def test_the_dashboard_url_of_the_target_wins(api: Api, ws: Workspace, cluster: LocalDaskCluster) -> None:
    config = {"type": "dask", "scheduler_address": cluster.address, "dashboard_url": "https://dask.example/status"}
    ComputeTarget.attach(ws, "proxied", config)
    assert (await api.ok("computes/proxied"))["cluster"]["dashboard"] == "https://dask.example/status"


async def test_a_scheduler_that_is_down_is_an_error_inside_the_answer(api: Api, ws: Workspace) -> None:
    address = unreachable_address()
    ComputeTarget.attach(ws, "gone", {"type": "dask", "scheduler_address": address})
    data = await api.ok("computes/gone")
    assert data["name"] == "gone"
    assert address in data["cluster"]["error"] and "does not answer" in data["cluster"]["error"]


async def test_local_and_unknown_targets(api: Api, ws: Workspace) -> None:
    assert await api.ok("computes/local") == {"name": "local", "type": "local", "config": ws.compute_targets[
        "local"].config, "cluster": None}  # fmt: skip
    expect_error(await api.get("computes/nope"), 404, "ComputeTargetNotFoundError", "'nope'", "local")
