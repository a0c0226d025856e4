"""Fixtures for the sweep tests that run trials: one workspace per module whose agent runs them, and a
kit that writes a scripted trial (it logs prepared values of the primary metric, one curve per trial)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, ScriptRunConfig, Workspace
from tests.support.agent_workspace import agent_workspace

TIMEOUT = 120.0

# A trial: `--curve NAME` picks its steps from curves.json. A number is logged as "acc" (and flushed,
# so the controller can judge it while the trial waits); "hold" waits until the trial is stopped;
# "fail" exits 3; "wait:F" waits for the flag file F (so a test decides when a trial goes on).
TRIAL = """\
import argparse, json, sys, time
from pathlib import Path
from jupyter_mlws import Run

parser = argparse.ArgumentParser()
parser.add_argument("--curve", default="none")
args, _unknown = parser.parse_known_args()
curves = json.loads(Path("curves.json").read_text())
run = Run.get_context()
print("IN_CONTAINER", Path("/.dockerenv").exists(), flush=True)
for step in curves.get(args.curve, []):
    if step == "hold":
        time.sleep(600)
    elif step == "fail":
        sys.exit(3)
    elif isinstance(step, str) and step.startswith("wait:"):
        deadline = time.monotonic() + 300
        while not Path(step[5:]).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    else:
        run.log("acc", step)
        run.flush()
"""


class SweepKit:
    def __init__(self, ws: Workspace, root: Path, name: str) -> None:
        self.ws = ws
        self.src = root / "src"
        self.src.mkdir(parents=True)
        self.flags = root / "flags"
        self.flags.mkdir()
        self.exp = Experiment(ws, name.replace("[", "_").replace("]", "_")[:60])

    def trial(self, curves: Mapping[str, Sequence[Any]]) -> ScriptRunConfig:
        """A run config of the scripted trial with these curves."""
        (self.src / "trial.py").write_text(textwrap.dedent(TRIAL))
        (self.src / "curves.json").write_text(json.dumps(dict(curves)))
        return ScriptRunConfig(source_directory=str(self.src), script="trial.py")

    def flag(self, name: str) -> Path:
        return self.flags / name


@pytest.fixture(scope="module")
def sws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with agent_workspace(tmp_path_factory.mktemp("sweeps")) as ws:
        yield ws


@pytest.fixture
def kit(sws: Workspace, tmp_path: Path, request: pytest.FixtureRequest) -> SweepKit:
    return SweepKit(sws, tmp_path, request.node.name)
