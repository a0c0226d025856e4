"""REST benchmark: a filtered page of runs from the Jupyter Server extension vs MLflow's tracking server.

Run from the repository root::

    python benchmarks/bench_rest.py            # defaults: 10,000 runs, 8 clients x 50 requests per tool
    python benchmarks/bench_rest.py --quick    # smoke run (under a minute)

Both tools get the same runs (metric ``acc`` drawn from [0, 1], param ``lr`` from four values), then
each is served on loopback by its own server process and asked for one page of 100 runs that match
``metrics.acc > 0.5``:

- jupyter-mlws: ``GET /mlws/api/v1/experiments/{name}/runs?filter=...&page_size=100`` from
  ``python -m jupyter_server`` (token auth, the ``jupyter_mlws`` extension enabled on install);
- MLflow: ``POST /api/2.0/mlflow/runs/search`` (``max_results=100``) from
  ``mlflow server --backend-store-uri sqlite:///... --workers 1``.

``--clients`` threads (8 by default), each with its own keep-alive connection, issue ``--requests``
timed requests each after ``--warmup`` untimed ones, all starting together. Figures: median and p95
latency per request, and throughput (requests completed ÷ wall time of the timed phase). One tool is
loaded at a time. The table is printed as markdown (paste it into the README) and the figures are
written as JSON to ``benchmarks/results/rest.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tracking import (  # a sibling script (sys.path above), not a package
    LEARNING_RATES,
    MLFLOW_ENV,
    Figure,
    MlflowSide,
    import_mlflow,
    load_average,
    render_table,
    say,
)

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws import __version__ as mlws_version
from jupyter_mlws.core.workspace import close_backends

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "rest.json"
HOST = "127.0.0.1"  # loopback only
EXPERIMENT = "bench"
FILTER = "metrics.acc > 0.5"
PAGE = 100
START_TIMEOUT = 120.0  # seconds for a server to answer after it is started
# The server's background job runner (huey consumers for GenAI jobs and periodic tasks, polling their
# own stores) is off: it is not part of run search, and it would compete with it for the same CPUs.
MLFLOW_SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


# -- settings ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    runs: int
    clients: int
    requests: int
    warmup: int
    seed: int


DEFAULTS = Settings(runs=10_000, clients=8, requests=50, warmup=3, seed=0)
QUICK = Settings(runs=1_000, clients=8, requests=10, warmup=1, seed=0)


@dataclass
class Load:
    """The timed phase of one tool: every request's latency and the wall time from start to last reply."""

    latencies: list[float]
    wall: float

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1e3

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=20, method="inclusive")[18] * 1e3

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": len(self.latencies),
            "wall_s": self.wall,
            "median_ms": self.median_ms,
            "p95_ms": self.p95_ms,
            "mean_ms": statistics.fmean(self.latencies) * 1e3,
            "min_ms": min(self.latencies) * 1e3,
            "max_ms": max(self.latencies) * 1e3,
            "requests_per_s": self.throughput,
        }


# -- servers -------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """A server process in its own session (so its workers stop with it), logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: Path, cwd: Path) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                list(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, probe: Callable[[], bool], timeout: float = START_TIMEOUT) -> float:
        """Seconds until ``probe()`` is true; fails with the log's tail if the process exits or times out."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if probe():
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM to the server's process group (its pid), then SIGKILL if it has not left in 10 s."""
        if self.proc.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_jupyter(root: Path, logs: Path) -> tuple[Server, int, str]:
    port, token = free_port(), secrets.token_hex(24)
    env = dict(os.environ)
    env["JUPYTER_RUNTIME_DIR"] = str(logs / "jupyter-runtime")  # keep the user's runtime dir clean
    argv = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        f"--ip={HOST}",
        f"--port={port}",
        "--port-retries=0",
        f"--ServerApp.token={token}",
        "--allow-root",
        f"--ServerApp.root_dir={root}",
    ]
    return Server("jupyter_server", argv, env, logs / "jupyter.log", root), port, token


def mlflow_command() -> list[str]:
    beside = Path(sys.executable).with_name("mlflow")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("mlflow")
    return [found] if found else [sys.executable, "-m", "mlflow"]


