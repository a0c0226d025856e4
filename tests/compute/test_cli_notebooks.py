"""`mlws submit NOTEBOOK.ipynb --param name=value --wait`: notebook jobs from the command line."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.cli import main


def _notebook(folder: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("epochs = 2\nlabel = 'default'")
    params.metadata["tags"] = ["parameters"]
    work = nbformat.v4.new_code_cell(
        "from jupyter_mlws import Run\nrun = Run.get_context()\n"
        "for i in range(epochs):\n    run.log('loss', 1 / (i + 1))\nprint('label', label)"
    )
    nb.cells = [params, work]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "train.ipynb")


@pytest.mark.slow
def test_two_parameter_sets_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _notebook(tmp_path)
    Workspace.create(tmp_path)
    assert main(["submit", "train.ipynb", "-p", "epochs=3", "--param", "label=first", "--wait"]) == 0
    assert main(["submit", "train.ipynb", "--wait", "-p", "epochs=1", "-p", "label=second"]) == 0
    out = capsys.readouterr().out
    assert "label first" in out and "label second" in out
    runs = sorted(Workspace(tmp_path).search_runs().runs, key=lambda r: r.number)
    assert [len(r.get_metrics()["loss"]) if isinstance(r.get_metrics()["loss"], list) else 1 for r in runs] == [3, 1]
    assert all("outputs/train.ipynb" in r.get_file_names() for r in runs)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["submit", "train.ipynb", "-p", "epochs=abc"], "parameter 'epochs' takes int"),
        (["submit", "train.ipynb", "-p", "nope=1"], "unknown notebook parameter"),
        (["submit", "train.ipynb", "-p", "epochs"], "name=value"),
        (["submit", "train.ipynb", "--kernel", "no-such-kernel"], "kernel 'no-such-kernel'"),
        (["submit", "train.ipynb", "--", "--epochs", "3"], "not command-line arguments"),
    ],
)
def test_bad_notebook_submissions_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _notebook(tmp_path)
    Workspace.create(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert list(Workspace(tmp_path).search_runs().runs) == []
