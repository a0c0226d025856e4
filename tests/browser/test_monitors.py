"""Data-drift monitors in a real JupyterLab (issue 20), one flow: the sidebar's Monitors section shows a
detector checked on its first two weeks (the first too small to check, the second clean: no alert);
its page draws them (the failed week marked, the threshold at 20); Backfill of the last two weeks
starts a check (a notification names its run, the page's Checks list shows it), and when the agent has
checked them the alert appears live: a JupyterLab warning, the badge in the sidebar, the page redrawn
with the drifted weeks above the threshold, the latest week's contributions (a drifted column on top)
and a feature's baseline-vs-target distribution; another week is picked from the interval select; the
new check's run page shows the same panels. The detector and its checks are real: a month of
time-stamped target data (20 columns, ``tests/support/drift_data.py``) with drift in 3 of them from
week 3, checked by the agent through the public facade."""

from __future__ import annotations

import datetime as dt
import re
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
ROWS_PER_WEEK = (20, 400, 400, 400)  # week 1 has too few rows to check (fewer than 50): its check fails
PAGE = f'[data-testid="mlws-monitor-page"][data-name="{NAME}"]'
ROW = f'[data-testid="mlws-monitor-row"][data-name="{NAME}"]'


def _week(index: int) -> dt.datetime:
    return MONDAY + dt.timedelta(weeks=index)


def _target() -> pd.DataFrame:
    """``ROWS_PER_WEEK`` rows each week, spread over it; the drifted columns shift from week 3 on."""
    parts = []
    for week, rows in enumerate(ROWS_PER_WEEK):
        frame = drift_frame(rows, seed=10 + week, shift=2.0 if week >= 2 else 0.0)
        step = dt.timedelta(weeks=1) / rows
        frame.insert(0, "time", [(_week(week) + i * step).isoformat() for i in range(rows)])
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _seed(root: Path) -> None:
    """A weekly detector (threshold 0.2) of a month of target data against a baseline, with a completed
    backfill of its first two weeks."""
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
    detector.backfill(_week(0), _week(2)).wait_for_completion()


def _chart(page: Any, selector: str, ready: str) -> None:
    """Wait until the plotly chart at ``selector`` satisfies ``ready`` (JS on ``c``, the chart node)."""
    page.wait_for_function(
        f"s => {{ const c = document.querySelector(s); return !!(c && c.data && ({ready})); }}",
        arg=selector,
        timeout=TIMEOUT_MS,
    )


def test_monitors_section_detector_page_backfill_alert_and_drift_run_page(
    browser: Any, tmp_path: Path, lab_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    root = tmp_path / "root"
    root.mkdir()
    _seed(root)
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)

        # The Monitors row: the name and the clean second week's magnitude, no alert badge.
        row = page.locator(ROW)
        row.wait_for(timeout=TIMEOUT_MS)
        assert row.get_attribute("data-alert") == "false"
        assert row.locator('[data-testid="mlws-monitor-alert"]').count() == 0
        assert float(row.locator('[data-testid="mlws-monitor-magnitude"]').inner_text()) < 20
        row.click()

        # The detector page: the checked week as a point, the failed week marked, the threshold at 20.
        view = page.locator(PAGE)
        page.locator(f'{PAGE}[data-alert="false"]').wait_for(timeout=TIMEOUT_MS)  # once the page has read it
        magnitude = f'{PAGE} [data-testid="mlws-drift-magnitude"]'
        _chart(page, magnitude, "c.data[0].y.length === 1 && c.data[1].x.length === 1")
        assert page.evaluate("s => document.querySelector(s).layout.shapes[0].y0", magnitude) == 20

        # Backfill the last two weeks: a notification names the new check, the Checks list shows it.
        view.locator('[data-testid="mlws-drift-backfill"]').click()
        dialog = page.locator('[data-testid="mlws-drift-backfill-dialog"]')
        dialog.wait_for(timeout=TIMEOUT_MS)
        dialog.locator('[data-testid="mlws-drift-backfill-start"]').fill(_week(2).date().isoformat())
        dialog.locator('[data-testid="mlws-drift-backfill-end"]').fill(_week(4).date().isoformat())
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        page.get_by_text(f"Backfill of {NAME} started", exact=False).first.wait_for(timeout=TIMEOUT_MS)
        check_id = view.locator('[data-testid="mlws-drift-backfill"]').get_attribute("data-run-id")
        assert check_id
        page.locator(f'{PAGE} [data-testid="mlws-monitor-run"][data-run-id="{check_id}"]').wait_for(timeout=TIMEOUT_MS)

        # Once the agent has checked them, the alert appears live: a warning, the badge, the page.
        warning = re.compile(rf"Data drift: {NAME} magnitude \d+\.\d above threshold 20\.0")
        page.get_by_text(warning).first.wait_for(timeout=TIMEOUT_MS)
        page.locator(f'{ROW} [data-testid="mlws-monitor-alert"]').wait_for(timeout=TIMEOUT_MS)
        page.locator(f'{PAGE}[data-alert="true"]').wait_for(timeout=TIMEOUT_MS)
        _chart(page, magnitude, "c.data[0].y.length === 3")
        weeks = page.evaluate("s => document.querySelector(s).data[0].customdata", magnitude)
        values = page.evaluate("s => document.querySelector(s).data[0].y", magnitude)
        assert values[0] < 20 < min(values[1:]), values  # the drifted weeks above the threshold
        assert page.locator(magnitude).get_attribute("data-interval") == weeks[-1]  # the latest week chosen

        # The latest week's contributions, a drifted column on top, and its distribution overlay.
        contributions = f'{PAGE} [data-testid="mlws-drift-contributions"]'
        _chart(page, contributions, f"c.dataset.interval === '{weeks[-1]}' && c.data[0].y.length > 0")
        top = page.evaluate(
            "s => { const y = document.querySelector(s).data[0].y; return y[y.length - 1]; }", contributions
        )
        assert top in DRIFTED, top
        _chart(
            page,
            f'{PAGE} [data-testid="mlws-drift-distribution"]',
            f"c.dataset.feature === '{top}' && c.data.length === 2",
        )
        screenshot(page, "monitor-page")

        # Another week from the interval select (the clean second week): its contributions are drawn.
        view.locator('[data-testid="mlws-drift-interval"]').select_option(weeks[0])
        _chart(page, contributions, f"c.dataset.interval === '{weeks[0]}'")

        # The new check's run page: the same panels on its two weeks, from runs/{id}/drift.
        page.locator(f'{PAGE} [data-testid="mlws-monitor-run"][data-run-id="{check_id}"]').click()
        section = f'[data-testid="mlws-run-page"][data-run-id="{check_id}"] [data-testid="mlws-drift"]'
        page.locator(section).wait_for(timeout=TIMEOUT_MS)
        _chart(page, f'{section} [data-testid="mlws-drift-magnitude"]', "c.data[0].y.length === 2")
        _chart(page, f'{section} [data-testid="mlws-drift-contributions"]', "c.data[0].y.length > 0")
        screenshot(page, "drift-run-page")
        page.close()
