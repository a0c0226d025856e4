"""Pipelines in a real JupyterLab (issue 16, part 6): the sidebar's Pipelines section and the
pipeline-run page — the step graph laid out by dagre, nodes coloured by status, reused steps marked
with the reason on hover, a click opening the step's run page, and step states changing live.

One flow: a fan-in pipeline (``load`` and ``features`` → ``train`` → ``report``) runs, then runs again
with every step reused; its graph page shows that. A third run holds ``train`` on a gate file: its page
shows ``train`` Running and ``report`` waiting, and follows them to Completed once the test releases
the gate.

A second, short flow: a published pipeline and a schedule whose first fire is years away are listed in
the section's Published and Schedules groups (the schedule with its pipeline, recurrence and next fire
time, relative); disabling the pipeline from Python turns its row Disabled live (the section reads them
again on a slow timer: a disable announces no change event).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Schedule, ScheduleRecurrence, Workspace
from jupyter_mlws.core.status import TERMINAL_STATUSES
from tests.browser.conftest import running_lab, screenshot
from tests.browser.test_sidebar import open_sidebar
from tests.support.pipelines import STEPS, fan_in_pipeline

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
NODE = '[data-testid="mlws-pipeline-node"]'
PUBLISHED_ROW = '[data-testid="mlws-published-pipeline-row"]'
SCHEDULE_ROW = '[data-testid="mlws-schedule-row"]'


def _page_of(page: Any, run_id: str) -> Any:
    return page.locator(f'[data-testid="mlws-pipeline-run-page"][data-run-id="{run_id}"]')


def _wait_for_node(page: Any, run_id: str, step: str, status: str) -> None:
    page.wait_for_function(
        """([runId, step, status]) => {
            const view = document.querySelector(`[data-testid="mlws-pipeline-run-page"][data-run-id="${runId}"]`);
            const node = view && view.querySelector(`[data-testid="mlws-pipeline-node"][data-step="${step}"]`);
            return node !== null && node.dataset.status === status; }""",
        arg=[run_id, step, status],
        timeout=TIMEOUT_MS,
    )


def test_pipeline_graph_shows_reuse_and_follows_steps_live(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ws = Workspace.create(root)
    exp = Experiment(ws, "pipes")
    first = exp.submit(fan_in_pipeline(ws, root))
    assert first.wait_for_completion(show_output=False, timeout_seconds=120) == "Completed"
    again = exp.submit(fan_in_pipeline(ws, root))
    assert again.wait_for_completion(show_output=False, timeout_seconds=120) == "Completed"
    first_ids = {s.name: s.id for s in first.get_steps()}
    gate = tmp_path / "gate"
    held = None
    try:
        with running_lab(root, lab_home) as lab:
            page = open_sidebar(browser, lab)
            rows = page.locator('[data-testid="mlws-pipeline-run-row"]')
            rows.nth(1).wait_for(timeout=TIMEOUT_MS)
            assert [r.get_attribute("data-run-id") for r in rows.all()] == [again.id, first.id]  # newest first
            assert rows.first.get_attribute("data-status") == "Completed"
            assert "4/4" in rows.first.inner_text()
            rows.first.click()

            # The re-run: four steps, all Completed and reused, each saying from which run and why.
            view = _page_of(page, again.id)
            view.wait_for(state="visible", timeout=TIMEOUT_MS)
            nodes = view.locator(NODE)
            nodes.nth(len(STEPS) - 1).wait_for(timeout=TIMEOUT_MS)
            assert nodes.count() == len(STEPS)
            assert sorted(n.get_attribute("data-step") for n in nodes.all()) == sorted(STEPS)
            assert {n.get_attribute("data-status") for n in nodes.all()} == {"Completed"}
            assert {n.get_attribute("data-reused") for n in nodes.all()} == {"true"}
            assert view.locator('[data-testid="mlws-pipeline-reused-badge"]').count() == len(STEPS)
            train = view.locator(f'{NODE}[data-step="train"]')
            title = train.get_attribute("title")
            assert f"Reused the outputs of run {first_ids['train']}" in title, title
            assert f"nothing it depends on changed since run {first_ids['train']}" in title, title
            assert view.locator('[data-testid="mlws-pipeline-edge"]').count() == 3
            # Laid out in ranks: the fan-in's two inputs side by side above train, report below it.
            box = {s: view.locator(f'{NODE}[data-step="{s}"]').bounding_box() for s in STEPS}
            assert box["load"]["y"] == box["features"]["y"] and box["load"]["x"] != box["features"]["x"]
            assert box["load"]["y"] < box["train"]["y"] < box["report"]["y"]
            screenshot(page, "pipeline-run-reused")

            # A third run holds train on the gate (its arguments changed, so it runs: the hover says why).
            held = exp.submit(fan_in_pipeline(ws, root, gate=gate))
            row = page.locator(f'[data-testid="mlws-pipeline-run-row"][data-run-id="{held.id}"]')
            row.wait_for(timeout=TIMEOUT_MS)  # the section follows the workspace live
            row.click()
            live = _page_of(page, held.id)
            live.wait_for(state="visible", timeout=TIMEOUT_MS)
            _wait_for_node(page, held.id, "train", "Running")
            report = live.locator(f'{NODE}[data-step="report"]')
            assert report.get_attribute("data-status") not in TERMINAL_STATUSES
            assert "not decided yet" in report.get_attribute("title")
            load = live.locator(f'{NODE}[data-step="load"]')
            assert (load.get_attribute("data-status"), load.get_attribute("data-reused")) == ("Completed", "true")
            running = live.locator(f'{NODE}[data-step="train"]')
            assert running.get_attribute("data-reused") == "false"
            assert "Not reused: arguments changed" in running.get_attribute("title")
            screenshot(page, "pipeline-run-live")

            gate.touch()
            _wait_for_node(page, held.id, "train", "Completed")
            _wait_for_node(page, held.id, "report", "Completed")
            page.wait_for_function(
                """runId => document.querySelector(
                    `[data-testid="mlws-pipeline-run-page"][data-run-id="${runId}"]`).dataset.status === 'Completed'""",
                arg=held.id,
                timeout=TIMEOUT_MS,
            )

            # A click on a step opens its run page, which links back to the pipeline's graph.
            train_id = running.get_attribute("data-run-id")
            running.click()
            step_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{train_id}"]')
            step_page.wait_for(state="visible", timeout=TIMEOUT_MS)
            graph_button = step_page.locator('[data-testid="mlws-open-pipeline-graph"]')
            graph_button.wait_for(timeout=TIMEOUT_MS)
            graph_button.click()
            live.wait_for(state="visible", timeout=TIMEOUT_MS)
            # And the pipeline run's own run page offers its graph too.
            live.locator('[data-testid="mlws-pipeline-open-run"]').click()
            run_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{held.id}"]')
            run_page.wait_for(state="visible", timeout=TIMEOUT_MS)
            run_page.locator('[data-testid="mlws-open-pipeline-graph"]').click()
            live.wait_for(state="visible", timeout=TIMEOUT_MS)
            screenshot(page, "pipeline-run-completed")
    finally:
        gate.touch()  # never leave a step waiting
        if held is not None:
            with contextlib.suppress(Exception):
                held.wait_for_completion(show_output=False, timeout_seconds=60, raise_on_error=False)


def test_published_pipelines_and_schedules_are_listed_live(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ws = Workspace.create(root)
    published = fan_in_pipeline(ws, root).publish("nightly", description="the fan-in, nightly", version="2")
    # Its first fire is years away: it never fires during the test.
    schedule = Schedule.create(
        ws,
        "daily-refresh",
        published.id,
        "scheduled",
        recurrence=ScheduleRecurrence("Day", 1, start_time="2040-01-01T00:00:00"),
    )
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        row = page.locator(f'{PUBLISHED_ROW}[data-pipeline-id="{published.id}"]')
        row.wait_for(timeout=TIMEOUT_MS)
        assert row.get_attribute("data-status") == "Active"
        text = row.inner_text()
        assert "nightly" in text and "v2" in text and f"{len(STEPS)} steps" in text, text

        sched = page.locator(f'{SCHEDULE_ROW}[data-schedule-id="{schedule.id}"]')
        sched.wait_for(timeout=TIMEOUT_MS)
        assert sched.get_attribute("data-status") == "Active"
        assert (sched.get_attribute("data-next-fire") or "").startswith("2040-01-01T00:00:00"), sched.get_attribute(
            "data-next-fire"
        )
        when = sched.locator('[data-testid="mlws-schedule-next-fire"]').inner_text()
        assert re.fullmatch(r"in \d+ years", when), when
        text = sched.inner_text()
        assert "daily-refresh" in text and "nightly v2" in text and "every day" in text, text
        assert "It has not run yet" in (sched.get_attribute("title") or "")
        screenshot(page, "pipelines-published-and-schedules")

        published.disable()  # from Python: the section follows on its slow timer
        page.wait_for_function(
            """id => { const row = document.querySelector(
                `[data-testid="mlws-published-pipeline-row"][data-pipeline-id="${id}"]`);
                return row !== null && row.dataset.status === 'Disabled'; }""",
            arg=published.id,
            timeout=TIMEOUT_MS,
        )
        # Its schedule says that the pipeline it runs is disabled (so it will not fire).
        assert "nightly v2 (disabled)" in sched.inner_text(), sched.inner_text()
        screenshot(page, "pipelines-published-disabled")
