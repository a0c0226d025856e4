"""A real small sweep made with the public API (tests of the sweep routes and the sweep page).

Three grid trials of a script that logs ``acc`` = its ``--q``; the last (``--q 0.2``) then sleeps, and
the Bandit policy (slack 0.1 behind the best, 0.9 of trial 1) stops it: one decision. Each trial is a subprocess
job on the local target, run by the workspace's agent.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from jupyter_mlws import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    PrimaryMetricGoal,
    RandomParameterSampling,
    Run,
    RunStatus,
    ScriptRunConfig,
    Workspace,
    choice,
    uniform,
)
from jupyter_mlws.sweeps.driver import HYPERPARAMETERS_PROPERTY, INDEX_PROPERTY, STOPPED_PROPERTY

__all__ = ["QS", "TRAIN", "recorded_sweep", "small_sweep"]

QS = (0.8, 0.9, 0.2)  # grid order: trial i samples QS[i]; the best is not the first; the last is stopped
TRAIN = """\
import argparse
import time

from jupyter_mlws import Run

parser = argparse.ArgumentParser()
parser.add_argument("--q", type=float)
args = parser.parse_args()
run = Run.get_context()
run.log("acc", args.q)
time.sleep(30 if args.q < 0.5 else 0)  # a bad trial lingers: the policy stops it
"""


def small_sweep(ws: Workspace, folder: Path, experiment: str = "sweep") -> HyperDriveRun:
    """Submit the sweep and wait for it (a stopped trial ends Canceled; the sweep ends Completed)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(TRAIN)
    hd = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=str(folder), script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"--q": choice(*QS)}),
        primary_metric_name="acc",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=len(QS),
        max_concurrent_runs=1,
        policy=BanditPolicy(slack_amount=0.1),
    )
    run = Experiment(ws, experiment).submit(hd)
    assert isinstance(run, HyperDriveRun)
    run.wait_for_completion(timeout_seconds=120)
    return run


def recorded_sweep(ws: Workspace, folder: Path, experiment: str = "recorded-sweep") -> str:
    """A finished sweep's records as the controller leaves them, made directly (no agent, no job):
    a random sweep over ``--lr`` and ``--opt`` whose trial 0 logged only +inf (which counts as no value), trial
    1 a plain value, and trial 2 the policy stopped. Returns the sweep's run id."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text("pass\n")
    hd = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=str(folder), script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"--lr": uniform(0.01, 0.1), "--opt": choice("sgd", "adam")}),
        primary_metric_name="loss",
        primary_metric_goal=PrimaryMetricGoal.MINIMIZE,
        max_total_runs=3,
        policy=BanditPolicy(slack_factor=0.2),
    )
    exp = Experiment(ws, experiment)
    sweep = Run.create(exp, run_type="hyperdrive", job_spec=hd.sweep_spec(), display_name="recorded sweep")
    trials = [(0.05, "sgd", math.inf, None), (0.02, "adam", 0.4, None), (0.09, "sgd", 0.9, "BanditPolicy: stopped")]
    for index, (lr, opt, loss, stopped) in enumerate(trials):
        properties = {INDEX_PROPERTY: str(index), HYPERPARAMETERS_PROPERTY: json.dumps({"--lr": lr, "--opt": opt})}
        trial = Run.create(exp, parent=sweep, run_id=f"{sweep.id}_{index}", properties=properties)
        trial.log("loss", loss)
        if stopped:
            trial.add_properties({STOPPED_PROPERTY: stopped})
            trial.cancel()
        else:
            trial.complete()
    sweep.complete()
    assert Run(exp, sweep.id).status == RunStatus.COMPLETED
    return sweep.id
