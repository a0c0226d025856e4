"""Job benchmark: submission overhead, snapshot throughput and bounded concurrency, side by side.

Run from the repository root::

    python benchmarks/bench_jobs.py            # defaults (about a minute, plus MLflow if installed)
    python benchmarks/bench_jobs.py --quick    # smoke run

1. Submit-to-Running and submit-to-Completed of a trivial script on the local target, warm (the
   workspace's dispatcher already running) and cold (first submit starts it), next to the same script
   run with ``python`` directly (the physical floor) and, when MLflow is installed, ``mlflow run`` of
   the same script as a local MLproject (``--env-manager local``; it runs offline).
2. A snapshot of N files / M MB: first capture, unchanged re-capture, re-capture after touching one
   file, with MB/s next to ``sha256sum`` over the same files (the hashing limit) and new bytes stored.
3. R runs submitted at once to a target with ``max_concurrent_runs=2``: all complete, never more
   than 2 running (from the runs' own start and end times).

Figures are medians; the markdown table goes to stdout, the JSON to ``benchmarks/results/jobs.json``.
"""

from __future__ import annotations

import argparse
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

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.compute.local import LocalCompute
from jupyter_mlws.core.compute import ComputeTarget
from jupyter_mlws.core.run_config import ScriptRunConfig
from jupyter_mlws.snapshots import capture_snapshot

HERE = Path(__file__).resolve().parent
TRIVIAL = "print('hello')\n"


def _blob_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "blobs").rglob("*") if p.is_file())


def bench_latency(work: Path, repeats: int) -> dict[str, Any]:
    src = work / "trivial"
    src.mkdir()
    (src / "job.py").write_text(TRIVIAL)
    floor = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, str(src / "job.py")], check=True, capture_output=True)
        floor.append(time.perf_counter() - t)

    ws = Workspace.create(work / "ws-latency")
    exp = Experiment(ws, "latency")
    config = ScriptRunConfig(source_directory=src, script="job.py")

    def one() -> tuple[float, float]:
        t0 = time.time()
        run = exp.submit(config)
        run.wait_for_completion(timeout=120)
        record = ws.metadata.get_run(run.id)
        assert record.start_time is not None and record.end_time is not None
        return record.start_time - t0, record.end_time - t0

    cold = one()  # starts the dispatcher
    warm = [one() for _ in range(repeats)]
    agent.stop(ws)
    result = {
        "floor_s": statistics.median(floor),
        "cold_to_running_s": cold[0],
        "cold_to_completed_s": cold[1],
        "warm_to_running_s": statistics.median(w[0] for w in warm),
        "warm_to_completed_s": statistics.median(w[1] for w in warm),
    }
    result["warm_overhead_s"] = result["warm_to_completed_s"] - result["floor_s"]
    result["mlflow_run_s"] = _mlflow_run(work, src, max(3, repeats // 3))
    return result


def _mlflow_run(work: Path, src: Path, repeats: int) -> float | None:
    mlflow = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow")
    if mlflow is None:
        return None
    project = work / "mlproject"
    shutil.copytree(src, project)
    (project / "MLproject").write_text("name: trivial\nentry_points:\n  main:\n    command: python job.py\n")
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        done = subprocess.run(
            [mlflow, "run", str(project), "--env-manager", "local", "--experiment-name", "trivial"],
            env=env,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"mlflow run failed: {done.stderr.decode()[-500:]}", file=sys.stderr)
            return None
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])  # the first one creates the database


