"""Data-drift monitors in a real JupyterLab (issue 20): the sidebar's Monitors section shows a detector
with its last magnitude and an alert badge; its page draws the magnitude of each week with the
threshold (the first week, too small to check, marked failed), the chosen week's contributions (a
drifted column on top) and a feature's baseline-vs-target distribution; another week is picked from
the interval select; Backfill starts a new check (a notification names its run, the page's Checks list
follows the events feed); and the first check's run page shows the same panels. The detector and its
backfill are real: a month of time-stamped target data (20 columns, ``tests/support/drift_data.py``)
with drift in 3 of them from week 3, checked by the agent through the public facade."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jupyter_mlws import DataDriftDetector, Dataset, Workspace
from tests.browser.conftest import running_lab, screenshot
from tests.browser.test_sidebar import open_sidebar
from tests.support.drift_data import DRIFTED, drift_frame

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
NAME = "sales-drift"
MONDAY = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)  # weeks are aligned on Mondays
WEEKS = 4
ROWS_PER_WEEK = (20, 400, 400, 400)  # week 1 has too few rows to check (fewer than 50): its check fails
PAGE = f'[data-testid="mlws-monitor-page"][data-name="{NAME}"]'


def _target() -> pd.DataFrame:
    """``ROWS_PER_WEEK`` rows each week, spread over it; the drifted columns shift from week 3 on."""
    parts = []
    for week, rows in enumerate(ROWS_PER_WEEK):
        frame = drift_frame(rows, seed=10 + week, shift=2.0 if week >= 2 else 0.0)
        start = MONDAY + dt.timedelta(weeks=week)
        step = dt.timedelta(weeks=1) / rows
        frame.insert(0, "time", [(start + i * step).isoformat() for i in range(rows)])
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _seed(root: Path) -> tuple[Workspace, str]:
    """A weekly detector (threshold 0.2) of a month of target data against a baseline, and a
    completed backfill of the month."""
    ws = Workspace.create(root)
    data = root / "data"
    data.mkdir()
    drift_frame(800, seed=1).to_csv(data / "baseline.csv", index=False)
    _target().to_csv(data / "target.csv", index=False)
    baseline = Dataset.Tabular.from_delimited_files(str(data / "baseline.csv")).register(ws, "sales-baseline")
    target = (
        Dataset.Tabular.from_delimited_files(str(data / "target.csv"))
        .with_timestamp_columns(timestamp="time")
        .register(ws, "sales-target")
    )
    detector = DataDriftDetector.create_from_datasets(ws, NAME, baseline, target, frequency="Week", drift_threshold=0.2)
    run = detector.backfill(MONDAY, MONDAY + dt.timedelta(weeks=WEEKS))
    run.wait_for_completion()
    return ws, run.id


def _chart(page: Any, selector: str, ready: str) -> Any:
    """Wait until the plotly chart at ``selector`` satisfies ``ready`` (JS on ``c``, the chart node)."""
    page.wait_for_function(
        f"s => {{ const c = document.querySelector(s); return !!(c && c.data && ({ready})); }}",
        arg=selector,
        timeout=TIMEOUT_MS,
    )
    return page.locator(selector)


def test_the_monitors_section_detector_page_backfill_and_drift_run_page(
    browser: Any, tmp_path: Path, lab_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    root = tmp_path / "root"
    root.mkdir()
    _, backfill_id = _seed(root)
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)

        # The Monitors row: the name, the last week's magnitude, the alert badge (weeks 3-4 drifted).
        row = page.locator(f'[data-testid="mlws-monitor-row"][data-name="{NAME}"]')
        row.wait_for(timeout=TIMEOUT_MS)
        assert row.get_attribute("data-alert") == "true"
        assert row.locator('[data-testid="mlws-monitor-alert"]').count() == 1
        magnitude = row.locator('[data-testid="mlws-monitor-magnitude"]').inner_text()
        assert float(magnitude) > 20, magnitude
        row.click()

        # The detector page: a point per checked week, the failed week marked, the threshold at 20, the
        # latest week chosen.
        view = page.locator(PAGE)
        page.locator(f'{PAGE}[data-alert="true"]').wait_for(timeout=TIMEOUT_MS)  # once the page has read it
        magnitude_chart = f'{PAGE} [data-testid="mlws-drift-magnitude"]'
        _chart(page, magnitude_chart, f"c.data[0].y.length === {WEEKS - 1} && c.data[1].x.length === 1")
        threshold = page.evaluate("s => document.querySelector(s).layout.shapes[0].y0", magnitude_chart)
        assert threshold == 20
        weeks = page.evaluate("s => document.querySelector(s).data[0].customdata", magnitude_chart)
        assert page.locator(magnitude_chart).get_attribute("data-interval") == weeks[-1]

        # The chosen week's contributions: a drifted column on top; its distribution overlay.
        contributions = f'{PAGE} [data-testid="mlws-drift-contributions"]'
        _chart(page, contributions, f"c.dataset.interval === '{weeks[-1]}' && c.data[0].y.length > 0")
        top = page.evaluate(
            "s => { const y = document.querySelector(s).data[0].y; return y[y.length - 1]; }", contributions
        )
        assert top in DRIFTED, top
        distribution = f'{PAGE} [data-testid="mlws-drift-distribution"]'
        _chart(page, distribution, f"c.dataset.feature === '{top}' && c.data.length === 2")
        screenshot(page, "monitor-page")

        # Another week from the interval select (the clean week 2): its contributions are drawn.
        view.locator('[data-testid="mlws-drift-interval"]').select_option(weeks[0])
        _chart(page, contributions, f"c.dataset.interval === '{weeks[0]}'")

        # Backfill the first week again: a notification names the new check, the Checks list shows it.
        view.locator('[data-testid="mlws-drift-backfill"]').click()
        dialog = page.locator('[data-testid="mlws-drift-backfill-dialog"]')
        dialog.wait_for(timeout=TIMEOUT_MS)
        dialog.locator('[data-testid="mlws-drift-backfill-start"]').fill(MONDAY.date().isoformat())
        dialog.locator('[data-testid="mlws-drift-backfill-end"]').fill(
            (MONDAY + dt.timedelta(weeks=1)).date().isoformat()
        )
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        page.get_by_text(f"Backfill of {NAME} started", exact=False).first.wait_for(timeout=TIMEOUT_MS)
        new_id = view.locator('[data-testid="mlws-drift-backfill"]').get_attribute("data-run-id")
        assert new_id and new_id != backfill_id
        page.locator(f'{PAGE} [data-testid="mlws-monitor-run"][data-run-id="{new_id}"]').wait_for(timeout=TIMEOUT_MS)

        # The first check's run page: the same panels, from runs/{id}/drift.
        page.locator(f'{PAGE} [data-testid="mlws-monitor-run"][data-run-id="{backfill_id}"]').click()
        run_section = f'[data-testid="mlws-run-page"][data-run-id="{backfill_id}"] [data-testid="mlws-drift"]'
        page.locator(run_section).wait_for(timeout=TIMEOUT_MS)
        _chart(page, f'{run_section} [data-testid="mlws-drift-magnitude"]', f"c.data[0].y.length === {WEEKS - 1}")
        _chart(page, f'{run_section} [data-testid="mlws-drift-contributions"]', "c.data[0].y.length > 0")
        screenshot(page, "drift-run-page")
        page.close()
