"""The run page links back to the notebook a run came from (issue 14 item 9): the link opens the
notebook in JupyterLab and makes the recorded cell the active one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.core.provenance import NOTEBOOK_CELL_ID, NOTEBOOK_EXECUTION_COUNT, NOTEBOOK_PATH
from tests.browser.conftest import running_lab, screenshot
from tests.browser.test_sidebar import open_sidebar

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
CELLS = 40  # more than a screen: the cell has to be scrolled to
TARGET = 33


def _seed(root: Path) -> str:
    """A notebook under the server root and a run whose properties point at one of its cells (as a
    run started in that cell records them)."""
    (root / "work").mkdir()
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell(f"value_{i} = {i}") for i in range(CELLS)]
    nbformat.write(nb, str(root / "work" / "analysis.ipynb"))
    ws = Workspace.create(root)
    properties = {
        NOTEBOOK_PATH: "work/analysis.ipynb",
        NOTEBOOK_CELL_ID: nb.cells[TARGET].id,
        NOTEBOOK_EXECUTION_COUNT: "7",
    }
    with Experiment(ws, "provenance").start_logging(display_name="from-a-cell", properties=properties):
        pass
    return str(nb.cells[TARGET].id)


def test_the_notebook_link_opens_the_notebook_at_the_cell(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    cell_id = _seed(root)
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        page.locator('[data-testid="mlws-experiment-row"]', has_text="provenance").click()
        page.locator('[data-testid="mlws-run-row"]', has_text="from-a-cell").first.click()
        run_page = page.locator('[data-testid="mlws-run-page"]:visible')
        link = run_page.locator('[data-testid="mlws-run-notebook-link"]')
        link.wait_for(timeout=TIMEOUT_MS)
        assert link.inner_text() == "work/analysis.ipynb, cell [7]"
        assert link.get_attribute("data-cell-id") == cell_id
        screenshot(page, "run-notebook-link-header")
        link.click()

        panel = page.locator(".jp-NotebookPanel:visible")
        panel.wait_for(timeout=TIMEOUT_MS)
        page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text="analysis.ipynb").wait_for(
            timeout=TIMEOUT_MS
        )
        active = panel.locator(".jp-Cell.jp-mod-active")
        active.get_by_text(f"value_{TARGET} = {TARGET}").wait_for(timeout=TIMEOUT_MS)
        assert active.is_visible()
        box, view = active.bounding_box(), panel.locator(".jp-WindowedPanel-outer").bounding_box()
        assert box is not None and view is not None
        assert view["y"] <= box["y"] < view["y"] + view["height"]  # scrolled into the notebook's view
        screenshot(page, "run-notebook-link")