def bench_snapshot(work: Path, files: int, total_mb: int) -> dict[str, Any]:
    src = work / "tree"
    size = total_mb * 1024 * 1024 // files
    for i in range(files):
        folder = src / f"d{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:04d}.bin").write_bytes(os.urandom(size))
    # Files a user snapshots were mostly written earlier; the stat cache trusts only those older than
    # its racy window (2 s), so age the tree the way time would.
    old = time.time() - 60
    for path in src.rglob("*.bin"):
        os.utime(path, (old, old))
    os.sync()
    listed = [str(p) for p in sorted(src.rglob("*.bin"))]
    t = time.perf_counter()
    subprocess.run(["sha256sum", *listed], check=True, stdout=subprocess.DEVNULL)
    sha_s = time.perf_counter() - t

    store_root = work / "snap-artifacts"
    from jupyter_mlws.stores.artifacts.local import LocalArtifactStore

    store = LocalArtifactStore(store_root)
    cache = work / "snap-cache.json"
    limit = {"max_files": files + 10, "max_bytes": (total_mb + 10) * 1024 * 1024}
    t = time.perf_counter()
    first = capture_snapshot(src, store, cache_file=cache, **limit)
    first_s = time.perf_counter() - t
    before = _blob_bytes(store_root)
    t = time.perf_counter()
    again = capture_snapshot(src, store, cache_file=cache, **limit)
    again_s = time.perf_counter() - t
    unchanged_new_bytes = _blob_bytes(store_root) - before
    touched = Path(listed[len(listed) // 2])
    touched.write_bytes(os.urandom(size))
    os.utime(touched, (old + 1, old + 1))
    t = time.perf_counter()
    after_touch = capture_snapshot(src, store, cache_file=cache, **limit)
    touch_s = time.perf_counter() - t
    mb = first.total_size / (1024 * 1024)
    return {
        "files": first.file_count,
        "mb": mb,
        "sha256sum_s": sha_s,
        "sha256sum_mb_s": mb / sha_s,
        "first_s": first_s,
        "first_mb_s": mb / first_s,
        "unchanged_s": again_s,
        "unchanged_same_id": again.id == first.id,
        "unchanged_hashed_files": again.hashed_files,
        "unchanged_new_bytes": unchanged_new_bytes,
        "touched_s": touch_s,
        "touched_hashed_files": after_touch.hashed_files,
    }


def bench_concurrency(work: Path, runs: int) -> dict[str, Any]:
    src = work / "sleepy"
    src.mkdir()
    (src / "job.py").write_text("import time\ntime.sleep(0.2)\n")
    ws = Workspace.create(work / "ws-concurrency")
    ComputeTarget.attach(ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2))
    exp = Experiment(ws, "concurrency")
    config = ScriptRunConfig(source_directory=src, script="job.py", compute_target="two")
    t = time.perf_counter()
    submitted = [exp.submit(config) for _ in range(runs)]
    for run in submitted:
        run.wait_for_completion(timeout=600)
    wall = time.perf_counter() - t
    records = [ws.metadata.get_run(r.id) for r in submitted]
    events = sorted(
        [(r.start_time, 1) for r in records if r.start_time] + [(r.end_time, -1) for r in records if r.end_time]
    )
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    # Runs are handed out first in, first out; two dispatched together may reach Running in either
    # order, so FIFO holds when no run started more than (limit - 1) places from its turn.
    started = [r.run_id for r in sorted(records, key=lambda r: r.start_time or 0)]
    position = {run_id: i for i, run_id in enumerate(started)}
    displacement = max(abs(position[r.id] - i) for i, r in enumerate(submitted))
    agent.stop(ws)
    return {
        "runs": runs,
        "completed": sum(r.status == "Completed" for r in records),
        "max_running": peak,
        "max_displacement": displacement,
        "fifo": displacement <= 1,
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "jobs.json")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.files, args.mb, args.runs = 3, 200, 20, 6
    os.environ.setdefault("MLWS_AGENT_IDLE_SECONDS", "30")
    work = Path(tempfile.mkdtemp(prefix="mlws-bench-jobs-"))
    try:
        latency = bench_latency(work, args.repeats)
        snap = bench_snapshot(work, args.files, args.mb)
        conc = bench_concurrency(work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    mlflow = latency["mlflow_run_s"]
    print("\n| job figure | jupyter-mlws | peer | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| trivial script, submit → Running (warm) | {ms(latency['warm_to_running_s'])} | | | |")
    print(
        f"| trivial script, submit → Completed (warm) | {ms(latency['warm_to_completed_s'])} | "
        f"`python job.py`: {ms(latency['floor_s'])} | overhead {ms(latency['warm_overhead_s'])} | "
        f"≤ 300 ms overhead: {'met' if latency['warm_overhead_s'] <= 0.3 else 'missed'} |"
    )
    versus = f"{mlflow / latency['warm_to_completed_s']:.1f}× faster (warm)" if mlflow else ""
    print(
        f"| first submit (starts the dispatcher) → Completed | {ms(latency['cold_to_completed_s'])} | "
        f"`mlflow run` (local env): {ms(mlflow) if mlflow else 'n/a'} | {versus} | |"
    )
    print(
        f"| snapshot, first capture ({snap['files']} files, {snap['mb']:.0f} MB) | {snap['first_mb_s']:.0f} MB/s | "
        f"`sha256sum`: {snap['sha256sum_mb_s']:.0f} MB/s | {snap['first_mb_s'] / snap['sha256sum_mb_s']:.2f}× | "
        f"≥ 0.5×: {'met' if snap['first_mb_s'] >= 0.5 * snap['sha256sum_mb_s'] else 'missed'} |"
    )
    share = snap["unchanged_s"] / snap["first_s"]
    print(
        f"| snapshot, unchanged re-capture | {ms(snap['unchanged_s'])} ({share:.1%} of first), "
        f"{snap['unchanged_new_bytes']} new bytes | | | ≤ 5%, 0 bytes: "
        f"{'met' if share <= 0.05 and snap['unchanged_new_bytes'] == 0 else 'missed'} |"
    )
    touched = f"{ms(snap['touched_s'])} ({snap['touched_hashed_files']} file hashed)"
    print(f"| snapshot, one file touched | {touched} | | | |")
    print(
        f"| {conc['runs']} runs at once, max_concurrent_runs=2 | {conc['completed']} completed, "
        f"at most {conc['max_running']} running, started in order (±{conc['max_displacement']}), "
        f"{conc['wall_s']:.1f} s | | | never > 2: {'met' if conc['max_running'] <= 2 else 'missed'} |"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"latency": latency, "snapshot": snap, "concurrency": conc}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
