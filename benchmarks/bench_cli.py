"""The ``mlws`` command line, whole processes, side by side with what a user would run (issue 22).

Run from the repository root (``bench_notebooks.py`` runs it too)::

    python benchmarks/bench_cli.py                 # defaults: 1,000 runs, 7 repeats (a few minutes)
    python benchmarks/bench_cli.py --quick         # smoke run: 3 repeats
    python benchmarks/bench_cli.py --mlflow /path/to/venv/bin/mlflow

1. A trivial script as a job: ``mlws submit job.py --wait`` (dispatcher warm: the command runs in a fork
   of it) next to ``python job.py`` in the same folder: the difference is the command line's overhead
   (target <= 300 ms); and the same command run in its own process (``MLWS_AGENT_COMMANDS=0``).
2. Listing runs: ``mlws runs list`` on a workspace of 1,000 finished runs (each with a metric and a
   param) — the default page (newest 100) and ``--max 1000`` (all of them) — next to ``mlflow runs
   list --experiment-id …`` on an MLflow SQLite store of 1,000 runs (it lists them all). Target:
   ``mlws runs list`` <= 0.2 s.

Every figure is the median of ``--repeats`` whole-process runs; the commands take turns (one of each
per round), so a busy machine slows them alike. MLflow is found next to this interpreter or on PATH
(``pip install -r benchmarks/requirements.txt``; ``--mlflow`` names another install); without it,
its column stays empty. The markdown table goes to stdout, the JSON to ``benchmarks/results/cli.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRIPT = "n = 1000\ntotal = sum(i * i for i in range(n))\nprint(total)\n"
# Seeds an MLflow store the way a user's runs get there (MlflowClient), in MLflow's own interpreter.
MLFLOW_SEED = """
import random, sys
from mlflow.tracking import MlflowClient
client = MlflowClient(tracking_uri=sys.argv[1])
exp = client.create_experiment("bench")
rng = random.Random(0)
for i in range(int(sys.argv[2])):
    run = client.create_run(exp, run_name=f"run-{i}")
    client.log_metric(run.info.run_id, "acc", rng.random())
    client.log_param(run.info.run_id, "lr", str(rng.choice([0.1, 0.01])))
    client.set_terminated(run.info.run_id)
