"""Sweeps run for real: the controller (forked by the workspace's agent) samples, submits trials as
child jobs, stops the ones the policy says, keeps the budget, and survives its own death.

Trials are scripted (see conftest.TRIAL): each logs a prepared curve of the primary metric, and a
trial meant to be stopped waits after the value that condemns it — so which trial is stopped never
depends on timing. Grid sweeps with one trial at a time make the order of the trials fixed.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import nbformat
import pytest

from jupyter_mlws import (
    BanditPolicy,
    ComputeTarget,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    MedianStoppingPolicy,
    NotebookRunConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    TruncationSelectionPolicy,
    choice,
    uniform,
)
from jupyter_mlws.compute import agent
from jupyter_mlws.compute.local import LocalCompute
from jupyter_mlws.errors import ActivityFailedException, InvalidArgumentError, MlwsError
from jupyter_mlws.sweeps.sampling import make_sampler
from tests.compute.conftest import wait_until

from .conftest import TIMEOUT, SweepKit

STOPPED = "mlws.sweep.stopped"


def _grid(kit: SweepKit, curves: dict[str, list[Any]], policy: Any = None, concurrent: int = 1) -> HyperDriveRun:
    """A grid sweep over the curves, in their order."""
    config = HyperDriveConfig(
        run_config=kit.trial(curves),
        hyperparameter_sampling=GridParameterSampling({"--curve": choice(*curves)}),
        primary_metric_name="acc",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=len(curves),
        max_concurrent_runs=concurrent,
        policy=policy,
    )
    run = kit.exp.submit(config)
    assert isinstance(run, HyperDriveRun)
    return run


def _by_curve(run: HyperDriveRun) -> dict[str, Any]:
    """The sweep's trials keyed by the curve each ran."""
    return {hp["--curve"]: rid for rid, hp in run.get_hyperparameters().items()}


def _wait_running(kit: SweepKit, run: HyperDriveRun, count: int) -> None:
    queries = kit.ws.services.queries
    wait_until(
        lambda: sum(r.status.value == "Running" for r in queries.children(run.id)) == count,
        TIMEOUT,
        f"{count} trials running",
    )


def _status(run: HyperDriveRun, run_id: str) -> str:
    return str(run.experiment.workspace.services.queries.run(run_id).status.value)


def _stop_reason(run: HyperDriveRun, run_id: str) -> str | None:
    return run.experiment.workspace.services.queries.properties(run_id).get(STOPPED)


def test_bandit_stops_exactly_the_trial_behind_the_best_and_says_why(kit: SweepKit) -> None:
    run = _grid(
        kit,
        {"c0": [0.8, 0.8], "c1": [0.6, "hold"], "c2": [0.75, 0.8]},
        BanditPolicy(slack_amount=0.1, evaluation_interval=1),
    )
    run.wait_for_completion(timeout=TIMEOUT)
    assert run.status == "Completed"
    ids = _by_curve(run)
    assert [_status(run, ids[c]) for c in ("c0", "c1", "c2")] == ["Completed", "Canceled", "Completed"]
    assert _stop_reason(run, ids["c1"]) == "BanditPolicy: 0.60 < best 0.80 - slack 0.1 at interval 1"
    assert _stop_reason(run, ids["c0"]) is None and _stop_reason(run, ids["c2"]) is None
    decisions = run.get_diagnostics()["decisions"]
    assert [(d["run_id"], d["reason"]) for d in decisions] == [(ids["c1"], _stop_reason(run, ids["c1"]))]
    # The stopped trial's value still counts: it is ranked, behind the others.
    ranked = run.get_children_sorted_by_primary_metric()
    assert [r["run_id"] for r in ranked] == [ids["c0"], ids["c2"], ids["c1"]]
    assert ranked[0]["best_primary_metric"] == 0.8 and ranked[0]["hyperparameters"] == {"--curve": "c0"}


