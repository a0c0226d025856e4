"""Notebook provenance (issue 14 item 9): runs started from a notebook record its path, cell id and
execution count; a notebook job records the notebook it runs and the cell that submitted it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.core import provenance
from jupyter_mlws.core.provenance import (
    NOTEBOOK_CELL_ID,
    NOTEBOOK_EXECUTION_COUNT,
    NOTEBOOK_PATH,
    NOTEBOOK_SNAPSHOT_PATH,
    SUBMITTED_FROM_CELL_ID,
    SUBMITTED_FROM_EXECUTION_COUNT,
    SUBMITTED_FROM_PATH,
)


class LabLikeClient(NotebookClient):
    """nbclient sends no cell metadata; JupyterLab sends each cell's id as ``cellId`` with its
    execute request. This client does the same, so the kernel sees what it sees under JupyterLab."""

    _cell_id: str | None = None

    async def async_execute_cell(self, cell: Any, cell_index: int, *args: Any, **kwargs: Any) -> Any:
        self._cell_id = cell.get("id")
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

    async def async_start_new_kernel_client(self) -> Any:
        kc = await super().async_start_new_kernel_client()
        original = kc.session.msg

        def msg(msg_type: str, content: Any = None, *args: Any, **kwargs: Any) -> Any:
            message = original(msg_type, content, *args, **kwargs)
            if msg_type == "execute_request" and self._cell_id:
                message["metadata"]["cellId"] = self._cell_id
            return message

        kc.session.msg = msg
        return kc


def _server_runtime(runtime: Path, pid: int, root: Path) -> None:
    """What a running Jupyter server leaves in the runtime folder: ``jpserver-<pid>.json``."""
    runtime.mkdir(parents=True, exist_ok=True)
    (runtime / f"jpserver-{pid}.json").write_text(json.dumps({"pid": pid, "root_dir": str(root)}))


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "runtime"
    folder.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(folder))
    provenance.server_path.cache_clear()
    yield folder
    provenance.server_path.cache_clear()


def test_a_path_is_made_relative_to_the_server_root_when_a_server_holds_it(tmp_path: Path, runtime: Path) -> None:
    notebook = tmp_path / "root" / "sub" / "a.ipynb"
    assert provenance.server_path(str(notebook)) == notebook.resolve().as_posix()  # no server: absolute
    provenance.server_path.cache_clear()
    _server_runtime(runtime, os.getpid(), tmp_path / "root")  # this process as the server
    assert provenance.server_path(str(notebook)) == "sub/a.ipynb"
    assert provenance.server_path("already/relative.ipynb") == "already/relative.ipynb"


def test_a_notebook_reached_through_a_link_under_the_root_keeps_its_server_path(tmp_path: Path, runtime: Path) -> None:
    """The server names a notebook in a linked folder (``<root>/data -> /elsewhere``) ``data/a.ipynb``;
    resolving the link first would leave the root and store an absolute path the Lab cannot open."""
    root, shared = tmp_path / "root", tmp_path / "shared"
    root.mkdir()
    shared.mkdir()
    (root / "data").symlink_to(shared, target_is_directory=True)
    _server_runtime(runtime, os.getpid(), root)
    assert provenance.server_path(str(root / "data" / "a.ipynb")) == "data/a.ipynb"


def test_a_notebook_job_from_outside_a_notebook_records_only_the_notebook(tmp_path: Path, runtime: Path) -> None:
    """As ``mlws submit x.ipynb`` or Lab's "Submit as job" create it (no executing cell)."""
    _server_runtime(runtime, os.getpid(), tmp_path)
    spec = {"kind": "notebook", "source_directory": str(tmp_path / "nbs"), "notebook": "train.ipynb"}
    assert provenance.run_properties(spec) == {NOTEBOOK_PATH: "nbs/train.ipynb", NOTEBOOK_SNAPSHOT_PATH: "train.ipynb"}


def test_outside_a_notebook_a_run_has_no_provenance_and_no_error(ws: Workspace) -> None:
    run = Experiment(ws, "plain").start_logging()
    run.complete()
    assert not [k for k in run.properties if k.startswith(("mlws.notebook.", "mlws.submitted_from."))]


