"""REST read of a hyperparameter sweep (issue 18): ``GET runs/{run_id}/sweep`` answers the sweep page's
data — its trials with their sampled values, best primary metric and stop reason, the best trial and
the policy's decisions. One real sweep (subprocess trials, a Bandit policy stopping the bad one) is
made once for the module with the public API; each test reads it through a real Jupyter server, and
the ``api`` client validates every reply against openapi.yaml and fails on any 5xx."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.core.workspace import close_backends
from tests.server.conftest import Api, expect_error, stop_jobs
from tests.support.sweeps import QS, recorded_sweep, small_sweep


@dataclass(frozen=True)
class Sweeps:
    root: Path
    sweep: str  # the real sweep: trials <sweep>_0.._2, trial 2 stopped by the Bandit policy
    recorded: str  # a finished sweep's records, trial 0's best metric +inf
    plain: str  # an interactive run: not a sweep


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweeps]:
    root = tmp_path_factory.mktemp("sweeps-root")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
        ws = Workspace.create(root)
        try:
            sweep = small_sweep(ws, root.parent / "sweep-src")
            recorded = recorded_sweep(ws, root.parent / "recorded-src")
            with Experiment(ws, "plain").start_logging() as run:
                run.log("acc", 0.5)
            yield Sweeps(root, sweep.id, recorded, run.id)
        finally:
            stop_jobs(root)
            close_backends()


@pytest.fixture
def jp_root_dir(sweeps: Sweeps) -> Path:
    """Each test's Jupyter server serves the module's workspace (pytest-jupyter reads this fixture)."""
    assert os.path.isdir(sweeps.root / ".mlws")
    return sweeps.root


async def test_a_sweep_with_its_trials_best_run_and_decisions(api: Api, sweeps: Sweeps) -> None:
    view = await api.ok(f"runs/{sweeps.sweep}/sweep")
    assert view["run_id"] == sweeps.sweep and view["status"] == "Completed"
    assert view["primary_metric"] == {"name": "acc", "goal": "maximize"}
    assert view["parameters"] == ["--q"]
    assert view["sampling"]["type"] == "grid"
    assert view["policy"]["type"] == "bandit" and "0.1" in view["policy"]["description"]
    assert (view["max_total_runs"], view["max_concurrent_runs"]) == (3, 1)
    assert "max_total_runs" in view["end_reason"]

    children = view["children"]
    assert [c["run_id"] for c in children] == [f"{sweeps.sweep}_{i}" for i in range(3)]
    assert [c["index"] for c in children] == [0, 1, 2]
    assert [c["hyperparameters"] for c in children] == [{"--q": q} for q in QS]
    assert [c["best_primary_metric"] for c in children] == list(QS)
    assert [c["status"] for c in children] == ["Completed", "Completed", "Canceled"]
    assert [c["stop_reason"] is None for c in children] == [True, True, False]
    assert children[2]["stop_reason"].startswith("BanditPolicy: 0.20 < best 0.90")
    for child in children:
        assert child["intervals"] == 1
        assert child["start_time"].endswith("Z") and child["end_time"].endswith("Z")

    assert view["best_run_id"] == f"{sweeps.sweep}_1"
    [decision] = view["decisions"]
    assert decision["run_id"] == f"{sweeps.sweep}_2" and decision["index"] == 2
    assert decision["reason"] == children[2]["stop_reason"]
    assert decision["time"] == children[2]["end_time"]


async def test_non_finite_metrics_count_as_none_and_minimize_picks_the_lowest(api: Api, sweeps: Sweeps) -> None:
    reply = await api.get(f"runs/{sweeps.recorded}/sweep")
    # Trial 0 logged only +inf: a diverged value is no value (it must not rank, nor break strict JSON).
    assert reply.status == 200 and b"Infinity" not in reply.body and b"NaN" not in reply.body
    view = reply.data
    assert view["primary_metric"] == {"name": "loss", "goal": "minimize"}
    assert view["parameters"] == ["--lr", "--opt"] and view["sampling"]["type"] == "random"
    assert [c["best_primary_metric"] for c in view["children"]] == [None, 0.4, 0.9]
    assert view["children"][1]["hyperparameters"] == {"--lr": 0.02, "--opt": "adam"}
    assert view["best_run_id"] == f"{sweeps.recorded}_1"
    assert [d["index"] for d in view["decisions"]] == [2]


async def test_an_unknown_run_is_a_404_and_a_run_that_is_not_a_sweep_a_400(api: Api, sweeps: Sweeps) -> None:
    expect_error(await api.get("runs/no-such-run/sweep"), 404, "NotFoundError", "no-such-run")
    expect_error(await api.get("runs/%E2%9C%93%20x/sweep"), 404, "NotFoundError")
    expect_error(await api.get(f"runs/{sweeps.plain}/sweep"), 400, "InvalidArgumentError", sweeps.plain, "not a sweep")
    # A trial is an ordinary job run, not a sweep: the message names its type.
    trial = f"{sweeps.sweep}_0"
    expect_error(await api.get(f"runs/{trial}/sweep"), 400, "InvalidArgumentError", trial, "not a sweep")
