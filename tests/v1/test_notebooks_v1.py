"""The Azure ML v1 compatibility suite (issue 14, "Done means"): v1 notebooks written from the public v1
documentation's examples, with only their imports changed, run in a real kernel (nbclient) against a
workspace that a v1 ``config.json`` (written by ``ws.write_config()``) points at — and what they made in
the workspace (runs, metrics, files, models, compute targets, environments) is checked.

Every cell runs (``allow_errors``) so that one missing feature does not hide the rest; the errors are
asserted empty after the workspace checks that do not depend on the failing cells. The notebooks that
build an environment use the same conda dependencies, so the session's environment cache builds it once.
"""

from __future__ import annotations

import ast
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_mlws import AmlCompute, ComputeTarget, Environment, Experiment, Model, Run, Workspace
from jupyter_mlws.compute import agent

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
# Generous: the first notebook that needs the shared environment builds it (pip, from its cache).
CELL_TIMEOUT = 300


class Executed:
    """A notebook after a run: its cells' outputs and the errors in them."""

    def __init__(self, nb: Any) -> None:
        self.nb = nb

    @property
    def errors(self) -> list[str]:
        """One line per failed cell: its index, first source line and the error."""
        found = []
        for index, cell in enumerate(self.nb.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    first = cell.source.splitlines()[0] if cell.source else ""
                    found.append(f"cell {index} ({first}): {out['ename']}: {out['evalue']}")
        return found

    def text(self, index: int | None = None) -> str:
        """What cells printed or showed as text (all cells, or cell ``index``)."""
        cells = self.nb.cells if index is None else [self.nb.cells[index]]
        return "".join(
            out.get("text", "") + out.get("data", {}).get("text/plain", "")
            for cell in cells
            for out in cell.get("outputs", [])
        )

    def widgets(self) -> int:
        return sum(
            "application/vnd.jupyter.widget-view+json" in out.get("data", {})
            for cell in self.nb.cells
            for out in cell.get("outputs", [])
        )

    def cell(self, starts: str) -> int:
        """The index of the code cell whose source starts with ``starts``."""
        return next(i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and c.source.startswith(starts))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Workspace, Path]]:
    """A workspace, and a v1 project folder elsewhere whose ``.azureml/config.json`` points at it."""
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    ws = Workspace.create(tmp_path / "ws", name="v1-suite")
    folder = tmp_path / "v1project"
    folder.mkdir()
    ws.write_config(folder)
    yield ws, folder
    agent.stop(ws)