def test_median_stopping_stops_the_trial_below_the_median_of_running_averages(kit: SweepKit) -> None:
    run = _grid(
        kit,
        {"c0": [0.5, 0.6, 0.7], "c1": [0.6, 0.7, 0.8], "c2": [0.1, 0.2, "hold"], "c3": [0.4, 0.6, 0.65]},
        MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=2),
    )
    run.wait_for_completion(timeout=TIMEOUT)
    ids = _by_curve(run)
    assert [_status(run, ids[c]) for c in ("c0", "c1", "c2", "c3")] == [
        "Completed",
        "Completed",
        "Canceled",
        "Completed",
    ]
    reason = _stop_reason(run, ids["c2"])
    assert reason is not None and reason.startswith("MedianStoppingPolicy: 0.20 < median 0.55")
    assert reason.endswith("at interval 2")  # not at 1: delay_evaluation=2


def test_truncation_selection_stops_the_lowest_share(kit: SweepKit) -> None:
    run = _grid(
        kit,
        {"c0": [0.9, 0.9], "c1": [0.3, "hold"], "c2": [0.95, 0.95]},
        TruncationSelectionPolicy(truncation_percentage=50),
    )
    run.wait_for_completion(timeout=TIMEOUT)
    ids = _by_curve(run)
    assert [_status(run, ids[c]) for c in ("c0", "c1", "c2")] == ["Completed", "Canceled", "Completed"]
    reason = "TruncationSelectionPolicy: 0.30 is in the lowest 50% of 2 runs at interval 1"
    assert _stop_reason(run, ids["c1"]) == reason
    assert run.get_best_run_by_primary_metric().id == ids["c2"]  # type: ignore[union-attr]


def test_failed_and_metricless_trials_do_not_stop_the_sweep_and_rank_last(kit: SweepKit) -> None:
    run = _grid(kit, {"c0": [0.5], "c1": ["fail"], "c2": [], "c3": [0.7]}, concurrent=2)
    details = run.wait_for_completion(timeout=TIMEOUT)
    assert details["status"] == "Completed"
    ids = _by_curve(run)
    assert [_status(run, ids[c]) for c in ("c0", "c1", "c2", "c3")] == ["Completed", "Failed", "Completed", "Completed"]
    ranked = run.get_children_sorted_by_primary_metric()
    assert [r["run_id"] for r in ranked[:2]] == [ids["c3"], ids["c0"]]
    assert {r["run_id"] for r in ranked[2:]} == {ids["c1"], ids["c2"]}
    assert all(r["best_primary_metric"] is None for r in ranked[2:])
    assert [r["run_id"] for r in run.get_children_sorted_by_primary_metric(discard_no_metric=True)] == [
        ids["c3"],
        ids["c0"],
    ]
    assert [r["run_id"] for r in run.get_children_sorted_by_primary_metric(top=1, reverse=True)] == [ids["c0"]]
    assert run.get_best_run_by_primary_metric().id == ids["c3"]  # type: ignore[union-attr]
    metrics = run.get_metrics()
    assert metrics[ids["c3"]] == {"acc": 0.7} and metrics[ids["c2"]] == {}
    # A trial is an ordinary job: its params are the sampled values, its argv has them.
    trial = run.get_best_run_by_primary_metric()
    assert trial is not None and trial.get_details()["params"] == {"--curve": "c3"}
    assert trial.parent is not None and trial.parent.id == run.id  # type: ignore[attr-defined]


def test_a_sweep_whose_every_trial_failed_fails(kit: SweepKit) -> None:
    run = _grid(kit, {"c0": ["fail"], "c1": ["fail"]}, concurrent=2)
    with pytest.raises(ActivityFailedException, match="every trial failed"):
        run.wait_for_completion(timeout=TIMEOUT)
    assert run.status == "Failed"


