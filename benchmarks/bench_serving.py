"""Serving benchmark: a small scikit-learn model behind HTTP, side by side on loopback, in one run.

Run from the repository root, with one command (as root: it installs ``wrk`` with apt-get when missing, and
creates the peers' virtual environments when missing or when their requirements file changed)::

    python benchmarks/bench_serving.py            # about 8 minutes (3 rounds, 5 s per measurement)
    python benchmarks/bench_serving.py --quick    # smoke run: 1 round, 1 s per measurement, about a minute

Servers (each a process tree of its own, started and stopped by the script, on 127.0.0.1 and free ports):

1. MLflow: ``mlflow models serve -m <model> --env-manager local`` of the model saved as an MLflow sklearn model
   (``mlflow.sklearn.save_model`` with a signature), asked ``POST /invocations`` with ``dataframe_split``;
2. MLServer with ``mlserver-sklearn`` (a model repository of one model), asked the V2 inference protocol
   ``POST /v2/models/bench/infer`` (one FP64 tensor of shape [rows, 8]);
3. the floor: uvicorn (uvloop + httptools, no access log) running ``serving_floor.py``, a bare ASGI app that
   parses ``{"data": rows}`` with orjson, calls ``model.predict`` and answers the predictions as JSON;
4. ours (jupyter-mlws ``Model.deploy`` to a ``LocalWebservice``, with this interpreter), two variants: an
   entry script (``{"data": rows}``, parsed with orjson as the floor does), and no code: the pickled model
   deployed without an entry script, asked with MLflow's ``dataframe_split`` shape. Both run with the
   floor's interpreter (a user-managed environment), so with the same libraries.
   Its cold start runs from the ``Model.deploy`` call (the model registered beforehand) to the first answer.

Each peer lives in a virtual environment of its own (``--venv-root``, default ``/tmp``: ``bench-mlflow``,
``bench-mlserver``, ``bench-floor``), pinned in ``benchmarks/requirements-serving-*.txt``; every one pins
the same scikit-learn, so every server loads the same model. The model: ``LogisticRegression`` on a synthetic
set of 8 features and 3 classes (``serving_model.py``, made with the floor's interpreter; nothing is downloaded).

For every server and round (the order of the servers rotates each round):

- cold start: from the start command to the first correct answer to a 1-row request (polled every 50 ms);
- resident memory: the sum of RSS (and of PSS, which counts shared pages once) over the server's process tree,
  once it first answers and again after the load;
- for each concurrency (1, 8, 32 keep-alive connections) and payload (1 and 100 rows): ``wrk`` (one thread,
  closed loop) for ``--warmup`` seconds untimed, then ``--duration`` seconds timed: throughput (2xx answers
  per second), p50 and p99 latency, the server tree's CPU time per request, wrk's own CPU, and the CPU the
  rest of the machine used meanwhile (from ``/proc/stat``: the noise of other processes).

Figures are medians over ``--repeats`` rounds. Throughput ratios are given against MLflow and against the floor.
The table is printed as markdown; the figures go to ``benchmarks/results/serving.json``.

"Update under load" (``load_during_update``): 32 keep-alive clients (threads) post for N seconds while an
``update()`` callable runs in the middle; it reports requests sent, answered (2xx, correct) and failed: ours
with ``service.update(models=[...])``, and the floor with a plain restart on the same port (stop the process,
start a new one), which is what a server without in-place updates does.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import http.client
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "serving.json"
HOST = "127.0.0.1"  # loopback only
LUA = HERE / "serving_wrk.lua"
START_TIMEOUT = 180.0  # seconds for a server to answer its first request
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
VENVS = ("mlflow", "mlserver", "floor")
PEER_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONDONTWRITEBYTECODE": "1"}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


@dataclass(frozen=True)
class Settings:
    duration: int
    warmup: int
    repeats: int
    concurrency: tuple[int, ...]
    rows: tuple[int, ...]
    update_seconds: float


DEFAULTS = Settings(duration=5, warmup=2, repeats=3, concurrency=(1, 8, 32), rows=(1, 100), update_seconds=10)
QUICK = Settings(duration=1, warmup=1, repeats=1, concurrency=(1, 8, 32), rows=(1, 100), update_seconds=4)


# -- setup: wrk and the peers' venvs ---------------------------------------------------------------------------
def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("error: this benchmark needs wrk: apt-get install -y wrk")
    say("installing wrk (apt-get) …")
    if subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=True)
    return shutil.which("wrk") or sys.exit("error: wrk did not install")


def ensure_venv(root: Path, name: str) -> Path:
    """``root/bench-<name>`` with ``requirements-serving-<name>.txt`` installed; rebuilt when that file changed."""
    requirements = HERE / f"requirements-serving-{name}.txt"
    venv = root / f"bench-{name}"
    stamp = venv / ".bench-serving-requirements"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    python = venv / "bin" / "python"
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    say(f"creating {venv} from {requirements.name} (a minute or two) …")
    if venv.exists() and not stamp.exists() and not (venv / "pyvenv.cfg").exists():
        sys.exit(f"error: {venv} exists and is not a virtual environment; pass another --venv-root")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(requirements)],
        check=True,
    )
    stamp.write_text(digest)
    return python


def version_in(python: Path, *packages: str) -> dict[str, str]:
    code = "import importlib.metadata as m, json, sys; print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    out = subprocess.run([str(python), "-c", code, *packages], capture_output=True, text=True, check=True).stdout
    versions: dict[str, str] = json.loads(out)
    return versions


def prepare_model(work: Path, pythons: dict[str, Path]) -> Path:
    """The pickled model, MLServer's model folder, the MLflow model, the bodies and the expected answers."""
    model = work / "model"
    env = {**os.environ, **PEER_ENV}
    subprocess.run([str(pythons["floor"]), str(HERE / "serving_model.py"), "train", str(model)], check=True, env=env)
    if "mlflow" in pythons:
        subprocess.run(
            [str(pythons["mlflow"]), str(HERE / "serving_model.py"), "mlflow", str(model)], check=True, env=env
        )
    return model


