"""Comparing runs and the model registry in a real JupyterLab: tick runs in the sidebar and compare
them (series overlaid, parallel coordinates, a table highlighting what differs); register a run's
file as a model from the run page's context menu; the model page lists versions, aliases, tags, the
producing run and files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Model, Workspace
from tests.browser.conftest import running_lab, screenshot
from tests.browser.test_sidebar import open_sidebar

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000


def _seed(root: Path) -> dict[str, str]:
    ws = Workspace.create(root)
    exp = Experiment(ws, "sweep")
    weights = root / "model.pkl"
    weights.write_bytes(b"pretend weights")
    ids = {}
    for name, lr in (("slow", "0.01"), ("fast", "0.1")):
        with exp.start_logging(display_name=name) as run:
            run.log_params({"lr": lr, "epochs": "10", "optimizer": "adam" if name == "fast" else "sgd"})
            for step in range(10):
                run.log("loss", float(lr) * 10 / (step + 1), step=step)
            run.log("acc", 0.8 if name == "slow" else 0.9)
            run.upload_file("outputs/model.pkl", weights)
            ids[name] = run.id
    Model.register(ws, str(weights), "clf", tags={"team": "vision"}).set_alias("prod")
    ws.writer.flush()
    return ids


def test_compare_two_runs(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ids = _seed(root)
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        page.locator('[data-testid="mlws-experiment-row"]', has_text="sweep").click()
        compare = page.locator('[data-testid="mlws-compare-button"]')
        compare.wait_for(timeout=TIMEOUT_MS)
        assert compare.is_disabled()  # nothing ticked yet
        for run_id in ids.values():
            row = page.locator(f'[data-testid="mlws-run-row"][data-run-id="{run_id}"]')
            row.locator('[data-testid="mlws-run-select"]').check()
        assert compare.inner_text() == "Compare (2)"
        compare.click()
        view = page.locator('[data-testid="mlws-compare-page"]')
        view.wait_for(timeout=TIMEOUT_MS)

        # One chart per metric, a line per run, every point of each.
        loss = '[data-testid="mlws-compare-chart"][data-metric="loss"]'
        page.wait_for_function(
            "s => { const c = document.querySelector(s); return c && c.data && c.data.length === 2; }",
            arg=loss,
            timeout=TIMEOUT_MS,
        )
        traces = page.evaluate("s => document.querySelector(s).data.map(t => [t.name, t.x.length])", loss)
        assert sorted(traces) == [["fast", 10], ["slow", 10]]
        # A run keeps its colour from chart to chart.
        page.wait_for_function(
            """() => { const charts = [...document.querySelectorAll('[data-testid="mlws-compare-chart"]')];
                return charts.length === 2 && charts.every(c => c.data && c.data.length === 2); }""",
            timeout=TIMEOUT_MS,
        )
        colours = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="mlws-compare-chart"]')].map(
                c => Object.fromEntries(c.data.map(t => [t.name, t.line.color])))"""
        )
        assert len(colours) == 2 and colours[0] == colours[1] and len(set(colours[0].values())) == 2

        # Params against the chosen metric.
        parallel = '[data-testid="mlws-parallel-chart"]'
        page.wait_for_function(
            "s => { const c = document.querySelector(s); return c && c.data && c.data.length === 1; }",
            arg=parallel,
            timeout=TIMEOUT_MS,
        )
        view.locator("select.jp-mlws-compare-metric").select_option("acc")
        page.wait_for_function(
            "s => document.querySelector(s).data[0].dimensions.slice(-1)[0].label === 'acc'",
            arg=parallel,
            timeout=TIMEOUT_MS,
        )
        chart = page.evaluate(
            "s => { const t = document.querySelector(s).data[0];"
            " return {type: t.type, labels: t.dimensions.map(d => d.label),"
            " acc: t.dimensions.slice(-1)[0].values}; }",
            parallel,
        )
        assert chart["type"] == "parcoords"
        assert sorted(chart["labels"][:-1]) == ["epochs", "lr", "optimizer"] and chart["labels"][-1] == "acc"
        assert sorted(chart["acc"]) == [0.8, 0.9]

        # The table marks the params that differ, and only those.
        table = view.locator('[data-testid="mlws-compare-table"]')
        differs = dict(
            table.locator("tbody tr").evaluate_all("rows => rows.map(r => [r.dataset.key, r.dataset.differs])")
        )
        assert differs["params.lr"] == "true"
        assert differs["params.optimizer"] == "true"
        assert differs["params.epochs"] == "false"
        assert differs["metrics.acc"] == "true"
        screenshot(page, "compare")


