"""Fixtures for the pipeline tests: one workspace per module with its dispatcher agent (steps are
real jobs), and a kit that writes step scripts.

Step scripts are written with a header naming the test, so that no two tests share a step's source
content (reuse is keyed on content across the whole workspace, as it should be).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Workspace
from tests.compute.conftest import wait_until
from tests.support.agent_workspace import agent_workspace

TIMEOUT = 90.0


class PipeKit:
    def __init__(self, ws: Workspace, root: Path, name: str) -> None:
        self.ws = ws
        self.root = root
        self.name = name
        self.src = root / "src"
        self.src.mkdir(parents=True)
        self.flags = root / "flags"
        self.flags.mkdir()
        self.exp = Experiment(ws, name.replace("[", "_").replace("]", "_")[:60])

    def script(self, name: str, body: str, folder: Path | None = None) -> str:
        path = (folder or self.src) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"# {self.name}\nimport os, sys, time, json\nfrom pathlib import Path\nFLAGS = Path({str(self.flags)!r})\n"
        )
        path.write_text(header + textwrap.dedent(body))
        return name

    def flag(self, name: str) -> Path:
        return self.flags / name

    wait_until = staticmethod(wait_until)


@pytest.fixture(scope="module")
def pws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One workspace for a module's pipelines; its agent and every process of it stopped at the end."""
    with agent_workspace(tmp_path_factory.mktemp("pipelines")) as ws:
        yield ws


@pytest.fixture
def pk(pws: Workspace, tmp_path: Path, request: pytest.FixtureRequest) -> PipeKit:
    return PipeKit(pws, tmp_path, request.node.name)