# -- process trees: memory and CPU -----------------------------------------------------------------------------
def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry))
    return children


def tree(roots: Sequence[int]) -> list[int]:
    """The live processes among ``roots`` and all their descendants."""
    children = _children()
    seen: list[int] = []
    stack = [p for p in roots if Path(f"/proc/{p}").exists()]
    while stack:
        pid = stack.pop()
        if pid not in seen:
            seen.append(pid)
            stack.extend(children.get(pid, []))
    return seen


def memory_kb(pids: Sequence[int]) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) in kB over ``pids``."""
    rss = pss = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
    return rss, pss


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """utime + stime of each live process."""
    times = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return times


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (all CPUs, from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / CLOCK_TICKS


# -- servers -------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class NotAvailableError(Exception):
    """A server that cannot run here (not built yet, not installed): its rows say so and the run goes on."""


@dataclass
class Running:
    """A started server: its process ids (the roots of its tree), where to post, with which headers."""

    name: str
    roots: list[int]
    url: str
    headers: dict[str, str]
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    def pids(self) -> list[int]:
        return tree(self.roots)

    def alive(self) -> bool:
        return self.proc is None or self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        if self.log is None:
            return "(no log)"
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM to its process group (or to each process of its tree), SIGKILL what is left after 10 s."""
        pids = self.pids()
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        else:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and tree(pids):
            time.sleep(0.1)
        for pid in tree(pids):  # left behind by the server itself (e.g. a worker outside its group)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def spawn(name: str, argv: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with all its workers
        )


@dataclass
class Context:
    work: Path
    model: Path  # the folder serving_model.py wrote
    pythons: dict[str, Path]


