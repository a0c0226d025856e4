"""``run.get_portal_url()`` in a real JupyterLab: the kernel finds the Lab serving the workspace (its
runtime file), the URL names the run and carries no token, and opening it in a browser shows that
run's page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Workspace
from tests.browser.conftest import running_lab

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000


def test_the_portal_url_opens_the_run_page(
    browser: Any, tmp_path: Path, lab_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ws = Workspace.create(root)
    exp = Experiment(ws, "portal")
    with exp.start_logging(display_name="first") as first:
        first.log("acc", 0.5)
    with exp.start_logging(display_name="wanted") as run:
        run.log("acc", 0.9)
    with running_lab(root, lab_home) as lab:
        # This process looks where that server wrote its runtime file, as a kernel of it would.
        monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(lab_home / "runtime"))
        monkeypatch.delenv("MLWS_LAB_URL", raising=False)
        url = run.get_portal_url()
        assert url.startswith(lab.url + "/lab?")
        assert run.id in url
        assert lab.token not in url

        # The browser authenticates by a header, so the URL is opened exactly as get_portal_url gave it.
        context = browser.new_context(
            viewport={"width": 1400, "height": 900}, extra_http_headers={"Authorization": f"token {lab.token}"}
        )
        page = context.new_page()
        page.goto(url)
        run_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{run.id}"]:visible')
        run_page.wait_for(timeout=TIMEOUT_MS)
        run_page.get_by_text("wanted").first.wait_for(timeout=TIMEOUT_MS)
        assert page.locator('[data-testid="mlws-run-page"]').count() == 1  # that run's page, no other
        assert "mlws-run=" not in page.url  # a reload does not reopen it once closed
        context.close()