print(exp)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Measure what users run: compiled bytecode, as an installed package has it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    env.setdefault("DO_NOT_TRACK", "true")
    return env


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (user + system) of the process and its children: the CPU time
    varies less than the wall time on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _rounds(commands: dict[str, tuple[list[str], Path]], repeats: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall seconds of each command (and ``<name>_cpu``: its median CPU seconds); one
    warm-up each, then the commands take turns."""
    for argv, cwd in commands.values():
        _timed(argv, cwd, env)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, (argv, cwd) in commands.items():
            times[name].append(_timed(argv, cwd, env))
    medians = {name: statistics.median(wall for wall, _ in values) for name, values in times.items()}
    medians.update({f"{name}_cpu": statistics.median(cpu for _, cpu in values) for name, values in times.items()})
    return medians


def find_mlflow(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "mlflow"
    return str(beside) if beside.exists() else shutil.which("mlflow")


def _mlflow_python(mlflow: str) -> str:
    """The interpreter of an ``mlflow`` console script (its shebang)."""
    first = Path(mlflow).read_text(errors="replace").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else sys.executable


def bench_cli(work: Path, repeats: int, n_runs: int = 1000, mlflow: str | None = None) -> dict[str, Any]:
    from jupyter_mlws import Experiment, Workspace
    from jupyter_mlws.compute import agent
    from jupyter_mlws.core.workspace import close_backends

    env = _env()
    mlws = [sys.executable, "-m", "jupyter_mlws.cli"]
    src = work / "cli-job"
    src.mkdir()
    (src / "job.py").write_text(SCRIPT)
    Workspace.create(src)
    alone = ["env", "MLWS_AGENT_COMMANDS=0"]  # the command run in its own process, not in the warm agent
    submit = _rounds(
        {
            "python": ([sys.executable, "job.py"], src),
            "mlws": ([*mlws, "submit", "job.py", "--wait"], src),
            "mlws_alone": ([*alone, *mlws, "submit", "job.py", "--wait"], src),
        },
        repeats,
        env,
    )
    agent.stop(Workspace(src))

    listed = work / "cli-list"
    listed.mkdir()
    ws = Workspace.create(listed)
    exp = Experiment(ws, "bench")
    t = time.perf_counter()
    for i in range(n_runs):
        run = exp.start_logging(display_name=f"run-{i}")
        run.log_batch(metrics=[("acc", (i * 7919 % 1000) / 1000, None)], params={"lr": "0.01" if i % 2 else "0.1"})
        run.complete()
    seed_s = time.perf_counter() - t
    close_backends()
    commands: dict[str, tuple[list[str], Path]] = {
        "mlws_list": ([*mlws, "runs", "list"], listed),
        "mlws_list_all": ([*mlws, "runs", "list", "--max", str(n_runs)], listed),
    }
    mlflow = find_mlflow(mlflow)
    if mlflow is not None:
        uri = f"sqlite:///{work / 'mlflow.db'}"
        seeded = subprocess.run(
            [_mlflow_python(mlflow), "-c", MLFLOW_SEED, uri, str(n_runs)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        experiment_id = seeded.stdout.strip().splitlines()[-1]
        env["MLFLOW_TRACKING_URI"] = uri
        commands["mlflow_list"] = ([mlflow, "runs", "list", "--experiment-id", experiment_id], work)
    else:
        print("(no mlflow found: its column stays empty; see --mlflow)", file=sys.stderr)
    lists = _rounds(commands, repeats, env)
    return {
        "n_runs": n_runs,
        "seed_runs_s": seed_s,
        "python_job_s": submit["python"],
        "mlws_submit_wait_s": submit["mlws"],
        "cli_overhead_s": submit["mlws"] - submit["python"],
        "python_job_cpu_s": submit["python_cpu"],
        "mlws_submit_wait_cpu_s": submit["mlws_cpu"],
        "mlws_submit_alone_s": submit["mlws_alone"],
        "mlws_submit_alone_cpu_s": submit["mlws_alone_cpu"],
        "cli_overhead_alone_s": submit["mlws_alone"] - submit["python"],
        **{f"{name}_s": value for name, value in lists.items()},
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def table_rows(cli: dict[str, Any]) -> list[str]:
    """Markdown rows: wall medians, with the CPU medians in brackets."""

    def both(key: str) -> str:
        cpu = cli.get(key.removesuffix("_s") + "_cpu_s")
        return _ms(cli[key]) + (f" (CPU {_ms(cpu)})" if cpu is not None else "")

    n = f"{cli['n_runs']:,}"
    rows = [
        f"| Trivial script as a job, `mlws submit job.py --wait` (dispatcher warm) | {both('mlws_submit_wait_s')} "
        f"| `python job.py`: {both('python_job_s')} "
        f"| overhead {_ms(cli['cli_overhead_s'])} (target ≤ 300 ms) |",
    ]
    if "mlws_submit_alone_s" in cli:
        rows.append(
            "| The same, run in its own process (`MLWS_AGENT_COMMANDS=0`), not in the warm agent "
            f"| {both('mlws_submit_alone_s')} | | overhead {_ms(cli['cli_overhead_alone_s'])} |"
        )
    peer = cli.get("mlflow_list_s")
    peer_text = f"`mlflow runs list` ({n} runs): {both('mlflow_list_s')}" if peer else ""
    for key, what in (("mlws_list_s", "newest 100"), ("mlws_list_all_s", f"all {n}, `--max {cli['n_runs']}`")):
        ratio = f"{cli[key] / peer:.2f}× of MLflow; " if peer else ""
        rows.append(f"| `mlws runs list`, {n} runs ({what}) | {both(key)} | {peer_text} | {ratio}target ≤ 200 ms |")
    return rows


def table(cli: dict[str, Any]) -> str:
    return "\n".join(["| Figure | jupyter-mlws | Peer | Ratio / target |", "|---|---:|---:|---|", *table_rows(cli)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--runs", type=int, default=1000, help="runs in the listed workspace and MLflow store")
    parser.add_argument("--mlflow", help="the mlflow command to compare with (default: beside python, or on PATH)")
    parser.add_argument("--tmpdir", default=None)
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    work = Path(tempfile.mkdtemp(prefix="mlws-bench-cli-", dir=args.tmpdir))
    os.environ.setdefault("MLWS_AGENT_IDLE_SECONDS", "30")
    try:
        results = {
            "repeats": repeats,
            "load_average": os.getloadavg(),
            "cli": bench_cli(work, repeats, args.runs, args.mlflow),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "cli.json").write_text(json.dumps(results, indent=2))
    print(table(results["cli"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
