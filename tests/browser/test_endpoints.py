"""Endpoints in a real JupyterLab (issue 17): the sidebar's Endpoints section and the endpoint page.

One flow: a real local web service (a linear model behind an entry script) is deployed; the section
lists it Healthy with its scoring URI, and its copy button copies the primary key (read through the
keys route). A click opens the service's page: its state, URI and models; the Test box posts a body
through the server (with the primary key) and shows the reply with status 200 and its latency;
requests sent meanwhile from Python show up in the latency, throughput and error-rate charts (drawn
from the telemetry route, refreshed while the page is open); the service log is shown. A second
service deployed from Python appears in the section live, and leaves it once deleted.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Webservice, Workspace
from tests.browser.conftest import running_lab, screenshot
from tests.browser.test_sidebar import open_sidebar
from tests.support.serving import SAMPLE_SCORE, deploy_linear

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
NAME = "iris-svc"
OTHER = "other-svc"
ROW = f'[data-testid="mlws-endpoint-row"][data-name="{NAME}"]'
PAGE = f'[data-testid="mlws-endpoint-page"][data-name="{NAME}"]'
MEANWHILE = 5  # requests sent from Python while the page is open


def test_endpoints_flow(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    # A short root: the service's control socket path must fit AF_UNIX's 108 bytes.
    root = tmp_path / "r"
    root.mkdir()
    ws = Workspace.create(root)
    service = deploy_linear(ws, tmp_path / "scratch", NAME)
    try:
        with running_lab(root, lab_home) as lab:
            page = open_sidebar(browser, lab)
            page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)

            # The section: the service, Healthy, with its scoring URI.
            row = page.locator(ROW)
            row.wait_for(timeout=TIMEOUT_MS)
            dot = row.locator('[data-testid="mlws-endpoint-state"]')
            assert dot.get_attribute("title") == "Healthy" and dot.get_attribute("data-state") == "Healthy"
            assert row.locator('[data-testid="mlws-endpoint-uri"]').inner_text() == service.scoring_uri

            # Copy key: the primary key, read through the keys route, goes to the clipboard.
            copy = row.locator('[data-testid="mlws-endpoint-copy-key"]')
            with page.expect_response(lambda r: r.url.split("?", 1)[0].endswith(f"/webservices/{NAME}/keys")) as keys:
                copy.click()
            assert keys.value.status == 200 and keys.value.json()["primary"] == service.get_keys()[0]
            page.wait_for_function(
                """sel => document.querySelector(sel)?.dataset.copied === 'true'""",
                arg=f'{ROW} [data-testid="mlws-endpoint-copy-key"]',
                timeout=TIMEOUT_MS,
            )
            clipboard = page.evaluate("navigator.clipboard.readText().catch(() => null)")
            if clipboard is not None:  # headless Chromium may keep no system clipboard
                assert clipboard == service.get_keys()[0]
            # The copy did not open the page; a click on the row does.
            assert page.locator(PAGE).count() == 0
            row.click()
            view = page.locator(PAGE)
            view.wait_for(state="visible", timeout=TIMEOUT_MS)
            page.wait_for_function(
                """sel => document.querySelector(sel)?.dataset.state === 'Healthy'""", arg=PAGE, timeout=TIMEOUT_MS
            )
            facts = view.locator('[data-testid="mlws-endpoint-facts"]').inner_text()
            assert str(service.scoring_uri) in facts and "lin:1" in facts, facts

            # The Test box: prefilled with a sample; Send posts it and shows the service's reply.
            box = view.locator('[data-testid="mlws-endpoint-test"]')
            assert json.loads(box.input_value()) == {"data": [[1, 2, 3, 4]]}
            box.fill('{"data": [[1, 2, 3, 4], [0, 0, 0, 1]]}')
            view.locator('[data-testid="mlws-endpoint-test-send"]').click()
            reply = view.locator('[data-testid="mlws-endpoint-test-reply"]')
            page.wait_for_function(
                """sel => document.querySelector(sel)?.dataset.status === '200'""",
                arg=f'{PAGE} [data-testid="mlws-endpoint-test-reply"]',
                timeout=TIMEOUT_MS,
            )
            text = reply.inner_text()
            assert text.startswith("200 · ") and " ms" in text.splitlines()[0], text
            body = reply.locator("pre").inner_text()
            assert json.loads(body) == [*SAMPLE_SCORE, 4.0], body

            # Requests sent meanwhile (and the Test one) show up in the charts: the page reads the
            # telemetry again every few seconds while it is open.
            for _ in range(MEANWHILE):
                assert service.run({"data": [[1, 2, 3, 4]]}) == SAMPLE_SCORE
            page.wait_for_function(
                """([sel, least]) => {
                    const charts = [...document.querySelectorAll(sel)];
                    return charts.length === 3 && charts.every(
                        c => Number(c.dataset.requests) >= least && c.classList.contains('js-plotly-plot'));
                }""",
                arg=[f'{PAGE} [data-testid="mlws-endpoint-chart"]', MEANWHILE + 1],
                timeout=TIMEOUT_MS,
            )
            charts = view.locator('[data-testid="mlws-endpoint-chart"]')
            assert [c.get_attribute("data-chart") for c in charts.all()] == ["latency", "throughput", "errors"]
            requests = int(view.locator('[data-testid="mlws-endpoint-totals"]').get_attribute("data-requests") or 0)
            assert requests >= MEANWHILE + 1
            # The latency chart's two series hold points (p50 and p99 of the busy buckets).
            traces = page.evaluate(
                """sel => document.querySelector(sel).data.map(t => ({
                    name: t.name, points: t.y.filter(v => v !== null).length }))""",
                f'{PAGE} [data-testid="mlws-endpoint-chart"][data-chart="latency"]',
            )
            assert [t["name"] for t in traces] == ["p50", "p99"] and all(t["points"] > 0 for t in traces), traces

            # The service log.
            page.wait_for_function(
                """([sel, name]) => (document.querySelector(sel)?.textContent ?? '').includes(`serving ${name}`)""",
                arg=[f'{PAGE} [data-testid="mlws-endpoint-log"]', NAME],
                timeout=TIMEOUT_MS,
            )
            view.locator('[data-testid="mlws-endpoint-test-reply"]').scroll_into_view_if_needed()
            view.evaluate("node => { node.scrollTop = 0; }")
            screenshot(page, "endpoint-page")

            # The section follows the workspace live: a service deployed from Python appears, and goes
            # once deleted (webservice.created / webservice.deleted events).
            deploy_linear(ws, tmp_path / "scratch", OTHER)
            other = page.locator(f'[data-testid="mlws-endpoint-row"][data-name="{OTHER}"]')
            other.wait_for(timeout=TIMEOUT_MS)
            page.wait_for_function(
                "sel => document.querySelector(sel)?.dataset.state === 'Healthy'",
                arg=f'[data-testid="mlws-endpoint-row"][data-name="{OTHER}"]',
                timeout=TIMEOUT_MS,
            )
            Webservice(ws, OTHER).delete()
            other.wait_for(state="detached", timeout=TIMEOUT_MS)
            assert page.locator(ROW).count() == 1
    finally:
        for name in (NAME, OTHER):
            with contextlib.suppress(Exception):
                Webservice(ws, name).delete()
