"""Lineage (issue 15, item 4): datasets as job inputs on the local and the Docker target.

- ``ds.as_named_input(name)`` in ``ScriptRunConfig(arguments=…)`` and ``inputs=…`` (a file dataset's
  also ``.as_mount()`` / ``.as_download()``): in the job's argv a tabular input is its dataset's id, a
  file input its local folder; ``Run.get_context().input_datasets[name]`` is the dataset (tabular) or
  the local folder (file); a mounted input is write-protected (read-only in a container).
- The run records each input: ``get_details()["inputDatasets"]``; ``ds.get_lineage()`` lists the runs
  and the models (``Model.register(…, datasets=[("training", ds)])``) of that version only.
- An unregistered dataset is an input too (its digest recorded, no name or version); a dataset whose
  files changed since registration fails the job before it starts; bad inputs are clear errors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Dataset, Environment, Experiment, Model, NotebookRunConfig, Run, Workspace
from jupyter_mlws.errors import InvalidArgumentError
from tests.compute.conftest import TIMEOUT, JobKit, _job_processes, kit  # noqa: F401 (fixtures)
from tests.compute.test_docker import BUILD_TIMEOUT, docker_target  # noqa: F401 (fixtures)
from tests.support.docker import engine  # noqa: F401 (fixtures)

TRAIN_SCRIPT = """\
import stat
from jupyter_mlws import Run

run = Run.get_context()
inputs = run.input_datasets
training = inputs["training"]
df = training.to_pandas_dataframe()
run.log("rows", len(df))


def files(folder):
    root = Path(folder)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def protected(folder):
    return all(stat.S_IMODE(p.stat().st_mode) & 0o222 == 0 for p in Path(folder).rglob("*"))


def writable(folder):
    try:
        (Path(folder) / "probe").write_text("x")
    except OSError:
        return False
    (Path(folder) / "probe").unlink()
    return True


