"""Tracking benchmark: the same work with jupyter-mlws and with MLflow (SQLite backend), side by side.

Run from the repository root::

    python benchmarks/bench_tracking.py            # defaults (a few minutes)
    python benchmarks/bench_tracking.py --quick    # smoke run (well under a minute)

Figures (every count can be changed with a flag, see ``--help``):

1. runs created per second (start + complete);
2. metric points per second through the public one-point call (``run.log`` vs ``client.log_metric``),
   through the batch path (``run.log_batch`` vs ``client.log_batch``, 1,000 points a batch), and the
   durable rate of jupyter-mlws (``run.log`` … ``run.flush()``) next to a raw ``sqlite3.executemany`` of
   the same rows (WAL, synchronous=NORMAL, one transaction) — the physical floor;
3. median latency of a filtered search over N runs;
4. median time to read back one long metric series.

Throughputs are the median of ``--trials`` timed trials and latencies the median of ``--repeats``
timed calls, each after one untimed warm-up. Both tools run in this process, on the same file system,
one after the other. The table is printed as markdown (paste it into the README) and the figures are
written as JSON to ``benchmarks/results/tracking.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws import __version__ as mlws_version

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "tracking.json"
FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
LEARNING_RATES = ("0.1", "0.03", "0.01", "0.003")
BATCH_SIZE = 1_000  # MLflow's limit of metrics per log_batch call

# MLflow quiet, synchronous and offline; set before mlflow is imported.
MLFLOW_ENV = {
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_TRACKING_URI": "",  # unset: the benchmark sets its own store
}


# -- settings ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    runs: int
    mlflow_runs: int
    points: int
    mlflow_points: int
    batch_points: int
    mlflow_batch_points: int
    search_runs: int
    series_points: int
    trials: int
    mlflow_trials: int
    repeats: int
    mlflow_repeats: int
    seed: int


DEFAULTS = Settings(
    runs=1_000,
    mlflow_runs=1_000,
    points=100_000,
    mlflow_points=2_000,
    batch_points=100_000,
    mlflow_batch_points=20_000,
    search_runs=10_000,
    series_points=100_000,
    trials=5,
    mlflow_trials=1,
    repeats=15,
    mlflow_repeats=3,
    seed=0,
)
QUICK = Settings(
    runs=200,
    mlflow_runs=100,
    points=20_000,
    mlflow_points=200,
    batch_points=20_000,
    mlflow_batch_points=2_000,
    search_runs=1_000,
    series_points=10_000,
    trials=1,
    mlflow_trials=1,
    repeats=10,
    mlflow_repeats=3,
    seed=0,
)


# -- results -------------------------------------------------------------------------------------------
@dataclass
class Figure:
    """One row of the table. ``speedup`` > 1 means jupyter-mlws is better (faster / higher rate)."""

    key: str
    title: str
    unit: str  # "points/s", "runs/s" or "ms"
    mlws: float
    baseline: float
    baseline_name: str
    mlws_count: int
    baseline_count: int
    higher_is_better: bool
    min_speedup: float | None  # target, as a speedup; None: no target, shown for context
    target_text: str

    @property
    def speedup(self) -> float:
        if self.higher_is_better:
            return self.mlws / self.baseline
        return self.baseline / self.mlws

    @property
    def met(self) -> bool | None:
        return None if self.min_speedup is None else self.speedup >= self.min_speedup

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "speedup": self.speedup, "met": self.met}


def _fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:,.3f} ms" if value < 10 else f"{value:,.1f} ms"
    return f"{value:,.0f} {unit}"


def _fmt_ratio(speedup: float) -> str:
    return f"{speedup:,.0f}×" if speedup >= 100 else f"{speedup:,.2f}×"


def render_table(figures: Sequence[Figure]) -> str:
    lines = [
        "| Figure | jupyter-mlws | Baseline | Ratio | Target | Met |",
        "|---|---:|---:|---:|---|:---:|",
    ]
    for f in figures:
        met = "—" if f.met is None else ("yes" if f.met else "**NO**")
        lines.append(
            f"| {f.title} | {_fmt(f.mlws, f.unit)} | {_fmt(f.baseline, f.unit)} ({f.baseline_name}) "
            f"| {_fmt_ratio(f.speedup)} | {f.target_text} | {met} |"
        )
    return "\n".join(lines)


# -- timing helpers ------------------------------------------------------------------------------------
def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``fn`` after one untimed warm-up call."""
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none): other work skews the figures."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- MLflow --------------------------------------------------------------------------------------------
def import_mlflow() -> Any:
    for key, value in MLFLOW_ENV.items():
        if value:
            os.environ[key] = value
        else:
            os.environ.pop(key, None)
    try:
        import mlflow
    except ImportError:
        sys.exit(
            "error: this benchmark compares against MLflow, which is not installed.\n"
            "Install it with:  pip install -r benchmarks/requirements.txt"
        )
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"mlflow(\..*)?$")
    return mlflow


