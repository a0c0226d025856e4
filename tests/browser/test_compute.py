"""Compute surfaces in a real JupyterLab (issue 19): the sidebar's Compute section lists a Dask target
whose row expands to its 2 workers (read from a real ``dask scheduler`` with 2 ``dask worker``
processes on loopback, ``LocalDaskCluster``), a run on that target links to the Dask dashboard, and a
ParallelRunStep step run's page shows its Partitions (summary and one row per mini-batch child, made
with the core API).

One Lab and one cluster for the module. The target is of the real ``dask`` type (``DaskCompute``), here
and in the Lab's process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from jupyter_mlws import ComputeTarget, Experiment, Run, RunStatus, Workspace
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from jupyter_mlws.compute.dask_cluster_info import describe_cluster
from jupyter_mlws.core.workspace import close_backends
from tests.browser.conftest import Lab, running_lab, screenshot
from tests.support.dask_cluster import shown_cluster

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000


@dataclass
class Seeded:
    lab: Lab
    cluster: LocalDaskCluster
    dask_run: str
    step_run: str
    children: dict[str, str]  # partition label -> child run id


def _step_run(ws: Workspace) -> tuple[str, dict[str, str]]:
    """A ParallelRunStep step run as the contract describes it: summary properties, one child per partition."""
    step = Run.create(Experiment(ws, "many-models"), display_name="train-per-store")
    children = {}
    for index, (store, fails) in enumerate([("1042", False), ("7", True), ("13", False)]):
        child = Run.create(
            Experiment(ws, "many-models"),
            parent=step,
            display_name=f"store={store}",
            tags={"store": store},
            properties={"mlws.parallel.index": str(index)},
        )
        if fails:
            child.fail("ValueError: no sales for store 7")
        else:
            child.complete()
        children[f"store={store}"] = child.id
    step.add_properties(
        {
            "mlws.parallel.partitions": "3",
            "mlws.parallel.succeeded": "2",
            "mlws.parallel.failed": "1",
            "mlws.parallel.seconds": "4.5",
            "mlws.parallel.error_threshold": "5",
            "mlws.parallel.partition_keys": '["store"]',
        }
    )
    step.complete()
    return step.id, children


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Seeded]:
    base = tmp_path_factory.mktemp("compute-ui")
    root, home = base / "root", base / "home"
    root.mkdir()
    (home / "config").mkdir(parents=True)
    with shown_cluster() as cluster:
        ws = Workspace.create(root)
        ComputeTarget.attach(ws, "cluster", {"type": "dask", "scheduler_address": cluster.address})
        on_dask = Run.create(Experiment(ws, "train"), status=RunStatus.COMPLETED, compute_target="cluster")
        step_run, children = _step_run(ws)
        with running_lab(root, home) as lab:
            yield Seeded(lab, cluster, on_dask.id, step_run, children)
    close_backends()


def _page(browser: Any, lab: Lab, query: str = "") -> Any:
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, extra_http_headers={"Authorization": f"token {lab.token}"}
    )
    page = context.new_page()
    page.goto(f"{lab.url}/lab{query}")
    return page


def test_the_compute_section_shows_a_dask_targets_workers(browser: Any, seeded: Seeded) -> None:
    page = _page(browser, seeded.lab)
    page.locator('.jp-SideBar [title="ML Workspace"]').click(timeout=TIMEOUT_MS)
    rows = page.locator('#mlws-sidebar [data-testid="mlws-compute-row"]')
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"mlws-compute-row\"]').length === 2", timeout=TIMEOUT_MS
    )
    assert [rows.nth(i).get_attribute("data-name") for i in range(2)] == ["cluster", "local"]
    dask_row = page.locator('[data-testid="mlws-compute-row"][data-name="cluster"]')
    assert dask_row.get_attribute("data-type") == "dask"

    dask_row.locator(".jp-mlws-compute-label").click()
    workers = dask_row.locator('[data-testid="mlws-compute-worker"]')
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"mlws-compute-worker\"]').length === 2", timeout=TIMEOUT_MS
    )
    expected = {w["address"] for w in describe_cluster({"scheduler_address": seeded.cluster.address})["workers"]}
    assert {workers.nth(i).get_attribute("data-address") for i in range(2)} == expected
    for i in range(2):
        text = workers.nth(i).inner_text()
        assert "1 thread" in text and "1 GiB" in text and "0 executing" in text, text
    assert [workers.nth(i).inner_text().split()[0] for i in range(2)] == ["worker-0", "worker-1"]
    link = dask_row.locator('[data-testid="mlws-compute-dashboard"]')
    assert link.get_attribute("href") == seeded.cluster.dashboard_url
    assert link.get_attribute("target") == "_blank"
    screenshot(page, "compute-section")

    # A click folds the row again; the local target has nothing to expand.
    dask_row.locator(".jp-mlws-compute-label").click()
    assert workers.count() == 0 and dask_row.get_attribute("data-expanded") == "false"
    page.context.close()


def test_a_run_on_a_dask_target_links_to_its_dashboard(browser: Any, seeded: Seeded) -> None:
    page = _page(browser, seeded.lab, f"?mlws-run={seeded.dask_run}")
    run_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{seeded.dask_run}"]')
    link = run_page.locator('[data-testid="mlws-dask-dashboard"]')
    link.wait_for(timeout=TIMEOUT_MS)
    assert link.inner_text() == "Dask dashboard"
    assert link.get_attribute("href") == seeded.cluster.dashboard_url
    assert link.get_attribute("target") == "_blank"
    # A run of no ParallelRunStep has no Partitions section.
    assert run_page.locator('[data-testid="mlws-parallel"]').is_hidden()
    page.context.close()


def test_the_partitions_of_a_parallel_run_step(browser: Any, seeded: Seeded) -> None:
    page = _page(browser, seeded.lab, f"?mlws-run={seeded.step_run}")
    run_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{seeded.step_run}"]')
    summary = run_page.locator('[data-testid="mlws-parallel-summary"]')
    summary.wait_for(timeout=TIMEOUT_MS)
    assert [summary.get_attribute(f"data-{k}") for k in ("partitions", "succeeded", "failed", "seconds")] == [
        "3",
        "2",
        "1",
        "4.5",
    ]
    text = summary.inner_text()
    assert "3 partitions" in text and "2 succeeded" in text and "1 failed" in text and "error threshold 5" in text
    rows = run_page.locator('[data-testid="mlws-parallel-row"]')
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"mlws-parallel-row\"]').length === 3", timeout=TIMEOUT_MS
    )
    # The failed partition first, then the others in their order.
    listed = [(rows.nth(i).locator("a").inner_text(), rows.nth(i).get_attribute("data-status")) for i in range(3)]
    assert listed == [("store=7", "Failed"), ("store=1042", "Completed"), ("store=13", "Completed")]
    screenshot(page, "partitions-section")
    # A run on no Dask target has no dashboard link.
    assert run_page.locator('[data-testid="mlws-dask-dashboard"]').count() == 0

    # A partition's link opens its run's page.
    rows.nth(0).locator("a").click()
    child = seeded.children["store=7"]
    page.locator(f'[data-testid="mlws-run-page"][data-run-id="{child}"]').wait_for(timeout=TIMEOUT_MS)
    page.context.close()