def test_max_concurrent_runs_is_never_exceeded_and_max_total_runs_is_kept(kit: SweepKit) -> None:
    # The target would run four at once: the sweep's own limit (two) is what holds them back.
    ComputeTarget.attach(kit.ws, "wide", LocalCompute.attach_configuration(max_concurrent_runs=4))
    gate = kit.flag("go")
    config = kit.trial({"gate": [f"wait:{gate}", 0.5]})
    config.run_config.target = "wide"
    run = kit.exp.submit(
        HyperDriveConfig(
            run_config=config,
            hyperparameter_sampling=RandomParameterSampling({"--curve": choice("gate"), "--x": uniform(0, 1)}, seed=7),
            primary_metric_name="acc",
            primary_metric_goal="maximize",
            max_total_runs=5,
            max_concurrent_runs=2,
        )
    )
    queries = kit.ws.services.queries
    _wait_running(kit, run, 2)
    assert len(queries.children(run.id)) == 2  # the others wait for a free slot
    gate.write_text("")
    run.wait_for_completion(timeout=TIMEOUT)
    children = queries.children(run.id)
    assert sorted(r.run_id for r in children) == [f"{run.id}_{i}" for i in range(5)]
    assert all(r.status.value == "Completed" and r.compute_target == "wide" for r in children)
    # At no moment were more than two trials between start and end.
    edges = sorted([(r.start_time, 1) for r in children] + [(r.end_time, -1) for r in children])
    running = peak = 0
    for _t, step in edges:
        running += step
        peak = max(peak, running)
    assert peak <= 2
    assert run.get_diagnostics()["end_reason"] == "max_total_runs (5) reached"


def test_max_duration_stops_running_trials_and_ends_the_sweep(kit: SweepKit) -> None:
    run = kit.exp.submit(
        HyperDriveConfig(
            run_config=kit.trial({"slow": [0.1, "hold"]}),
            hyperparameter_sampling=RandomParameterSampling({"--curve": choice("slow"), "--x": uniform(0, 1)}),
            primary_metric_name="acc",
            primary_metric_goal="max",
            max_total_runs=6,
            max_concurrent_runs=2,
            max_duration_minutes=0.04,  # 2.4 s
        )
    )
    run.wait_for_completion(timeout=TIMEOUT)
    assert run.status == "Completed"
    children = run.get_children()
    assert 1 <= len(children) <= 2  # nothing started after the time was up (max_total_runs is 6)
    for child in children:
        assert child.status == "Canceled"
        assert _stop_reason(run, child.id) == "the sweep reached max_duration_minutes (0.04)"
    assert run.get_diagnostics()["end_reason"] == "max_duration_minutes (0.04) reached"


def test_cancel_of_the_sweep_cancels_its_trials_and_starts_no_more(kit: SweepKit) -> None:
    run = _grid(kit, {f"c{i}": [0.1, "hold"] for i in range(4)}, concurrent=2)
    queries = kit.ws.services.queries
    _wait_running(kit, run, 2)
    run.cancel()
    run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert run.status == "Canceled"
    children = queries.children(run.id)
    assert len(children) == 2
    assert all(r.status.value == "Canceled" for r in children)
    assert all(_stop_reason(run, r.run_id) == "the sweep was canceled" for r in children)


def test_killed_agent_and_controller_resume_without_duplicate_trials(kit: SweepKit) -> None:
    gate = kit.flag("go")
    sampling = RandomParameterSampling({"--curve": choice("gate"), "--x": uniform(0, 1)}, seed=11)
    run = kit.exp.submit(
        HyperDriveConfig(
            run_config=kit.trial({"gate": [f"wait:{gate}", 0.5]}),
            hyperparameter_sampling=sampling,
            primary_metric_name="acc",
            primary_metric_goal="maximize",
            max_total_runs=5,
            max_concurrent_runs=2,
        )
    )
    queries = kit.ws.services.queries
    _wait_running(kit, run, 2)
    controller = queries.run(run.id).supervisor_pid
    holder = agent.running_pid(kit.ws)
    assert controller is not None and holder is not None
    os.kill(holder, signal.SIGKILL)
    os.kill(controller, signal.SIGKILL)
    wait_until(lambda: agent.running_pid(kit.ws) is None, TIMEOUT, "the agent gone")
    gate.write_text("")
    run.wait_for_completion(timeout=TIMEOUT)  # its health check brings an agent up, which resumes it
    record = queries.run(run.id)
    assert record.status.value == "Completed"
    assert record.supervisor_pid != controller  # a new controller finished it
    children = queries.children(run.id)
    assert sorted(r.run_id for r in children) == [f"{run.id}_{i}" for i in range(5)]
    assert all(r.status.value == "Completed" for r in children)
    # Each trial has the values the seed gives its index: none drawn twice, none skipped.
    sampler = make_sampler(sampling.to_json(), 11, goal="maximize")
    expected = {f"{run.id}_{i}": sampler.suggest(i, []) for i in range(5)}
    assert run.get_hyperparameters() == expected