def test_register_a_run_file_as_a_model_and_browse_versions(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ids = _seed(root)
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        page.locator('[data-testid="mlws-experiment-row"]', has_text="sweep").click()
        page.locator(f'[data-testid="mlws-run-row"][data-run-id="{ids["fast"]}"]').click()
        run_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{ids["fast"]}"]')
        row = run_page.locator('[data-testid="mlws-file-row"][data-path="outputs/model.pkl"]')
        row.click(button="right", timeout=TIMEOUT_MS)
        page.locator(".lm-Menu-item", has_text="Register as Model").click()
        dialog = page.locator('[data-testid="mlws-register-dialog"]')
        dialog.wait_for(timeout=TIMEOUT_MS)
        assert dialog.locator('input[name="name"]').input_value() == "model"  # proposed from the file name
        # Wrong input is refused in the dialog, which comes back with the message and what was typed.
        dialog.locator('input[name="name"]').fill("my model")
        dialog.locator('input[name="tags"]').fill("stage=dev")
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        errors = page.locator('[data-testid="mlws-register-errors"]')
        errors.wait_for(timeout=TIMEOUT_MS)
        assert "model name must be" in errors.inner_text()
        assert page.locator('[data-testid="mlws-register-dialog"] input[name="tags"]').input_value() == "stage=dev"
        assert Model.list(Workspace(root), name="my-model") == []  # nothing was sent
        page.locator('[data-testid="mlws-register-dialog"] input[name="name"]').fill("digits")
        page.locator(".jp-Dialog-button.jp-mod-accept").click()

        # The new model appears in the sidebar at once (events stream), and its page shows the version.
        model_row = page.locator('[data-testid="mlws-model-row"][data-model="digits"]')
        model_row.wait_for(timeout=TIMEOUT_MS)
        assert model_row.inner_text() == "digits v1"
        [version] = Model.list(Workspace(root), name="digits")
        assert version.run_id == ids["fast"] and version.tags == {"stage": "dev"}
        assert version.get_file_names() == ["model.pkl"]
        model_row.click()  # unfolds its versions in the sidebar, with their tags and aliases
        version_row = page.locator('[data-testid="mlws-model-version-row"][data-model="digits"][data-version="1"]')
        version_row.wait_for(timeout=TIMEOUT_MS)
        assert version_row.inner_text() == "v1 \u00b7 stage=dev"
        version_row.click()
        model_page = page.locator('[data-testid="mlws-model-page"][data-model="digits"]')
        first = model_page.locator('[data-testid="mlws-model-version"][data-version="1"]')
        first.wait_for(timeout=TIMEOUT_MS)
        text = first.inner_text()
        assert "stage" in text and "dev" in text and "model.pkl" in text
        assert first.locator('[data-testid="mlws-model-run"]').inner_text() == ids["fast"]

        # A second registration shows up on the open page, newest first.
        Model.register(Workspace(root), str(root / "model.pkl"), "digits")
        model_page.locator('[data-testid="mlws-model-version"][data-version="2"]').wait_for(timeout=TIMEOUT_MS)
        versions = model_page.locator('[data-testid="mlws-model-version"]').evaluate_all(
            "nodes => nodes.map(n => n.dataset.version)"
        )
        assert versions == ["2", "1"]
        # The unfolded model in the sidebar follows too.
        page.locator('[data-testid="mlws-model-version-row"][data-model="digits"][data-version="2"]').wait_for(
            timeout=TIMEOUT_MS
        )
        screenshot(page, "model-page")

        # Aliases and tags of a model registered elsewhere.
        page.locator('[data-testid="mlws-model-row"][data-model="clf"]').click()
        clf_row = page.locator('[data-testid="mlws-model-version-row"][data-model="clf"]')
        assert clf_row.inner_text(timeout=TIMEOUT_MS) == "v1 (prod) \u00b7 team=vision"
        clf_row.click()
        clf = page.locator('[data-testid="mlws-model-page"][data-model="clf"] [data-testid="mlws-model-version"]')
        clf.wait_for(timeout=TIMEOUT_MS)
        assert clf.locator(".jp-mlws-alias").inner_text() == "prod"
        assert "vision" in clf.inner_text()
        model_page.page.locator(".lm-TabBar-tab", has_text="digits").click()

        # The producing run opens from the model page.
        first.locator('[data-testid="mlws-model-run"]').click()
        run_page.wait_for(state="visible", timeout=TIMEOUT_MS)


def test_pages_reopen_after_a_reload(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    """Every page kind is tracked and restored: a run, a comparison and a model page come back, with
    their content, when the browser reloads the lab."""
    root = tmp_path / "root"
    root.mkdir()
    ids = _seed(root)
    run_page = f'[data-testid="mlws-run-page"][data-run-id="{ids["fast"]}"]'
    compare_page = '[data-testid="mlws-compare-page"]'
    model_page = '[data-testid="mlws-model-page"][data-model="clf"]'
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        page.locator('[data-testid="mlws-experiment-row"]', has_text="sweep").click()
        page.locator(f'[data-testid="mlws-run-row"][data-run-id="{ids["fast"]}"]').click()
        page.locator(run_page).wait_for(timeout=TIMEOUT_MS)
        for run_id in ids.values():
            row = page.locator(f'[data-testid="mlws-run-row"][data-run-id="{run_id}"]')
            row.locator('[data-testid="mlws-run-select"]').check()
        page.locator('[data-testid="mlws-compare-button"]').click()
        page.locator(compare_page).wait_for(timeout=TIMEOUT_MS)
        page.locator('[data-testid="mlws-model-row"][data-model="clf"]').click()
        page.locator('[data-testid="mlws-model-version-row"][data-model="clf"]').click(timeout=TIMEOUT_MS)
        page.locator(model_page).wait_for(timeout=TIMEOUT_MS)
        tabs = ["fast", "Compare 2 runs", "clf"]
        for tab in tabs:
            page.locator(".lm-TabBar-tab", has_text=tab).wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(2000)  # the lab saves its layout shortly after it changes

        page.reload()
        for tab in tabs:
            page.locator(".lm-TabBar-tab", has_text=tab).wait_for(timeout=TIMEOUT_MS)
        # The model page is in front (opened last): its versions are read again.
        page.locator(f'{model_page} [data-testid="mlws-model-version"]').wait_for(timeout=TIMEOUT_MS)
        page.locator(".lm-TabBar-tab", has_text="fast").click()
        page.locator(f"{run_page} .jp-mlws-page-status", has_text="Completed").wait_for(timeout=TIMEOUT_MS)
        page.locator(".lm-TabBar-tab", has_text="Compare 2 runs").click()
        page.locator(f'{compare_page} [data-testid="mlws-compare-table"] tr').first.wait_for(timeout=TIMEOUT_MS)
        assert page.locator(run_page).count() == 1  # restored once, not twice
        screenshot(page, "pages-restored")


def test_a_model_page_reads_the_files_of_the_versions_it_shows(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    """The newest versions come with their files; older ones read theirs when scrolled into view."""
    root = tmp_path / "root"
    root.mkdir()
    ws = Workspace.create(root)
    weights = root / "weights.bin"
    for version in range(1, 9):
        weights.write_bytes(b"w" * version)
        Model.register(ws, str(weights), "many")
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        page.locator('[data-testid="mlws-model-row"][data-model="many"]').click(timeout=TIMEOUT_MS)
        page.locator('[data-testid="mlws-model-version-row"][data-model="many"][data-version="8"]').click(
            timeout=TIMEOUT_MS
        )
        model_page = page.locator('[data-testid="mlws-model-page"][data-model="many"]')
        newest = model_page.locator('[data-testid="mlws-model-version"][data-version="8"]')
        newest.wait_for(timeout=TIMEOUT_MS)
        assert "weights.bin" in newest.inner_text()
        oldest = model_page.locator('[data-testid="mlws-model-version"][data-version="1"]')
        assert "Loading" in oldest.inner_text()  # out of view: not read yet
        oldest.scroll_into_view_if_needed()
        oldest.locator(".jp-mlws-model-file-row", has_text="weights.bin").wait_for(timeout=TIMEOUT_MS)
        assert "1 B" in oldest.inner_text()  # its own files, not another version's
        screenshot(page, "model-page-many-versions")
