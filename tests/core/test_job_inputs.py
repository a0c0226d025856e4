"""The job-input plumbing (issue 15) with a job input type of the tests' own: a config's arguments and
inputs become the job spec's argv and input fields, the supervisor stages them into the job folder and
substitutes the argv, the job rebuilds them from the description file, and the clear errors for bad
input. The dataset type on real jobs: tests/data/test_lineage.py."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws.compute.inputs import discard_inputs, stage_inputs
from jupyter_mlws.core.job_inputs import collect_inputs
from jupyter_mlws.core.layout import ENV_INPUTS, ENV_RUN_ID, INPUTS_FILE, INPUTS_FOLDER
from jupyter_mlws.core.registry import job_input_types
from jupyter_mlws.core.runs.remote import job_input_values
from jupyter_mlws.errors import InvalidArgumentError, InvalidStateError

DISCARDED: list[str] = []


class Thing:
    """What the fake type takes as an input."""

    def __init__(self, name: str, text: str = "hello", mode: str = "direct", where: str | None = None) -> None:
        self.name, self.text, self.mode, self.where = name, text, mode, where


class FakeInputType:
    def describe(self, value: Any) -> dict[str, Any] | None:
        if not isinstance(value, Thing):
            return None
        return {
            "name": value.name,
            "text": value.text,
            "mode": value.mode,
            "path_on_compute": value.where,
            "read_only": value.mode == "mount",
            "placeholder": f"Thing:{value.name}",
        }

    def record(self, workspace: Any, run_id: str, inputs: Any) -> None:  # pragma: no cover - not submitted here
        pass

    def stage(self, workspace: Any, described: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        (folder / "data.txt").write_text(described["text"])
        return {"argument": str(folder) if described["mode"] == "mount" else "id-" + described["text"], "data": 7}

    def resolve(self, described: Mapping[str, Any], data: Any, folder: Path) -> Any:
        return ((folder / "data.txt").read_text(), data)

    def discard(self, described: Mapping[str, Any]) -> None:
        DISCARDED.append(described["name"])


@pytest.fixture(autouse=True)
def fake_type(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(job_input_types._specs, "fake", f"{__name__}:FakeInputType")
    monkeypatch.setitem(job_input_types._loaded, "fake", FakeInputType)
    DISCARDED.clear()
    yield


def test_inputs_in_arguments_hold_their_place_and_are_inputs_too() -> None:
    train = Thing("train")
    argv, fields = collect_inputs(["--data", train, "--lr", 0.5, Path("x")], [train, Thing("raw", mode="mount")])
    assert argv == ["--data", "Thing:train", "--lr", "0.5", "x"]
    assert [d["name"] for d in fields["inputs"]] == ["train", "raw"]
    assert fields["inputs"][0]["type"] == "fake"
    assert fields["input_arguments"] == [[1, "train"]]
    # Plain arguments only: nothing to add to the spec.
    assert collect_inputs(["a", 1, None], None) == (["a", "1", "None"], {})


@pytest.mark.parametrize(
    ("arguments", "inputs", "words"),
    [
        ([], [Thing("a"), Thing("a", text="other")], "used twice in inputs"),
        ([Thing("a", text="other")], [Thing("a")], "used twice (arguments[0]) for different data"),
        ([], ["train.csv"], "inputs[0] is a str"),
        ([], [Thing("1bad")], "invalid input name '1bad'"),
        ([], [Thing("a", where="/abs/path")], "must be a folder relative"),
        ([], [Thing("a", where="../up")], "path_on_compute"),
        ([], [Thing("a", where="outputs/x")], "inside the job's outputs/"),
    ],
)
def test_bad_inputs_are_clear_errors(arguments: list[Any], inputs: list[Any], words: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        collect_inputs(arguments, inputs)
    assert words in str(info.value)


def test_inputs_must_be_a_list() -> None:
    with pytest.raises(InvalidArgumentError, match="inputs must be a list"):
        collect_inputs([], "train")  # type: ignore[arg-type]


def test_the_supervisor_stages_substitutes_and_the_job_rebuilds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, raw = Thing("train"), Thing("raw", text="raw bytes", mode="mount", where="data/raw")
    argv, fields = collect_inputs(["--train", train, "--raw", raw], None)
    spec: dict[str, Any] = {"arguments": argv, **json.loads(json.dumps(fields))}  # as stored with the run
    workdir = tmp_path / "job"
    workdir.mkdir()
    description = stage_inputs(None, spec, workdir)  # type: ignore[arg-type]
    assert description == workdir / INPUTS_FOLDER / INPUTS_FILE
    assert spec["arguments"] == ["--train", "id-hello", "--raw", str(workdir / "data" / "raw")]
    assert (workdir / INPUTS_FOLDER / "train" / "data.txt").read_text() == "hello"
    mounted = workdir / "data" / "raw" / "data.txt"
    assert mounted.read_text() == "raw bytes"
    if os.geteuid() != 0:  # root writes through any permission
        with pytest.raises(PermissionError):
            mounted.write_text("changed")
    assert not os.access(mounted.parent, os.W_OK) or os.geteuid() == 0

    monkeypatch.setenv(ENV_RUN_ID, "run-1")
    monkeypatch.setenv(ENV_INPUTS, str(description))
    values = job_input_values("run-1")
    assert values == {"train": ("hello", 7), "raw": ("raw bytes", 7)}
    assert job_input_values("another-run") == {}

    discard_inputs(spec, workdir)
    assert sorted(DISCARDED) == ["raw", "train"]
    mounted.write_text("removable again")  # the job folder can be removed


def test_a_snapshot_folder_in_the_way_fails_staging(tmp_path: Path) -> None:
    _argv, fields = collect_inputs([], [Thing("a", where="data")])
    (tmp_path / "data").mkdir()
    with pytest.raises(InvalidStateError, match="already taken by the job's snapshot"):
        stage_inputs(None, {"arguments": [], **fields}, tmp_path)  # type: ignore[arg-type]
