"""Notebook jobs: ``NotebookRunConfig`` run with papermill on the local target.

Parameters are injected after the cell tagged ``parameters`` and checked, before any run exists,
against the literal types of that cell's defaults; the executed notebook is stored as
``outputs/<notebook name>`` (also when a cell fails); metrics logged in the notebook and
scrapbook-style glued numbers land on the run; the run's ``mlws.progress`` tag says which cell is
executing; a failing cell's number, exception and traceback are the run's error details; the kernel
is chosen by name (default: the notebook's kernelspec) and a missing one is refused up front.

Every run here starts a real kernel: the tests that submit are marked slow and batch their checks.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_mlws import Experiment, NotebookRunConfig, Run, Workspace
from jupyter_mlws.errors import InvalidArgumentError, MlwsError, NotFoundError
from tests.compute.conftest import wait_until, write_alt_kernelspec

WAIT = 120  # generous upper bound for one notebook job on a loaded 2-core machine
SCRAP_MIME = "application/scrapbook.scrap.json+json"
PYTHON3 = {"name": "python3", "display_name": "Python 3", "language": "python"}

PARAMETERS = """\
lr = 0.1
epochs = 2
items = [10]
verbose = False
name = "a"
fail = False
"""

TRAIN = """\
from jupyter_mlws import Run

run = Run.get_context()
for epoch in range(epochs):
    run.log("loss", lr * (epoch + 1))
total = lr * epochs + sum(items)
run.log("total", total)
run.tag("types", ",".join(type(v).__name__ for v in (lr, epochs, items, verbose, name)))
run.tag("name", name)
run.tag("verbose", str(verbose))
if "momentum" in globals():
    run.log("momentum", momentum)
print(f"trained {name} total={total}")
"""


def _glue(name: str, value: str) -> str:
    """A cell that records ``value`` the way scrapbook's ``glue(name, value)`` does."""
    return (
        "from IPython.display import display\n"
        f"display({{{SCRAP_MIME!r}: {{'name': {name!r}, 'data': {value}, 'encoder': 'json', 'version': 1}}}}, "
        "raw=True)\n"
    )


GLUE = _glue("score", "total * 2") + _glue("label", "'not a number'")

FAIL = """\
if fail:
    raise ValueError(f"boom lr={lr}")
"""

AFTER = """\
run.log("after", 1)
print("after-the-failing-cell")
"""


def _write_notebook(path: Path, cells: list[tuple[str, str]], kernel: dict[str, str] | None = None) -> str:
    """Write a notebook of ``(kind, source)`` cells; kind ``parameters`` is a code cell tagged so."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(kernel or PYTHON3)
    for kind, source in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path.name


TRAIN_CELLS = [
    ("markdown", "# Training"),
    ("parameters", PARAMETERS),
    ("code", TRAIN),
    ("code", GLUE),
    ("code", FAIL),
    ("code", AFTER),
]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    _write_notebook(folder / "train.ipynb", TRAIN_CELLS)
    return folder


@pytest.fixture
def exp(ws: Workspace) -> Experiment:
    return Experiment(ws, "e")


def _run(exp: Experiment, src: Path, **kwargs: Any) -> Run:
    kwargs.setdefault("notebook", "train.ipynb")
    return exp.submit(NotebookRunConfig(source_directory=src, **kwargs))


def _wait(run: Run) -> dict[str, Any]:
    details: dict[str, Any] = run.wait_for_completion(timeout=WAIT, raise_on_error=False)
    return details


def _executed(run: Run, tmp_path: Path, name: str = "train.ipynb") -> Any:
    """The executed notebook the run stored as ``outputs/<name>``."""
    assert f"outputs/{name}" in run.get_file_names()
    target = tmp_path / "downloads" / run.id / name
    target.parent.mkdir(parents=True, exist_ok=True)
    run.download_file(f"outputs/{name}", str(target))
    return nbformat.read(target, as_version=4)


def _driver_log(run: Run, tmp_path: Path) -> str:
    target = tmp_path / "downloads" / run.id / "std_log.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    run.download_file("user_logs/std_log.txt", str(target))
    return target.read_text()


def _tagged(nb: Any, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def _injected_values(nb: Any) -> dict[str, Any]:
    """The values papermill's injected-parameters cell assigns."""
    (index,) = _tagged(nb, "injected-parameters")
    namespace: dict[str, Any] = {}
    exec(nb.cells[index].source, namespace)
    namespace.pop("__builtins__")
    return namespace


