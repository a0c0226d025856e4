"""Sweep benchmark (issue 18): trial overhead of a HyperDrive sweep, side by side with Optuna's own loop and with
plain jobs; Bayesian sampling time against Optuna's TPE ``ask``; Random vs Bayesian on a known function.

Run from the repository root::

    python benchmarks/bench_sweeps.py              # defaults: 200 trials, 2 at a time (about 9 minutes, busy 2 CPUs)
    python benchmarks/bench_sweeps.py --quick      # smoke run: 40 trials, fewer sampling repeats (about 2 minutes)

1. Trial overhead. One objective script (``OBJECTIVE``: takes ``--x``/``--y``, computes a 2-D quadratic and
   logs it as ``loss`` with ``Run.get_context().log``) is run ``--trials`` times, ``--concurrency`` (2) at a
   time, in these ways, one after the other in this process:

   - floor: ``python objective.py --x … --y …`` as subprocesses from a thread pool of 2, ``MLWS_*`` unset, so
     ``Run.get_context()`` is an offline run that prints the value; nothing else. This is what the trials'
     processes themselves take at that concurrency (interpreter start, ``import jupyter_mlws``, the work);
   - floor, logging into the workspace: the same processes with ``MLWS_RUN_ID`` set to a run made beforehand
     (untimed), so ``Run.get_context().log`` writes the metric to the workspace as in a job: the share of the
     overhead that is the trial's own logging, with no dispatching (shown, not a target);
   - plain jobs: ``--trials`` ``exp.submit(ScriptRunConfig(...))`` of the same script with fixed values, to a
     ``local`` target attached with ``max_concurrent_runs=2`` (dispatcher warm), until the last run's end time;
   - our sweep: ``exp.submit(HyperDriveConfig(...))`` with ``BayesianParameterSampling`` (Optuna TPE
     underneath; ``--sampling random`` for random) over ``--x``/``--y`` in ``uniform(-5, 5)``,
     ``max_total_runs=--trials``, ``max_concurrent_runs=2``, trials on the same target, until the sweep run's
     end time (every trial ended and the sweep closed);
   - Optuna: ``study.optimize(objective, n_trials=--trials, n_jobs=2)`` with ``TPESampler(seed)``, in-memory
     storage, where ``objective`` runs the same script with ``subprocess.run`` (environment as the floor's:
     ``MLWS_*`` unset) and parses the value from the offline run's stdout (``Attempted to log scalar metric
     loss:`` and the value on the next line). Capturing and parsing stdout is Optuna's way of getting the
     value, so it counts as Optuna's overhead, as recording the metric in the workspace (the job opens the
     workspace and writes the point) counts as ours.

   The floor runs first and again last; its wall time is the mean of the two (both are in the JSON and the
   table, to show how much the machine's load moved meanwhile).

   Per-trial overhead = (wall time of the tool - wall time of the floor) / trials, both at the same
   concurrency: what the tool adds to each trial on top of running its process. Both wall times run from the
   first submit (or call) to the last trial's end. The table prints it in ms and as a ratio to Optuna's and
   to the plain jobs' overhead. Target: the sweep's per-trial overhead ≤ the plain jobs' + 20 ms.
2. Bayesian sampling time. In-process, no jobs (so independent of ``--trials``): for history sizes 10, 50,
   100, 200, a history of that many completed trials (points drawn at random, values from the quadratic) is
   given to our Bayesian sampler (``make_sampler(...).suggest(index, history)``, the history as the
   controller passes it) and added to an Optuna study (``study.add_trials``) with the same space and seed.
   After one untimed call each (our sampler learns the history then; Optuna's first ``ask`` warms its
   caches), ``--ask-repeats`` calls are timed, alternating between the sides, over three seeds: our
   ``suggest`` of a new index (earlier asks in the history as running trials) vs Optuna's ``study.ask()`` +
   two ``suggest_float`` (earlier asks left running). Medians, and the ratio.
   Target: at most twice Optuna's at every size.
3. Known function: ``(x - 1.5)² + (y + 0.5)² + N(0, 0.1²)`` noise (seeded by seed and trial index) over
   ``uniform(-5, 5)`` for both, minimised; ``--seeds`` (10) sweeps of ``--known-trials`` (30) trials each,
   one trial at a time through the Sampler API in-process (no jobs): the mean (and spread) of the best value
   found by Random and by Bayesian sampling, with Optuna's own TPE loop on the same seeds for reference.

The markdown table goes to stdout, the JSON to ``benchmarks/results/sweeps.json``. Figures from a busy
machine are noisy: the script records the load average and warns when the machine was busy at the start.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import optuna

import jupyter_mlws
from jupyter_mlws import (
    BayesianParameterSampling,
    ComputeTarget,
    Experiment,
    HyperDriveConfig,
    LocalCompute,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)
from jupyter_mlws.compute import agent
from jupyter_mlws.sweeps.sampling import Trial, make_sampler

HERE = Path(__file__).resolve().parent
TARGET = "two"  # a local target with max_concurrent_runs=--concurrency
LOW, HIGH = -5.0, 5.0
HISTORY_SIZES = (10, 50, 100, 200)
METRIC = "loss"
OFFLINE_MARK = f"Attempted to log scalar metric {METRIC}:"

OBJECTIVE = """\
import argparse