def test_a_notebook_sweep_sets_papermill_parameters(kit: SweepKit) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("learning_rate = 0.1")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        parameters,
        nbformat.v4.new_code_cell("from jupyter_mlws import Run\nRun.get_context().log('acc', learning_rate * 2)"),
    ]
    nbformat.write(nb, kit.src / "train.ipynb")
    run = kit.exp.submit(
        HyperDriveConfig(
            run_config=NotebookRunConfig(source_directory=str(kit.src), notebook="train.ipynb"),
            hyperparameter_sampling=GridParameterSampling({"--learning-rate": choice(0.25, 0.5)}),
            primary_metric_name="acc",
            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
            max_total_runs=4,  # more than the grid: it ends when the grid is done
            max_concurrent_runs=2,
        )
    )
    run.wait_for_completion(timeout=TIMEOUT)
    ranked = run.get_children_sorted_by_primary_metric()
    assert [(r["hyperparameters"], r["best_primary_metric"]) for r in ranked] == [
        ({"--learning-rate": 0.5}, 1.0),
        ({"--learning-rate": 0.25}, 0.5),
    ]
    assert run.get_best_run_by_primary_metric().get_details()["params"]["learning_rate"] == "0.5"  # type: ignore[union-attr]
    assert run.get_diagnostics()["end_reason"] == "the grid is exhausted (2 points)"


def test_bad_sweep_configs_are_refused_before_anything_runs(kit: SweepKit) -> None:
    trial = kit.trial({"c": [1]})
    space = RandomParameterSampling({"--x": uniform(0, 1)})
    good: dict[str, Any] = {
        "run_config": trial,
        "hyperparameter_sampling": space,
        "primary_metric_name": "acc",
        "primary_metric_goal": "max",
        "max_total_runs": 2,
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"run_config": None}, "run_config=ScriptRunConfig"),
        ({"hyperparameter_sampling": {"--x": uniform(0, 1)}}, "hyperparameter_sampling must be"),
        ({"primary_metric_name": ""}, "primary_metric_name"),
        ({"primary_metric_goal": "up"}, "PrimaryMetricGoal.MAXIMIZE"),
        ({"max_total_runs": 0}, "max_total_runs"),
        ({"max_concurrent_runs": -1}, "max_concurrent_runs"),
        ({"max_duration_minutes": 0}, "max_duration_minutes"),
        ({"policy": "bandit"}, "policy must be"),
    ]
    for change, words in cases:
        with pytest.raises(InvalidArgumentError, match=words.replace(".", r"\.").replace("=", "=")):
            HyperDriveConfig(**{**good, **change})
    trial.arguments = ["--x", "3"]
    with pytest.raises(InvalidArgumentError, match="already give"):
        kit.exp.submit(HyperDriveConfig(**good))
    trial.arguments = []
    trial.run_config.target = "nowhere"
    with pytest.raises(MlwsError, match="nowhere"):
        kit.exp.submit(HyperDriveConfig(**good))
    assert list(kit.exp.get_runs()) == []


def test_v1_code_reads_the_best_trials_arguments_from_its_run_definition(kit: SweepKit) -> None:
    run = _grid(kit, {"c0": [0.1], "c1": [0.9]}, concurrent=2)
    run.wait_for_completion(timeout=TIMEOUT)
    best = run.get_best_run_by_primary_metric()
    assert best is not None
    definition = best.get_details()["runDefinition"]
    assert definition["arguments"] == ["--curve", "c1"]  # v1 tutorials print this
    assert definition["script"] == "trial.py" and definition["target"] == "local"


