"""Notebook jobs, environment builds and the Docker target, side by side with what a user would run.

Run from the repository root::

    python benchmarks/bench_notebooks.py            # defaults (a few minutes; Docker parts need an engine)
    python benchmarks/bench_notebooks.py --quick    # smoke run

1. Notebook job overhead: a 3-cell parameterised notebook submitted as a job (``NotebookRunConfig``,
   dispatcher warm), submit-to-Completed, next to ``papermill`` CLI on the same notebook with the
   same parameter (the peer) and the same work as a plain ``python`` script (the floor).
2. Environment build: ``Environment.build()`` of a one-package environment into an empty cache (the
   first build: a venv with the job runtime), then again (the cache hit); on Docker the same for the
   image, when an engine answers.
3. Docker: submit-to-Running and submit-to-Completed of a trivial script on the docker target (image
   cached; the default bridge network and ``network_mode="host"``), next to the local target and to
   ``docker run --rm IMAGE python3 -c pass`` with the same network (a bare
   container's start and stop).
4. The command line (``bench_cli.py``, whole processes): ``mlws submit job.py --wait`` next to
   ``python job.py``, and ``mlws runs list`` on 1,000 runs next to ``mlflow runs list`` (``--no-cli``
   skips it).

5. Pre-started kernels (issue 22), side by side in one run and in turns: the same notebook submitted
   in-process (``exp.submit(NotebookRunConfig(…))`` → Completed) with the kernel pool warm, with the
   pool off (``kernel_pool_size=0``), and papermill's ``execute_notebook`` in this process (imports
   done); whole processes: ``mlws submit three.ipynb -p n=… --wait`` (pool warm) vs the ``papermill``
   CLI; and the resident memory (VmRSS) of each warm kernel. ``--pool-only`` runs just this part.
6. Pre-started kernels in containers (when an engine answers): the same notebook on the docker target,
   in-process submit → Completed, with the pool warm and with it off (a fresh container per job), in
   turns; and the memory of a warm kernel's container (the engine's figure). ``--docker-pool-only``
   runs just this part.

Figures are medians; the markdown table goes to stdout, the JSON to ``benchmarks/results/notebooks.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_mlws import ComputeTarget, DockerCompute, Environment, Experiment, NotebookRunConfig, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.core.run_config import ScriptRunConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_cli  # the command-line figures (a script of their own too)

HERE = Path(__file__).resolve().parent
IMAGE = os.environ.get("MLWS_TEST_DOCKER_IMAGE", "mlws-test/python:bookworm")

NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "n = 10", "outputs": [],
         "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": "total = sum(i * i for i in range(n))", "outputs": [],
         "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": "print(total)", "outputs": [], "execution_count": None},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}  # fmt: skip
SCRIPT = "n = 1000\ntotal = sum(i * i for i in range(n))\nprint(total)\n"


def _timed(argv: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t


def bench_notebook(work: Path, repeats: int) -> dict[str, Any]:
    src = work / "nb"
    src.mkdir()
    (src / "three.ipynb").write_text(json.dumps(NOTEBOOK))
    (src / "three.py").write_text(SCRIPT)
    papermill = str(Path(sys.executable).parent / "papermill")
    floor = [_timed([sys.executable, "three.py"], src) for _ in range(repeats)]
    peer = [
        _timed([papermill, "three.ipynb", str(work / "out.ipynb"), "-p", "n", "1000", "--log-level", "ERROR"], src)
        for _ in range(repeats)
    ]
    ws = Workspace.create(work / "ws-nb")
    exp = Experiment(ws, "nb")
    config = NotebookRunConfig(source_directory=src, notebook="three.ipynb", parameters={"n": 1000})

    def one() -> tuple[float, float]:
        t0 = time.time()
        run = exp.submit(config)
        run.wait_for_completion(timeout=300)
        record = ws.metadata.get_run(run.id)
        assert record.start_time is not None and record.end_time is not None
        return record.start_time - t0, record.end_time - t0

    one()  # starts the dispatcher
    ours = [one() for _ in range(repeats)]
    agent.stop(ws)
    return {
        "script_s": statistics.median(floor),
        "papermill_s": statistics.median(peer),
        "job_to_running_s": statistics.median(o[0] for o in ours),
        "job_to_completed_s": statistics.median(o[1] for o in ours),
    }


def _pool_kernels(ws: Workspace) -> list[int]:
    try:
        state = json.loads((ws.path / "agent" / "pool" / "pool.json").read_text())
    except (OSError, ValueError):
        return []
    return [int(k["pid"]) for k in state["kernels"]]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_warm(ws: Workspace, timeout: float = 120) -> list[int]:
    """Until the pool holds a kernel that has finished starting (its RSS stops growing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = _pool_kernels(ws)
        if pids:
            try:
                before = _rss_mb(pids[0])
                time.sleep(0.3)
                if _rss_mb(pids[0]) == before and before > 30:
                    return pids
            except OSError:
                pass
        time.sleep(0.1)
    raise TimeoutError("the kernel pool did not warm up")


def bench_pool(work: Path, repeats: int) -> dict[str, Any]:
    import logging

    import papermill

    from jupyter_mlws.compute.local import LocalCompute

    logging.getLogger("papermill").setLevel(logging.ERROR)
    src = work / "pool"
    src.mkdir()
    (src / "three.ipynb").write_text(json.dumps(NOTEBOOK))
    ws = Workspace.create(work / "ws-pool")
    ComputeTarget.attach(ws, "nopool", LocalCompute.attach_configuration(kernel_pool_size=0))
    exp = Experiment(ws, "pool")
    mlws = str(Path(sys.executable).parent / "mlws")
    papermill_cli = str(Path(sys.executable).parent / "papermill")
    env = {**os.environ, "MLWS_WORKSPACE": str(ws.root)}

    def submit(n: int, target: str = "local") -> float:
        config = NotebookRunConfig(
            source_directory=src, notebook="three.ipynb", parameters={"n": n}, compute_target=target
        )
        t = time.perf_counter()
        run = exp.submit(config)
        status = run.wait_for_completion(timeout=300)["status"]
        elapsed = time.perf_counter() - t
        assert status == "Completed", status
        return elapsed

    def in_process_papermill(n: int) -> float:
        t = time.perf_counter()
        papermill.execute_notebook(
            str(src / "three.ipynb"), str(work / "pm-out.ipynb"), parameters={"n": n}, progress_bar=False, cwd=str(src)
        )
        return time.perf_counter() - t

    def cli_submit(n: int) -> float:
        t = time.perf_counter()
        subprocess.run(
            [mlws, "submit", "three.ipynb", "-p", f"n={n}", "--wait", "-e", "pool"],
            cwd=src,
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t

    submit(1)  # starts the dispatcher, whose first notebook job creates the pool
    submit(2, "nopool")
    in_process_papermill(3)  # papermill's imports, outside the timing
    pooled, unpooled, peer, cli, peer_cli, rss = [], [], [], [], [], []
    for i in range(repeats):  # in turns: a burst of load on the shared machine hits all alike
        pids = _wait_warm(ws)
        rss += [_rss_mb(pid) for pid in pids]
        pooled.append(submit(100 + i))
        unpooled.append(submit(200 + i, "nopool"))
        peer.append(in_process_papermill(300 + i))
        _wait_warm(ws)
        cli.append(cli_submit(400 + i))
        peer_cli.append(_timed([papermill_cli, "three.ipynb", str(work / "out.ipynb"), "-p", "n", "1000",
                                "--log-level", "ERROR"], src))  # fmt: skip
    agent.stop(ws)
    return {
        "pooled_in_process_s": statistics.median(pooled),
        "unpooled_in_process_s": statistics.median(unpooled),
        "papermill_in_process_s": statistics.median(peer),
        "mlws_submit_wait_s": statistics.median(cli),
        "papermill_cli_s": statistics.median(peer_cli),
        "rss_per_warm_kernel_mb": statistics.median(rss) if rss else None,
        "samples": {"pooled": pooled, "unpooled": unpooled, "papermill": peer, "cli": cli, "papermill_cli": peer_cli},
    }


def _wait_warm_container(ws: Workspace, timeout: float = 120) -> str:
    """Until the pool holds a container kernel whose launcher has written its start-up environment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = json.loads((ws.path / "agent" / "pool" / "pool.json").read_text())
        except (OSError, ValueError):
            state = {"kernels": []}
        for kernel in state["kernels"]:
            if kernel.get("container") and (Path(kernel["slot"]) / "api" / "launch-env.json").exists():
                time.sleep(0.3)  # its kernel initialises after the launcher's first step
                return str(kernel["container"])
        time.sleep(0.1)
    raise TimeoutError("the docker kernel pool did not warm up")


def bench_docker_pool(work: Path, engine: Any, repeats: int) -> dict[str, Any]:
    src = work / "docker-pool"
    src.mkdir()
    (src / "three.ipynb").write_text(json.dumps(NOTEBOOK))
    ws = Workspace.create(work / "ws-docker-pool")
    ComputeTarget.attach(ws, "docker", DockerCompute.attach_configuration(base_image=IMAGE))
    ComputeTarget.attach(ws, "docker-fresh", DockerCompute.attach_configuration(base_image=IMAGE, kernel_pool_size=0))
    exp = Experiment(ws, "docker-pool")

    def submit(n: int, target: str) -> float:
        config = NotebookRunConfig(
            source_directory=src, notebook="three.ipynb", parameters={"n": n}, compute_target=target
        )
        t = time.perf_counter()
        status = exp.submit(config).wait_for_completion(timeout=600)["status"]
        elapsed = time.perf_counter() - t
        assert status == "Completed", status
        return elapsed

    submit(1, "docker")  # starts the dispatcher and builds the runtime's image once
    submit(2, "docker")  # the image built: the pool starts its first kernel
    pooled, fresh, memory = [], [], []
    for i in range(repeats):  # in turns
        container = _wait_warm_container(ws)
        with contextlib.suppress(Exception):
            memory.append(engine.containers.get(container).stats(stream=False)["memory_stats"]["usage"] / 2**20)
        pooled.append(submit(100 + i, "docker"))
        fresh.append(submit(200 + i, "docker-fresh"))
    agent.stop(ws)
    return {
        "pooled_s": statistics.median(pooled),
        "fresh_s": statistics.median(fresh),
        "memory_per_warm_container_mb": statistics.median(memory) if memory else None,
        "samples": {"pooled": pooled, "fresh": fresh},
    }


def docker_pool_table(figures: dict[str, Any]) -> str:
    return "\n".join(
        [
            "| Figure (pre-started kernels in containers) | jupyter-mlws | Peer | Ratio |",
            "|---|---:|---:|---|",
            f"| 3-cell notebook on Docker, `exp.submit` → Completed, pool warm | {_ms(figures['pooled_s'])} "
            f"| pool off (a fresh container and kernel): {_ms(figures['fresh_s'])} "
            f"| {figures['pooled_s'] / figures['fresh_s']:.2f}× |",
            f"| Memory per warm kernel's container (engine's figure) | "
            f"{figures['memory_per_warm_container_mb'] or 0:.0f} MB | | |",
        ]
    )


def pool_table(pool: dict[str, Any]) -> str:
    pm, cli = pool["papermill_in_process_s"], pool["papermill_cli_s"]
    return "\n".join(
        [
            "| Figure (pre-started kernels) | jupyter-mlws | Peer | Ratio / target |",
            "|---|---:|---:|---|",
            f"| 3-cell notebook, `exp.submit` → Completed, pool warm | {_ms(pool['pooled_in_process_s'])} "
            f"| `papermill.execute_notebook` in-process: {_ms(pm)} "
            f"| {pool['pooled_in_process_s'] / pm:.2f}× (targets ≤ 250 ms, ≤ 0.3×) |",
            f"| Same, pool off (`kernel_pool_size=0`) | {_ms(pool['unpooled_in_process_s'])} | | "
            f"{pool['unpooled_in_process_s'] / pm:.2f}× |",
            f"| `mlws submit three.ipynb --wait`, whole process, pool warm | {_ms(pool['mlws_submit_wait_s'])} "
            f"| `papermill` CLI: {_ms(cli)} | {pool['mlws_submit_wait_s'] / cli:.2f}× (target ≤ 0.5×) |",
            f"| Resident memory per warm kernel (VmRSS) | {pool['rss_per_warm_kernel_mb'] or 0:.0f} MB | | |",
        ]
    )


def _engine() -> Any:
    try:
        import docker

        client = docker.from_env(version="auto")
        client.images.get(IMAGE)
        return client
    except Exception as exc:
        print(f"(no Docker engine with {IMAGE}: Docker figures skipped: {exc})", file=sys.stderr)
        return None


def bench_build(work: Path, engine: Any) -> dict[str, Any]:
    os.environ["MLWS_ENV_CACHE"] = str(work / "env-cache")
    env = Environment("bench")
    env.python.pip_packages = ["six==1.16.0"]
    first = env.build()
    hits = [env.build() for _ in range(5)]
    assert not first.cached and all(h.cached for h in hits)
    result: dict[str, Any] = {
        "venv_first_s": first.seconds,
        "venv_hit_s": statistics.median(h.seconds for h in hits),
    }
    if engine is not None:
        env.docker.base_image = IMAGE
        for image in engine.images.list(filters={"label": "mlws.environment=bench"}):
            engine.images.remove(image.id, force=True)  # a first build really builds
        first = env.build(compute_target="docker")
        hits = [env.build(compute_target="docker") for _ in range(5)]
        assert not first.cached and all(h.cached for h in hits)
        result["image_first_s"] = first.seconds
        result["image_hit_s"] = statistics.median(h.seconds for h in hits)
    return result


def bench_docker(work: Path, engine: Any, repeats: int) -> dict[str, Any]:
    src = work / "trivial"
    src.mkdir()
    (src / "job.py").write_text("print('hello')\n")
    bare = [_timed(["docker", "run", "--rm", IMAGE, "python3", "-c", "pass"], src) for _ in range(repeats)]
    bare_host = [
        _timed(["docker", "run", "--rm", "--network", "host", IMAGE, "python3", "-c", "pass"], src)
        for _ in range(repeats)
    ]
    ws = Workspace.create(work / "ws-docker")
    ComputeTarget.attach(ws, "docker", DockerCompute.attach_configuration(base_image=IMAGE))
    # The default network is bridge (a job is kept off the host's network); host networking starts faster.
    ComputeTarget.attach(ws, "docker-host", DockerCompute.attach_configuration(base_image=IMAGE, network_mode="host"))
    exp = Experiment(ws, "docker")
    figures: dict[str, Any] = {
        "bare_container_s": statistics.median(bare),
        "bare_container_host_s": statistics.median(bare_host),
    }
    for target in ("local", "docker", "docker-host"):
        config = ScriptRunConfig(source_directory=src, script="job.py", compute_target=target)

        def one(config: ScriptRunConfig = config) -> tuple[float, float]:
            t0 = time.time()
            run = exp.submit(config)
            run.wait_for_completion(timeout=600)
            record = ws.metadata.get_run(run.id)
            assert record.start_time is not None and record.end_time is not None
            return record.start_time - t0, record.end_time - t0

        one()  # warms the dispatcher (and, on docker, builds the runtime image once)
        times = [one() for _ in range(repeats)]
        key = target.replace("-", "_")
        figures[f"{key}_to_running_s"] = statistics.median(t[0] for t in times)
        figures[f"{key}_to_completed_s"] = statistics.median(t[1] for t in times)
    agent.stop(ws)
    return figures


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.2f} ms"


def table(results: dict[str, Any]) -> str:
    nb, build = results["notebook"], results["build"]
    lines = [
        "| Figure | jupyter-mlws | Peer | Ratio / target |",
        "|---|---:|---:|---|",
        f"| 3-cell notebook, submit → Completed (dispatcher warm) | {_ms(nb['job_to_completed_s'])} "
        f"| `papermill` CLI: {_ms(nb['papermill_s'])} "
        f"| {nb['job_to_completed_s'] / nb['papermill_s']:.2f}× of papermill (target ≤ 1×) |",
        f"| Same work as a plain script (the floor) | | `python three.py`: {_ms(nb['script_s'])} | |",
        f"| Environment build, venv: first build → cache hit | {build['venv_first_s']:.1f} s → "
        f"{_ms(build['venv_hit_s'])} | | |",
    ]
    if "image_first_s" in build:
        lines.append(
            f"| Environment build, Docker image: first build → cache hit | {build['image_first_s']:.1f} s → "
            f"{_ms(build['image_hit_s'])} | | |"
        )
    if "cli" in results:
        lines += bench_cli.table_rows(results["cli"])
    docker = results.get("docker")
    if docker:
        overhead = docker["docker_to_running_s"] - docker["local_to_running_s"]
        lines += [
            f"| Trivial script on Docker, submit → Running | {_ms(docker['docker_to_running_s'])} "
            f"| local target: {_ms(docker['local_to_running_s'])} | container start adds {_ms(overhead)} |",
            f"| Trivial script on Docker, submit → Completed | {_ms(docker['docker_to_completed_s'])} "
            f"| `docker run --rm … python3 -c pass`: {_ms(docker['bare_container_s'])} "
            f"| {docker['docker_to_completed_s'] / docker['bare_container_s']:.2f}× of a bare container |",
            f'| Same, `network_mode="host"` | {_ms(docker["docker_host_to_completed_s"])} '
            f"| `docker run --rm --network host …`: {_ms(docker['bare_container_host_s'])} "
            f"| {docker['docker_host_to_completed_s'] / docker['bare_container_host_s']:.2f}× of a bare container |",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--tmpdir", default=None)
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line figures (bench_cli.py)")
    parser.add_argument("--mlflow", help="the mlflow command for the runs-list peer (default: beside python, or PATH)")
    parser.add_argument("--pool-only", action="store_true", help="only the pre-started kernels' figures")
    parser.add_argument("--docker-pool-only", action="store_true", help="only the container kernels' figures")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    work = Path(tempfile.mkdtemp(prefix="mlws-bench-nb-", dir=args.tmpdir))
    os.environ.setdefault("MLWS_AGENT_IDLE_SECONDS", "30")
    if args.pool_only:
        try:
            pool = bench_pool(work, repeats)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        out = HERE / "results"
        out.mkdir(exist_ok=True)
        (out / "notebooks-pool.json").write_text(json.dumps(pool, indent=2))
        print(pool_table(pool))
        return 0
    engine = _engine()
    if args.docker_pool_only:
        if engine is None:
            print("no Docker engine answers", file=sys.stderr)
            return 1
        try:
            figures = bench_docker_pool(work, engine, repeats)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "notebooks-docker-pool.json").write_text(json.dumps(figures, indent=2))
        print(docker_pool_table(figures))
        return 0
    try:
        results: dict[str, Any] = {"repeats": repeats, "notebook": bench_notebook(work, repeats)}
        if not args.no_cli:
            results["cli"] = bench_cli.bench_cli(work, repeats, mlflow=args.mlflow)
        results["pool"] = bench_pool(work, repeats)
        results["build"] = bench_build(work, engine)
        if engine is not None:
            results["docker"] = bench_docker(work, engine, repeats)
            results["docker_pool"] = bench_docker_pool(work, engine, repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "notebooks.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    print()
    print(pool_table(results["pool"]))
    if "docker_pool" in results:
        print()
        print(docker_pool_table(results["docker_pool"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