from jupyter_mlws import Run

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=float, required=True)
args = parser.parse_args()
Run.get_context().log("loss", (args.x - 1.5) ** 2 + (args.y + 0.5) ** 2)
"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def quadratic(x: float, y: float) -> float:
    return (x - 1.5) ** 2 + (y + 0.5) ** 2


def offline_env() -> dict[str, str]:
    """The environment of the floor's and Optuna's subprocesses: no ``MLWS_*`` (an offline run prints)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MLWS_")}


def parse_offline(stdout: str) -> float:
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == OFFLINE_MARK and i + 1 < len(lines):
            return float(lines[i + 1])
    raise RuntimeError(f"no {METRIC} in the objective's output: {stdout[-300:]!r}")


def points(trials: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.uniform(LOW, HIGH), rng.uniform(LOW, HIGH)) for _ in range(trials)]


def breakdown(records: list[Any], concurrency: int) -> dict[str, Any]:
    """Where a trial's time goes, from the runs' own times: the wait from a slot freeing (the end that let
    it start) to the run being created (a sweep's controller reacting; plain jobs were created up front)
    and to it starting (the dispatcher), and its span from start to end (supervisor, process, records).
    First and last 20 trials apart, to show costs that grow with the sweep's size."""
    by_start = sorted(records, key=lambda r: r.start_time)
    ends = sorted(r.end_time for r in records)
    freed = {r.run_id: ends[k - concurrency] for k, r in enumerate(by_start) if k >= concurrency}
    later = [r for r in by_start if r.run_id in freed]

    def ms_median(values: list[float]) -> float:
        return statistics.median(values) * 1000 if values else float("nan")

    out: dict[str, Any] = {
        "span_ms": ms_median([r.end_time - r.start_time for r in records]),
        "created_to_start_ms": ms_median([r.start_time - r.created_time for r in later]),
        "freed_to_start_ms": ms_median([r.start_time - freed[r.run_id] for r in later]),
        "freed_to_created_ms": ms_median([max(0.0, r.created_time - freed[r.run_id]) for r in later]),
    }
    for name, part in (("first20", later[:20]), ("last20", later[-20:])):
        out[f"freed_to_start_{name}_ms"] = ms_median([r.start_time - freed[r.run_id] for r in part])
        out[f"freed_to_created_{name}_ms"] = ms_median([max(0.0, r.created_time - freed[r.run_id]) for r in part])
    return out


def peak_running(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


# -- 1. trial overhead ----------------------------------------------------------------------------------------
def bench_floor(src: Path, pts: list[tuple[float, float]], concurrency: int) -> dict[str, Any]:
    env = offline_env()
    script = str(src / "objective.py")

    def one(p: tuple[float, float]) -> float:
        done = subprocess.run(
            [sys.executable, script, "--x", repr(p[0]), "--y", repr(p[1])],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return parse_offline(done.stdout)

    one(pts[0])  # page cache warm, as the tools' runs find it
    t = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        values = list(pool.map(one, pts))
    wall = time.perf_counter() - t
    if not all(math.isclose(v, quadratic(*p)) for v, p in zip(values, pts, strict=True)):
        raise RuntimeError("the floor's objective answered wrong values")
    return {"trials": len(pts), "wall_s": wall, "per_trial_s": wall / len(pts)}


def bench_floor_logged(
    ws: Workspace, exp: Experiment, src: Path, pts: list[tuple[float, float]], concurrency: int
) -> dict[str, Any]:
    """The same processes, each logging into the workspace as a job does (``MLWS_RUN_ID`` of a run created
    beforehand, untimed): what the trial's own ``Run.get_context().log`` costs, without any dispatching."""
    runs = [exp.start_logging() for _ in pts]
    script = str(src / "objective.py")
    base = offline_env()

    def one(job: tuple[Any, tuple[float, float]]) -> None:
        run, (x, y) = job
        env = {**base, "MLWS_RUN_ID": run.id, "MLWS_WORKSPACE": str(ws.root)}
        subprocess.run(
            [sys.executable, script, "--x", repr(x), "--y", repr(y)], env=env, cwd=src, capture_output=True, check=True
        )

    t = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, zip(runs, pts, strict=True)))
    wall = time.perf_counter() - t
    for run in runs:
        run.complete()
    if not all(run.get_metrics().get(METRIC) is not None for run in runs):
        raise RuntimeError("the logging floor's runs have no metric")
    return {"trials": len(pts), "wall_s": wall, "per_trial_s": wall / len(pts)}


def warm_up(ws: Workspace, exp: Experiment, src: Path) -> None:
    """The first submit starts the dispatcher, which then imports what it may need while idle; warm until a
    job is quick again (as bench_pipelines does)."""
    config = ScriptRunConfig(src, "objective.py", arguments=["--x", "0", "--y", "0"], compute_target=TARGET)
    for _ in range(5):
        t0 = time.time()
        run = exp.submit(config)
        run.wait_for_completion(timeout=120)
        record = ws.metadata.get_run(run.id)
        if record.status.value != "Completed":
            raise RuntimeError(f"warm-up job {run.id} ended {record.status.value}: {record.error}")
        if record.end_time is not None and record.end_time - t0 < 1.0:
            return


def bench_jobs(
    ws: Workspace, exp: Experiment, src: Path, pts: list[tuple[float, float]], concurrency: int
) -> dict[str, Any]:
    configs = [
        ScriptRunConfig(src, "objective.py", arguments=["--x", repr(x), "--y", repr(y)], compute_target=TARGET)
        for x, y in pts
    ]
    t0 = time.time()
    runs = [exp.submit(c) for c in configs]
    submitted = time.time() - t0
    for run in runs:
        run.wait_for_completion(timeout=1800)
    records = [ws.metadata.get_run(r.id) for r in runs]
    bad = [r for r in records if r.status.value != "Completed"]
    if bad:
        raise RuntimeError(f"{len(bad)} plain jobs did not complete, e.g. {bad[0].run_id}: {bad[0].error}")
    wall = max(r.end_time or 0.0 for r in records) - t0
    spans = [(r.start_time or 0.0, r.end_time or 0.0) for r in records]
    return {
        "trials": len(runs),
        "wall_s": wall,
        "per_trial_s": wall / len(runs),
        "submit_loop_s": submitted,
        "median_run_span_s": statistics.median(e - s for s, e in spans),
        "peak_running": peak_running(spans),
        "breakdown": breakdown(records, concurrency),
    }


def bench_sweep(
    ws: Workspace, exp: Experiment, src: Path, trials: int, concurrency: int, sampling: str, seed: int
) -> dict[str, Any]:
    space = {"--x": uniform(LOW, HIGH), "--y": uniform(LOW, HIGH)}
    kind = BayesianParameterSampling if sampling == "bayesian" else RandomParameterSampling
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(src, "objective.py", compute_target=TARGET),
        hyperparameter_sampling=kind(space, seed=seed),
        primary_metric_name=METRIC,
        primary_metric_goal=PrimaryMetricGoal.MINIMIZE,
        max_total_runs=trials,
        max_concurrent_runs=concurrency,
    )
    t0 = time.time()
    run = exp.submit(config)
    run.wait_for_completion(timeout_seconds=3600)
    returned = time.time() - t0
    record = ws.metadata.get_run(run.id)
    ranking = run.get_children_sorted_by_primary_metric()
    records = [ws.metadata.get_run(row["run_id"]) for row in ranking]
    completed = sum(r.status.value == "Completed" for r in records)
    if record.status.value != "Completed" or completed != trials:
        raise RuntimeError(f"sweep {run.id} ended {record.status.value} with {completed}/{trials} trials completed")
    spans = [(r.start_time or 0.0, r.end_time or 0.0) for r in records]
    wall = (record.end_time or time.time()) - t0
    return {
        "trials": len(records),
        "sampling": sampling,
        "wall_s": wall,
        "per_trial_s": wall / len(records),
        "wait_returned_s": returned,
        "last_trial_end_s": max(e for _, e in spans) - t0,
        "median_run_span_s": statistics.median(e - s for s, e in spans),
        "peak_running": peak_running(spans),
        "best": ranking[0]["best_primary_metric"],
        "breakdown": breakdown(records, concurrency),
    }


