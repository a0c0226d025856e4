"""Fixtures of the publishing and schedule tests: the engine stand-in, a workspace with a published
pipeline, and no dispatcher agent (the tests call ``tick`` themselves with a fake clock)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import PublishedPipeline, Workspace
from jupyter_mlws.pipelines import schedules
from tests.pipelines.publishing import engine_double

DEFINITION: dict[str, Any] = {"steps": [{"name": "prepare"}, {"name": "train"}], "parameters": {"lr": 0.1, "epochs": 3}}


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The stand-in engine (``engine_double``); yields the list of its calls."""
    monkeypatch.setitem(__import__("sys").modules, engine_double.ENGINE, engine_double.module())
    engine_double.calls.clear()
    yield engine_double.calls
    engine_double.calls.clear()


@pytest.fixture(autouse=True)
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schedules wake the dispatcher agent; here the tests drive ``tick`` themselves."""
    monkeypatch.setattr(schedules, "_wake_agent", lambda ws: None)


@pytest.fixture
def pws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace no Jupyter server is known to serve (an empty runtime folder, no MLWS_LAB_URL)."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("MLWS_LAB_URL", raising=False)
    return Workspace.create(tmp_path / "project")


@pytest.fixture
def published(pws: Workspace) -> PublishedPipeline:
    return PublishedPipeline._create(pws, "training", "trains", "1.0", DEFINITION, None)