def venv_env(python: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an activated venv (MLflow runs ``uvicorn`` from PATH)."""
    env = {**os.environ, **PEER_ENV, **(extra or {})}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    return env


def start_mlflow(ctx: Context, port: int) -> Running:
    python = ctx.pythons["mlflow"]
    argv = [str(python.parent / "mlflow"), "models", "serve", "-m", str(ctx.model / "mlflow-model")]
    argv += ["--env-manager", "local", "-h", HOST, "-p", str(port)]
    log = ctx.work / "logs" / f"mlflow-{port}.log"
    proc = spawn("mlflow", argv, venv_env(python), ctx.work, log)
    return Running("mlflow", [proc.pid], f"http://{HOST}:{port}/invocations", {}, log, proc)


def start_mlserver(ctx: Context, port: int) -> Running:
    python = ctx.pythons["mlserver"]
    extra = {
        "MLSERVER_HTTP_PORT": str(port),
        "MLSERVER_GRPC_PORT": str(free_port()),
        "MLSERVER_METRICS_PORT": str(free_port()),
    }
    log = ctx.work / "logs" / f"mlserver-{port}.log"
    argv = [str(python.parent / "mlserver"), "start", str(ctx.model / "mlserver")]
    proc = spawn("mlserver", argv, venv_env(python, extra), ctx.model / "mlserver", log)
    return Running("mlserver", [proc.pid], f"http://{HOST}:{port}/v2/models/bench/infer", {}, log, proc)


def start_floor(ctx: Context, port: int) -> Running:
    python = ctx.pythons["floor"]
    argv = [str(python), "-m", "uvicorn", "serving_floor:app", "--app-dir", str(HERE), "--host", HOST]
    argv += ["--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--lifespan", "off"]
    log = ctx.work / "logs" / f"floor-{port}.log"
    extra = {"SERVING_MODEL": str(ctx.model / "model.pkl")}
    proc = spawn("floor", argv, venv_env(python, extra), ctx.work, log)
    return Running("floor", [proc.pid], f"http://{HOST}:{port}/score", {}, log, proc)


# The entry script of ours (variant 1): the model pickled by serving_model.py, predict on json.loads(raw)["data"].
SCORE_PY = """\
import os
import pickle

import numpy as np
import orjson  # the floor's JSON parser (the stdlib's json.loads takes 8x longer on 100 rows)


def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as stream:
        model = pickle.load(stream)


def run(raw):
    return model.predict(np.asarray(orjson.loads(raw)["data"], dtype=np.float64)).tolist()
"""


# Ours is set up once per run, outside every timing: its workspace, the registered models, the entry script.
_OURS: dict[str, Any] = {}


def ours_setup(model_path: Path) -> dict[str, Any]:
    if not _OURS:
        from jupyter_mlws import Model, Workspace

        ws = Workspace.create(model_path.parent / "ours-ws")
        _OURS["ws"] = ws
        _OURS["model"] = Model.register(ws, model_path=str(model_path / "model.pkl"), model_name="bench")
        # MLflow 3 saves scikit-learn models as skops files; ours serves pickles (what v1 registered): the
        # same model's pickle, asked with MLflow's dataframe_split shape.
        _OURS["mlflow"] = Model.register(ws, model_path=str(model_path / "model.pkl"), model_name="bench-mlflow")
        src = model_path.parent / "ours-src"
        src.mkdir(exist_ok=True)
        (src / "score.py").write_text(SCORE_PY)
        _OURS["src"] = src
    return _OURS


@dataclass
class OursRunning(Running):
    """A deployed service: stopped by ``service.delete()`` (its workers drain, its files go)."""

    service: Any = None

    def alive(self) -> bool:
        return bool(self.service.state != "Failed")

    def tail(self, lines: int = 30) -> str:
        return str(self.service.get_logs(lines))

    def stop(self) -> None:
        self.service.delete()


def _deployed(name: str, service: Any, port: int) -> Running:
    """``Model.deploy`` returns before the service answers: its supervisor (the root of its process
    tree) is known within milliseconds, and the cold start's clock keeps running until it answers."""
    from jupyter_mlws.serving.deploy import service_folder

    folder = service_folder(service.workspace, service.name)
    deadline = time.monotonic() + 10
    while not isinstance(folder.state().get("pid"), int):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: no supervisor started:\n{service.get_logs(30)}")
        time.sleep(0.005)
    headers = {"Authorization": f"Bearer {service.get_keys()[0]}"}
    return OursRunning(name, [folder.state()["pid"]], f"http://{HOST}:{port}/score", headers, service=service)


def floor_environment(python: Path) -> Any:
    """The floor's interpreter as a user-managed environment: ours runs with the floor's very libraries."""
    from jupyter_mlws import Environment

    env = Environment("bench-floor")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = str(python)
    return env


def start_ours(model_path: Path, port: int, python: Path) -> Running:
    """Ours with an entry script: ``Model.deploy`` of a ``LocalWebservice`` whose environment is the floor's
    interpreter (user-managed: the same libraries as the floor, so the same memory for the same model),
    asked with ``{"data": rows}``, answering the list of predictions."""
    from jupyter_mlws import InferenceConfig, LocalWebservice, Model

    ours = ours_setup(model_path)
    env = floor_environment(python)
    config = InferenceConfig(entry_script="score.py", source_directory=str(ours["src"]), environment=env)
    service = Model.deploy(
        ours["ws"], f"bench-{port}", [ours["model"]], config, LocalWebservice.deploy_configuration(port=port)
    )
    return _deployed("ours", service, port)


def start_ours_mlflow(model_path: Path, port: int, python: Path) -> Running:
    """Ours without code: the pickled model deployed without an entry script, asked with MLflow's request
    shape, on the floor's interpreter (the same libraries as the floor; no pandas: the model was fitted on an
    array, so no DataFrame is built)."""
    from jupyter_mlws import InferenceConfig, LocalWebservice, Model

    ours = ours_setup(model_path)
    config = InferenceConfig(environment=floor_environment(python))
    service = Model.deploy(
        ours["ws"], f"bench-mlflow-{port}", [ours["mlflow"]], config, LocalWebservice.deploy_configuration(port=port)
    )
    return _deployed("ours_mlflow", service, port)


def update_ours(ctx: Context, s: Settings, expected: list[int]) -> dict[str, Any]:
    """The update section on ours: ``service.update(models=[...])`` (a new generation, switched without
    downtime) under 32 keep-alive clients."""
    from jupyter_mlws import Model

    body = (ctx.model / "bodies" / "data-1.json").read_bytes()
    ours = next(p for p in PEERS if p.key == "ours")
    running, _ = cold_start(ours, ctx, body, expected)
    assert isinstance(running, OursRunning)
    service = running.service
    try:
        return load_during_update(
            running.url,
            body,
            running.headers,
            lambda: service.update(models=[Model(service.workspace, "bench")]),
            seconds=s.update_seconds,
            check=lambda answer: predictions_of(answer) == expected,
        )
    finally:
        running.stop()


# The names start_ours / start_ours_mlflow are looked up at call time: a test or a later session can swap them.
def run_ours(ctx: Context, port: int) -> Running:
    return start_ours(ctx.model, port, ctx.pythons["floor"])


def run_ours_mlflow(ctx: Context, port: int) -> Running:
    return start_ours_mlflow(ctx.model, port, ctx.pythons["floor"])


@dataclass(frozen=True)
class Peer:
    key: str
    label: str
    body: str  # which bodies/<body>-<rows>.json it is asked with
    start: Callable[[Context, int], Running]
    venv: str | None  # the venv it needs, if any


PEERS = (
    Peer("mlflow", "MLflow `models serve`", "dataframe_split", start_mlflow, "mlflow"),
    Peer("mlserver", "MLServer (V2)", "v2", start_mlserver, "mlserver"),
    Peer("floor", "floor (uvicorn + orjson)", "data", start_floor, "floor"),
    Peer("ours", "ours (entry script)", "data", run_ours, None),
    Peer("ours_mlflow", "ours (MLflow model, no code)", "dataframe_split", run_ours_mlflow, None),
)


# -- requests ---------------------------------------------------------------------------------------------------
def predictions_of(body: bytes) -> list[Any]:
    """The predictions in any of the servers' answers: a list, ``{"predictions": …}`` or V2 ``outputs``."""
    answer = json.loads(body)
    if isinstance(answer, dict):
        if "predictions" in answer:
            answer = answer["predictions"]
        elif "outputs" in answer:
            answer = answer["outputs"][0]["data"]
        elif "result" in answer:
            answer = answer["result"]
    if not isinstance(answer, list):
        raise ValueError(f"no predictions in {body[:200]!r}")
    return [int(v) for v in answer]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30.0) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or HOST, parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def answers_correctly(url: str, body: bytes, headers: dict[str, str], expected: list[int]) -> bool:
    try:
        status, answer = post(url, body, headers, timeout=10)
    except OSError:
        return False
    return status == 200 and _checks(lambda body: predictions_of(body) == expected, answer)