def bench_optuna_loop(src: Path, trials: int, concurrency: int, seed: int) -> dict[str, Any]:
    env = offline_env()
    script = str(src / "objective.py")

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", LOW, HIGH)
        y = trial.suggest_float("y", LOW, HIGH)
        done = subprocess.run(
            [sys.executable, script, "--x", repr(x), "--y", repr(y)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return parse_offline(done.stdout)

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    t = time.perf_counter()
    study.optimize(objective, n_trials=trials, n_jobs=concurrency)
    wall = time.perf_counter() - t
    complete = [tr for tr in study.trials if tr.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) != trials:
        raise RuntimeError(f"Optuna completed {len(complete)}/{trials} trials")
    return {"trials": trials, "wall_s": wall, "per_trial_s": wall / trials, "best": study.best_value}


# -- 2. Bayesian sampling time ---------------------------------------------------------------------------------
def bayesian_json(seed: int) -> dict[str, Any]:
    return BayesianParameterSampling({"x": uniform(LOW, HIGH), "y": uniform(LOW, HIGH)}, seed=seed).to_json()


def ours_and_optuna(history_size: int, seed: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """Our Bayesian sampler and an Optuna study holding the same completed history; each call of the
    returned functions makes one new suggestion (earlier ones stay running, as in a sweep)."""
    completed = points(history_size, seed)
    sampler = make_sampler(bayesian_json(seed), seed, goal="minimize")
    history = [
        Trial(index=i, values={"x": x, "y": y}, metric=quadratic(x, y), state="completed")
        for i, (x, y) in enumerate(completed)
    ]

    def ours() -> None:
        index = len(history)
        values = sampler.suggest(index, history)
        assert values is not None
        history.append(Trial(index=index, values=values, metric=None, state="running"))

    distributions = {
        "x": optuna.distributions.FloatDistribution(LOW, HIGH),
        "y": optuna.distributions.FloatDistribution(LOW, HIGH),
    }
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.add_trials(
        [
            optuna.trial.create_trial(params={"x": x, "y": y}, distributions=distributions, value=quadratic(x, y))
            for x, y in completed
        ]
    )

    def theirs() -> None:
        trial = study.ask()
        trial.suggest_float("x", LOW, HIGH)
        trial.suggest_float("y", LOW, HIGH)

    # untimed: our sampler learns the history on its first call (an add_trial each); Optuna warms its caches
    ours()
    theirs()
    return ours, theirs


def bench_sampling(sizes: list[int], repeats: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        # three seeds; calls alternate between the sides, so both meet the same machine conditions
        ours: list[float] = []
        theirs: list[float] = []
        for r in range(3):
            calls = ours_and_optuna(size, seed + r)
            for _ in range(max(1, repeats // 3)):
                for call, samples in zip(calls, (ours, theirs), strict=True):
                    t = time.perf_counter()
                    call()
                    samples.append(time.perf_counter() - t)
        row = {
            "history": size,
            "ours_s": statistics.median(ours),
            "optuna_s": statistics.median(theirs),
            "calls": len(ours),
        }
        row["ratio"] = row["ours_s"] / row["optuna_s"]
        rows.append(row)
        say(f"  history {size}: ours {row['ours_s'] * 1000:.2f} ms, Optuna ask {row['optuna_s'] * 1000:.2f} ms")
    return rows


# -- 3. known function -----------------------------------------------------------------------------------------
def noisy(x: float, y: float, seed: int, index: int, sigma: float) -> float:
    return quadratic(x, y) + random.Random(f"noise:{seed}:{index}").gauss(0.0, sigma)


def search_ours(kind: str, seed: int, trials: int, sigma: float) -> tuple[float, float]:
    space = {"x": uniform(LOW, HIGH), "y": uniform(LOW, HIGH)}
    cls = BayesianParameterSampling if kind == "bayesian" else RandomParameterSampling
    sampler = make_sampler(cls(space, seed=seed).to_json(), seed, goal="minimize")
    history: list[Trial] = []
    for i in range(trials):
        values = sampler.suggest(i, history)
        assert values is not None
        history.append(Trial(i, values, noisy(values["x"], values["y"], seed, i, sigma), "completed"))
    best = min(history, key=lambda t: t.metric if t.metric is not None else math.inf)
    assert best.metric is not None
    return best.metric, quadratic(best.values["x"], best.values["y"])


def search_optuna(seed: int, trials: int, sigma: float) -> tuple[float, float]:
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    for i in range(trials):
        trial = study.ask()
        x, y = trial.suggest_float("x", LOW, HIGH), trial.suggest_float("y", LOW, HIGH)
        study.tell(trial, noisy(x, y, seed, i, sigma))
    best = study.best_trial
    return float(study.best_value), quadratic(best.params["x"], best.params["y"])


def bench_known(seeds: int, trials: int, sigma: float) -> dict[str, Any]:
    runners: dict[str, Callable[[int], tuple[float, float]]] = {
        "random": lambda s: search_ours("random", s, trials, sigma),
        "bayesian": lambda s: search_ours("bayesian", s, trials, sigma),
        "optuna_tpe": lambda s: search_optuna(s, trials, sigma),
    }
    out: dict[str, Any] = {"seeds": seeds, "trials": trials, "noise_sigma": sigma, "optimum": 0.0}
    for name, run in runners.items():
        found = [run(s) for s in range(seeds)]
        observed = [f[0] for f in found]
        true = [f[1] for f in found]
        out[name] = {
            "mean_best": statistics.mean(observed),
            "stdev_best": statistics.stdev(observed) if len(observed) > 1 else 0.0,
            "mean_true_at_best": statistics.mean(true),
            "per_seed": observed,
        }
    return out


# -- main ------------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run (40 trials)")
    parser.add_argument("--trials", type=int, default=200, help="trials of each tool in the overhead part")
    parser.add_argument("--concurrency", type=int, default=2, help="trials at once (every side)")
    parser.add_argument("--sampling", choices=("bayesian", "random"), default="bayesian", help="our sweep's sampling")
    parser.add_argument("--ask-repeats", type=int, default=30, help="timed sampler calls per history size")
    parser.add_argument("--seeds", type=int, default=10, help="sweeps of the known function per sampling")
    parser.add_argument("--known-trials", type=int, default=30, help="trials of each known-function sweep")
    parser.add_argument("--noise", type=float, default=0.1, help="standard deviation of the known function's noise")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "sweeps.json")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.ask_repeats = min(args.trials, 40), 9
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    load_before = load_average()
    os.environ.setdefault("MLWS_AGENT_IDLE_SECONDS", "30")
    work = Path(tempfile.mkdtemp(prefix="mlws-bench-sweeps-"))
    ws: Workspace | None = None
    try:
        src = work / "src"
        src.mkdir()
        (src / "objective.py").write_text(OBJECTIVE)
        old = time.time() - 60  # past the snapshot's stat-cache racy window, as a user's script is
        os.utime(src / "objective.py", (old, old))
        pts = points(args.trials, args.seed)

        say(f"floor: {args.trials} × `python objective.py`, {args.concurrency} at a time …")
        floor = bench_floor(src, pts, args.concurrency)
        ws = Workspace.create(work / "ws")
        ComputeTarget.attach(ws, TARGET, LocalCompute.attach_configuration(max_concurrent_runs=args.concurrency))
        exp = Experiment(ws, "bench-sweeps")
        say(f"floor with the metric logged into the workspace: {args.trials} × `python objective.py` …")
        floor_logged = bench_floor_logged(ws, exp, src, pts, args.concurrency)
        warm_up(ws, exp, src)
        say(f"plain jobs: {args.trials} ScriptRunConfig submissions …")
        jobs = bench_jobs(ws, exp, src, pts, args.concurrency)
        say(f"our sweep: {args.trials} trials, {args.sampling} sampling …")
        sweep = bench_sweep(ws, exp, src, args.trials, args.concurrency, args.sampling, args.seed)
        agent.stop(ws)
        ws = None
        say(f"Optuna: study.optimize, {args.trials} trials, n_jobs={args.concurrency} …")
        optuna_loop = bench_optuna_loop(src, args.trials, args.concurrency, args.seed)
        say("floor again (the machine's load may have changed meanwhile) …")
        floor_after = bench_floor(src, pts, args.concurrency)
        floor = {
            "trials": args.trials,
            "wall_s": (floor["wall_s"] + floor_after["wall_s"]) / 2,
            "per_trial_s": (floor["per_trial_s"] + floor_after["per_trial_s"]) / 2,
            "wall_before_s": floor["wall_s"],
            "wall_after_s": floor_after["wall_s"],
        }
        say("Bayesian sampling time vs Optuna's TPE ask …")
        sampling = bench_sampling(list(HISTORY_SIZES), args.ask_repeats, args.seed)
        say(f"known function: {args.seeds} seeds × {args.known_trials} trials …")
        known = bench_known(args.seeds, args.known_trials, args.noise)
    finally:
        if ws is not None:
            agent.stop(ws)
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    env = {
        "jupyter_mlws": getattr(jupyter_mlws, "__version__", "?"),
        "optuna": optuna.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    figures: dict[str, Any] = {
        "env": env,
        "concurrency": args.concurrency,
        "floor": floor,
        "floor_logged": floor_logged,
        "jobs": jobs,
        "sweep": sweep,
        "optuna": optuna_loop,
        "sampling_time": sampling,
        "known_function": known,
    }
    figures["targets"] = targets(figures)
    print_table(figures)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2))
    return 0


def targets(f: dict[str, Any]) -> dict[str, Any]:
    n, floor = f["sweep"]["trials"], f["floor"]["wall_s"]
    overhead = {
        key: (f[key]["wall_s"] - floor) / f[key]["trials"] for key in ("sweep", "jobs", "optuna", "floor_logged")
    }
    return {
        "per_trial_overhead_s": overhead,
        "trials": n,
        "sweep_vs_jobs_limit_s": overhead["jobs"] + 0.020,
        "overhead_met": overhead["sweep"] <= overhead["jobs"] + 0.020,
        "sampling_met": all(row["ratio"] <= 2.0 for row in f["sampling_time"]),
    }


def print_table(f: dict[str, Any]) -> None:
    env, t = f["env"], f["targets"]
    cpus = env["cpus"] or 1
    over = t["per_trial_overhead_s"]

    def ms(s: float) -> str:
        return f"{s:.2f} s" if abs(s) >= 10 else f"{s * 1000:.0f} ms" if abs(s) >= 0.01 else f"{s * 1000:.2f} ms"

    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def ratio(mine: float, theirs: float) -> str:
        if theirs <= 0 or mine <= 0:
            return "n/a"
        return f"{mine / theirs:.2f}×"

    print()
    print(
        f"jupyter-mlws {env['jupyter_mlws']} vs Optuna {env['optuna']}, Python {env['python']}, "
        f"{env['platform']}, {cpus} CPUs"
    )
    load = env["load_average_before"]
    if load is not None and load > 0.5 * cpus:
        print(
            f"warning: the machine was busy before the start (load average {load:.1f} on {cpus} CPUs); "
            "figures are noisier than on an idle machine"
        )
    n, c = t["trials"], f["concurrency"]
    s, j, o, fl = f["sweep"], f["jobs"], f["optuna"], f["floor"]
    print()
    print(f"{n} trials of a trivial objective, {c} at a time; overhead per trial = (wall − floor's wall) ÷ {n}")
    print()
    print("| Figure | Wall time | Per trial | Overhead per trial | Ratio | Target |")
    print("|---|---:|---:|---:|---|---|")
    print(
        f"| floor: `python objective.py` (offline run), pool of {c}; mean of first "
        f"{ms(fl['wall_before_s'])} and last {ms(fl['wall_after_s'])} | {ms(fl['wall_s'])} | "
        f"{ms(fl['per_trial_s'])} | — | | |"
    )
    print(
        f"| floor, logging into the workspace: the same, `MLWS_RUN_ID` of a run made beforehand | "
        f"{ms(f['floor_logged']['wall_s'])} | {ms(f['floor_logged']['per_trial_s'])} | {ms(over['floor_logged'])} | | |"
    )
    print(
        f"| plain jobs: {n} `ScriptRunConfig` submissions, `max_concurrent_runs={c}` | {ms(j['wall_s'])} | "
        f"{ms(j['per_trial_s'])} | {ms(over['jobs'])} | | |"
    )
    print(
        f"| our sweep: `HyperDriveConfig`, {s['sampling']} sampling, `max_concurrent_runs={c}` | {ms(s['wall_s'])} | "
        f"{ms(s['per_trial_s'])} | {ms(over['sweep'])} | {ratio(over['sweep'], over['jobs'])} of plain jobs', "
        f"{ratio(over['sweep'], over['optuna'])} of Optuna's | "
        f"≤ plain jobs' + 20 ms ({ms(t['sweep_vs_jobs_limit_s'])}): "
        f"{met(t['overhead_met'])} |"
    )
    print(
        f"| Optuna: `study.optimize(n_jobs={c})`, TPE, trials as subprocesses | {ms(o['wall_s'])} | "
        f"{ms(o['per_trial_s'])} | {ms(over['optuna'])} | | |"
    )
    print()
    print(
        "| Bayesian sampling, one suggestion | ours: `Sampler.suggest` | "
        "Optuna: `study.ask()` + 2 × `suggest_float` | Ratio | Target |"
    )
    print("|---|---:|---:|---:|---|")
    for row in f["sampling_time"]:
        print(
            f"| history of {row['history']} trials | {ms(row['ours_s'])} | {ms(row['optuna_s'])} | "
            f"{row['ratio']:.2f}× | ≤ 2×: {met(row['ratio'] <= 2.0)} |"
        )
    k = f["known_function"]
    print()
    print(
        f"Known function: (x − 1.5)² + (y + 0.5)² + N(0, {k['noise_sigma']:g}²), x, y in uniform(−5, 5), minimised "
        f"(optimum 0); {k['seeds']} seeds × {k['trials']} trials"
    )
    print()
    print("| Sampling | Mean best value found (± stdev) | Mean true value at the best point |")
    print("|---|---:|---:|")
    for key, label in (
        ("random", "ours: Random"),
        ("bayesian", "ours: Bayesian"),
        ("optuna_tpe", "Optuna TPE (reference)"),
    ):
        row = k[key]
        print(f"| {label} | {row['mean_best']:.3f} ± {row['stdev_best']:.3f} | {row['mean_true_at_best']:.3f} |")
    print()
    print("| Where a trial's time goes (medians, from the runs' records) | plain jobs | our sweep |")
    print("|---|---:|---:|")
    jb, sb = j["breakdown"], s["breakdown"]
    for key, label in (
        ("freed_to_created_ms", "slot freed → run created (sweep: the controller's pass, sampling included)"),
        ("freed_to_created_first20_ms", "… first 20 trials"),
        ("freed_to_created_last20_ms", "… last 20 trials"),
        ("created_to_start_ms", "run created → started (sweep; plain jobs waited in the queue)"),
        ("freed_to_start_ms", "slot freed → next run started"),
        ("freed_to_start_first20_ms", "… first 20 trials"),
        ("freed_to_start_last20_ms", "… last 20 trials"),
        ("span_ms", "run start → end (supervisor, the process, its records)"),
    ):
        mine = "—" if key.startswith("freed_to_created") or key == "created_to_start_ms" else f"{jb[key]:.1f} ms"
        print(f"| {label} | {mine} | {sb[key]:.1f} ms |")
    print()
    print(
        f"Trials' own spans (start → end, median): plain jobs {ms(j['median_run_span_s'])}, sweep "
        f"{ms(s['median_run_span_s'])}; most running at once: jobs {j['peak_running']}, sweep {s['peak_running']}. "
        f"Sweep: last trial ended at {ms(s['last_trial_end_s'])}, the sweep at {ms(s['wall_s'])}, "
        f"wait_for_completion returned at {ms(s['wait_returned_s'])}."
    )
    print()


if __name__ == "__main__":
    sys.exit(main())