def _no_runs(exp: Experiment) -> None:
    assert list(exp.get_runs()) == []


# -- parameters --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_parameters_are_injected_after_the_parameters_cell_and_used(exp: Experiment, src: Path, tmp_path: Path) -> None:
    run = _run(exp, src, parameters={"lr": "0.5", "epochs": 3, "items": "[1, 2]", "verbose": "true", "name": "b"})
    details = _wait(run)
    assert details["status"] == "Completed", details.get("error")

    nb = _executed(run, tmp_path)
    (parameters_cell,) = _tagged(nb, "parameters")
    assert _tagged(nb, "injected-parameters") == [parameters_cell + 1]
    # Values converted to the types of the defaults before they were injected.
    assert _injected_values(nb) == {"lr": 0.5, "epochs": 3, "items": [1, 2], "verbose": True, "name": "b"}
    # The tagged cell itself is left as written; the injected cell overrides it.
    assert nb.cells[parameters_cell].source.rstrip("\n") == PARAMETERS.rstrip("\n")

    # The notebook's computation used the injected values, with the defaults' types.
    run = Run(exp, run.id)
    assert run.get_metrics()["loss"] == [0.5, 1.0, 1.5]
    assert run.get_metrics()["total"] == pytest.approx(0.5 * 3 + 3)
    assert run.tags["types"] == "float,int,list,bool,str"
    assert run.tags["name"] == "b"
    assert run.tags["verbose"] == "True"
    # The kernel defaulted to the notebook's kernelspec.
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # Cell output is in the driver log.
    assert "trained b total=4.5" in _driver_log(run, tmp_path)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"epochs": "7"}, {"epochs": 7}),
        ({"epochs": 4}, {"epochs": 4}),
        ({"lr": "0.5"}, {"lr": 0.5}),
        ({"lr": 1}, {"lr": 1.0}),
        ({"verbose": "true"}, {"verbose": True}),
        ({"verbose": "False"}, {"verbose": False}),
        ({"verbose": True}, {"verbose": True}),
        ({"name": "x"}, {"name": "x"}),
        ({"items": "[1,2]"}, {"items": [1, 2]}),
        ({"items": [3, 4]}, {"items": [3, 4]}),
        ({"seed": "anything"}, {"seed": "anything"}),
        ({"seed": 3}, {"seed": 3}),
        ({"seed": [1, "x"]}, {"seed": [1, "x"]}),
        ({"anything": {"a": 1}}, {"anything": {"a": 1}}),
    ],
)
def test_parameters_are_converted_to_the_types_of_their_defaults(
    tmp_path: Path, given: dict[str, Any], expected: dict[str, Any]
) -> None:
    folder = tmp_path / "src"
    cells = [("parameters", PARAMETERS + "seed = int('7')\nanything = None\n"), ("code", "print(seed)")]
    _write_notebook(folder / "p.ipynb", cells)
    spec = NotebookRunConfig(source_directory=folder, notebook="p.ipynb", parameters=given).job_spec()
    assert spec["parameters"] == expected
    assert [type(v) for v in spec["parameters"].values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ({"epochs": "abc"}, "epochs"),
        ({"epochs": 1.5}, "epochs"),
        ({"lr": "fast"}, "lr"),
        ({"verbose": "maybe"}, "verbose"),
        ({"name": 3}, "name"),
        ({"items": "x"}, "items"),
        ({"items": '{"a": 1}'}, "items"),
    ],
)
def test_a_parameter_of_the_wrong_type_is_refused_before_any_run(
    exp: Experiment, src: Path, given: dict[str, Any], name: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        _run(exp, src, parameters=given)
    message = str(caught.value)
    assert name in message
    assert str(given[name]) in message  # and the value refused
    _no_runs(exp)


def test_unknown_parameters_are_refused_naming_them_and_what_the_notebook_defines(exp: Experiment, src: Path) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        _run(exp, src, parameters={"momentum": 0.9, "lr": 0.2})
    message = str(caught.value)
    assert "momentum" in message
    assert "lr" in message and "epochs" in message  # what the notebook does define
    assert "allow_unknown_parameters" in message
    _no_runs(exp)


@pytest.mark.slow
def test_unknown_parameters_allowed_are_injected_and_visible(exp: Experiment, src: Path, tmp_path: Path) -> None:
    run = _run(exp, src, parameters={"momentum": 0.9, "epochs": 1}, allow_unknown_parameters=True)
    details = _wait(run)
    assert details["status"] == "Completed", details.get("error")
    assert _injected_values(_executed(run, tmp_path)) == {"momentum": 0.9, "epochs": 1}
    assert run.get_metrics()["momentum"] == 0.9
    assert run.get_metrics()["loss"] == 0.1


@pytest.mark.slow
def test_a_notebook_without_a_parameters_cell(exp: Experiment, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    cells = [
        ("code", "from jupyter_mlws import Run\nrun = Run.get_context()"),
        ("code", "run.log('alpha', globals().get('alpha', -1))"),
    ]
    _write_notebook(folder / "plain.ipynb", cells)

    # Every parameter is unknown to it.
    with pytest.raises(InvalidArgumentError) as caught:
        _run(exp, folder, notebook="plain.ipynb", parameters={"alpha": 2})
    assert "alpha" in str(caught.value)
    assert "parameters" in str(caught.value)
    _no_runs(exp)

    given = _run(exp, folder, notebook="plain.ipynb", parameters={"alpha": 2}, allow_unknown_parameters=True)
    none = _run(exp, folder, notebook="plain.ipynb")
    assert _wait(given)["status"] == "Completed"
    assert _wait(none)["status"] == "Completed"

    nb = _executed(given, tmp_path, "plain.ipynb")
    assert _injected_values(nb) == {"alpha": 2}
    assert _tagged(nb, "injected-parameters") == [0]  # no parameters cell: papermill injects at the top
    assert given.get_metrics()["alpha"] == 2
    assert _tagged(_executed(none, tmp_path, "plain.ipynb"), "injected-parameters") == []
    assert none.get_metrics()["alpha"] == -1


# -- metrics, glue, progress -------------------------------------------------------------------------


@pytest.mark.slow
def test_metrics_glued_values_and_progress_land_on_the_run(exp: Experiment, src: Path, tmp_path: Path) -> None:
    run = _run(exp, src, parameters={"lr": 0.25, "epochs": 2})
    details = _wait(run)
    assert details["status"] == "Completed", details.get("error")

    metrics = Run(exp, run.id).get_metrics()
    assert metrics["loss"] == [0.25, 0.5]
    assert metrics["total"] == pytest.approx(10.5)
    assert metrics["score"] == pytest.approx(21.0)  # glued in the notebook
    assert "label" not in metrics  # a glued string is not a metric

    nb = _executed(run, tmp_path)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    source_code_cells = sum(1 for kind, _ in TRAIN_CELLS if kind != "markdown")
    assert len(code_cells) == source_code_cells + 1  # papermill's injected cell is executed too
    assert all(cell.execution_count is not None for cell in code_cells)
    n = len(code_cells)
    assert run.get_details()["tags"]["mlws.progress"] == f"cell {n} of {n}"
    assert Run(exp, run.id).tags["mlws.progress"] == f"cell {n} of {n}"


@pytest.mark.slow
def test_one_notebook_two_parameter_sets_gives_two_runs_with_their_own_results(
    exp: Experiment, src: Path, tmp_path: Path
) -> None:
    first = _run(exp, src, parameters={"lr": 0.1, "epochs": 2, "name": "first"})
    second = _run(exp, src, parameters={"lr": 0.2, "epochs": 3, "name": "second"})
    assert first.id != second.id
    assert _wait(first)["status"] == "Completed"
    assert _wait(second)["status"] == "Completed"

    assert first.get_metrics()["loss"] == pytest.approx([0.1, 0.2])
    assert second.get_metrics()["loss"] == pytest.approx([0.2, 0.4, 0.6])
    assert first.get_metrics()["score"] == pytest.approx(2 * (0.2 + 10))
    assert second.get_metrics()["score"] == pytest.approx(2 * (0.6 + 10))
    assert Run(exp, first.id).tags["name"] == "first"
    assert Run(exp, second.id).tags["name"] == "second"
    assert _injected_values(_executed(first, tmp_path)) == {"lr": 0.1, "epochs": 2, "name": "first"}
    assert _injected_values(_executed(second, tmp_path)) == {"lr": 0.2, "epochs": 3, "name": "second"}
    # Each run's params are what it ran with: its given values over the notebook's defaults.
    defaults = {"items": "[10]", "verbose": "False", "fail": "False"}
    assert first.get_params() == {**defaults, "lr": "0.1", "epochs": "2", "name": "first"}
    assert second.get_params() == {**defaults, "lr": "0.2", "epochs": "3", "name": "second"}
    assert "trained first" in _driver_log(first, tmp_path)
    assert "trained second" not in _driver_log(first, tmp_path)
    assert "trained second" in _driver_log(second, tmp_path)
    assert {r.id for r in exp.get_runs()} == {first.id, second.id}


@pytest.mark.slow
def test_progress_names_the_cell_executing_while_the_notebook_runs(exp: Experiment, tmp_path: Path) -> None:
    folder = tmp_path / "waiting"
    entered, release = tmp_path / "entered", tmp_path / "release"
    cells = [
        ("parameters", "entered = ''\nrelease = ''"),
        ("code", "import pathlib\nimport time"),
        ("code", "x = 1"),
        (
            "code",
            "pathlib.Path(entered).write_text('in')\nwhile not pathlib.Path(release).exists():\n    time.sleep(0.02)",
        ),
        ("code", "print('released')"),
    ]
    _write_notebook(folder / "waiting.ipynb", cells)
    run = _run(exp, folder, notebook="waiting.ipynb", parameters={"entered": str(entered), "release": str(release)})
    # Code cells as executed: parameters, papermill's injected cell, import, x, the waiting cell, print.
    seen: list[str | None] = []

    def progress_names_the_waiting_cell() -> bool:
        seen.append(Run(exp, run.id).get_details()["tags"].get("mlws.progress"))
        return seen[-1] == "cell 5 of 6"

    try:
        wait_until(entered.exists, what="the notebook to enter its waiting cell")
        deadline = time.monotonic() + 20  # generous: the tag is written as the cell starts
        while not progress_names_the_waiting_cell() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        release.write_text("go")
    assert seen[-1] == "cell 5 of 6", f"while cell 5 of 6 ran, mlws.progress was {sorted(set(map(str, seen)))}"
    details = _wait(run)
    assert details["status"] == "Completed", details.get("error")
    assert details["tags"]["mlws.progress"] == "cell 6 of 6"


# -- a failing cell ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_failing_cell_fails_the_run_with_the_cell_and_keeps_the_partial_notebook(
    exp: Experiment, src: Path, tmp_path: Path
) -> None:
    run = _run(exp, src, parameters={"fail": True, "lr": "0.3", "name": "broken"})
    assert _wait(run)["status"] == "Failed"

    error = run.get_details()["error"]
    assert error["ename"] == "ValueError"
    assert error["evalue"] == "boom lr=0.3"
    assert "ValueError" in error["message"] and "boom lr=0.3" in error["message"]
    traceback = error["traceback"]
    assert isinstance(traceback, str)
    assert "\x1b" not in traceback  # plain text, no ANSI colours
    assert 'raise ValueError(f"boom lr={lr}")' in traceback
    assert "ValueError: boom lr=0.3" in traceback

    # The partially executed notebook is stored.
    nb = _executed(run, tmp_path)
    # cell_index names the failing cell of the notebook as executed (papermill's own red error
    # banners, markdown cells it adds to the stored copy, aside).
    executed = [cell for cell in nb.cells if "papermill-error-cell-tag" not in cell.metadata.get("tags", [])]
    assert executed[error["cell_index"]].source.rstrip("\n") == FAIL.rstrip("\n")
    by_source = {cell.source.rstrip("\n"): cell for cell in nb.cells if cell.cell_type == "code"}
    train = by_source[TRAIN.rstrip("\n")]
    assert any("trained broken" in out.get("text", "") for out in train.outputs)
    glue = by_source[GLUE.rstrip("\n")]
    assert any(SCRAP_MIME in out.get("data", {}) for out in glue.outputs)
    failing = by_source[FAIL.rstrip("\n")]
    assert [out.output_type for out in failing.outputs] == ["error"]
    assert failing.outputs[0].ename == "ValueError"
    after = by_source[AFTER.rstrip("\n")]
    assert after.outputs == []
    assert after.execution_count is None

    # What ran before the failure still counts; what came after never ran.
    metrics = run.get_metrics()
    assert metrics["loss"] == pytest.approx([0.3, 0.6])
    assert metrics["score"] == pytest.approx(2 * (0.6 + 10))
    assert "after" not in metrics
    log = _driver_log(run, tmp_path)
    assert "trained broken" in log
    assert "after-the-failing-cell" not in log


# -- kernels -----------------------------------------------------------------------------------------


@pytest.fixture
def alt_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A second kernelspec, ``mlws-alt``: this interpreter with MLWS_KERNEL_FLAVOUR=alt."""
    root = tmp_path / "jupyter"
    write_alt_kernelspec(root)
    monkeypatch.setenv("JUPYTER_PATH", str(root))
    monkeypatch.delenv("MLWS_KERNEL_FLAVOUR", raising=False)
    return "mlws-alt"


@pytest.mark.slow
def test_the_kernel_defaults_to_the_notebooks_kernelspec_and_can_be_chosen_by_name(
    exp: Experiment, tmp_path: Path, alt_kernel: str
) -> None:
    folder = tmp_path / "k"
    cells = [
        ("code", "import os\nfrom jupyter_mlws import Run"),
        ("code", "Run.get_context().tag('flavour', os.environ.get('MLWS_KERNEL_FLAVOUR', 'default'))"),
    ]
    _write_notebook(folder / "k.ipynb", cells, kernel={"name": alt_kernel, "display_name": "Alt", "language": "python"})

    by_default = _run(exp, folder, notebook="k.ipynb")
    chosen = _run(exp, folder, notebook="k.ipynb", kernel_name="python3")
    assert _wait(by_default)["status"] == "Completed"
    assert _wait(chosen)["status"] == "Completed"
    assert Run(exp, by_default.id).tags["flavour"] == "alt"
    assert Run(exp, chosen.id).tags["flavour"] == "default"


def test_a_missing_kernel_is_refused_naming_it_and_the_kernels_there_are(exp: Experiment, src: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        _run(exp, src, kernel_name="no-such-kernel")
    message = str(caught.value)
    assert "no-such-kernel" in message
    assert "python3" in message  # the kernels that are installed
    _no_runs(exp)


def test_a_notebook_whose_kernelspec_is_missing_is_refused(exp: Experiment, tmp_path: Path) -> None:
    folder = tmp_path / "ghost"
    kernel = {"name": "ghost-kernel", "display_name": "Ghost", "language": "python"}
    _write_notebook(folder / "g.ipynb", [("code", "print(1)")], kernel=kernel)
    with pytest.raises(NotFoundError) as caught:
        _run(exp, folder, notebook="g.ipynb")
    assert "ghost-kernel" in str(caught.value)
    assert "python3" in str(caught.value)
    _no_runs(exp)


# -- bad configs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"notebook": "missing.ipynb"}, NotFoundError, "missing.ipynb"),
        ({"notebook": "train.py"}, InvalidArgumentError, ".ipynb"),
        ({"notebook": None}, InvalidArgumentError, "notebook"),
        ({"notebook": "broken.ipynb"}, InvalidArgumentError, "broken.ipynb"),
        ({"notebook": "nocells.ipynb"}, InvalidArgumentError, "nocells.ipynb"),
        ({"notebook": "badparams.ipynb"}, InvalidArgumentError, "parameters"),
        ({"notebook": "../train.ipynb"}, InvalidArgumentError, ".."),
        ({"environment": "myenv"}, NotFoundError, "environment 'myenv' is not registered"),
        ({"environment": "myenv:x"}, InvalidArgumentError, "must be a number"),
        ({"environment": 42}, InvalidArgumentError, "environment must be"),
        ({"max_run_duration_seconds": 0}, InvalidArgumentError, "max_run_duration_seconds"),
        ({"parameters": "lr=0.2"}, InvalidArgumentError, "parameters"),
        ({"parameters": 3}, InvalidArgumentError, "parameters"),
        ({"source_directory": "no-such-folder"}, NotFoundError, "no-such-folder"),
    ],
)
def test_bad_configs_are_clear_errors_and_create_no_run(
    exp: Experiment, src: Path, kwargs: dict[str, Any], error: type[MlwsError], words: str
) -> None:
    (src / "train.py").write_text("print('not a notebook')\n")
    (src / "broken.ipynb").write_text("this is not JSON {")
    (src / "nocells.ipynb").write_text(json.dumps({"metadata": {}, "nbformat": 4}))
    _write_notebook(src / "badparams.ipynb", [("parameters", "lr = = 1")])
    kwargs.setdefault("source_directory", src)
    kwargs.setdefault("notebook", "train.ipynb")
    with pytest.raises(error) as caught:
        exp.submit(NotebookRunConfig(**kwargs))
    assert words in str(caught.value)
    _no_runs(exp)


# -- max_run_duration_seconds ------------------------------------------------------------------------


@pytest.mark.slow
def test_max_run_duration_cancels_a_notebook_that_runs_too_long(exp: Experiment, tmp_path: Path) -> None:
    folder = tmp_path / "sleepy"
    finished = tmp_path / "finished"
    cells = [
        ("parameters", "seconds = 600"),
        ("code", "import time\ntime.sleep(seconds)"),
        ("code", f"open({str(finished)!r}, 'w').close()"),
    ]
    _write_notebook(folder / "sleepy.ipynb", cells)
    run = _run(exp, folder, notebook="sleepy.ipynb", max_run_duration_seconds=3)
    details = _wait(run)
    assert details["status"] == "Canceled"
    assert "max_run_duration_seconds" in details["error"]["message"]
    assert run.get_details()["error"]["reason"] == "max_run_duration_seconds"
    assert not finished.exists()


# -- the warm runner ----------------------------------------------------------------------------------------
WHO_RUNS = """\
import os
runner = open(f"/proc/{os.getppid()}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
print("RUNNER", "forked" if "compute.agent" in runner else "process", n)
"""


def test_once_the_dispatcher_is_warm_notebooks_run_in_a_fork_of_it(exp: Experiment, src: Path) -> None:
    # The dispatcher imports papermill before its first notebook job (the kernel pool's jobs run in
    # forks of it, issue 22): every job's runner is a fork that skips those imports.
    _write_notebook(src / "who.ipynb", [("parameters", "n = 0"), ("code", WHO_RUNS)])
    seen = []
    for n in range(1, 4):
        run = exp.submit(NotebookRunConfig(src, "who.ipynb", parameters={"n": n}))
        run.wait_for_completion(timeout=120)
        log = run.read_log()[0].decode()
        [line] = [line for line in log.splitlines() if line.startswith("RUNNER")]
        seen.append(line)
        assert (
            "outputs/who.ipynb" in run.get_file_names() and run.get_tags()["mlws.progress"] == "cell 3 of 3"
        )  # with the injected parameters
    assert seen == ["RUNNER forked 1", "RUNNER forked 2", "RUNNER forked 3"]


def test_a_forked_runner_has_its_own_folder_environment_log_and_exit_code(tmp_path: Path) -> None:
    import os
    import signal

    from jupyter_mlws.compute.local import ForkedProcess

    log = tmp_path / "driver.log"
    log_fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # its supervisor's pipe, here a file

    def job() -> int:
        print("in", os.getcwd(), os.environ.get("ONLY_HERE"), flush=True)
        return 3

    proc = ForkedProcess(job, tmp_path, {"ONLY_HERE": "yes"}, log_fd)
    assert proc.wait(60) == 3
    assert log.read_text() == f"in {tmp_path} yes\n" and "ONLY_HERE" not in os.environ

    def broken() -> int:
        raise ValueError("the data is bad")

    assert ForkedProcess(broken, tmp_path, {}, log_fd).wait(60) == 1
    assert "ValueError: the data is bad" in log.read_text()

    sleeper = ForkedProcess(lambda: time.sleep(60) or 0, tmp_path, {}, log_fd)
    with pytest.raises(Exception, match="timed out"):
        sleeper.wait(0.1)
    os.killpg(sleeper.pid, signal.SIGTERM)  # its own process group, like a Popen job
    assert sleeper.wait(30) == -signal.SIGTERM
    os.close(log_fd)