def start_mlflow(ml: MlflowSide, logs: Path) -> tuple[Server, int]:
    port = free_port()
    env = dict(os.environ)
    for key, value in {**MLFLOW_ENV, **MLFLOW_SERVER_ENV}.items():
        if value:
            env[key] = value
        else:
            env.pop(key, None)
    argv = [
        *mlflow_command(),
        "server",
        "--backend-store-uri",
        ml.uri,
        "--default-artifact-root",
        ml.artifacts.as_uri(),
        "--no-serve-artifacts",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    return Server("mlflow server", argv, env, logs / "mlflow.log", ml.artifacts.parent), port


# -- load ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    check: Callable[[bytes], int]  # raises on a bad page; returns the number of runs in it


def run_load(port: int, request: Request, s: Settings) -> Load:
    """``s.clients`` threads, one keep-alive connection each: warm-up, then all start the timed phase
    together. Every reply is checked (status 200, a full page), outside its own latency."""
    barrier = threading.Barrier(s.clients + 1)
    done = threading.Barrier(s.clients + 1)
    samples: list[list[float]] = [[] for _ in range(s.clients)]
    errors: list[BaseException] = []

    def one(conn: http.client.HTTPConnection) -> float:
        t0 = time.perf_counter()
        conn.request(request.method, request.path, body=request.body, headers=request.headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - t0
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
        request.check(body)
        return elapsed

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=300)
        try:
            try:
                for _ in range(s.warmup):
                    one(conn)
            except BaseException as exc:
                errors.append(exc)
                barrier.abort()
                return
            finally:
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    return
            try:
                for _ in range(s.requests):
                    samples[index].append(one(conn))
            except BaseException as exc:
                errors.append(exc)
            finally:
                done.wait()
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(s.clients)]
    for t in threads:
        t.start()
    started = True
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        started = False  # a warm-up failed; every client has returned
    t0 = time.perf_counter()
    if started:
        done.wait()
    wall = time.perf_counter() - t0
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"a client failed: {errors[0]!r}") from errors[0]
    return Load([x for per_client in samples for x in per_client], wall)


def loaded(server: Server, port: int, request: Request, s: Settings) -> Load:
    """``run_load``; a failure names the server and shows the end of its log."""
    try:
        return run_load(port, request, s)
    except RuntimeError as exc:
        raise RuntimeError(f"{server.name}: {exc}\n--- end of its log ({server.log}) ---\n{server.tail()}") from exc


def mlws_request(token: str) -> Request:
    query = urllib.parse.urlencode({"filter": FILTER, "page_size": PAGE}, quote_via=urllib.parse.quote)
    path = f"/mlws/api/v1/experiments/{urllib.parse.quote(EXPERIMENT)}/runs?{query}"

    def check(body: bytes) -> int:
        items = json.loads(body)["items"]
        if len(items) != PAGE:
            raise RuntimeError(f"jupyter-mlws returned {len(items)} runs, expected a page of {PAGE}")
        return len(items)

    return Request("GET", path, None, {"Authorization": f"token {token}"}, check)


def mlflow_request(experiment_id: str) -> Request:
    body = json.dumps({"experiment_ids": [experiment_id], "filter": FILTER, "max_results": PAGE}).encode()

    def check(body: bytes) -> int:
        found = json.loads(body).get("runs", [])
        if len(found) != PAGE:
            raise RuntimeError(f"MLflow returned {len(found)} runs, expected a page of {PAGE}")
        return len(found)

    headers = {"Content-Type": "application/json"}
    return Request("POST", "/api/2.0/mlflow/runs/search", body, headers, check)


def verify_pages(port_mlws: int, mlws: Request, port_mlflow: int, mlflow: Request) -> None:
    """Once, outside the timing: both answer the same question (every run on the page has acc > 0.5)."""
    conn = http.client.HTTPConnection(HOST, port_mlws, timeout=300)
    conn.request(mlws.method, mlws.path, body=mlws.body, headers=mlws.headers)
    items = json.loads(conn.getresponse().read())["items"]
    conn.close()
    assert len(items) == PAGE and all(r["metrics"]["acc"] > 0.5 and "lr" in r["params"] for r in items)

    conn = http.client.HTTPConnection(HOST, port_mlflow, timeout=300)
    conn.request(mlflow.method, mlflow.path, body=mlflow.body, headers=mlflow.headers)
    found = json.loads(conn.getresponse().read())["runs"]
    conn.close()
    assert len(found) == PAGE
    for run in found:
        metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
        params = {p["key"]: p["value"] for p in run["data"]["params"]}
        assert metrics["acc"] > 0.5 and "lr" in params, run