def test_trials_on_a_target_that_went_away_are_ended_not_waited_for(kit: SweepKit) -> None:
    # One trial at a time on "gone": the first holds its slot, the second waits in the queue.
    ComputeTarget.attach(kit.ws, "gone", LocalCompute.attach_configuration(max_concurrent_runs=1))
    gate = kit.flag("go")
    config = kit.trial({"c0": [0.5, f"wait:{gate}"], "c1": [0.7]})
    config.run_config.target = "gone"
    run = kit.exp.submit(
        HyperDriveConfig(
            run_config=config,
            hyperparameter_sampling=GridParameterSampling({"--curve": choice("c0", "c1")}),
            primary_metric_name="acc",
            primary_metric_goal="maximize",
            max_total_runs=2,
            max_concurrent_runs=2,
        )
    )
    queries = kit.ws.services.queries
    wait_until(
        lambda: sorted(r.status.value for r in queries.children(run.id)) == ["Queued", "Running"],
        TIMEOUT,
        "one trial running, one queued",
    )
    ComputeTarget(kit.ws, "gone").detach()
    # The queued trial can never start: it is ended with the reason. The running one's supervisor is
    # alive, so it is left to finish.
    waiting = f"{run.id}_1"
    wait_until(lambda: queries.run(waiting).status.value == "Failed", TIMEOUT, "the queued trial ended")
    assert "compute target cannot be used" in queries.run(waiting).error["message"]  # type: ignore[index]
    assert queries.run(f"{run.id}_0").status.value == "Running"
    gate.write_text("")
    run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert run.status == "Completed"
    assert queries.run(f"{run.id}_0").status.value == "Completed"


def test_a_controller_taking_over_queues_the_trial_its_predecessor_made_but_never_queued(kit: SweepKit) -> None:
    from jupyter_mlws.core.jobs import create_job_run
    from jupyter_mlws.core.status import RunStatus
    from jupyter_mlws.sweeps.driver import HYPERPARAMETERS_PROPERTY, INDEX_PROPERTY, SweepController

    config = HyperDriveConfig(
        run_config=kit.trial({"c0": [0.2], "c1": [0.4], "c2": [0.3]}),
        hyperparameter_sampling=GridParameterSampling({"--curve": choice("c0", "c1", "c2")}),
        primary_metric_name="acc",
        primary_metric_goal="maximize",
        max_total_runs=3,
        max_concurrent_runs=2,
        # A policy that stops none of these curves (0.2 >= best 0.4 / (1 + 1.5)): which trials run at
        # the same time is up to the machine, and every trial is to complete here.
        policy=BanditPolicy(slack_factor=1.5),
    )
    spec = config.sweep_spec()
    # The sweep as a controller that died would leave it: Running, nobody driving it (no supervisor,
    # so no agent takes it over), trial 0 made but still NotStarted.
    sweep, _backend = create_job_run(kit.exp, spec, status=RunStatus.RUNNING)
    trial_spec = {**spec["child"], "arguments": ["--curve", "c0"], "params": {"--curve": "c0"}}
    create_job_run(
        kit.exp,
        trial_spec,
        parent=sweep,
        status=RunStatus.NOT_STARTED,
        run_id=f"{sweep.id}_0",
        properties={INDEX_PROPERTY: "0", HYPERPARAMETERS_PROPERTY: '{"--curve": "c0"}'},
        snapshot_id=sweep.record.snapshot_id,
    )
    controller = SweepController(kit.ws, sweep.id)
    wait_until(controller.advance, TIMEOUT, "the sweep to end under the new controller")
    queries = kit.ws.services.queries
    children = sorted(queries.children(sweep.id), key=lambda r: r.run_id)
    assert [r.run_id for r in children] == [f"{sweep.id}_{i}" for i in range(3)]
    assert [r.status.value for r in children] == ["Completed"] * 3
    assert queries.run(sweep.id).status.value == "Completed"
    hd = HyperDriveRun(kit.exp, sweep.id)
    assert [r["hyperparameters"]["--curve"] for r in hd.get_children_sorted_by_primary_metric()] == ["c1", "c2", "c0"]
