"""The ML Workspace sidebar in a real JupyterLab: seeded experiments and models appear, and new ones
appear live (from the server's events stream, without reloading the page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Model, Workspace
from tests.browser.conftest import screenshot, start_lab, stop_lab

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000


def _seed(root: Path) -> Workspace:
    ws = Workspace.create(root)
    for name in ("mnist", "cifar"):
        with Experiment(ws, name).start_logging(display_name=f"{name}-baseline") as run:
            run.log("acc", 0.9)
    weights = root / "weights.bin"
    weights.write_bytes(b"weights")
    Model.register(ws, str(weights), "classifier").set_alias("prod")
    return ws


def test_the_sidebar_lists_the_workspace_and_follows_it_live(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ws = _seed(root)
    lab, proc = start_lab(root, lab_home)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(lab.page_url())
        tab = page.locator('.jp-SideBar [title="ML Workspace"]')
        tab.wait_for(timeout=TIMEOUT_MS)
        tab.click()
        sidebar = page.locator("#mlws-sidebar")
        sidebar.wait_for(state="visible", timeout=TIMEOUT_MS)
        experiments = sidebar.locator('[data-testid="mlws-experiment-row"]')
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=\"mlws-experiment-row\"]').length === n", arg=2
        )
        assert sorted(experiments.all_inner_texts()) == ["cifar", "mnist"]
        models = sidebar.locator('[data-testid="mlws-model-row"]')
        assert models.all_inner_texts() == ["classifier v1 (prod)"]
        screenshot(page, "sidebar")

        # Changes made elsewhere (here: this process, through the Python API) appear without a reload.
        with Experiment(ws, "live-added").start_logging() as run:
            run.log("acc", 0.5)
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=\"mlws-experiment-row\"]').length === n",
            arg=3,
            timeout=TIMEOUT_MS,
        )
        assert "live-added" in experiments.all_inner_texts()
        screenshot(page, "sidebar-live")
    finally:
        stop_lab(proc, root)