def execute(name: str, folder: Path) -> Executed:
    shutil.copy(NOTEBOOKS / name, folder / name)
    nb = nbformat.read(folder / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return Executed(nb)


def test_the_notebooks_are_v1_code_with_only_the_imports_changed() -> None:
    """No `azureml` import is left, and nothing of the project beyond the v1 names is used."""
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == [
        "logging-api.ipynb",
        "manage-runs.ipynb",
        "train-on-amlcompute.ipynb",
        "train-on-local.ipynb",
        "using-environments.ipynb",
    ]
    readme = (NOTEBOOKS / "README.md").read_text()
    for name in names:
        assert name in readme  # each says where it comes from
        cells = nbformat.read(NOTEBOOKS / name, as_version=4).cells
        source = "\n".join(c.source for c in cells if c.cell_type == "code")
        assert "azureml." not in source and "import azureml" not in source
        assert "jupyter_mlws.core" not in source and "MLWS_" not in source


@pytest.mark.slow
def test_logging_api(project: tuple[Workspace, Path]) -> None:
    ws, folder = project
    done = execute("logging-api.ipynb", folder)
    header = done.text(done.cell("ws = Workspace.from_config()"))
    assert "Workspace name: v1-suite\nAzure region: local\nSubscription id: local\nResource group: local" in header

    (run,) = Experiment(ws, "logging-api-test").get_runs()
    assert run.status == "Completed"
    metrics = run.get_metrics()
    assert metrics["scale factor"] == 2 and metrics["Magic Number"] == 84
    assert metrics["Fibonacci"] == [2 * v for v in [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]]
    assert len(metrics["Sigmoid"]) == 20 and metrics["Sigmoid"][10] == pytest.approx(0.5)
    assert len(metrics["Cosine Wave"]["angle"]) == 20 and set(metrics["Cosine Wave"]) == {"angle", "cos"}
    assert metrics["Sine Wave"]["angle"][0] == -10.0 and len(metrics["Sine Wave"]["sine"]) == 20
    assert len(metrics["Accuracy"]["predicted"]) == 20
    files = run.get_file_names()
    assert "logging-api/myfile.txt" in files
    assert "Hyperbolic Tangent" in metrics and any(f.startswith("images/Hyperbolic_Tangent") for f in files)
    assert (folder / "files" / "myfile.txt").read_text() == "This is an output file that will be uploaded.\n"
    assert run.tags == {"My Favorite Run": "", "Competition Rank": "1"}
    assert done.widgets() >= 1  # RunDetails

    assert done.errors == [], "\n".join(done.errors)
    # What the cells above need from other parts of issue 14 (text/bool metrics, v1 chart metrics,
    # the portal URL):
    assert metrics["Category"] == "Red" and metrics["Converged"] is True
    for name in ("Pets confusion matrix", "Pets accuracy table", "Price residuals", "Price predictions"):
        assert name in metrics
    assert run.id in done.text(done.cell("print(fetched_run.get_portal_url())"))


@pytest.mark.slow
def test_manage_runs(project: tuple[Workspace, Path], tmp_path: Path) -> None:
    ws, folder = project
    done = execute("manage-runs.ipynb", folder)
    exp = Experiment(ws, "explore-runs")
    runs = list(exp.get_runs())
    by_status: dict[str, list[Run]] = {}
    for r in runs:
        by_status.setdefault(r.get_status(), []).append(r)

    hello = next(r for r in runs if r.get_properties().get("author") == "azureml-user")
    assert hello.get_status() == "Completed" and hello.get_metrics() == {"greetings": 1}
    assert hello.get_properties()["author"] == "azureml-user"  # the second add_properties was refused...
    assert "author" in done.text(done.cell("try:\n    local_script_run.add_properties"))  # ...with a message
    assert hello.get_tags() == {"quality": "fantastic run", "worth another look": ""}
    assert "Hello Azure ML!" in done.text(done.cell("local_script_run.wait_for_completion(show_output=True)"))
    assert "Completed" in done.text(done.cell("details = local_script_run.get_details_with_logs()"))
    found = done.text(done.cell('list(exp.get_runs(properties={"author": "azureml-user"}, tags="worth'))
    assert hello.id in found

    with_children = [r for r in runs if len(list(r.get_children())) == 5]
    assert len(with_children) == 2  # the script's create_children and the notebook's child_run()
    for parent in with_children:
        values = sorted(c.get_metrics()["Hello from child run"] for c in parent.get_children())
        assert values == [0, 1, 2, 3, 4]
        assert all(c.get_status() == "Completed" for c in parent.get_children())

    assert "Canceled" in by_status and "Failed" in by_status
    canceled = by_status["Canceled"][0]
    canceled.wait_for_completion(raise_on_error=False)
    assert "Still here" not in canceled.get_details_with_logs()["logFiles"].get("user_logs/std_log.txt", "")

    assert done.errors == [], "\n".join(done.errors)
    # What the cells above need from other parts of issue 14 (text metrics, start_logging's
    # snapshot_directory, restore_snapshot):
    interactive = [r for r in runs if r.type == "interactive" and not list(r.get_children())]
    assert sum(r.get_metrics().get("message") == "Hello from run!" for r in interactive) == 2
    assert all(r.get_status() == "Completed" for r in interactive)
    (snapshotted,) = [r for r in interactive if "files in project" in r.get_metrics()]
    with zipfile.ZipFile(snapshotted.download_snapshot(tmp_path / "snapshot.zip")) as zipped:
        assert "manage-runs.ipynb" in zipped.namelist()
    # v1's restore_snapshot gives "a zip package of the latest snapshot" and returns its path.
    returned = done.text(done.cell('local_script_run.restore_snapshot(path="snapshots")')).strip()
    restored = folder / ast.literal_eval(returned)
    assert restored.is_relative_to(folder / "snapshots")
    with zipfile.ZipFile(restored) as zipped:
        assert "hello_with_delay.py" in zipped.namelist()


@pytest.mark.slow
def test_train_on_local(project: tuple[Workspace, Path]) -> None:
    ws, folder = project
    done = execute("train-on-local.ipynb", folder)
    assert done.errors == [], "\n".join(done.errors)
    runs = list(Experiment(ws, "train-on-local").get_runs())
    assert len(runs) == 2 and all(r.get_status() == "Completed" for r in runs)
    user_managed, built = sorted(runs, key=lambda r: r.number)
    assert user_managed.get_environment().python.user_managed_dependencies is True
    assert built.get_environment().name == "system-managed-env"
    for run in runs:
        metrics = run.get_metrics()
        assert metrics["alpha"] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
        assert len(metrics["mse"]) == 5 and all(m > 0 for m in metrics["mse"])
    metrics = built.get_metrics()
    best = metrics["alpha"][metrics["mse"].index(min(metrics["mse"]))]
    model = Model(ws, "best_ridge_model")
    assert (model.version, model.run_id) == (1, built.id)
    assert f"When alpha is {best:0.2f}" in done.text()
    assert "alpha is 0.80" in done.text(done.cell("run.wait_for_completion(show_output=True)"))  # the job's log
    assert "outputs/ridge_0.40.pkl" in built.get_file_names()


@pytest.mark.slow
def test_using_environments(project: tuple[Workspace, Path]) -> None:
    ws, folder = project
    done = execute("using-environments.ipynb", folder)
    assert done.errors == [], "\n".join(done.errors)
    assert "AzureML-Minimal" in done.text() and "AzureML-Tutorial" in done.text()
    assert Environment.get(ws, "AzureML-Minimal").version == 1
    (run,) = Experiment(ws, "environment-example").get_runs()
    assert run.get_status() == "Completed"
    assert run.get_metrics()["numpy major version"] >= 1
    assert "Hello from an environment with numpy" in done.text()
    assert run.get_environment().name == "myenv"
    myenv = Environment.get(ws, "myenv", version="1")
    assert list(myenv.python.conda_dependencies.conda_packages) == ["numpy"]
    assert list(myenv.python.conda_dependencies.pip_packages) == ["jupyter-mlws"]


@pytest.mark.slow
def test_a_new_users_notebook_trains_on_cpu_cluster_and_registers_the_model(project: tuple[Workspace, Path]) -> None:
    ws, folder = project
    done = execute("train-on-amlcompute.ipynb", folder)
    assert done.errors == [], "\n".join(done.errors)
    cluster = ComputeTarget(workspace=ws, name="cpu-cluster")
    assert type(cluster) is AmlCompute and cluster.get_status().scale_settings.maximum_node_count == 4
    assert "Found existing cluster, use it." in done.text()  # the second time round

    runs = sorted(Experiment(ws, "train-on-amlcompute").get_runs(), key=lambda r: r.number)
    assert [r.type for r in runs] == ["interactive", "script"]
    logged, job = runs
    assert logged.get_metrics() == {"data rows": 200, "feature weights": [1.5, -2.0, 0.5, 0.0, 3.0]}
    assert job.get_status() == "Completed"
    assert job.get_details()["target"] == "cpu-cluster"
    assert job.get_metrics()["Regularization Rate"] == 0.5
    assert "Regularization rate: 0.5" in done.text(done.cell("%%time"))  # show_output streamed the job's log
    model = Model(ws, "ridge-on-cluster")
    assert (model.version, model.run_id, model.tags) == (1, job.id, {"area": "regression"})
    assert done.widgets() >= 1