def cold_start(peer: Peer, ctx: Context, body: bytes, expected: list[int]) -> tuple[Running, float]:
    """Start the server; seconds from the start command to its first correct answer."""
    port = free_port()
    t0 = time.perf_counter()
    running = peer.start(ctx, port)
    try:
        while time.perf_counter() - t0 < START_TIMEOUT:
            if not running.alive():
                raise RuntimeError(f"{peer.key} exited:\n{running.tail()}")
            if answers_correctly(running.url, body, running.headers, expected):
                return running, time.perf_counter() - t0
            time.sleep(0.05)
        raise RuntimeError(f"{peer.key} did not answer correctly within {START_TIMEOUT:.0f} s:\n{running.tail()}")
    except BaseException:
        running.stop()
        raise


# -- load with wrk ------------------------------------------------------------------------------------------------
def run_wrk(
    wrk: str, url: str, body_file: Path, headers: dict[str, str], connections: int, seconds: float
) -> dict[str, Any]:
    """One wrk run (1 thread, ``connections`` keep-alive connections); its summary plus its own CPU seconds."""
    env = {**os.environ, "BODY_FILE": str(body_file), "AUTHORIZATION": headers.get("Authorization", "")}
    # wrk takes whole seconds
    argv = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(LUA), url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise RuntimeError(f"wrk failed ({done.returncode}): {said[0] if said else 'no output'}")
    summary: dict[str, Any] = json.loads(lines[-1])
    summary["client_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return summary


def measure_cell(wrk: str, running: Running, body_file: Path, connections: int, s: Settings) -> dict[str, Any]:
    if s.warmup > 0:
        run_wrk(wrk, running.url, body_file, running.headers, connections, s.warmup)
    pids = running.pids()
    cpu0, busy0, t0 = cpu_seconds(pids), machine_busy_seconds(), time.perf_counter()
    summary = run_wrk(wrk, running.url, body_file, running.headers, connections, s.duration)
    cpu1, busy1, wall = cpu_seconds(pids), machine_busy_seconds(), time.perf_counter() - t0
    server_cpu = sum(cpu1[p] - cpu0[p] for p in cpu1 if p in cpu0)
    duration = summary["duration_us"] / 1e6
    errors = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    ok = summary["requests"] - summary["status"]
    cpus = os.cpu_count() or 1
    other = max(0.0, (busy1 - busy0) - server_cpu - summary["client_cpu_s"])
    return {
        "requests_per_s": ok / duration,
        "answered": ok,
        "errors": errors,
        "p50_ms": summary["p50_us"] / 1e3,
        "p90_ms": summary["p90_us"] / 1e3,
        "p99_ms": summary["p99_us"] / 1e3,
        "max_ms": summary["max_us"] / 1e3,
        "server_cpu_ms_per_request": server_cpu * 1e3 / max(ok, 1),
        "server_cpu_share": server_cpu / duration,  # CPUs the server kept busy (of os.cpu_count())
        "client_cpu_share": summary["client_cpu_s"] / duration,  # CPUs wrk kept busy
        "client_cpu_us_per_request": summary["client_cpu_s"] * 1e6 / max(summary["requests"], 1),
        "other_cpu_share": other / wall,  # CPUs everything else on the machine kept busy meanwhile
        "cpus": cpus,
    }


# -- update under load --------------------------------------------------------------------------------------------
def _checks(check: Callable[[bytes], bool], answer: bytes) -> bool:
    try:
        return bool(check(answer))
    except (ValueError, KeyError, IndexError, TypeError):  # not JSON, or not the expected shape
        return False


def load_during_update(
    url: str,
    body: bytes,
    headers: dict[str, str],
    update: Callable[[], object],
    *,
    clients: int = 32,
    seconds: float = 10.0,
    update_at: float | None = None,
    check: Callable[[bytes], bool] | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """``clients`` threads post ``body`` to ``url`` on keep-alive connections for ``seconds``; ``update()`` is
    called ``update_at`` seconds in (the middle by default). A request is answered when it gets a 2xx (and
    ``check(body)`` is true, if given), failed otherwise (a connection error, a timeout, another status). A
    client whose connection breaks opens a new one, as a real client would. Returns the counts, what failed
    and when (relative to the update's start), and how long ``update()`` took."""
    parts = urllib.parse.urlsplit(url)
    all_headers = {"Content-Type": "application/json", **headers}
    stop = threading.Event()
    lock = threading.Lock()
    counts = {"sent": 0, "answered": 0, "failed": 0}
    reasons: collections.Counter[str] = collections.Counter()
    failures_at: list[float] = []
    latencies: list[float] = []
    marks: dict[str, float] = {}
    t_start = time.perf_counter()

    def client() -> None:
        conn: http.client.HTTPConnection | None = None
        while not stop.is_set():
            if conn is None:
                conn = http.client.HTTPConnection(parts.hostname or HOST, parts.port, timeout=timeout)
            t0 = time.perf_counter()
            reason = None
            try:
                conn.request("POST", parts.path, body=body, headers=all_headers)
                response = conn.getresponse()
                answer = response.read()
                if not 200 <= response.status < 300:
                    reason = f"HTTP {response.status}"
                elif check is not None and not _checks(check, answer):
                    reason = "wrong answer"
            except (OSError, http.client.HTTPException) as exc:
                reason = type(exc).__name__
                conn.close()
                conn = None
                if isinstance(exc, ConnectionRefusedError):
                    time.sleep(0.01)  # nothing listens: retry soon, without spinning
            t1 = time.perf_counter()
            with lock:
                counts["sent"] += 1
                if reason is None:
                    counts["answered"] += 1
                    latencies.append(t1 - t0)
                else:
                    counts["failed"] += 1
                    reasons[reason] += 1
                    failures_at.append(t1 - t_start)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds / 2 if update_at is None else update_at)
    marks["update_start"] = time.perf_counter() - t_start
    update_error = None
    try:
        update()
    except Exception as exc:  # reported, not raised: the clients are still running
        update_error = repr(exc)
    marks["update_end"] = time.perf_counter() - t_start
    time.sleep(max(0.0, seconds - (time.perf_counter() - t_start)))
    stop.set()
    for t in threads:
        t.join(timeout + 5)
    wall = time.perf_counter() - t_start
    return {
        "clients": clients,
        "seconds": wall,
        **counts,
        "failure_reasons": dict(reasons),
        "first_failure_s": (min(failures_at) - marks["update_start"]) if failures_at else None,
        "last_failure_s": (max(failures_at) - marks["update_start"]) if failures_at else None,
        "update_s": marks["update_end"] - marks["update_start"],
        "update_error": update_error,
        "answered_per_s": counts["answered"] / wall,
        "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1e3 if len(latencies) > 100 else None,
        "max_ms": max(latencies) * 1e3 if latencies else None,
    }


def update_demo_floor_restart(ctx: Context, s: Settings, expected: list[int]) -> dict[str, Any]:
    """The update section on the floor: a plain restart on the same port (what ours must do better than)."""
    body = (ctx.model / "bodies" / "data-1.json").read_bytes()
    floor = next(p for p in PEERS if p.key == "floor")
    running, _ = cold_start(floor, ctx, body, expected)
    port = urllib.parse.urlsplit(running.url).port or 0
    current = {"running": running}

    def restart() -> None:
        current["running"].stop()
        new = start_floor(ctx, port)
        current["running"] = new
        while not answers_correctly(new.url, body, {}, expected):
            if not new.alive():
                raise RuntimeError(f"the new floor exited:\n{new.tail()}")
            time.sleep(0.02)

    try:
        return load_during_update(
            running.url,
            body,
            {},
            restart,
            seconds=s.update_seconds,
            check=lambda answer: predictions_of(answer) == expected,
        )
    finally:
        current["running"].stop()


def python_client_check(ctx: Context, s: Settings, expected: list[int], clients: int = 8) -> dict[str, Any]:
    """The floor at ``clients`` x 1 row again, loaded by Python threads (http.client, keep-alive) instead of wrk:
    how much a Python client costs on this machine, and how it caps what it can measure."""
    body = (ctx.model / "bodies" / "data-1.json").read_bytes()
    floor = next(p for p in PEERS if p.key == "floor")
    running, _ = cold_start(floor, ctx, body, expected)
    try:
        pids = running.pids()
        before, server0 = resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(pids)
        figures = load_during_update(
            running.url, body, {}, lambda: None, clients=clients, seconds=max(2, s.duration), update_at=0
        )
        after, server1 = resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(pids)
    finally:
        running.stop()
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    server_cpu = sum(server1[p] - server0[p] for p in server1 if p in server0)
    return {
        "clients": clients,
        "requests_per_s": figures["answered_per_s"],
        "failed": figures["failed"],
        "client_cpu_share": client_cpu / figures["seconds"],
        "server_cpu_share": server_cpu / figures["seconds"],
    }


# -- the run --------------------------------------------------------------------------------------------------------
@dataclass
class PeerResult:
    key: str
    label: str
    available: bool = True
    reason: str | None = None
    cold_start_s: list[float] = field(default_factory=list)
    processes: list[int] = field(default_factory=list)
    rss_idle_mb: list[float] = field(default_factory=list)
    rss_loaded_mb: list[float] = field(default_factory=list)
    pss_loaded_mb: list[float] = field(default_factory=list)
    cells: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def run_round(
    peer: Peer, ctx: Context, wrk: str, s: Settings, expected: dict[str, list[int]], result: PeerResult
) -> None:
    bodies = ctx.model / "bodies"
    one = (bodies / f"{peer.body}-1.json").read_bytes()
    running, started = cold_start(peer, ctx, one, expected["1"])
    try:
        pids = running.pids()
        rss, pss = memory_kb(pids)
        result.cold_start_s.append(started)
        result.rss_idle_mb.append(rss / 1024)
        for rows in s.rows:
            body_file = bodies / f"{peer.body}-{rows}.json"
            if not answers_correctly(running.url, body_file.read_bytes(), running.headers, expected[str(rows)]):
                raise RuntimeError(f"{peer.key}: a wrong answer to {body_file.name}")
            for clients in s.concurrency:
                cell = measure_cell(wrk, running, body_file, clients, s)
                result.cells.setdefault(f"{clients}x{rows}", []).append(cell)
                say(
                    f"    {peer.key:9} {clients:2} clients x {rows:3} rows: {cell['requests_per_s']:8.1f} req/s, "
                    f"p50 {cell['p50_ms']:7.1f} ms, p99 {cell['p99_ms']:7.1f} ms, errors {cell['errors']}, "
                    f"wrk {cell['client_cpu_share'] * 100:3.0f}% CPU, others {cell['other_cpu_share'] * 100:3.0f}%"
                )
        pids = running.pids()
        rss, pss = memory_kb(pids)
        result.processes.append(len(pids))
        result.rss_loaded_mb.append(rss / 1024)
        result.pss_loaded_mb.append(pss / 1024)
        say(
            f"  {peer.key}: cold start {started:.2f} s, {len(pids)} processes, "
            f"RSS {result.rss_idle_mb[-1]:.0f} MB idle → {rss / 1024:.0f} MB after load"
        )
    finally:
        running.stop()


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(result: PeerResult) -> dict[str, Any]:
    out: dict[str, Any] = {"label": result.label, "available": result.available, "reason": result.reason}
    if not result.available:
        return out
    for name in ("cold_start_s", "rss_idle_mb", "rss_loaded_mb", "pss_loaded_mb", "processes"):
        samples = getattr(result, name)
        out[name] = median(samples)
        out[f"{name}_samples"] = samples
    out["other_cpu_share_median"] = median([c["other_cpu_share"] for cs in result.cells.values() for c in cs])
    out["cells"] = {}
    for key, samples in result.cells.items():
        cell: dict[str, Any] = {name: median([c[name] for c in samples]) for name in samples[0] if name != "cpus"}
        cell["errors"] = sum(c["errors"] for c in samples)
        cell["requests_per_s_samples"] = [c["requests_per_s"] for c in samples]
        cell["p99_ms_samples"] = [c["p99_ms"] for c in samples]
        out["cells"][key] = cell
    return out


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, argparse.Namespace]:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="1 round, 1-second measurements: a smoke run")
    p.add_argument("--duration", type=int, help="timed seconds per measurement (default 5)")
    p.add_argument("--warmup", type=int, help="untimed seconds of the same load before each, 0: none (default 2)")
    p.add_argument("--repeats", type=int, help="rounds; figures are their medians (default 3)")
    p.add_argument("--concurrency", help="comma-separated connection counts (default 1,8,32)")
    p.add_argument("--rows", help="comma-separated payload sizes in rows, each 1 or 100 (default 1,100)")
    p.add_argument("--update-seconds", type=float, help="length of the update-under-load run (default 10)")
    p.add_argument("--peers", default=",".join(x.key for x in PEERS), help="which servers (default: all)")
    p.add_argument("--venv-root", type=Path, default=Path("/tmp"), help="where the peers' venvs are (bench-*)")
    p.add_argument("--no-update", action="store_true", help="skip the update-under-load section")
    p.add_argument("--keep", action="store_true", help="keep the model and server logs")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results (default: results/serving.json)")
    args = p.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    changes: dict[str, Any] = {}
    for name in ("duration", "warmup", "repeats", "update_seconds"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.concurrency:
        changes["concurrency"] = tuple(int(x) for x in args.concurrency.split(","))
    if args.rows:
        changes["rows"] = tuple(int(x) for x in args.rows.split(","))
        if not set(changes["rows"]) <= {1, 100}:
            p.error("--rows: the bodies are made for 1 and 100 rows")
    unknown = set(args.peers.split(",")) - {x.key for x in PEERS}
    if unknown:
        p.error(f"--peers: unknown {', '.join(sorted(unknown))}")
    return Settings(**{**asdict(base), **changes}), args


def main(argv: Sequence[str] | None = None) -> int:
    s, args = parse_args(argv)
    wanted = [x for x in PEERS if x.key in args.peers.split(",")]
    load_before = load_average()
    started = time.perf_counter()
    wrk = ensure_wrk()
    needed = {x.venv for x in wanted if x.venv} | {"floor"}  # the floor's interpreter also trains the model
    pythons = {name: ensure_venv(args.venv_root, name) for name in VENVS if name in needed}
    versions = {
        "floor": version_in(pythons["floor"], "uvicorn", "uvloop", "httptools", "orjson", "scikit-learn"),
        **({"mlflow": version_in(pythons["mlflow"], "mlflow", "scikit-learn")} if "mlflow" in pythons else {}),
        **(
            {"mlserver": version_in(pythons["mlserver"], "mlserver", "mlserver-sklearn", "uvloop", "scikit-learn")}
            if "mlserver" in pythons
            else {}
        ),
    }
    work = Path(tempfile.mkdtemp(prefix="mlws-bench-serving-"))
    (work / "logs").mkdir()
    results = {x.key: PeerResult(x.key, x.label) for x in wanted}
    update: dict[str, Any] = {}
    client_check: dict[str, Any] | None = None
    try:
        say(f"model, bodies and logs under {work}")
        ctx = Context(work, prepare_model(work, pythons), pythons)
        expected = json.loads((ctx.model / "expected.json").read_text())
        for r in range(s.repeats):
            say(f"round {r + 1}/{s.repeats}")
            order = wanted[r % len(wanted) :] + wanted[: r % len(wanted)]
            for peer in order:
                result = results[peer.key]
                if not result.available:
                    continue
                try:
                    run_round(peer, ctx, wrk, s, expected, result)
                except NotAvailableError as exc:
                    result.available, result.reason = False, str(exc)
                    say(f"  {peer.key}: not available ({exc})")
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                    result.available, result.reason = False, f"failed: {exc}".splitlines()[0]
                    say(f"  {peer.key}: failed, its rows are left out: {exc}")
        if not args.no_update and "floor" in pythons:
            say(f"update under load: 32 clients for {s.update_seconds:g} s, the floor restarted in the middle")
            update["floor_restart"] = update_demo_floor_restart(ctx, s, expected["1"])
            say(f"  {update['floor_restart']}")
        if not args.no_update and "ours" in results and results["ours"].available:
            say(f"update under load: 32 clients for {s.update_seconds:g} s, ours updated in the middle")
            update["ours"] = update_ours(ctx, s, expected["1"])
            say(f"  {update['ours']}")
        if "floor" in pythons and results.get("floor") and results["floor"].available:
            say("client check: the floor at 8 clients x 1 row, loaded by Python threads instead of wrk")
            client_check = python_client_check(ctx, s, expected["1"])
            say(f"  {client_check}")
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    summary = {key: summarize(result) for key, result in results.items()}
    cells = [c for x in summary.values() if x["available"] for c in x["cells"].values()]
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "wrk": subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout.split(" [")[0].strip(),
        "peers": versions,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    payload = {
        "benchmark": "serving",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": env,
        "settings": asdict(s),
        "model": "LogisticRegression, 8 features, 3 classes (serving_model.py); bodies of 1 and 100 rows",
        "servers": summary,
        "client": {
            "tool": "wrk -t1 (one thread, keep-alive connections, closed loop)",
            "cpu_share_max": max((c["client_cpu_share"] for c in cells), default=None),
            "cpu_us_per_request_median": median([c["client_cpu_us_per_request"] for c in cells]),
            "python_threads_check": client_check,
        },
        "noise": {
            "other_cpu_share_median": median([c["other_cpu_share"] for c in cells]),
            "other_cpu_share_max": max((c["other_cpu_share"] for c in cells), default=None),
        },
        "update_under_load": update,
        "wall_time_s": time.perf_counter() - started,
    }
    print_tables(payload, s)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    say(f"results written to {args.output}")
    return 0


# -- the tables -----------------------------------------------------------------------------------------------------
def _num(value: float, digits: int = 1) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "—"
    r = value / base
    return f"{r:,.1f}×" if r >= 10 else f"{r:.2f}×"


def print_tables(p: dict[str, Any], s: Settings) -> None:
    env, servers = p["environment"], p["servers"]
    peers = env["peers"]
    cpus = env["cpus"] or 1
    print()
    parts = []
    if "mlflow" in peers:
        parts.append(f"MLflow {peers['mlflow']['mlflow']}")
    if "mlserver" in peers:
        parts.append(f"MLServer {peers['mlserver']['mlserver']} (uvloop {peers['mlserver']['uvloop']})")
    f = peers["floor"]
    parts.append(
        f"floor: uvicorn {f['uvicorn']} + uvloop {f['uvloop']} + httptools {f['httptools']} + orjson {f['orjson']}"
    )
    print(
        f"{'; '.join(parts)}; scikit-learn {f['scikit-learn']}; Python {env['python']}, {env['platform']}, "
        f"{cpus} CPUs. Load: {env['wrk']}, one thread, keep-alive; {s.duration:g} s timed after {s.warmup:g} s "
        f"of warm-up per figure; medians of {s.repeats} round(s)."
    )
    load = env["load_average_before"]
    if load is not None and load > 0.5 * cpus:
        print(
            f"warning: the machine was busy before the start (load average {load:.1f} on {cpus} CPUs); "
            "figures are noisier than on an idle machine"
        )
    print()
    base_mlflow, base_floor = servers.get("mlflow", {}), servers.get("floor", {})

    def cell_of(server: dict[str, Any], key: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = server.get("cells", {}).get(key) if server.get("available") else None
        return found

    print("| Server | Clients | Rows | Throughput | p50 | p99 | vs MLflow | vs floor | Server CPU / request |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for server in servers.values():
        if not server["available"]:
            print(f"| {server['label']} | | | not available: {server['reason']} | | | | | |")
            continue
        for rows in s.rows:
            for clients in s.concurrency:
                c = cell_of(server, f"{clients}x{rows}")
                if c is None:
                    continue
                m = cell_of(base_mlflow, f"{clients}x{rows}")
                fl = cell_of(base_floor, f"{clients}x{rows}")
                errors = f" ({c['errors']} errors)" if c["errors"] else ""
                print(
                    f"| {server['label']} | {clients} | {rows} | {_num(c['requests_per_s'])} req/s{errors} | "
                    f"{_num(c['p50_ms'])} ms | {_num(c['p99_ms'])} ms | "
                    f"{_ratio(c['requests_per_s'], m['requests_per_s'] if m else None)} | "
                    f"{_ratio(c['requests_per_s'], fl['requests_per_s'] if fl else None)} | "
                    f"{c['server_cpu_ms_per_request']:.2f} ms |"
                )
    print()
    print(
        "| Server | Cold start | Processes | RSS after start | RSS after load (PSS) | RSS vs MLflow | RSS vs floor "
        "| Other processes' CPU meanwhile |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for server in servers.values():
        if not server["available"]:
            print(f"| {server['label']} | not available | | | | | | |")
            continue
        print(
            f"| {server['label']} | {server['cold_start_s']:.2f} s | {server['processes']:g} | "
            f"{server['rss_idle_mb']:,.0f} MB | "
            f"{server['rss_loaded_mb']:,.0f} MB ({server['pss_loaded_mb']:,.0f} MB) | "
            f"{_ratio(server['rss_loaded_mb'], base_mlflow.get('rss_loaded_mb'))} | "
            f"{_ratio(server['rss_loaded_mb'], base_floor.get('rss_loaded_mb'))} | "
            f"{server['other_cpu_share_median'] * 100:.0f}% of one CPU |"
        )
    client, noise = p["client"], p["noise"]
    print()
    if client["cpu_share_max"] is not None:
        print(
            f"Client: wrk used at most {client['cpu_share_max'] * 100:.0f}% of one CPU "
            f"(median {client['cpu_us_per_request_median']:.0f} µs of CPU per request). Other processes used a "
            f"median {noise['other_cpu_share_median'] * 100:.0f}% (at most {noise['other_cpu_share_max'] * 100:.0f}%) "
            f"of one CPU during the timed figures; load average {env['load_average_before']:.2f} before, "
            f"{env['load_average_after']:.2f} after."
        )
    check = client["python_threads_check"]
    floor_8 = servers.get("floor", {}).get("cells", {}).get("8x1")
    if check and floor_8:
        print(
            f"The same floor at 8 clients x 1 row loaded by 8 Python threads (http.client, keep-alive) instead: "
            f"{check['requests_per_s']:,.0f} req/s against wrk's {floor_8['requests_per_s']:,.0f}, the client "
            f"itself using {check['client_cpu_share'] * 100:.0f}% of one CPU (wrk: "
            f"{floor_8['client_cpu_share'] * 100:.0f}%)."
        )
    update = p["update_under_load"]
    if update:
        print()
        print(
            "| Update under load (32 keep-alive clients) | Sent | Answered | Failed | Failures | Failing for "
            "| Update took |"
        )
        print("|---|---:|---:|---:|---|---:|---:|")
        for name, u in update.items():
            label = {"floor_restart": "floor, plain restart on the same port", "ours": "ours, service update"}[name]
            if not u.get("available", True):
                print(f"| {label} | not available: {u['reason']} | | | | | |")
                continue
            if u.get("update_error"):
                label += f" — the update raised {u['update_error']}"
            reasons = ", ".join(f"{k} {v}" for k, v in u["failure_reasons"].items()) or "—"
            window = (
                "—"
                if u["first_failure_s"] is None
                else f"{(u['last_failure_s'] - u['first_failure_s']) * 1000:,.0f} ms"
            )
            print(
                f"| {label} | {u['sent']:,} | {u['answered']:,} | {u['failed']:,} | {reasons} | {window} | "
                f"{u['update_s'] * 1000:,.0f} ms |"
            )
    print()


if __name__ == "__main__":
    sys.exit(main())