# -- seeding -------------------------------------------------------------------------------------------
def seed_mlws(root: Path, accs: Sequence[float], lrs: Sequence[str]) -> float:
    """Through the public API; returns seconds taken."""
    t0 = time.perf_counter()
    ws = Workspace.create(root)
    exp = Experiment(ws, EXPERIMENT)
    for acc, lr in zip(accs, lrs, strict=True):
        run = exp.start_logging()
        run.log("acc", acc)
        run.log_param("lr", lr)
        run.complete()
    ws.flush()
    close_backends()  # the server process reads the same files; nothing stays open here
    return time.perf_counter() - t0


# -- main ----------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> tuple[Settings, argparse.Namespace]:
    p = argparse.ArgumentParser(
        description="Benchmark the jupyter-mlws REST run search against MLflow's tracking server, side by side."
    )
    p.add_argument("--quick", action="store_true", help="small counts: a smoke run of under a minute")
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="JSON results file (default: results/rest.json next to this script)",
    )
    p.add_argument("--tmpdir", type=Path, default=None, help="where to put the temporary stores")
    p.add_argument("--keep", action="store_true", help="keep the temporary stores and server logs")
    for field, help_text in (
        ("runs", "runs to seed in each tool"),
        ("clients", "concurrent clients (threads, one keep-alive connection each)"),
        ("requests", "timed requests per client"),
        ("warmup", "untimed requests per client before the timed phase"),
        ("seed", "random seed"),
    ):
        p.add_argument(f"--{field}", dest=field, type=int, default=None, help=help_text)
    args = p.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    overrides = {k: v for k, v in vars(args).items() if k in Settings.__dataclass_fields__ and v is not None}
    settings = Settings(**{**asdict(base), **overrides})
    for name in ("clients", "requests"):
        if getattr(settings, name) < 1:
            p.error(f"--{name} must be at least 1")
    if settings.warmup < 0:
        p.error("--warmup must not be negative")
    if settings.clients * settings.requests < 2:
        p.error("need at least 2 timed requests in all (--clients x --requests)")
    if settings.runs < 2 * PAGE:
        p.error(f"--runs must be at least {2 * PAGE}, so the filter matches a full page")
    return settings, args