class MlflowSide:
    """The MLflow half: SQLite tracking store and a local artifact folder, used through MlflowClient."""

    def __init__(self, mlflow: Any, root: Path) -> None:
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient

        self.mlflow = mlflow
        self.Metric = Metric
        self.Param = Param
        self.artifacts = root / "mlartifacts"
        self.artifacts.mkdir()
        self.uri = f"sqlite:///{(root / 'mlflow.db').as_posix()}"
        mlflow.set_tracking_uri(self.uri)
        self.client = MlflowClient(tracking_uri=self.uri)

    def experiment(self, name: str) -> str:
        location = (self.artifacts / name).as_uri()
        return str(self.client.create_experiment(name, artifact_location=location))

    def seed_runs_orm(self, experiment_id: str, accs: Sequence[float], lrs: Sequence[str]) -> None:
        """Write finished runs with metric ``acc`` and param ``lr`` in one transaction, through MLflow's
        own SQLAlchemy models: the rows ``create_run`` + ``log_batch`` + ``set_terminated`` write
        (run, ``mlflow.runName`` tag, param, metric, latest metric), minus the per-call overhead that
        makes seeding through the API take minutes. ``--mlflow-seed api`` uses the API instead."""
        from mlflow.store.tracking.dbmodels.models import (
            SqlLatestMetric,
            SqlMetric,
            SqlParam,
            SqlRun,
            SqlTag,
        )
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        store_class: Any = SqlAlchemyStore  # untyped
        store = store_class(self.uri, self.artifacts.as_uri())
        location = self.client.get_experiment(experiment_id).artifact_location
        now = int(time.time() * 1000)
        with store.ManagedSessionMaker() as session:
            for i, (acc, lr) in enumerate(zip(accs, lrs, strict=True)):
                run_id = uuid.uuid4().hex
                name = f"run-{i}"
                run = SqlRun(
                    name=name,
                    artifact_uri=f"{location}/{run_id}/artifacts",
                    run_uuid=run_id,
                    experiment_id=int(experiment_id),
                    source_type="UNKNOWN",
                    source_name="",
                    entry_point_name="",
                    user_id="unknown",
                    status="FINISHED",
                    start_time=now + i,
                    end_time=now + i + 1,
                    deleted_time=None,
                    source_version="",
                    lifecycle_stage="active",
                )
                metric = {"key": "acc", "value": acc, "timestamp": now + i, "step": 0, "is_nan": False}
                session.add_all(
                    [
                        run,
                        SqlTag(key="mlflow.runName", value=name, run_uuid=run_id),
                        SqlParam(key="lr", value=lr, run_uuid=run_id),
                        SqlMetric(run_uuid=run_id, **metric),
                        SqlLatestMetric(run_uuid=run_id, **metric),
                    ]
                )

    def metrics(self, name: str, values: Sequence[float], first_step: int = 0) -> list[Any]:
        ts = int(time.time() * 1000)
        return [self.Metric(name, v, ts, first_step + i) for i, v in enumerate(values)]