@pytest.mark.slow
def test_runs_started_in_a_notebook_kernel_record_the_notebook_and_cell(
    tmp_path: Path, runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    root = tmp_path / "server-root"
    folder = root / "work"
    folder.mkdir(parents=True)
    # The job's own kernel runs under JPY_SESSION_NAME inherited from the submitting kernel: a run it
    # creates is the job's, not the submitting notebook's, and records no provenance.
    job_cell = "from jupyter_mlws import Run\nRun.get_context().child_run('in-job').complete()\nprint('job ran')"
    nbformat.write(new_notebook(cells=[new_code_cell(job_cell)]), folder / "job.ipynb")
    cells = [
        new_code_cell(
            "from jupyter_mlws import Experiment, Workspace\n"
            "ws = Workspace.create('.')\n"
            "with Experiment(ws, 'prov').start_logging() as interactive:\n"
            "    interactive.log('x', 1)"
        ),
        new_code_cell("%load_ext jupyter_mlws"),
        new_code_cell("%%submit --experiment prov --no-wait --as cell_job\nprint('cell ran')"),
        new_code_cell("%submit job.ipynb --experiment prov --no-wait --as nb_job"),
        new_code_cell(
            "for r in (cell_job, nb_job):\n    assert r.wait_for_completion(timeout=120)['status'] == 'Completed'"
        ),
    ]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    path = folder / "analysis.ipynb"
    nbformat.write(nb, path)
    # The kernel as Jupyter Server starts it for a notebook session: JPY_SESSION_NAME is the
    # notebook's absolute path, and the server (here: this process, the kernel's parent) has
    # announced its root in the runtime folder.
    _server_runtime(runtime, os.getpid(), root)
    env = {**os.environ, "JPY_SESSION_NAME": str(path)}
    try:
        LabLikeClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute(
            env=env
        )
    finally:
        if (folder / ".mlws").exists():
            agent.stop(Workspace(folder))
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    runs = {r.type: r for r in Experiment(Workspace(folder), "prov").get_runs()}
    assert set(runs) == {"interactive", "script", "notebook"}

    for run, cell in ((runs["interactive"], nb.cells[0]), (runs["script"], nb.cells[2])):
        assert cell.id and cell.execution_count
        assert {k: v for k, v in run.properties.items() if k.startswith("mlws.notebook.")} == {
            NOTEBOOK_PATH: "work/analysis.ipynb",
            NOTEBOOK_CELL_ID: cell.id,
            NOTEBOOK_EXECUTION_COUNT: str(cell.execution_count),
        }

    job = runs["notebook"].properties
    assert job[NOTEBOOK_PATH] == "work/job.ipynb" and job[NOTEBOOK_SNAPSHOT_PATH] == "job.ipynb"
    assert NOTEBOOK_CELL_ID not in job
    (in_job,) = runs["notebook"].get_children()
    assert not [k for k in in_job.properties if k.startswith(("mlws.notebook.", "mlws.submitted_from."))]
    submitting = nb.cells[3]
    assert (job[SUBMITTED_FROM_PATH], job[SUBMITTED_FROM_CELL_ID], job[SUBMITTED_FROM_EXECUTION_COUNT]) == (
        "work/analysis.ipynb",
        submitting.id,
        str(submitting.execution_count),
    )


class _FakeKernelShell:
    """What the provider reads of an ipykernel shell: namespace, parent request, display hook."""

    def __init__(self, user_ns: dict[str, Any], cell_id: str, count: int) -> None:
        self.user_ns = user_ns
        self.kernel = SimpleNamespace(get_parent=lambda channel=None: {"metadata": {"cellId": cell_id}})
        self.displayhook = SimpleNamespace(exec_result=SimpleNamespace(execution_count=count))


@pytest.mark.parametrize(
    ("user_ns", "cell_id", "expected_id"),
    [
        ({"__session__": "/srv/a.ipynb"}, "f00d-cell_1", "f00d-cell_1"),
        ({"__vsc_ipynb_file__": "/srv/a.ipynb"}, "vscode-notebook-cell:/srv/a.ipynb#W0", None),  # not nbformat's
        ({"__session__": "/srv/a.ipynb"}, "f00d\n", None),  # "$" would let a trailing newline through
    ],
)
def test_the_kernel_provider_reads_the_session_and_keeps_only_nbformat_cell_ids(
    monkeypatch: pytest.MonkeyPatch, user_ns: dict[str, Any], cell_id: str, expected_id: str | None
) -> None:
    import IPython

    from jupyter_mlws.magics.provenance import kernel_cell

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: _FakeKernelShell(user_ns, cell_id, 5))
    assert kernel_cell() == provenance.NotebookCell("/srv/a.ipynb", expected_id, 5)
    monkeypatch.setattr(IPython, "get_ipython", lambda: _FakeKernelShell({"__session__": "console-1"}, cell_id, 5))
    assert kernel_cell() is None  # a console's session names no notebook
