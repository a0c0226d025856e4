"""The magics in a real IPython shell: %%submit, %register, %mlws and their errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing import globalipapp

from jupyter_mlws import Environment, Model, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.magics.magics import Table
from jupyter_mlws.magics.params import typed_value
from tests.support.docker import TEST_IMAGE, engine  # noqa: F401 - the Docker engine fixture


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    # start_ipython answers None once another module started the session's shell; get_ipython (looked up
    # now: start_ipython rebinds it) answers that shell.
    ip = globalipapp.start_ipython() or globalipapp.get_ipython()
    assert ip is not None
    ip.run_line_magic("load_ext", "jupyter_mlws")
    return ip


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shell: InteractiveShell) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    magics: Any = shell.magics_manager.registry["MlwsMagics"]
    magics._workspace = None
    magics.last_run = None
    (tmp_path / "helper.py").write_text("SCALE = 3\n")
    (tmp_path / ".gitignore").write_text("data/\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(b"x" * 1000)
    yield tmp_path
    if (tmp_path / ".mlws").exists():
        agent.stop(Workspace(tmp_path))


def run_cell(shell: InteractiveShell, source: str) -> Any:
    result = shell.run_cell(source)
    return result


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("0.5", 0.5), ("true", True), ("False", False), ("[1, 2]", [1, 2]), ('{"a": 1}', {"a": 1}),
     ("'quoted'", "quoted"), ("plain", "plain"), ("none", None), ("1e3", 1000.0)],
)  # fmt: skip
def test_param_values_are_typed(text: str, value: Any) -> None:
    assert typed_value(text) == value and type(typed_value(text)) is type(value)


def test_submit_runs_the_cell_as_a_job_with_typed_params(
    shell: InteractiveShell, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cell = (
        "%%submit --experiment nb --param lr=0.25 --param layers=[8,4] --param tag=big --no-wait --as job\n"
        "import os, helper\n"
        "from jupyter_mlws import Run\n"
        "run = Run.get_context()\n"
        "run.log('lr', lr * helper.SCALE)\n"
        "run.log('layers', len(layers))\n"
        "print('tag', tag, 'data here:', os.path.exists('data'))\n"
    )
    assert run_cell(shell, cell).success
    job = shell.user_ns["job"]
    details = job.wait_for_completion(timeout=90)
    assert details["status"] == "Completed"
    assert job.get_metrics() == {"lr": 0.75, "layers": 2.0}
    assert job.get_params() == {"lr": "0.25", "layers": "[8, 4]", "tag": "big"}
    log = job.read_log()[0].decode()
    assert "tag big data here: False" in log  # ignored folder left out of the snapshot
    assert "Submitted" in capsys.readouterr().out
    assert (folder / ".mlws").is_dir()  # created on the first write


def test_submit_waits_with_a_live_widget_and_binds_the_default_name(shell: InteractiveShell, folder: Path) -> None:
    assert run_cell(shell, "%%submit\nprint('hi')\n").success
    run = shell.user_ns["_run"]
    assert run.wait_for_completion(timeout=90)["status"] == "Completed"


def test_submit_takes_a_registered_environment(shell: InteractiveShell, folder: Path) -> None:
    ws = Workspace.create(folder)
    env = Environment("kernel-env")
    env.python.user_managed_dependencies = True  # this kernel's interpreter as it is: nothing to build
    env.environment_variables = {"GREETING": "hello from the environment"}
    env.register(ws)
    cell = "%%submit --environment kernel-env:1 --no-wait --as job\nimport os\nprint(os.environ['GREETING'])\n"
    assert run_cell(shell, cell).success
    job = shell.user_ns["job"]
    assert job.wait_for_completion(timeout=90)["status"] == "Completed"
    assert job.get_environment().name == "kernel-env"
    assert "hello from the environment" in job.read_log()[0].decode()


def test_register_from_a_path_and_from_the_last_run(shell: InteractiveShell, folder: Path) -> None:
    (folder / "model.bin").write_bytes(b"weights")
    result = run_cell(shell, "%register clf model.bin --tag stage=dev --property acc=0.9 --description 'first'")
    assert result.success
    model = result.result
    assert isinstance(model, Model) and (model.version, model.tags, model.properties) == (
        1,
        {"stage": "dev"},
        {"acc": "0.9"},
    )
    assert model.description == "first"
    cell = (
        "%%submit --no-wait --as trained\n"
        "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/m.txt', 'w').write('m')\n"
    )
    assert run_cell(shell, cell).success
    trained = shell.user_ns["trained"]
    trained.wait_for_completion(timeout=90)
    result = run_cell(shell, "%register clf outputs/m.txt --run last")
    assert result.success and result.result.version == 2 and result.result.run_id == trained.id
    result = run_cell(shell, f"%register clf outputs --run {trained.id}")
    assert result.success and result.result.get_file_names() == ["outputs/m.txt"]


def test_mlws_tables(shell: InteractiveShell, folder: Path) -> None:
    ws = Workspace.create(folder)
    from jupyter_mlws import Experiment

    with Experiment(ws, "tab").start_logging(display_name="one") as run:
        run.log("acc", 0.5)
        run.log_param("lr", 0.1)
    (folder / "w.bin").write_bytes(b"1")
    Model.register(ws, folder / "w.bin", "m")
    for line, needle in [
        ("experiments", "tab"),
        ("runs", run.id),
        ("runs tab", "0.5"),
        (f"run {run.id}", "param lr"),
        ("models", "m"),
        ("model m", "1"),
        (f"workspace {folder}", str(folder)),
    ]:
        table = shell.run_line_magic("mlws", line)
        assert isinstance(table, Table)
        assert needle in repr(table) and needle in table._repr_html_()


@pytest.mark.parametrize(
    "source",
    [
        "%mlws",
        "%mlws nonsense",
        "%mlws run",
        "%mlws run no-such-run",
        "%mlws model missing",
        "%register onlyname",
        "%register bad name!  x",
        "%register m missing-file.bin",
        "%register m x --run last",
        "%%submit --bogus\nprint(1)",
        "%%submit --param novalue\nprint(1)",
        "%%submit --param 1x=2\nprint(1)",
        "%%submit --as 'not a name'\nprint(1)",
        "%%submit --compute nowhere\nprint(1)",
        "%%submit --environment env:1\nprint(1)",
        "%mlws runs 'unterminated",
    ],
)
def test_bad_arguments_print_one_line_without_traceback(
    shell: InteractiveShell, folder: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    if "no-such-run" in source or "missing" in source or "--run last" in source:
        Workspace.create(folder)
    result = run_cell(shell, source)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert not result.success or "UsageError" in text
    assert "Traceback" not in text
    assert "UsageError" in text
    assert len([line for line in text.splitlines() if line.strip()]) <= 3


def _parameterised_notebook(folder: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("epochs = 2\nlabel = 'default'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "from jupyter_mlws import Run\nrun = Run.get_context()\n"
            "for i in range(epochs):\n    run.log('loss', 1 / (i + 1))\nrun.tag('label', label)"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "train.ipynb")


@pytest.mark.slow
def test_submit_line_magic_runs_the_example_notebook(shell: InteractiveShell, folder: Path) -> None:
    shutil.copy(Path(__file__).resolve().parents[2] / "notebooks" / "train.ipynb", folder / "train.ipynb")
    assert run_cell(shell, "%submit train.ipynb --param epochs=12 --param learning_rate=0.4 --no-wait --as job").success
    job = shell.user_ns["job"]
    assert job.wait_for_completion(timeout=120)["status"] == "Completed"
    assert len(job.get_metrics()["loss"]) == 12 and "outputs/train.ipynb" in job.get_file_names()


def test_submit_line_magic_runs_a_notebook_with_two_parameter_sets(shell: InteractiveShell, folder: Path) -> None:
    _parameterised_notebook(folder)
    assert run_cell(shell, "%submit train.ipynb --param epochs=3 --param label=first --no-wait --as one").success
    assert run_cell(shell, "%submit train.ipynb -p epochs=1 -p label=second --no-wait --as two").success
    one, two = shell.user_ns["one"], shell.user_ns["two"]
    for run, count, label in ((one, 3, "first"), (two, 1, "second")):
        assert run.wait_for_completion(timeout=120)["status"] == "Completed"
        loss = run.get_metrics()["loss"]
        assert (len(loss) if isinstance(loss, list) else 1) == count
        assert run.tags["label"] == label
        assert "outputs/train.ipynb" in run.get_file_names()


@pytest.mark.parametrize(
    "source",
    [
        "%submit train.ipynb --param epochs=abc",
        "%submit train.ipynb --param nope=1",
        "%submit train.ipynb --kernel no-such-kernel",
        "%submit train.py",
        "%submit",
    ],
)
def test_bad_notebook_submissions_are_one_line(
    shell: InteractiveShell, folder: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    _parameterised_notebook(folder)
    result = run_cell(shell, source)
    text = "".join(capsys.readouterr())
    assert not result.success or "UsageError" in text
    assert "UsageError" in text and "Traceback" not in text
    assert not (folder / ".mlws").exists()  # nothing made for a refused submission


@pytest.mark.docker
def test_submit_runs_a_cell_on_the_docker_target(
    shell: InteractiveShell,
    folder: Path,
    engine: Any,  # noqa: F811 - the Docker engine fixture
) -> None:
    from jupyter_mlws import ComputeTarget, DockerCompute

    ws = Workspace.create(folder)
    ComputeTarget.attach(ws, "docker", DockerCompute.attach_configuration(base_image=TEST_IMAGE))
    cell = (
        "%%submit --compute docker --param n=4 --no-wait --as job\n"
        "import os\nprint('in a container:', os.path.exists('/.dockerenv'), n)\n"
    )
    assert run_cell(shell, cell).success
    job = shell.user_ns["job"]
    assert job.wait_for_completion(timeout=600)["status"] == "Completed"
    assert "in a container: True 4" in job.read_log()[0].decode()


# -- display names of %%submit runs (issue 22, item 4) ----------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "count", "notebook", "name"),
    [
        ("# train the baseline\nx = 1\n", 7, "/w/train.ipynb", "train the baseline"),
        ("import os\n  ##   tune   the\tmodel  \nx = 1  # not a comment line\n", 3, None, "tune the model"),
        ("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n# %% setup\n#\n# the real one\n", 1, None, "the real one"),
        ("x = 1  # trailing comments do not count\n", 7, "/w/sub dir/train.ipynb", "cell 7 of train.ipynb"),
        ("x = 1\n", 12, None, "cell 12"),
        ("x = 1\n", None, "/w/train.ipynb", None),
        ("# " + "a" * 300, 1, None, "a" * 249 + "…"),
    ],
)  # fmt: skip
def test_cell_display_name_rules(cell: str, count: int | None, notebook: str | None, name: str | None) -> None:
    from jupyter_mlws.magics.magics import cell_display_name

    assert cell_display_name(cell, count, notebook) == name


def test_submit_names_the_run_after_the_cell(shell: InteractiveShell, folder: Path) -> None:
    assert run_cell(shell, "%%submit --no-wait --as first\n# train the baseline\nprint('hi')\n").success
    assert shell.user_ns["first"].display_name == "train the baseline"

    # No comment: the cell's execution count and the notebook of the kernel's session.
    shell.user_ns["__session__"] = str(folder / "experiments" / "train.ipynb")
    try:
        count = shell.execution_count
        assert run_cell(shell, "%%submit --no-wait --as second\nprint('hi')\n").success
    finally:
        del shell.user_ns["__session__"]
    second = shell.user_ns["second"]
    assert second.display_name == f"cell {count} of train.ipynb"
    assert Workspace(folder).get_run(second.id).display_name == second.display_name  # stored at creation

    count = shell.execution_count
    assert run_cell(shell, "%%submit --no-wait --as third\nprint('hi')\n").success
    assert shell.user_ns["third"].display_name == f"cell {count}"

    # An explicit name wins over the comment.
    cell = "%%submit --no-wait --as fourth --display-name 'my name'\n# a comment\nprint('hi')\n"
    assert run_cell(shell, cell).success
    assert shell.user_ns["fourth"].display_name == "my name"
    for name in ("first", "second", "third", "fourth"):
        assert shell.user_ns[name].wait_for_completion(timeout=90)["status"] == "Completed"


def test_bad_display_name_is_one_line(
    shell: InteractiveShell, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cell(shell, "%%submit --no-wait --display-name ' '\nprint('hi')\n")
    err = capsys.readouterr()
    assert not result.success or "UsageError" in err.out + err.err
    assert "--display-name takes a non-empty name" in err.err + err.out
    assert "Traceback" not in err.err + err.out
    assert not (folder / ".mlws").exists()  # refused before a workspace is made