# -- the figures ---------------------------------------------------------------------------------------
def bench_run_creation(ws: Workspace, ml: MlflowSide, s: Settings) -> Figure:
    say(f"[1/4] run creation: {s.runs:,} runs (jupyter-mlws), {s.mlflow_runs:,} runs (MLflow)")
    exp = Experiment(ws, "bench-runs")

    def mlws_trial(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            run = exp.start_logging()
            run.complete()
        return n / (time.perf_counter() - t0)

    client = ml.client
    exp_id = ml.experiment("bench-runs")

    def mlflow_trial(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            run = client.create_run(exp_id)
            client.set_terminated(run.info.run_id)
        return n / (time.perf_counter() - t0)

    mlws_trial(max(10, s.runs // 100))
    mlws_rate = statistics.median(mlws_trial(s.runs) for _ in range(s.trials))
    mlflow_trial(max(5, s.mlflow_runs // 100))
    mlflow_rate = statistics.median(mlflow_trial(s.mlflow_runs) for _ in range(s.mlflow_trials))
    return Figure(
        key="run_creation",
        title="Runs created (start + complete)",
        unit="runs/s",
        mlws=mlws_rate,
        baseline=mlflow_rate,
        baseline_name="MLflow",
        mlws_count=s.runs,
        baseline_count=s.mlflow_runs,
        higher_is_better=True,
        min_speedup=10,
        target_text="≥ 10×",
    )


class RawFloor:
    """One ``executemany`` of ``n`` metric rows into a fresh table, in one transaction: the SQLite floor.

    The rows are built once, before any timing; each trial uses a new database file."""

    def __init__(self, root: Path, n: int) -> None:
        self.root = root
        self.rows = [(1, i, i, random.random(), time.time()) for i in range(n)]
        self.trials = 0

    def trial(self, count: int | None = None) -> float:
        """Rows per second of one trial."""
        self.trials += 1
        rows = self.rows if count is None else self.rows[:count]
        con = sqlite3.connect(self.root / f"raw-{self.trials}.db", isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute(
                "CREATE TABLE points (series_id INTEGER NOT NULL, seq INTEGER NOT NULL, step INTEGER,"
                " value REAL NOT NULL, timestamp REAL NOT NULL, PRIMARY KEY (series_id, seq)) WITHOUT ROWID"
            )
            t0 = time.perf_counter()
            con.execute("BEGIN")
            con.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?)", rows)
            con.execute("COMMIT")
            return len(rows) / (time.perf_counter() - t0)
        finally:
            con.close()


def bench_logging(ws: Workspace, ml: MlflowSide, s: Settings, root: Path) -> list[Figure]:
    say(
        f"[2/4] metric logging: {s.points:,} one-point calls and {s.batch_points:,} batched points "
        f"(jupyter-mlws), {s.mlflow_points:,} and {s.mlflow_batch_points:,} (MLflow), "
        f"{s.points:,} rows through raw sqlite3.executemany"
    )
    rng = random.Random(s.seed)
    values = [rng.random() for _ in range(max(s.points, s.mlflow_points, s.batch_points, s.mlflow_batch_points))]
    exp = Experiment(ws, "bench-logging")

    # jupyter-mlws, one point per call. Call rate: until the last call returns; durable rate: until
    # run.flush() returns (every point committed).
    def mlws_one_point(n: int) -> tuple[float, float]:
        run = exp.start_logging()
        log = run.log
        t0 = time.perf_counter()
        for i in range(n):
            log("loss", values[i], step=i)
        t1 = time.perf_counter()
        run.flush()
        t2 = time.perf_counter()
        run.complete()
        return n / (t1 - t0), n / (t2 - t0)

    # Trials alternate with the raw executemany floor, so both see the same machine conditions.
    floor = RawFloor(root, s.points)
    mlws_one_point(min(s.points, 1_000))
    floor.trial(min(s.points, 1_000))
    samples: list[tuple[float, float]] = []
    raw_samples: list[float] = []
    for _ in range(s.trials):
        samples.append(mlws_one_point(s.points))
        raw_samples.append(floor.trial())
    raw_rate = statistics.median(raw_samples)
    mlws_call_rate = statistics.median(c for c, _ in samples)
    mlws_durable_rate = statistics.median(d for _, d in samples)

    # jupyter-mlws, batches of 1,000 (run.log_batch is synchronous: durable on return).
    def batches(n: int) -> list[list[tuple[str, float, int]]]:
        return [
            [("loss", values[i], i) for i in range(start, min(n, start + BATCH_SIZE))]
            for start in range(0, n, BATCH_SIZE)
        ]

    def mlws_batch(chunks: list[list[tuple[str, float, int]]]) -> float:
        run = exp.start_logging()
        t0 = time.perf_counter()
        for chunk in chunks:
            run.log_batch(metrics=chunk)
        rate = sum(map(len, chunks)) / (time.perf_counter() - t0)
        run.complete()
        return rate

    mlws_batch(batches(min(s.batch_points, 2 * BATCH_SIZE)))
    mlws_chunks = batches(s.batch_points)
    mlws_batch_rate = statistics.median(mlws_batch(mlws_chunks) for _ in range(s.trials))

    # MLflow, one point per call and batches of 1,000 Metric objects.
    client = ml.client
    exp_id = ml.experiment("bench-logging")

    def mlflow_one_point(n: int) -> float:
        run_id = client.create_run(exp_id).info.run_id
        t0 = time.perf_counter()
        for i in range(n):
            client.log_metric(run_id, "loss", values[i], step=i)
        rate = n / (time.perf_counter() - t0)
        client.set_terminated(run_id)
        return rate

    def mlflow_batch(chunks: list[list[Any]]) -> float:
        run_id = client.create_run(exp_id).info.run_id
        t0 = time.perf_counter()
        for chunk in chunks:
            client.log_batch(run_id, metrics=chunk)
        rate = sum(map(len, chunks)) / (time.perf_counter() - t0)
        client.set_terminated(run_id)
        return rate

    def mlflow_batches(n: int) -> list[list[Any]]:
        return [
            ml.metrics("loss", values[start : min(n, start + BATCH_SIZE)], start) for start in range(0, n, BATCH_SIZE)
        ]

    mlflow_one_point(min(s.mlflow_points, 20))
    mlflow_call_rate = statistics.median(mlflow_one_point(s.mlflow_points) for _ in range(s.mlflow_trials))
    mlflow_batch(mlflow_batches(min(s.mlflow_batch_points, 2 * BATCH_SIZE)))
    mlflow_chunks = mlflow_batches(s.mlflow_batch_points)
    mlflow_batch_rate = statistics.median(mlflow_batch(mlflow_chunks) for _ in range(s.mlflow_trials))

    return [
        Figure(
            key="log_one_point",
            title="Metric points, one-point call (`run.log` vs `client.log_metric`)",
            mlws=mlws_call_rate,
            baseline=mlflow_call_rate,
            baseline_name="MLflow",
            mlws_count=s.points,
            baseline_count=s.mlflow_points,
            min_speedup=1_000,
            target_text="≥ 1,000×",
            unit="points/s",
            higher_is_better=True,
        ),
        Figure(
            key="log_one_point_durable",
            title="Metric points, one-point call, flush included (durable)",
            mlws=mlws_durable_rate,
            baseline=mlflow_call_rate,
            baseline_name="MLflow",
            mlws_count=s.points,
            baseline_count=s.mlflow_points,
            min_speedup=None,
            target_text="— (context)",
            unit="points/s",
            higher_is_better=True,
        ),
        Figure(
            key="log_batch",
            title="Metric points, batch path (1,000 per `log_batch`)",
            mlws=mlws_batch_rate,
            baseline=mlflow_batch_rate,
            baseline_name="MLflow",
            mlws_count=s.batch_points,
            baseline_count=s.mlflow_batch_points,
            min_speedup=None,
            target_text="— (context)",
            unit="points/s",
            higher_is_better=True,
        ),
        Figure(
            key="durable_vs_executemany",
            title="Durable rate (`run.log` … `flush()`) vs raw `executemany` of the same rows",
            mlws=mlws_durable_rate,
            baseline=raw_rate,
            baseline_name="sqlite3",
            mlws_count=s.points,
            baseline_count=s.points,
            min_speedup=0.5,
            target_text="within 2× (≥ 0.50×)",
            unit="points/s",
            higher_is_better=True,
        ),
    ]


def bench_search(ws: Workspace, ml: MlflowSide, s: Settings, seed_mode: str) -> Figure:
    n = s.search_runs
    rng = random.Random(s.seed + 1)
    accs = [rng.random() for _ in range(n)]
    lrs = [rng.choice(LEARNING_RATES) for _ in range(n)]

    say(f"[3/4] search: seeding {n:,} runs in jupyter-mlws")
    exp = Experiment(ws, "bench-search")
    t0 = time.perf_counter()
    for acc, lr in zip(accs, lrs, strict=True):
        run = exp.start_logging()
        run.log_batch(metrics=[("acc", acc, None)], params={"lr": lr})
        run.complete()
    say(f"      seeded in {time.perf_counter() - t0:.1f} s; seeding {n:,} runs in MLflow")

    client = ml.client
    exp_id = ml.experiment("bench-search")
    t0 = time.perf_counter()
    if seed_mode == "api":
        for acc, lr in zip(accs, lrs, strict=True):
            run_id = client.create_run(exp_id).info.run_id
            client.log_batch(run_id, metrics=[ml.Metric("acc", acc, 0, 0)], params=[ml.Param("lr", lr)])
            client.set_terminated(run_id)
    else:
        ml.seed_runs_orm(exp_id, accs, lrs)
    say(f"      seeded in {time.perf_counter() - t0:.1f} s ({seed_mode}); timing searches")

    expected = min(100, sum(1 for a, lr in zip(accs, lrs, strict=True) if a > 0.5 and lr == "0.01"))

    def mlws_search() -> None:
        page = exp.search_runs(filter=FILTER, max_results=100)
        assert len(page.runs) == expected, (len(page.runs), expected)

    def mlflow_search() -> None:
        found = client.search_runs([exp_id], filter_string=FILTER, max_results=100)
        assert len(found) == expected, (len(found), expected)

    # Both tools answer the same question: check a result once, outside the timing.
    first = exp.search_runs(filter=FILTER, max_results=1).runs[0]
    assert first.get_params()["lr"] == "0.01" and first.get_metrics("acc")["acc"] > 0.5
    found = client.search_runs([exp_id], filter_string=FILTER, max_results=1)[0]
    assert found.data.params["lr"] == "0.01" and found.data.metrics["acc"] > 0.5

    mlws_s = median_time(mlws_search, s.repeats)
    mlflow_s = median_time(mlflow_search, max(s.mlflow_repeats, 10))
    return Figure(
        key="search",
        title=f"Filtered search over {n:,} runs, 100 results (median latency)",
        unit="ms",
        mlws=mlws_s * 1e3,
        baseline=mlflow_s * 1e3,
        baseline_name="MLflow",
        mlws_count=n,
        baseline_count=n,
        higher_is_better=False,
        min_speedup=5,
        target_text="≤ 1/5 latency (≥ 5×)",
    )


def bench_series_read(ws: Workspace, ml: MlflowSide, s: Settings) -> Figure:
    n = s.series_points
    rng = random.Random(s.seed + 2)
    values = [rng.random() for _ in range(n)]
    chunks = [range(start, min(n, start + BATCH_SIZE)) for start in range(0, n, BATCH_SIZE)]

    say(f"[4/4] series read: seeding one {n:,}-point series in each tool")
    run = Experiment(ws, "bench-read").start_logging()
    for chunk in chunks:
        run.log_batch(metrics=[("loss", values[i], i) for i in chunk])
    run.complete()

    client = ml.client
    run_id = client.create_run(ml.experiment("bench-read")).info.run_id
    t0 = time.perf_counter()
    for chunk in chunks:
        client.log_batch(run_id, metrics=ml.metrics("loss", values[chunk.start : chunk.stop], chunk.start))
    client.set_terminated(run_id)
    say(f"      MLflow seeded in {time.perf_counter() - t0:.1f} s; timing reads")

    def mlws_read() -> None:
        got = run.get_metrics("loss")["loss"]
        assert len(got) == n, len(got)

    def mlflow_read() -> None:
        got = client.get_metric_history(run_id, "loss")
        assert len(got) == n, len(got)

    mlws_s = median_time(mlws_read, s.repeats)
    mlflow_s = median_time(mlflow_read, s.mlflow_repeats)
    return Figure(
        key="series_read",
        title=f"Read one {n:,}-point series (`get_metrics` vs `get_metric_history`, median)",
        unit="ms",
        mlws=mlws_s * 1e3,
        baseline=mlflow_s * 1e3,
        baseline_name="MLflow",
        mlws_count=n,
        baseline_count=n,
        higher_is_better=False,
        min_speedup=20,
        target_text="≥ 20×",
    )


# -- main ----------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> tuple[Settings, argparse.Namespace]:
    p = argparse.ArgumentParser(
        description="Benchmark jupyter-mlws tracking against MLflow (SQLite backend), side by side."
    )
    p.add_argument("--quick", action="store_true", help="small counts: a smoke run of well under a minute")
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="JSON results file (default: results/tracking.json next to this script)",
    )
    p.add_argument("--tmpdir", type=Path, default=None, help="where to put the temporary stores")
    p.add_argument(
        "--mlflow-seed",
        choices=("orm", "api"),
        default="orm",
        help="how the search runs are written into MLflow: in one transaction through its SQLAlchemy "
        "models (default), or through MlflowClient, 3 calls a run (several minutes for 10,000 runs)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary stores (their path is printed)")
    for field, help_text in (
        ("runs", "runs to create with jupyter-mlws"),
        ("mlflow_runs", "runs to create with MLflow"),
        ("points", "one-point run.log calls (also the executemany row count)"),
        ("mlflow_points", "one-point client.log_metric calls"),
        ("batch_points", "points through run.log_batch (batches of 1,000)"),
        ("mlflow_batch_points", "points through client.log_batch (batches of 1,000)"),
        ("search_runs", "runs to seed for the search (both tools)"),
        ("series_points", "points in the series read back (both tools)"),
        ("trials", "timed trials per jupyter-mlws throughput figure (median reported)"),
        ("mlflow_trials", "timed trials per MLflow throughput figure (median reported)"),
        ("repeats", "timed calls per jupyter-mlws latency figure (median reported)"),
        ("mlflow_repeats", "timed calls per MLflow latency figure (median; searches use at least 10)"),
        ("seed", "random seed"),
    ):
        p.add_argument(f"--{field.replace('_', '-')}", dest=field, type=int, default=None, help=help_text)
    args = p.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    overrides = {k: v for k, v in vars(args).items() if k in Settings.__dataclass_fields__ and v is not None}
    settings = Settings(**{**asdict(base), **overrides})
    for name, value in asdict(settings).items():
        if name != "seed" and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return settings, args


def main(argv: Sequence[str] | None = None) -> int:
    settings, args = parse_args(argv)
    mlflow = import_mlflow()
    load_before = load_average()
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="mlws-bench-", dir=args.tmpdir))
    try:
        (root / "mlws").mkdir()
        (root / "mlflow").mkdir()
        (root / "raw").mkdir()
        say(f"stores under {root}")
        ws = Workspace.create(root / "mlws")
        ml = MlflowSide(mlflow, root / "mlflow")
        random.seed(settings.seed)
        figures = [bench_run_creation(ws, ml, settings)]
        figures += bench_logging(ws, ml, settings, root / "raw")
        figures.append(bench_search(ws, ml, settings, args.mlflow_seed))
        figures.append(bench_series_read(ws, ml, settings))
        ws.flush()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    wall = time.perf_counter() - started

    env = {
        "jupyter_mlws": mlws_version,
        "mlflow": mlflow.__version__,
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    print()
    print(
        f"jupyter-mlws {env['jupyter_mlws']} vs MLflow {env['mlflow']} (SQLite {env['sqlite']}), "
        f"Python {env['python']}, {env['platform']}, {env['cpus']} CPUs"
    )
    cpus = os.cpu_count() or 1
    if load_before is not None and load_before > 0.5 * cpus:
        print(
            f"warning: the machine was busy before the start (load average {load_before:.1f} on {cpus} "
            "CPUs); figures are noisier than on an idle machine"
        )
    print()
    print(render_table(figures))
    print()
    print(
        "Ratio: how many times faster jupyter-mlws is (rate ÷ rate, or latency ÷ latency inverted). "
        "MLflow runs through MlflowClient on a SQLite store; its one-point and batch rates are timed on "
        f"{settings.mlflow_points:,} and {settings.mlflow_batch_points:,} points, jupyter-mlws on "
        f"{settings.points:,} and {settings.batch_points:,}. Search filter: `{FILTER}`."
    )
    missed = [f.key for f in figures if f.met is False]
    print()
    print("All targets met." if not missed else f"Targets missed: {', '.join(missed)}")
    print(f"Total wall time: {wall:.1f} s")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "tracking",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": env,
        "settings": asdict(settings),
        "filter": FILTER,
        "wall_time_s": wall,
        "figures": [f.as_json() for f in figures],
        "all_targets_met": not missed,
    }
    args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    say(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
