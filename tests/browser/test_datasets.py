"""Datasets in a real JupyterLab (issue 15): the sidebar's Datasets section, the dataset page (versions,
a virtualised preview of real rows, the schema, the lineage) and the links between a dataset, the run
that used it and the model registered with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Dataset, Experiment, Model, Workspace
from jupyter_mlws.core.interfaces.datasets import DatasetInputRecord
from tests.browser.conftest import running_lab, screenshot
from tests.browser.test_sidebar import open_sidebar

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
ROWS_PER_FILE = 200
FILES = 3


def _record_input(ws: Workspace, run_id: str, name: str, ds: Dataset, mode: str) -> None:
    ws.metadata.add_run_inputs(run_id, [DatasetInputRecord(run_id, name, ds.id, ds.name, ds.version, ds.digest, mode)])


def _csv(path: Path, part: int) -> None:
    lines = ["island,bill_mm,count"]
    lines += [f"isle-{part}-{i},{40 + i / 10:.1f},{part * ROWS_PER_FILE + i}" for i in range(ROWS_PER_FILE)]
    path.write_text("\n".join(lines) + "\n")


def _seed(root: Path) -> tuple[Dataset, str]:
    """Version 1 of a tabular dataset (three CSVs), a run that trained on it and a model registered
    with it; then version 2 (a fourth CSV), which nothing used yet."""
    ws = Workspace.create(root)
    folder = root / "penguins"
    folder.mkdir()
    for part in range(FILES):
        _csv(folder / f"part{part}.csv", part)
    ds = Dataset.Tabular.from_delimited_files(str(folder / "*.csv")).register(ws, "penguins", description="birds")
    with Experiment(ws, "zoo").start_logging(display_name="train-on-penguins") as run:
        run.log("acc", 0.93)
    _record_input(ws, run.id, "training", ds, "direct")
    weights = root / "weights.bin"
    weights.write_bytes(b"w")
    Model.register(ws, str(weights), "penguin-clf", datasets=[("training", ds)])
    _csv(folder / f"part{FILES}.csv", FILES)
    Dataset.Tabular.from_delimited_files(str(folder / "*.csv")).register(ws, "penguins", create_new_version=True)
    ws.writer.flush()
    return ds, run.id


def test_datasets_section_page_preview_and_lineage(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ds, run_id = _seed(root)
    total = FILES * ROWS_PER_FILE  # version 1's rows
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        row = page.locator('[data-testid="mlws-dataset-row"][data-dataset="penguins"]')
        row.wait_for(timeout=TIMEOUT_MS)
        text = row.inner_text()
        assert "penguins" in text and "v2" in text and "800 rows" in text, text
        row.click()

        # The page opens at the latest version, which no run or model used yet.
        view = page.locator('[data-testid="mlws-dataset-page"][data-dataset="penguins"]')
        view.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function(
            """() => { const v = document.querySelector('[data-testid="mlws-dataset-page"]');
                const p = v && v.querySelector('[data-testid="mlws-dataset-preview"]');
                return v.dataset.version === '2' && p && p.dataset.totalRows === '800'; }""",
            timeout=TIMEOUT_MS,
        )
        assert view.locator('[data-testid="mlws-lineage-run"]').count() == 0
        # Switch to version 1: its preview and its lineage.
        view.locator('[data-testid="mlws-dataset-versions"]').select_option("1")
        page.wait_for_function(
            """n => { const v = document.querySelector('[data-testid="mlws-dataset-page"]');
                const p = v.querySelector('[data-testid="mlws-dataset-preview"]');
                return v.dataset.version === '1' && p.dataset.totalRows === String(n); }""",
            arg=total,
            timeout=TIMEOUT_MS,
        )
        preview = view.locator('[data-testid="mlws-dataset-preview"]')
        first = preview.locator('[data-testid="mlws-dataset-preview-row"][data-index="0"]')
        first.wait_for(timeout=TIMEOUT_MS)
        # Real values of the first CSV's first row, in column order after the row number.
        cells = first.locator(".jp-mlws-vtable-cell").all_inner_texts()
        assert cells == ["isle-0-0", "40", "0"] or cells == ["isle-0-0", "40.0", "0"], cells
        assert preview.get_attribute("data-total-rows") == str(total)
        # Virtualised: only a window of the rows is in the page.
        drawn = preview.locator('[data-testid="mlws-dataset-preview-row"]').count()
        assert 0 < drawn < 100, drawn
        # Scrolled to the end, the last row (the third CSV's last) is drawn with its values.
        preview.locator(".jp-mlws-vtable-scroller").evaluate("n => { n.scrollTop = n.scrollHeight; }")
        last = preview.locator(f'[data-testid="mlws-dataset-preview-row"][data-index="{total - 1}"]')
        last.wait_for(timeout=TIMEOUT_MS)
        assert last.locator(".jp-mlws-vtable-cell").first.inner_text() == f"isle-2-{ROWS_PER_FILE - 1}"
        assert preview.locator('[data-testid="mlws-dataset-preview-row"]').count() < 100
        assert preview.locator('[data-testid="mlws-dataset-preview-row"][data-index="0"]').count() == 0

        # Schema, digest and the lineage.
        columns = view.locator('[data-testid="mlws-dataset-column"] th').all_inner_texts()
        assert columns == ["island", "bill_mm", "count"]
        assert ds.digest in view.locator('[data-testid="mlws-dataset-digest"]').inner_text()
        model_link = view.locator('[data-testid="mlws-lineage-model"][data-model="penguin-clf"]')
        assert view.locator('[data-testid="mlws-lineage-model"]').all_inner_texts() == ["penguin-clf:1"]
        # A model registered with this version while the page is open joins its lineage (events stream).
        Model.register(Workspace(root), str(root / "weights.bin"), "penguin-reg", datasets=[("training", ds)])
        view.locator('[data-testid="mlws-lineage-model"][data-model="penguin-reg"]').wait_for(timeout=TIMEOUT_MS)
        run_link = view.locator(f'[data-testid="mlws-lineage-run"][data-run-id="{run_id}"]')
        run_link.scroll_into_view_if_needed()
        screenshot(page, "dataset-page")

        # The run opens from the lineage and lists the dataset among its inputs, which leads back.
        run_link.click()
        run_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{run_id}"]')
        run_page.wait_for(state="visible", timeout=TIMEOUT_MS)
        run_input = run_page.locator('[data-testid="mlws-run-inputs"] [data-testid="mlws-run-input"]')
        run_input.wait_for(timeout=TIMEOUT_MS)
        assert run_input.get_attribute("data-dataset") == "penguins"
        assert "training" in run_input.inner_text() and "penguins v1" in run_input.inner_text()
        screenshot(page, "dataset-run-inputs")
        run_input.locator(".jp-mlws-link").click()
        view.wait_for(state="visible", timeout=TIMEOUT_MS)

        # The model opens from the lineage too.
        model_link.click()
        page.locator('[data-testid="mlws-model-page"][data-model="penguin-clf"]').wait_for(
            state="visible", timeout=TIMEOUT_MS
        )

        # Registrations made elsewhere while Lab is open arrive by the events stream, without a reload
        # (a registration announces only dataset.version.created): a new version of penguins reaches
        # its sidebar row and its open page (still showing version 1, now offering 3), and a new
        # dataset gets its row.
        ws = Workspace(root)
        _csv(root / "penguins" / f"part{FILES + 1}.csv", FILES + 1)
        Dataset.Tabular.from_delimited_files(str(root / "penguins" / "*.csv")).register(
            ws, "penguins", create_new_version=True
        )
        (root / "krill").mkdir()
        (root / "krill" / "swarm.bin").write_bytes(b"k" * 10)
        Dataset.File.from_files(str(root / "krill")).register(ws, "krill")
        page.locator('[data-testid="mlws-dataset-row"][data-dataset="krill"]').wait_for(timeout=TIMEOUT_MS)
        page.locator('[data-testid="mlws-dataset-row"][data-dataset="penguins"][data-version="3"]').wait_for(
            timeout=TIMEOUT_MS
        )
        view.locator('[data-testid="mlws-dataset-versions"] option[value="3"]').wait_for(
            state="attached", timeout=TIMEOUT_MS
        )
        assert view.get_attribute("data-version") == "1"
