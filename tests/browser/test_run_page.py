"""The run page in a real JupyterLab: opened from the sidebar, it charts each metric series with the
points the server sends (down-sampled past 1,000), shows params, tags, properties and files (preview
and download), child runs, a failed job's error and log, the snapshot download, and cancels an
active job."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import nbformat
import pytest
import requests

from jupyter_mlws import Experiment, ScriptRunConfig, Workspace
from tests.browser.conftest import running_lab, screenshot
from tests.browser.test_sidebar import open_sidebar

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG, red, without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# Outputs of a notebook from anywhere are untrusted: the preview must not run their scripts.
HOSTILE_HTML = '<b>bold output</b><img src="x" onerror="window.__mlws_xss = 1"><script>window.__mlws_xss = 2</script>'


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print('hello from the notebook')")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="hello from the notebook\n"),
        nbformat.v4.new_output("display_data", data={"text/html": HOSTILE_HTML, "text/plain": "bold"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Training notes"), code]
    nbformat.write(nb, str(path))


def _seed(root: Path) -> dict[str, str]:
    ws = Workspace.create(root)
    exp = Experiment(ws, "mnist")
    files = root / "files"
    files.mkdir()
    (files / "notes.txt").write_text("learning rate was 0.01\nall good\n")
    (files / "plot.png").write_bytes(tiny_png())
    _notebook(files / "report.ipynb")
    with exp.start_logging(display_name="baseline") as run:
        run.log_params({"lr": "0.01", "epochs": "50"})
        run.tag("stage", "dev")
        run.add_properties({"dataset": "mnist-v2"})
        for step in range(50):
            run.log("loss", 1.0 / (step + 1), step=step)
        run.log_batch(metrics=[("lr_trace", 0.001 * i, i) for i in range(5000)])
        run.log_table("confusion", {"label": ["cat", "dog"], "count": [3, 4]})
        for name in ("notes.txt", "plot.png", "report.ipynb"):
            run.upload_file(f"outputs/{name}", files / name)
        with run.child_run("fold-1") as child:
            child.log("loss", 0.3)
        run_id = run.id
        child_id = child.id

    (root / "boom.py").write_text("print('about to fail')\nraise ValueError('boom: the data file is empty')\n")
    (root / "slow.py").write_text("import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    failed = exp.submit(ScriptRunConfig(source_directory=root, script="boom.py"))
    failed.wait_for_completion(timeout=120, raise_on_error=False)
    assert failed.get_status() == "Failed"
    ws.writer.flush()
    return {"run": run_id, "child": child_id, "failed": failed.id}


def _auth(lab: Any) -> dict[str, str]:
    return {"Authorization": f"token {lab.token}"}


def _open_run(page: Any, experiment: str, name: str) -> Any:
    page.locator('[data-testid="mlws-experiment-row"]', has_text=experiment).click()
    page.locator('[data-testid="mlws-run-row"]', has_text=name).first.click()
    run_page = page.locator('[data-testid="mlws-run-page"]:visible')
    run_page.wait_for(timeout=TIMEOUT_MS)
    return run_page


def _chart_points(page: Any, run_id: str, metric: str) -> int:
    """How many points plotly drew for a metric (read from the chart itself, not our attributes)."""
    selector = f'[data-run-id="{run_id}"] [data-testid="mlws-metric-chart"][data-metric="{metric}"]'
    page.wait_for_function(
        "s => { const c = document.querySelector(s); return c && c.data && c.data.length > 0; }",
        arg=selector,
        timeout=TIMEOUT_MS,
    )
    count: int = page.evaluate("s => document.querySelector(s).data[0].x.length", selector)
    return count


def test_a_run_page_shows_charts_details_files_and_children(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ids = _seed(root)
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        run_page = _open_run(page, "mnist", "baseline")
        run_page.get_by_text("Completed", exact=True).wait_for(timeout=TIMEOUT_MS)

        # Every point of a short series; a long one down-sampled by the server (min/max per bucket).
        assert _chart_points(page, ids["run"], "loss") == 50
        page.wait_for_timeout(500)  # a second draw, were one racing the first, would have added a chart
        assert run_page.locator('[data-testid="mlws-metric-chart"][data-metric="loss"]').count() == 1
        long_points = _chart_points(page, ids["run"], "lr_trace")
        assert 3 <= long_points <= 1000
        chart = run_page.locator('[data-testid="mlws-metric-chart"][data-metric="lr_trace"]')
        assert chart.get_attribute("data-total") == "5000"
        assert "of 5000 points" in chart.inner_text()
        # The x axis switches to time.
        run_page.locator("select.jp-mlws-axis").select_option("time")
        assert _chart_points(page, ids["run"], "loss") == 50
        xs = page.evaluate(
            '() => document.querySelector(\'[data-testid="mlws-metric-chart"][data-metric="loss"]\').data[0].x[0]'
        )
        assert isinstance(xs, str) and xs.endswith("Z")  # timestamps, not steps
        assert "cat" in run_page.locator(".jp-mlws-record[data-metric='confusion']").inner_text()

        details = run_page.locator('[data-testid="mlws-run-details"]').inner_text()
        for text in ("lr", "0.01", "epochs", "stage", "dev", "dataset", "mnist-v2"):
            assert text in details

        # Files: text, image and notebook previews, and a download that returns the bytes.
        files = run_page.locator('[data-testid="mlws-file-row"]')
        assert {"outputs/notes.txt", "outputs/plot.png", "outputs/report.ipynb"} <= set(
            files.evaluate_all("rows => rows.map(r => r.dataset.path)")
        )
        preview = run_page.locator('[data-testid="mlws-file-preview"]')
        run_page.locator('[data-testid="mlws-file-row"][data-path="outputs/notes.txt"] button').click()
        preview.get_by_text("learning rate was 0.01").wait_for(timeout=TIMEOUT_MS)
        run_page.locator('[data-testid="mlws-file-row"][data-path="outputs/plot.png"] button').click()
        image = preview.locator("img")
        image.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => { const i = document.querySelector('.jp-mlws-preview img'); return i && i.naturalWidth === 4; }",
            timeout=TIMEOUT_MS,
        )
        run_page.locator('[data-testid="mlws-file-row"][data-path="outputs/report.ipynb"] button').click()
        preview.locator("h1", has_text="Training notes").wait_for(timeout=TIMEOUT_MS)  # markdown rendered
        assert "hello from the notebook" in preview.inner_text()
        preview.locator("b", has_text="bold output").wait_for(timeout=TIMEOUT_MS)  # HTML output rendered
        page.wait_for_timeout(500)  # time for an image error handler to fire, were it kept
        assert page.evaluate("() => window.__mlws_xss") is None  # sanitised: no script ran
        assert preview.locator("script, [onerror]").count() == 0
        href = run_page.locator('[data-testid="mlws-file-row"][data-path="outputs/notes.txt"] a').get_attribute("href")
        assert "token" not in href  # links carry no credentials; the session's cookie authenticates them
        reply = requests.get(urljoin(lab.url, href), headers=_auth(lab), timeout=30)
        assert requests.get(urljoin(lab.url, href), timeout=30).status_code == 403  # and without them, nothing
        assert reply.status_code == 200 and reply.text.startswith("learning rate")
        assert "attachment" in reply.headers["Content-Disposition"]
        screenshot(page, "run-page")

        # A child run opens its own page.
        run_page.locator(f'[data-testid="mlws-child-run-row"][data-run-id="{ids["child"]}"]').click()
        page.locator(f'[data-testid="mlws-run-page"][data-run-id="{ids["child"]}"]').wait_for(timeout=TIMEOUT_MS)
        assert _chart_points(page, ids["child"], "loss") == 1


def test_a_failed_job_shows_its_error_and_an_active_one_can_be_canceled(
    browser: Any, tmp_path: Path, lab_home: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    ids = _seed(root)
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        run_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{ids["failed"]}"]')
        page.locator('[data-testid="mlws-experiment-row"]', has_text="mnist").click()
        page.locator(f'[data-testid="mlws-run-row"][data-run-id="{ids["failed"]}"]').click()
        error = run_page.locator('[data-testid="mlws-run-error"]')
        error.wait_for(timeout=TIMEOUT_MS)
        text = error.inner_text()
        assert "ValueError: boom: the data file is empty" in text
        assert "exit code: 1" in text
        run_page.locator(".jp-mlws-log", has_text="about to fail").wait_for(timeout=TIMEOUT_MS)  # the driver log
        snapshot = run_page.locator('[data-testid="mlws-snapshot-download"]').get_attribute("href")
        reply = requests.get(urljoin(lab.url, snapshot), headers=_auth(lab), timeout=30)
        assert reply.status_code == 200 and reply.content[:2] == b"PK"  # a zip of the job's code
        screenshot(page, "run-page-failed")

        # An active job: the live log grows, and Cancel stops it.
        ws = Workspace(root)
        slow = Experiment(ws, "mnist").submit(
            ScriptRunConfig(source_directory=root, script="slow.py", compute_target="local")
        )
        page.locator(f'[data-testid="mlws-run-row"][data-run-id="{slow.id}"]').click(timeout=TIMEOUT_MS)
        slow_page = page.locator(f'[data-testid="mlws-run-page"][data-run-id="{slow.id}"]')
        slow_page.locator(".jp-mlws-log", has_text="working").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(3500)  # several log polls and a refresh of the active run
        assert slow_page.locator(".jp-mlws-log").inner_text().count("working") == 1  # each byte shown once
        slow_page.locator('[data-testid="mlws-run-cancel"]').click()
        slow_page.locator('.jp-mlws-page-status [data-status="Canceled"]').wait_for(timeout=TIMEOUT_MS)
        assert slow.get_status() == "Canceled"
        assert slow_page.locator('[data-testid="mlws-run-cancel"]').count() == 0  # nothing left to cancel
        screenshot(page, "run-page-canceled")


LINK_LABEL = '<a href="https://example.com/">dog</a>'


def test_a_run_page_shows_v1_text_metrics_and_a_confusion_matrix(browser: Any, tmp_path: Path, lab_home: Path) -> None:
    """Azure ML v1's text-valued metrics (name -> latest value, and every value) and a confusion
    matrix drawn as a heatmap with its class labels (issue 14, item 3)."""
    root = tmp_path / "root"
    root.mkdir()
    ws = Workspace.create(root)
    with Experiment(ws, "v1-charts").start_logging(display_name="v1-metrics") as run:
        run.log("message", "training started")
        run.log("message", "training ended")
        run.log("converged", True)
        run.log_confusion_matrix(
            "confusion",
            {
                "schema_type": "confusion_matrix",
                "schema_version": "1.0.0",
                "data": {"class_labels": ["cat", LINK_LABEL], "matrix": [[5, 1], [2, 6]]},
            },
        )
        run.log("note", LINK_LABEL)
    with running_lab(root, lab_home) as lab:
        page = open_sidebar(browser, lab)
        run_page = _open_run(page, "v1-charts", "v1-metrics")
        text = run_page.locator(".jp-mlws-text-metrics")
        text.locator("tr[data-metric='message']", has_text="training ended").wait_for(timeout=TIMEOUT_MS)
        assert "training started" in text.locator("tr[data-metric='message']").inner_text()  # every value
        assert "true" in text.locator("tr[data-metric='converged']").inner_text()
        selector = f'[data-run-id="{run.id}"] .jp-mlws-record[data-kind="confusion_matrix"] .js-plotly-plot'
        page.wait_for_function(
            "s => { const c = document.querySelector(s); return c && c.data && c.data.length > 0; }",
            arg=selector,
            timeout=TIMEOUT_MS,
        )
        drawn = page.evaluate(
            "s => { const d = document.querySelector(s).data[0]; return [d.type, d.x, d.z]; }", selector
        )
        assert drawn[0] == "heatmap" and drawn[2] == [[5, 1], [2, 6]]
        # Labels and text values are shown as text: plotly's markup (links, bold) is never made of them.
        chart = page.locator(selector)
        assert chart.locator("svg a").count() == 0
        assert chart.locator(".xtick", has_text=LINK_LABEL).count() == 1
        assert text.locator("tr[data-metric='note'] td").first.inner_text() == LINK_LABEL
        screenshot(page, "run-page-v1-metrics")
