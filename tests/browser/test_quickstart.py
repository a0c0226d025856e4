"""A new user's first session: `jupyter lab` on a folder holding only the quickstart notebook, Run All
in JupyterLab (a real kernel), and the ML Workspace sidebar shows the runs and the model as they
appear — the workspace does not even exist when the page opens — then two runs are compared."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import running_lab, screenshot

pytestmark = pytest.mark.browser
TIMEOUT_MS = 180_000
QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def run_all(page: Any) -> None:
    """Run > Run All Cells once the kernel is connected and idle, as the status bar says, until
    the kernel has taken the work (a click that lands while JupyterLab is still settling the
    notebook's session runs nothing: then it is made again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for(timeout=TIMEOUT_MS)
    taken = page.locator(".jp-CodeCell .jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]")).first
    for _ in range(3):
        page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook is the current widget
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        try:
            taken.wait_for(timeout=20_000)
            return
        except PlaywrightTimeout:
            continue  # not taken: make the click again
    taken.wait_for(timeout=1)  # fails with Playwright's own message


def test_the_quickstart_notebook_fills_the_sidebar_live(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(QUICKSTART, root / "quickstart.ipynb")
    with running_lab(root, lab_home) as lab:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{lab.url}/lab/tree/quickstart.ipynb?token={lab.token}")
        # The ML Workspace icon is in the left bar; its sidebar is empty: there is no workspace yet.
        tab = page.locator('.jp-SideBar [title="ML Workspace"]')
        tab.wait_for(timeout=TIMEOUT_MS)
        tab.click()
        sidebar = page.locator("#mlws-sidebar")
        sidebar.get_by_text("None yet").first.wait_for(timeout=TIMEOUT_MS)
        assert page.locator('[data-testid="mlws-experiment-row"]').count() == 0
        run_all(page)

        # Without reloading: the experiment, then the registered model (the notebook's last step).
        page.locator('[data-testid="mlws-experiment-row"]', has_text="quickstart").wait_for(timeout=TIMEOUT_MS)
        model = page.locator('[data-testid="mlws-model-row"][data-model="quickstart-model"]')
        model.wait_for(timeout=TIMEOUT_MS)
        assert model.inner_text() == "quickstart-model v1"
        page.locator('[data-testid="mlws-experiment-row"]', has_text="quickstart").click()
        runs = page.locator('[data-testid="mlws-run-row"]')
        page.wait_for_function(
            '() => document.querySelectorAll(\'[data-testid="mlws-run-row"] [data-status="Completed"]\').length === 2',
            timeout=TIMEOUT_MS,
        )
        screenshot(page, "quickstart-sidebar")

        # Compare the interactive run with the job.
        for index in range(2):
            runs.nth(index).locator('[data-testid="mlws-run-select"]').check()
        page.locator('[data-testid="mlws-compare-button"]').click()
        loss = '[data-testid="mlws-compare-page"] [data-testid="mlws-compare-chart"][data-metric="loss"]'
        page.wait_for_function(
            "s => { const c = document.querySelector(s); return c && c.data && c.data.length === 2; }",
            arg=loss,
            timeout=TIMEOUT_MS,
        )
        lengths = sorted(page.evaluate("s => document.querySelector(s).data.map(t => t.x.length)", loss))
        assert lengths == [20, 30]  # the job's 20 epochs, the interactive run's 30 steps
        table = page.locator('[data-testid="mlws-compare-table"]')
        assert table.locator('tr[data-key="params.epochs"]').get_attribute("data-differs") == "true"
        screenshot(page, "quickstart-compare")
