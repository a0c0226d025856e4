"""Scale-out benchmark (issue 19), side by side in one run on a real local Dask cluster (2 workers, 1 thread each).

Run from the repository root::

    python benchmarks/bench_scaleout.py            # 1,000 runs and 1,000 partitions (about 5 minutes)
    python benchmarks/bench_scaleout.py --quick    # 200 and 200 (about a minute)

1. Per-run overhead of the dask target. ``--runs`` trivial child runs (a script ``x = 1``) submitted with
   ``parent.submit_child(ScriptRunConfig(..., compute_target="cluster"))`` to a ``DaskCompute`` target, timed from
   the first submit to the last run's end (each a whole job: its run record, snapshot, claim, a process, its logs
   collected); against the same cluster's own cost for as many tasks: ``client.map`` of a trivial function, gathered;
   and a ``ProcessPoolExecutor(2)`` mapping the same function (the floor of any process-based fan-out).
   Per-run overhead above Dask's own = (our wall - client.map's wall) / runs. Target: <= 50 ms.
2. Many models: a synthetic sales table (``--partitions`` stores x 40 weeks), one scikit-learn LinearRegression
   per store: a plain ``for`` loop, ``joblib.Parallel(n_jobs=2)``, and a ``ParallelRunStep`` in a pipeline
   (``partition_keys=["store"]``, ``append_row``) on the local target (2 processes) and on the Dask target, each
   partition recorded as a child run with its metric and its registered model. Wall time from the submit to the
   step's end. Target: ParallelRunStep <= 1.5x joblib's time.

The markdown table goes to stdout, the JSON to ``benchmarks/results/scaleout.json``. Figures from a busy machine
are noisy: the script records the load average at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def trivial(i: int) -> int:
    return i


def bench_overhead(root: Path, address: str, runs: int) -> dict[str, Any]:
    from jupyter_mlws import ComputeTarget, Experiment, ScriptRunConfig, Workspace
    from jupyter_mlws.compute.dask import DaskCompute, client_for

    src = root / "trivial"
    src.mkdir()
    (src / "job.py").write_text("x = 1\n")
    ws = Workspace.create(root / "ws-overhead")
    ComputeTarget.attach(ws, "cluster", DaskCompute.attach_configuration(address))
    parent = Experiment(ws, "overhead").start_logging()
    config = ScriptRunConfig(str(src), "job.py", compute_target="cluster")
    parent.submit_child(config).wait_for_completion()  # workers warm: imports, the workspace opened
    started = time.time()  # the runs' end times are wall-clock times
    children = [parent.submit_child(config) for _ in range(runs)]
    submitted = time.time() - started
    for child in children:
        child.wait_for_completion()
    records = [ws.metadata.get_run(c.id) for c in children]
    ours = max(r.end_time or 0.0 for r in records) - started
    if any(r.status.value != "Completed" for r in records):
        raise RuntimeError("not every run completed")
    parent.complete()

    client = client_for(address)
    client.gather(client.map(trivial, range(10), pure=False))
    start = time.perf_counter()
    client.gather(client.map(trivial, range(runs), pure=False))
    dask_wall = time.perf_counter() - start

    with ProcessPoolExecutor(2) as pool:
        list(pool.map(trivial, range(10)))
        start = time.perf_counter()
        list(pool.map(trivial, range(runs)))
        pool_wall = time.perf_counter() - start
    return {
        "runs": runs,
        "ours_wall_s": ours,
        "ours_submit_ms_per_run": submitted / runs * 1000,
        "ours_span_median_ms": statistics.median((r.end_time or 0) - (r.start_time or 0) for r in records) * 1000,
        "client_map_wall_s": dask_wall,
        "process_pool_wall_s": pool_wall,
        "overhead_ms_per_run": (ours - dask_wall) / runs * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.partitions = 200, 200
    from jupyter_mlws.compute.dask_cluster import LocalDaskCluster

    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]},
    }
    root = Path(tempfile.mkdtemp(prefix="mlws-bench-scaleout-"))
    try:
        with LocalDaskCluster(workers=2, threads_per_worker=1, dashboard=False) as cluster:
            say(f"1. {args.runs} trivial runs on the dask target ...")
            results["overhead"] = bench_overhead(root, cluster.address, args.runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    o = results["overhead"]
    print("| measure | value |\n|---|---|")
    print(f"| {o['runs']} runs through DaskCompute, wall | {o['ours_wall_s']:.2f} s |")
    print(f"| the same number of tasks, client.map | {o['client_map_wall_s']:.2f} s |")
    print(f"| the same number of tasks, ProcessPoolExecutor(2) | {o['process_pool_wall_s']:.2f} s |")
    print(f"| per-run overhead above Dask's own (target <= 50 ms) | {o['overhead_ms_per_run']:.1f} ms |")
    print(f"| submit, per run (in the submitting process) | {o['ours_submit_ms_per_run']:.1f} ms |")
    print(f"| a run's span (Running to its end), median | {o['ours_span_median_ms']:.0f} ms |")
    out = HERE / "results" / "scaleout.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