def figures_for(mlws: Load, mlflow: Load, clients: int) -> list[Figure]:
    def figure(
        key: str, title: str, unit: str, values: tuple[float, float], higher: bool, target: float | None
    ) -> Figure:
        return Figure(
            key=key,
            title=title,
            unit=unit,
            mlws=values[0],
            baseline=values[1],
            baseline_name="MLflow",
            mlws_count=len(mlws.latencies),
            baseline_count=len(mlflow.latencies),
            higher_is_better=higher,
            min_speedup=target,
            target_text="≤ 1/5 latency (≥ 5×)" if target else "— (context)",
        )

    return [
        figure(
            "median_latency",
            f"Filtered page of {PAGE}, median latency ({clients} concurrent clients)",
            "ms",
            (mlws.median_ms, mlflow.median_ms),
            False,
            5,
        ),
        figure("p95_latency", "Same, p95 latency", "ms", (mlws.p95_ms, mlflow.p95_ms), False, None),
        figure("throughput", "Same, throughput", "req/s", (mlws.throughput, mlflow.throughput), True, None),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    settings, args = parse_args(argv)
    s = settings
    mlflow = import_mlflow()
    load_before = load_average()
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="mlws-bench-rest-", dir=args.tmpdir))
    servers: list[Server] = []
    try:
        for sub in ("mlws", "mlflow", "logs"):
            (root / sub).mkdir()
        say(f"stores and server logs under {root}")
        rng = random.Random(s.seed)
        accs = [rng.random() for _ in range(s.runs)]
        lrs = [rng.choice(LEARNING_RATES) for _ in range(s.runs)]
        matches = sum(1 for a in accs if a > 0.5)

        say(f"[1/3] seeding {s.runs:,} runs in jupyter-mlws (public API)")
        mlws_seed_s = seed_mlws(root / "mlws", accs, lrs)
        say(f"      seeded in {mlws_seed_s:.1f} s; seeding {s.runs:,} runs in MLflow (its SQLAlchemy models)")
        ml = MlflowSide(mlflow, root / "mlflow")
        exp_id = ml.experiment(EXPERIMENT)
        t0 = time.perf_counter()
        ml.seed_runs_orm(exp_id, accs, lrs)
        mlflow_seed_s = time.perf_counter() - t0
        say(f"      seeded in {mlflow_seed_s:.1f} s; {matches:,} runs match `{FILTER}`")

        say("[2/3] starting jupyter_server and mlflow server on 127.0.0.1")
        jupyter, jport, token = start_jupyter(root / "mlws", root / "logs")
        servers.append(jupyter)
        mlflow_server, mport = start_mlflow(ml, root / "logs")
        servers.append(mlflow_server)
        auth = {"Authorization": f"token {token}"}

        def jupyter_up() -> bool:
            status, body = get(jport, "/mlws/api/v1/workspace", auth)
            if status != 200:
                return False
            info = json.loads(body)
            if not info.get("exists"):
                raise RuntimeError(f"jupyter-mlws does not see the seeded workspace: {info}")
            return True

        jupyter_boot = jupyter.wait_ready(jupyter_up)
        mlflow_boot = mlflow_server.wait_ready(lambda: get(mport, "/health")[0] == 200)
        say(f"      jupyter_server on :{jport} ({jupyter_boot:.1f} s), mlflow server on :{mport} ({mlflow_boot:.1f} s)")

        mlws_req, mlflow_req = mlws_request(token), mlflow_request(exp_id)
        verify_pages(jport, mlws_req, mport, mlflow_req)
        say(f"[3/3] {s.clients} clients x {s.requests} requests (+{s.warmup} warm-up each): jupyter-mlws, then MLflow")
        mlws_load = loaded(jupyter, jport, mlws_req, s)
        say(f"      jupyter-mlws: median {mlws_load.median_ms:.1f} ms, {mlws_load.throughput:.1f} req/s")
        mlflow_load = loaded(mlflow_server, mport, mlflow_req, s)
        say(f"      MLflow: median {mlflow_load.median_ms:.1f} ms, {mlflow_load.throughput:.1f} req/s")
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    wall = time.perf_counter() - started
    figures = figures_for(mlws_load, mlflow_load, s.clients)

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
        f"jupyter-mlws {env['jupyter_mlws']} (jupyter_server) vs MLflow {env['mlflow']} (mlflow server, "
        f"1 worker, SQLite {env['sqlite']}), Python {env['python']}, {env['platform']}, {env['cpus']} CPUs"
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
        f"A page of {PAGE} runs matching `{FILTER}` from an experiment of {s.runs:,} runs ({matches:,} match), "
        f"over loopback: {s.clients} concurrent clients x {s.requests} timed requests per tool, each client "
        "on one keep-alive connection. jupyter-mlws: `GET /mlws/api/v1/experiments/{name}/runs`; MLflow: "
        "`POST /api/2.0/mlflow/runs/search`. Ratio: how many times faster jupyter-mlws is."
    )
    missed = [f.key for f in figures if f.met is False]
    print()
    print("All targets met." if not missed else f"Targets missed: {', '.join(missed)}")
    print(f"Total wall time: {wall:.1f} s")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "rest",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": env,
        "settings": asdict(s),
        "filter": FILTER,
        "page_size": PAGE,
        "matching_runs": matches,
        "seed_s": {"jupyter_mlws": mlws_seed_s, "mlflow": mlflow_seed_s},
        "server_start_s": {"jupyter_mlws": jupyter_boot, "mlflow": mlflow_boot},
        "load": {"jupyter_mlws": mlws_load.as_json(), "mlflow": mlflow_load.as_json()},
        "wall_time_s": wall,
        "figures": [f.as_json() for f in figures],
        "all_targets_met": not missed,
    }
    args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    say(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