report = {
    "argv": sys.argv[1:],
    "names": sorted(inputs),
    "type": type(training).__name__,
    "columns": [str(c) for c in df.columns],
    "y_sum": float(df["y"].sum()),
    "paths": {name: value for name, value in inputs.items() if isinstance(value, str)},
    "files": {name: files(value) for name, value in inputs.items() if isinstance(value, str)},
    "protected": {name: protected(value) for name, value in inputs.items() if isinstance(value, str)},
    "writable": {name: writable(value) for name, value in inputs.items() if isinstance(value, str)},
    "same_objects": run.input_datasets["training"] is training,
}
Path("outputs/report.json").write_text(json.dumps(report))
Path("outputs/model.txt").write_text("weights")
"""


@pytest.fixture
def datasets(ws: Workspace, tmp_path: Path) -> dict[str, Any]:
    table = tmp_path / "table"
    table.mkdir()
    (table / "part1.csv").write_text("x,y\n1,10\n2,20\n")
    (table / "part2.csv").write_text("x,y\n3,30\n")
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "a.txt").write_text("alpha")
    (raw / "sub" / "b.txt").write_text("beta")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "notes.txt").write_text("unregistered")
    return {
        "training": Dataset.Tabular.from_delimited_files(str(table / "*.csv")).register(ws, "training"),
        "raw": Dataset.File.from_files(str(raw)).register(ws, "raw"),
        "scratch": Dataset.File.from_files(str(scratch)),  # never registered
        "table": table,
        "raw_folder": raw,
    }


def report_of(run: Run, tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / f"{run.id}-report.json"
    run.download_file("outputs/report.json", str(target))
    return dict(json.loads(target.read_text()))


def inputs_by_name(run: Run) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in run.get_details()["inputDatasets"]}


def test_a_local_job_trains_on_its_inputs_and_the_lineage_knows(
    ws: Workspace,
    kit: JobKit,  # noqa: F811 (the fixture)
    datasets: dict[str, Any],
    tmp_path: Path,
) -> None:
    training, raw, scratch = datasets["training"], datasets["raw"], datasets["scratch"]
    kit.script("train.py", TRAIN_SCRIPT)
    train_in = training.as_named_input("training")
    config = kit.config(
        "train.py",
        arguments=["--data", train_in, "--raw", raw.as_named_input("raw_mnt").as_mount(), "--lr", 0.5],
        inputs=[train_in, raw.as_named_input("raw_dl").as_download(), scratch.as_named_input("scratch")],
    )
    run = kit.exp.submit(config)
    run.wait_for_completion(timeout=TIMEOUT)

    report = report_of(run, tmp_path)
    # v1's substitutions: the tabular input's dataset id, the mounted file input's local folder.
    assert report["argv"] == ["--data", training.id, "--raw", report["paths"]["raw_mnt"], "--lr", "0.5"]
    assert report["names"] == ["raw_dl", "raw_mnt", "scratch", "training"]
    assert report["type"] == "TabularDataset" and report["columns"] == ["x", "y"] and report["y_sum"] == 60.0
    assert report["same_objects"] is True
    assert report["files"]["raw_mnt"] == report["files"]["raw_dl"] == ["a.txt", "sub/b.txt"]
    assert report["files"]["scratch"] == ["notes.txt"]
    assert report["protected"] == {"raw_mnt": True, "raw_dl": False, "scratch": False}  # only the mount
    assert report["writable"]["raw_dl"] is True
    if os.geteuid() != 0:  # root writes through permissions on this machine (not in a container: see below)
        assert report["writable"]["raw_mnt"] is False
    assert run.get_metrics()["rows"] == 3

    recorded = inputs_by_name(run)
    assert recorded == {
        "training": {"name": "training", "dataset": _ref(training), "mode": "direct"},
        "raw_mnt": {"name": "raw_mnt", "dataset": _ref(raw), "mode": "mount"},
        "raw_dl": {"name": "raw_dl", "dataset": _ref(raw), "mode": "download"},
        "scratch": {
            "name": "scratch",
            "dataset": {"name": None, "version": None, "id": None, "digest": scratch.manifest.digest},
            "mode": recorded["scratch"]["mode"],
        },
    }
    assert len(scratch.manifest.digest) == 64
    # The unregistered dataset's files, held since submit for the job, are gone with the job.
    [held] = [d["held"]["folder"] for d in ws.services.queries.job_spec(run.id)["inputs"] if d.get("held")]
    assert not Path(held).exists()

    # The lineage of each version: the run, then the model registered with the dataset.
    assert training.get_lineage() == {"runs": [run.id], "models": []}
    assert raw.get_lineage()["runs"] == [run.id]
    model = Model.register(ws, str(kit.src / "train.py"), "churn", datasets=[("training", training)])
    assert Dataset.get_by_name(ws, "training").get_lineage() == {"runs": [run.id], "models": [model.id]}
    assert model.id == "churn:1"
    # Another version of the same name has a lineage of its own (empty).
    (datasets["table"] / "part2.csv").write_text("x,y\n3,31\n")
    second = Dataset.Tabular.from_delimited_files(str(datasets["table"] / "*.csv")).register(
        ws, "training", create_new_version=True
    )
    assert second.version == 2 and second.get_lineage() == {"runs": [], "models": []}
    assert Dataset.get_by_name(ws, "training", version=1).get_lineage()["models"] == ["churn:1"]


def _ref(ds: Any) -> dict[str, Any]:
    return {"name": ds.name, "version": ds.version, "id": ds.id, "digest": ds.digest}


def test_a_dataset_changed_since_registration_fails_the_job_before_it_starts(
    kit: JobKit,  # noqa: F811 (the fixture)
    datasets: dict[str, Any],
) -> None:
    kit.script("never.py", "mark('started')\n")
    (datasets["raw_folder"] / "a.txt").write_text("tampered")
    run = kit.submit("never.py", inputs=[datasets["raw"].as_named_input("raw").as_download()])
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Failed"
    assert "a.txt" in details["error"]["message"]
    assert not kit.flag("started").exists()
    assert inputs_by_name(run)["raw"]["dataset"]["digest"] == datasets["raw"].digest  # what was asked for


def test_a_notebook_job_gets_its_inputs(
    ws: Workspace,
    kit: JobKit,  # noqa: F811 (the fixture)
    datasets: dict[str, Any],
) -> None:
    cells = [
        "from jupyter_mlws import Run\nrun = Run.get_context()",
        "df = run.input_datasets['training'].to_pandas_dataframe()\n"
        "run.log('y_sum', float(df['y'].sum()))\n"
        "run.log('files', len(list(__import__('pathlib').Path(run.input_datasets['raw']).rglob('*.txt'))))",
    ]
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                  for c in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    (kit.src / "train.ipynb").write_text(json.dumps(notebook))
    config = NotebookRunConfig(
        source_directory=str(kit.src),
        notebook="train.ipynb",
        inputs=[datasets["training"].as_named_input("training"), datasets["raw"].as_named_input("raw").as_mount()],
    )
    run = kit.exp.submit(config)
    run.wait_for_completion(timeout=TIMEOUT)
    assert run.get_metrics() == {"y_sum": 60.0, "files": 2.0}
    assert sorted(inputs_by_name(run)) == ["raw", "training"]


def test_bad_inputs_are_clear_errors_and_create_no_run(
    ws: Workspace,
    kit: JobKit,  # noqa: F811 (the fixture)
    datasets: dict[str, Any],
) -> None:
    training, raw = datasets["training"], datasets["raw"]
    kit.script("job.py", "pass\n")

    def refused(words: str, **kwargs: Any) -> None:
        with pytest.raises(InvalidArgumentError) as info:
            kit.exp.submit(kit.config("job.py", **kwargs))
        assert words in str(info.value), str(info.value)

    refused("used twice", inputs=[training.as_named_input("data"), raw.as_named_input("data")])
    refused("used twice", arguments=[raw.as_named_input("data").as_mount()], inputs=[training.as_named_input("data")])
    refused("not a job input", inputs=[str(datasets["table"])])
    refused("as_named_input", inputs=[training])
    with pytest.raises(InvalidArgumentError) as info:  # refused by as_mount itself, or at submit
        kit.exp.submit(kit.config("job.py", inputs=[training.as_named_input("t").as_mount()]))
    assert "tabular" in str(info.value).lower() or "file" in str(info.value).lower()
    assert list(Experiment(ws, kit.exp.name).get_runs()) == []


@pytest.mark.docker
def test_a_docker_job_gets_a_tabular_and_a_file_input(
    ws: Workspace,
    kit: JobKit,  # noqa: F811 (the fixture)
    docker_target: str,  # noqa: F811 (the fixture)
    datasets: dict[str, Any],
    tmp_path: Path,
) -> None:
    training, raw = datasets["training"], datasets["raw"]
    kit.script("train.py", TRAIN_SCRIPT)
    env = Environment("lineage-docker")
    env.python.pip_packages = [f"pandas=={_version('pandas')}", f"pyarrow=={_version('pyarrow')}"]
    train_in = training.as_named_input("training")
    run = kit.submit(
        "train.py",
        compute_target=docker_target,
        environment=env,
        arguments=["--data", train_in, "--raw", raw.as_named_input("raw_mnt").as_mount()],
        inputs=[train_in],
    )
    run.wait_for_completion(timeout=BUILD_TIMEOUT)
    report = report_of(run, tmp_path)
    assert report["argv"] == ["--data", training.id, "--raw", report["paths"]["raw_mnt"]]
    assert report["type"] == "TabularDataset" and report["y_sum"] == 60.0
    assert report["files"]["raw_mnt"] == ["a.txt", "sub/b.txt"] and report["protected"]["raw_mnt"] is True
    assert report["writable"] == {"raw_mnt": False}  # a read-only mount in the container, whoever runs it
    assert sorted(inputs_by_name(run)) == ["raw_mnt", "training"]
    assert training.get_lineage()["runs"] == raw.get_lineage()["runs"] == [run.id]


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)
