"""A sweep's run page in a real JupyterLab (issue 18): the Sweep section lists one row per trial with
the best marked, draws the parameters against the primary metric, sorts by the metric on a click of
its header, lists the Bandit policy's decision on the trial it stopped, and "Compare top k" opens the
compare page on the best trials. The sweep is real: three subprocess trials, made with the public API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Workspace
from tests.browser.conftest import running_lab, screenshot
from tests.support.sweeps import small_sweep

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
ROW = '[data-testid="mlws-sweep"] [data-testid="mlws-sweep-row"]'


def _row_ids(page: Any) -> list[str]:
    ids: list[str] = page.evaluate(f"() => [...document.querySelectorAll('{ROW}')].map(r => r.dataset.runId)")
    return ids


def test_the_sweep_section_of_a_sweeps_run_page(
    browser: Any, tmp_path: Path, lab_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    root = tmp_path / "root"
    root.mkdir()
    sweep = small_sweep(Workspace.create(root), tmp_path / "src")  # trials 0.8, 0.9, 0.2: the last stopped
    trials = [f"{sweep.id}_{i}" for i in range(3)]
    with running_lab(root, lab_home) as lab:
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, extra_http_headers={"Authorization": f"token {lab.token}"}
        )
        page = context.new_page()
        page.goto(f"{lab.url}/lab?mlws-run={sweep.id}")
        section = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{sweep.id}"] [data-testid="mlws-sweep"]')
        section.wait_for(timeout=TIMEOUT_MS)

        # One row per trial, in index order, the best (0.9, trial 1) marked.
        page.wait_for_function(f"() => document.querySelectorAll('{ROW}').length === 3", timeout=TIMEOUT_MS)
        assert _row_ids(page) == trials
        best = page.locator(f'{ROW}[data-best="true"]')
        assert best.count() == 1 and best.get_attribute("data-run-id") == trials[1]
        assert "0.9" in best.inner_text()

        # The parallel coordinates: the sampled parameter and the metric, a line per trial.
        chart = '[data-testid="mlws-sweep"] [data-testid="mlws-sweep-chart"]'
        page.wait_for_function(
            "s => { const c = document.querySelector(s); return c && c.data && c.data.length === 1; }",
            arg=chart,
            timeout=TIMEOUT_MS,
        )
        axes = page.evaluate("s => document.querySelector(s).data[0].dimensions.map(d => [d.label, d.values])", chart)
        assert axes == [["--q", [0.8, 0.9, 0.2]], ["acc", [0.8, 0.9, 0.2]]]

        # Sorting by the metric: best first, then worst first.
        header = section.locator('[data-testid="mlws-sweep-sort-metric"]')
        header.click()
        assert _row_ids(page) == [trials[1], trials[0], trials[2]]
        header.click()
        assert _row_ids(page) == [trials[2], trials[0], trials[1]]

        # The Bandit policy's decision on the trial it stopped.
        decisions = section.locator('[data-testid="mlws-sweep-decision"]')
        assert decisions.count() == 1
        assert decisions.first.get_attribute("data-run-id") == trials[2]
        assert "BanditPolicy" in decisions.first.inner_text()
        screenshot(page, "sweep-section")

        # Compare the top k (5 by default; the 3 trials here), best first.
        compare = section.locator('[data-testid="mlws-sweep-compare"]')
        assert compare.inner_text() == "Compare top 3"
        compare.click()
        view = page.locator('[data-testid="mlws-compare-page"]:visible')
        view.wait_for(timeout=TIMEOUT_MS)
        legend = view.locator(".jp-mlws-legend-item")
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=\"mlws-compare-page\"] .jp-mlws-legend-item').length === 3",
            timeout=TIMEOUT_MS,
        )
        assert [legend.nth(i).get_attribute("title") for i in range(3)] == [trials[1], trials[0], trials[2]]
        context.close()
