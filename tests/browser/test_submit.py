"""Submit notebook as job, from JupyterLab: the notebook toolbar button opens a dialog built from the
notebook's `parameters` cell, refuses a value of the wrong type, submits through the server, and the
run appears in the sidebar and completes (with a notification)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Workspace
from tests.browser.conftest import running_lab, screenshot

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000
EXAMPLE = Path(__file__).resolve().parents[2] / "notebooks" / "train.ipynb"


def test_submit_the_example_notebook_from_its_toolbar(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    Workspace.create(root)
    shutil.copy(EXAMPLE, root / "train.ipynb")
    with running_lab(root, lab_home) as lab:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{lab.url}/lab/tree/train.ipynb?token={lab.token}")
        button = page.locator('[data-testid="mlws-submit-button"]')
        button.wait_for(timeout=TIMEOUT_MS)
        button.click()
        dialog = page.locator('[data-testid="mlws-submit-dialog"]')
        dialog.wait_for(timeout=TIMEOUT_MS)
        epochs = dialog.locator('input[name="param-epochs"]')
        assert epochs.input_value() == "20"  # the default, from the parameters cell
        assert dialog.locator('input[name="param-learning_rate"]').input_value() == "0.5"
        assert dialog.locator('select[name="compute_target"]').input_value() == "local"
        screenshot(page, "submit-dialog")

        epochs.fill("abc")
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        errors = page.locator('[data-testid="mlws-submit-errors"]')
        errors.wait_for(timeout=TIMEOUT_MS)
        assert "epochs must be a whole number" in errors.inner_text()
        assert Workspace(root).search_runs().runs == []  # refused in the dialog: nothing submitted

        page.locator('[data-testid="mlws-submit-dialog"] input[name="param-epochs"]').fill("7")
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        # The run shows in the sidebar at once, and its status follows it to the end.
        row = page.locator('[data-testid="mlws-run-row"]')
        row.first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_selector('[data-testid="mlws-run-status"][data-status="Completed"]', timeout=TIMEOUT_MS)
        page.get_by_text("completed", exact=False).first.wait_for(timeout=TIMEOUT_MS)  # the notification
        screenshot(page, "submit-completed")
        [run] = Workspace(root).search_runs().runs
        assert run.status == "Completed" and len(run.get_metrics()["loss"]) == 7
        assert "outputs/train.ipynb" in run.get_file_names()

        # The notification links to the run's page: its chart has the 7 logged points.
        page.get_by_role("button", name="Show run").first.click()
        chart = f'[data-run-id="{run.id}"] [data-testid="mlws-metric-chart"][data-metric="loss"]'
        page.wait_for_function(
            "s => { const c = document.querySelector(s); return c && c.data && c.data[0].x.length === 7; }",
            arg=chart,
            timeout=TIMEOUT_MS,
        )
        run_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{run.id}"]')
        run_page.locator('[data-testid="mlws-file-row"][data-path="outputs/train.ipynb"]').wait_for(timeout=TIMEOUT_MS)
        # The parameters it ran with are the run's params: the given epochs, the default learning rate.
        assert run.get_params() == {"epochs": "7", "learning_rate": "0.5"}
        details = run_page.locator('[data-testid="mlws-run-details"]').inner_text()
        assert "epochs\t7" in details and "learning_rate\t0.5" in details
        screenshot(page, "submit-run-page")
