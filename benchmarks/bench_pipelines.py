"""Pipeline benchmark: step reuse and scheduling overhead of jupyter-mlws pipelines, side by side with Prefect 3.

Run from the repository root::

    python benchmarks/bench_pipelines.py --prefect-python /tmp/prefectv/bin/python   # defaults: a few minutes
    python benchmarks/bench_pipelines.py --quick                                     # smoke run, < 60 s

Prefect is installed only for the benchmark, in a virtual environment of its own (the project's stays
clean; Prefect 3.8/3.9 needs ``fastapi<0.151`` to start its local server, see ENVIRONMENT.md)::

    python3 -m venv /tmp/prefectv && /tmp/prefectv/bin/pip install "prefect>=3.8,<4" "fastapi<0.151"

Its side runs as a subprocess with that interpreter (``benchmarks/prefect_pipelines.py``). Without
``--prefect-python`` its rows say "not run".

Two shapes of trivial steps, each a ``PythonScriptStep`` of one small script (``STEP``), the same work as
Prefect's tasks: the first step reads every file of an input folder (an unregistered
``Dataset.File.from_files(folder).as_named_input("raw").as_mount()``) and writes the sha256 of their bytes
to its ``PipelineData`` output; the others hash what their upstream wrote.

- linear: 10 steps in a chain, on the ``local`` target;
- fan-out/fan-in: a source step, 18 branches reading its output, a join reading all 18 (20 steps), on a
  target with ``max_concurrent_runs=2`` (Prefect: a thread pool of 2 workers).

For each shape and each of ``--repeats`` rounds (a new source folder and a new input folder each round, so
that nothing is reusable yet; files aged past the stat cache's racy window, as files a user has are):

1. first run: ``exp.submit(pipeline)`` to the pipeline run's end time (from its record), every step run;
2. fully reused re-run, ``--reused-repeats`` times: ``exp.submit(pipeline)`` until the returned
   ``PipelineRun`` reads Completed, all run records (the pipeline run and one step run per step) included;
3. one input file rewritten in place (same size, its mtime put back, as some editors and sync tools do),
   then submitted again: time to Completed, how many steps ran, and whether the final output holds the new
   bytes' digest (checked after the timing). Prefect: same work, same question.

Also measured, for the issue's targets:

- the job overhead of one ``ScriptRunConfig`` of the same script (submit to Completed from the run's own
  times, warm dispatcher, minus ``python step.py`` run directly), against the first run's per-step overhead
  (the linear pipeline's first run ÷ 10, minus the same floor per step). Target: ≤ job overhead + 20 ms;
- 20 one-second steps (no data) on a target with ``max_concurrent_runs=2``: submit to Completed, and the
  most steps that ever ran at once. Target ≈ 10 s (≤ 11 s; ≤ 1.1 times the ideal for other counts; steps shorter
  than a second, as in ``--quick``, are not judged).

``--git`` puts the steps' source folders inside a git work tree, as a user's project usually is (each step
run records the folder's git state). ``--profile`` profiles (cProfile) ten fully reused submits of the linear
pipeline and prints the top costs.
Figures are medians; the markdown table goes to stdout, the JSON to ``benchmarks/results/pipelines.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import jupyter_mlws
from jupyter_mlws import (
    ComputeTarget,
    Dataset,
    Experiment,
    LocalCompute,
    Pipeline,
    PipelineData,
    PipelineRun,
    PythonScriptStep,
    ScriptRunConfig,
    Workspace,
)
from jupyter_mlws.compute import agent

HERE = Path(__file__).resolve().parent
TARGET = "two"  # the fan-out target: max_concurrent_runs=--concurrency

# One script for every step; the first line (a token) makes each round's source new content.
STEP = """\
import hashlib, os, sys, time
from pathlib import Path


def digest_folder(folder):
    h = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as stream:
            h.update(name.encode() + b"\\0" + stream.read())
    return h.hexdigest()


def digest_text(text, salt):
    return hashlib.sha256(f"{text}\\n{salt}".encode()).hexdigest()


def answer_of(folder):
    return Path(folder, "answer.txt").read_text()


mode, out = sys.argv[1], sys.argv[2]
if mode == "source":
    answer = digest_folder(sys.argv[3])
elif mode == "link":
    answer = digest_text(answer_of(sys.argv[3]), sys.argv[4])
elif mode == "join":
    answer = digest_text("".join(answer_of(f) for f in sys.argv[3:]), "join")
else:  # sleep
    time.sleep(float(sys.argv[3]))
    answer = None
if answer is not None:
    Path(out).mkdir(parents=True, exist_ok=True)
    Path(out, "answer.txt").write_text(answer)
"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


# The same digests as the steps, to check a pipeline's final output.
def digest_folder(folder: Path) -> str:
    h = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        h.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return h.hexdigest()


def digest_text(text: str, salt: str) -> str:
    return hashlib.sha256(f"{text}\n{salt}".encode()).hexdigest()


def expected_answer(shape: str, data: Path, size: int) -> str:
    text = digest_folder(data)
    if shape == "linear":
        for i in range(1, size):
            text = digest_text(text, str(i))
        return text
    return digest_text("".join(digest_text(text, str(i)) for i in range(size - 2)), "join")


def age(paths: list[Path], seconds: float = 60.0) -> None:
    """Files a user has were mostly written earlier: put their mtime past the stat cache's racy window."""
    old = time.time() - seconds
    for path in paths:
        os.utime(path, (old, old))


def make_input(folder: Path, files: int, size: int) -> None:
    folder.mkdir(parents=True)
    for i in range(files):
        (folder / f"part-{i:02d}.csv").write_bytes(os.urandom(size // 2 + 1).hex().encode()[:size])
    age(list(folder.iterdir()))


def rewrite_in_place(path: Path) -> None:
    """New bytes, same size, same inode, the old mtime put back."""
    before = path.stat()
    path.write_bytes(os.urandom(before.st_size // 2 + 1).hex().encode()[: before.st_size])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def write_step(folder: Path, token: str) -> Path:
    folder.mkdir(parents=True)
    script = folder / "step.py"
    script.write_text(f"# {token}\n{STEP}")
    age([script])
    return folder


# -- the pipelines ----------------------------------------------------------------------------------------------
def linear_pipeline(ws: Workspace, src: Path, data: Path, steps: int) -> Pipeline:
    raw = Dataset.File.from_files(str(data)).as_named_input("raw").as_mount()
    out = PipelineData("d0")
    chain = [
        PythonScriptStep("step.py", name="s0", arguments=["source", out, raw], outputs=[out], source_directory=src)
    ]
    for i in range(1, steps):
        new = PipelineData(f"d{i}")
        chain.append(
            PythonScriptStep(
                "step.py",
                name=f"s{i}",
                arguments=["link", new, out, str(i)],
                outputs=[new],
                source_directory=src,
            )
        )
        out = new
    return Pipeline(ws, chain)


def fan_pipeline(ws: Workspace, src: Path, data: Path, steps: int) -> Pipeline:
    raw = Dataset.File.from_files(str(data)).as_named_input("raw").as_mount()
    split = PipelineData("split")
    first = PythonScriptStep(
        "step.py",
        name="source",
        arguments=["source", split, raw],
        outputs=[split],
        compute_target=TARGET,
        source_directory=src,
    )
    branches, outs = [], []
    for i in range(steps - 2):
        out = PipelineData(f"b{i}")
        outs.append(out)
        branches.append(
            PythonScriptStep(
                "step.py",
                name=f"branch{i}",
                arguments=["link", out, split, str(i)],
                outputs=[out],
                compute_target=TARGET,
                source_directory=src,
            )
        )
    joined = PipelineData("joined")
    join = PythonScriptStep(
        "step.py",
        name="join",
        arguments=["join", joined, *outs],
        outputs=[joined],
        compute_target=TARGET,
        source_directory=src,
    )
    return Pipeline(ws, [first, *branches, join])


def sleep_pipeline(ws: Workspace, src: Path, steps: int, seconds: float) -> Pipeline:
    return Pipeline(
        ws,
        [
            PythonScriptStep(
                "step.py",
                name=f"nap{i}",
                arguments=["sleep", "-", str(seconds), str(i)],
                compute_target=TARGET,
                source_directory=src,
            )
            for i in range(steps)
        ],
    )


def submit_until_completed(exp: Experiment, pipeline: Pipeline) -> tuple[float, PipelineRun]:
    """``exp.submit(pipeline)`` until the pipeline run is Completed: at once when submit answers a completed
    run (every step reused), otherwise the run's own end time."""
    ws = exp.workspace
    t0 = time.time()
    run = exp.submit(pipeline)
    record = ws.metadata.get_run(run.id)
    if record.status.value == "Completed":
        return time.time() - t0, cast(PipelineRun, run)
    assert isinstance(run, PipelineRun)
    status: str = run.wait_for_completion(show_output=False, timeout_seconds=600)
    record = ws.metadata.get_run(run.id)
    if status != "Completed" or record.end_time is None:
        raise RuntimeError(f"pipeline run {run.id} ended {status}: {record.error}")
    return record.end_time - t0, run


def reuse_summary(run: PipelineRun) -> dict[str, Any]:
    steps = run.get_steps()
    reuse = [s.get_details()["reuse"] for s in steps]
    ran = [s.name for s, r in zip(steps, reuse, strict=True) if not r["reused"]]
    return {"steps": len(steps), "reused": len(steps) - len(ran), "ran": ran, "first_reason": reuse[0]["reason"]}


def final_answer(run: PipelineRun, work: Path) -> str:
    last = run.get_steps()[-1]
    name = next(iter(last.get_outputs()))
    folder = Path(last.get_output_data(name).download(str(work / f"dl-{run.id}")))
    answer = next(folder.rglob("answer.txt")).read_text()
    shutil.rmtree(work / f"dl-{run.id}", ignore_errors=True)
    return answer


def bench_shape(
    ws: Workspace,
    work: Path,
    shape: str,
    build: Callable[[Workspace, Path, Path, int], Pipeline],
    size: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    exp = Experiment(ws, f"bench-{shape}")
    first, reused, edited = [], [], []
    reused_counts, edited_ran, noticed, reasons = [], [], [], []
    for r in range(args.repeats):
        token = f"{shape}-{r}-{os.getpid()}-{time.time_ns()}"
        src = write_step(work / "src" / token, token)
        data = work / "data" / token
        make_input(data, args.files, args.file_size)
        pipeline = build(ws, src, data, size)
        t, run = submit_until_completed(exp, pipeline)
        first.append(t)
        summary = reuse_summary(run)
        if summary["reused"]:
            raise RuntimeError(f"{shape}: a first run reused {summary['reused']} steps")
        if final_answer(run, work) != expected_answer(shape, data, size):
            raise RuntimeError(f"{shape}: the first run's output is not the digest the steps should compute")
        for _ in range(args.reused_repeats):
            t, run = submit_until_completed(exp, pipeline)
            reused.append(t)
        reused_counts.append(reuse_summary(run)["reused"])
        rewrite_in_place(data / "part-01.csv")
        t, run = submit_until_completed(exp, pipeline)
        edited.append(t)
        summary = reuse_summary(run)
        edited_ran.append(len(summary["ran"]))
        reasons.append(summary["first_reason"])
        noticed.append(final_answer(run, work) == expected_answer(shape, data, size))
        say(f"  {shape} round {r + 1}: first {first[-1]:.2f} s, reused {reused[-1] * 1000:.0f} ms, edited {t:.2f} s")
    return {
        "steps": size,
        "first_s": statistics.median(first),
        "first_samples": first,
        "reused_s": statistics.median(reused),
        "reused_samples": reused,
        "reused_steps": min(reused_counts),
        "edited_s": statistics.median(edited),
        "edited_samples": edited,
        "edited_steps_ran": max(edited_ran),
        "edited_reason": reasons[-1],
        "noticed_in_place_edit": all(noticed),
    }


# -- floors and the single job ------------------------------------------------------------------------------------
def bench_floor(work: Path, steps: int, repeats: int) -> dict[str, Any]:
    """``python step.py`` of the linear chain's steps run directly, one after the other (the physical floor)."""
    src = write_step(work / "floor-src", "floor")
    data = work / "floor-data"
    make_input(data, 3, 4096)
    samples = []
    for r in range(repeats):
        outs = [work / f"floor-out-{r}" / f"d{i}" for i in range(steps)]
        t = time.perf_counter()
        subprocess.run([sys.executable, str(src / "step.py"), "source", str(outs[0]), str(data)], check=True)
        for i in range(1, steps):
            subprocess.run(
                [sys.executable, str(src / "step.py"), "link", str(outs[i]), str(outs[i - 1]), str(i)], check=True
            )
        samples.append(time.perf_counter() - t)
    total = statistics.median(samples)
    return {"chain_s": total, "per_step_s": total / steps}


def bench_job(ws: Workspace, work: Path, repeats: int) -> dict[str, Any]:
    """One ``ScriptRunConfig`` of the same script (its first mode: read the input folder), warm dispatcher."""
    src = write_step(work / "job-src", "job")
    data = work / "job-data"
    make_input(data, 3, 4096)
    argv = ["source", "outputs/answer", str(data)]
    floor = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "step.py", *argv], cwd=src, check=True)
        floor.append(time.perf_counter() - t)
    shutil.rmtree(src / "outputs", ignore_errors=True)
    exp = Experiment(ws, "bench-job")
    config = ScriptRunConfig(source_directory=src, script="step.py", arguments=argv)

    def one() -> float:
        t0 = time.time()
        run = exp.submit(config)
        run.wait_for_completion(timeout=120)
        record = ws.metadata.get_run(run.id)
        assert record.status.value == "Completed" and record.end_time is not None, record.error
        return record.end_time - t0

    # Warm: the first submit starts the dispatcher, which then imports papermill while idle (seconds on a
    # busy machine, the next submit waiting for it); warm until a job is quick again.
    for _ in range(5):
        if one() < 1.0:
            break
    samples = [one() for _ in range(repeats)]
    result = {"floor_s": statistics.median(floor), "to_completed_s": statistics.median(samples)}
    result["overhead_s"] = result["to_completed_s"] - result["floor_s"]
    return result


def bench_sleep(
    ws: Workspace, work: Path, steps: int, seconds: float, repeats: int, concurrency: int
) -> dict[str, Any]:
    exp = Experiment(ws, "bench-sleep")
    samples, peaks = [], []
    for r in range(repeats):
        token = f"sleep-{r}-{os.getpid()}-{time.time_ns()}"
        src = write_step(work / "src" / token, token)
        t, run = submit_until_completed(exp, sleep_pipeline(ws, src, steps, seconds))
        samples.append(t)
        records = [ws.metadata.get_run(s.id) for s in run.get_steps()]
        events = sorted(
            [(x.start_time, 1) for x in records if x.start_time] + [(x.end_time, -1) for x in records if x.end_time]
        )
        running = peak = 0
        for _, delta in events:
            running += delta
            peak = max(peak, running)
        peaks.append(peak)
        say(f"  {steps} × {seconds:g} s steps: {t:.2f} s, at most {peak} at once")
    return {
        "steps": steps,
        "seconds": seconds,
        "concurrency": concurrency,
        "wall_s": statistics.median(samples),
        "samples": samples,
        "peak": max(peaks),
    }


def profile_reused(ws: Workspace, work: Path, steps: int, submits: int, output: Path) -> dict[str, Any]:
    """cProfile of ``submits`` fully reused submits of a linear pipeline; the top costs, by cumulative time."""
    exp = Experiment(ws, "bench-profile")
    token = f"profile-{os.getpid()}-{time.time_ns()}"
    src = write_step(work / "src" / token, token)
    data = work / "data" / token
    make_input(data, 3, 4096)
    pipeline = linear_pipeline(ws, src, data, steps)
    submit_until_completed(exp, pipeline)
    submit_until_completed(exp, pipeline)  # warm
    profiler = cProfile.Profile()
    t = time.perf_counter()
    profiler.enable()
    for _ in range(submits):
        run = exp.submit(pipeline)
    profiler.disable()
    wall = (time.perf_counter() - t) / submits
    assert ws.metadata.get_run(run.id).status.value == "Completed"
    profiler.dump_stats(str(output))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("cumulative")
    stats.print_stats(45)
    text.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(25)
    say(text.getvalue())
    return {"submits": submits, "per_submit_s": wall, "profile": str(output)}


# -- Prefect ------------------------------------------------------------------------------------------------------
def run_prefect(python: str, work: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    """The Prefect side in its own interpreter; its process group is stopped by id at the end."""
    out = work / "prefect.json"
    home = work / "prefect-home"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_LOCAL_STORAGE_PATH": str(work / "prefect-results"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "DO_NOT_TRACK": "1",
    }
    command = [
        python,
        str(HERE / "prefect_pipelines.py"),
        "--work",
        str(work / "prefect-work"),
        "--output",
        str(out),
        "--linear-steps",
        str(args.linear_steps),
        "--branches",
        str(args.fan_steps - 2),
        "--sleep-steps",
        str(args.sleep_steps),
        "--sleep-seconds",
        str(args.sleep_seconds),
        "--sleep-repeats",
        str(args.sleep_repeats),
        "--concurrency",
        str(args.concurrency),
        "--repeats",
        str(args.repeats),
        "--cached-repeats",
        str(args.reused_repeats),
        "--files",
        str(args.files),
        "--file-size",
        str(args.file_size),
    ]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        code = process.wait(timeout=1800)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)  # the temporary server it may have left (its own group)
        if process.poll() is None:
            process.kill()
            process.wait()
    if code != 0 or not out.exists():
        say(f"the Prefect side failed (exit {code}); its rows are left out")
        return None
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


# -- main ---------------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run (< 60 s)")
    parser.add_argument("--prefect-python", help="the python of a virtual environment with Prefect 3")
    parser.add_argument("--linear-steps", type=int, default=10)
    parser.add_argument("--fan-steps", type=int, default=20, help="steps of the fan-out/fan-in: source, branches, join")
    parser.add_argument("--concurrency", type=int, default=2, help="max_concurrent_runs of the fan-out target")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per shape (first run, reused, edited)")
    parser.add_argument("--reused-repeats", type=int, default=5, help="fully reused re-runs per round")
    parser.add_argument("--job-repeats", type=int, default=10)
    parser.add_argument("--sleep-steps", type=int, default=20)
    parser.add_argument("--sleep-seconds", type=float, default=1.0)
    parser.add_argument("--sleep-repeats", type=int, default=1)
    parser.add_argument("--files", type=int, default=3, help="files of the input folder")
    parser.add_argument("--file-size", type=int, default=4096)
    parser.add_argument("--profile", action="store_true", help="cProfile fully reused submits of the linear pipeline")
    parser.add_argument("--git", action="store_true", help="the steps' source folders inside a git work tree")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "pipelines.json")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.reused_repeats, args.job_repeats = 1, 2, 3
        args.sleep_steps, args.sleep_seconds, args.sleep_repeats = 6, 0.1, 1
    load_before = load_average()
    os.environ.setdefault("MLWS_AGENT_IDLE_SECONDS", "30")
    work = Path(tempfile.mkdtemp(prefix="mlws-bench-pipelines-"))
    ws: Workspace | None = None
    profile: dict[str, Any] | None = None
    try:
        ws = Workspace.create(work / "ws")
        (work / "src").mkdir()
        if args.git:
            # A user's project is usually a git work tree: each step run records its git state.
            subprocess.run(["git", "init", "-q", str(work / "src")], check=True)
        ComputeTarget.attach(ws, TARGET, LocalCompute.attach_configuration(max_concurrent_runs=args.concurrency))
        say("timing the floor and a single ScriptRunConfig job …")
        floor = bench_floor(work, args.linear_steps, max(1, args.job_repeats // 3))
        job = bench_job(ws, work, args.job_repeats)
        say("timing the pipelines …")
        linear = bench_shape(ws, work, "linear", linear_pipeline, args.linear_steps, args)
        fan = bench_shape(ws, work, "fan", fan_pipeline, args.fan_steps, args)
        sleep = bench_sleep(ws, work, args.sleep_steps, args.sleep_seconds, args.sleep_repeats, args.concurrency)
        if args.profile:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            profile = profile_reused(ws, work, args.linear_steps, 10, args.output.with_suffix(".prof"))
        agent.stop(ws)
        ws = None
        prefect = None
        if args.prefect_python:
            say("timing Prefect …")
            prefect = run_prefect(args.prefect_python, work, args)
        else:
            say("Prefect not run: its rows are left out (pass --prefect-python, see the docstring)")
    finally:
        if ws is not None:
            agent.stop(ws)
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    env = {
        "jupyter_mlws": getattr(jupyter_mlws, "__version__", "?"),
        "prefect": prefect["version"] if prefect else "not run",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    figures = {
        "env": env,
        "floor": floor,
        "job": job,
        "linear": linear,
        "fan": fan,
        "sleep": sleep,
        "prefect": prefect,
        "profile": profile,
        "source_in_git": args.git,
    }
    figures["targets"] = targets(figures)
    print_table(figures)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2))
    return 0


def targets(f: dict[str, Any]) -> dict[str, Any]:
    linear, job, floor, sleep = f["linear"], f["job"], f["floor"], f["sleep"]
    per_step = linear["first_s"] / linear["steps"] - floor["per_step_s"]
    ideal = sleep["steps"] * sleep["seconds"] / sleep["concurrency"]
    reused_limit = 0.1 * linear["steps"] / 10  # 100 ms for 10 steps
    return {
        "reused_limit_s": reused_limit,
        "reused_met": linear["reused_s"] <= reused_limit,
        "first_run_per_step_overhead_s": per_step,
        "job_overhead_s": job["overhead_s"],
        "per_step_overhead_met": per_step <= job["overhead_s"] + 0.020,
        "sleep_ideal_s": ideal,
        "sleep_limit_s": 1.1 * ideal,
        # The target is for one-second steps; shorter ones (--quick) are a smoke run of the same path.
        "sleep_met": (sleep["wall_s"] <= 1.1 * ideal and sleep["peak"] <= sleep["concurrency"])
        if sleep["seconds"] >= 1
        else None,
    }


def print_table(f: dict[str, Any]) -> None:
    env, p, t = f["env"], f["prefect"], f["targets"]
    cpus = env["cpus"] or 1

    def ms(s: float) -> str:
        return f"{s:.2f} s" if s >= 1 else f"{s * 1000:.0f} ms"

    def met(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def versus(mine: float, theirs: float | None) -> str:
        if theirs is None:
            return ""
        return f"{theirs / mine:.1f}× faster" if mine <= theirs else f"{mine / theirs:.1f}× slower"

    print()
    peer = f"Prefect {env['prefect']} (cache_policy=INPUTS + TASK_SOURCE)" if p else "Prefect: not run"
    print(f"jupyter-mlws {env['jupyter_mlws']} vs {peer}, Python {env['python']}, {env['platform']}, {cpus} CPUs")
    load = env["load_average_before"]
    if load is not None and load > 0.5 * cpus:
        print(
            f"warning: the machine was busy before the start (load average {load:.1f} on {cpus} CPUs); "
            "figures are noisier than on an idle machine"
        )
    if f["source_in_git"]:
        print("The steps' source folders are inside a git work tree (--git).")
    print()
    print("| Figure | jupyter-mlws | Prefect 3 | Ratio | Target |")
    print("|---|---:|---:|---|---|")
    for key, label in (("linear", "linear"), ("fan", "fan-out/fan-in")):
        m = f[key]
        q = p[key] if p else None
        n = m["steps"]
        target = ""
        if key == "linear":
            target = (
                f"per step {ms(t['first_run_per_step_overhead_s'])} over the floor ≤ one job's "
                f"{ms(t['job_overhead_s'])} + 20 ms: {met(t['per_step_overhead_met'])}"
            )
        print(
            f"| {n}-step {label}, first run | {ms(m['first_s'])} | {ms(q['first_s']) if q else 'not run'} | "
            f"{versus(m['first_s'], q['first_s'] if q else None)} | {target} |"
        )
        target = f"≤ {ms(t['reused_limit_s'])}: {met(t['reused_met'])}" if key == "linear" else ""
        theirs = f"{ms(q['cached_s'])} ({q['cached_tasks']}/{q['tasks']} cached)" if q else "not run"
        ratio = versus(m["reused_s"], q["cached_s"] if q else None)
        print(
            f"| {n}-step {label}, fully reused re-run ({m['reused_steps']}/{n} reused) | {ms(m['reused_s'])} | "
            f"{theirs} | {ratio} | {target} |"
        )
        seen = "new output" if m["noticed_in_place_edit"] else "**stale output**"
        theirs = (
            f"{ms(q['edited_s'])}, {q['edited_cached_tasks']}/{q['tasks']} cached, "
            + (
                "new output"
                if q["noticed_in_place_edit"]
                else "**stale output**"
                if q["first_answer_correct"]
                else "**wrong output** (on the first run too)"
            )
            if q
            else "not run"
        )
        print(
            f"| {n}-step {label}, one input file edited in place (mtime put back) | {ms(m['edited_s'])}, "
            f"{m['edited_steps_ran']}/{n} steps ran, {seen} | {theirs} | | |"
        )
    s = f["sleep"]
    qs = p.get("sleep") if p else None
    theirs = f"{ms(qs['wall_s'])} (thread pool of {qs['concurrency']})" if qs else "not run"
    judged = "not judged (the target is for 1-second steps)" if t["sleep_met"] is None else met(t["sleep_met"])
    print(
        f"| {s['steps']} × {s['seconds']:g} s steps, concurrency {s['concurrency']} | {ms(s['wall_s'])}, "
        f"at most {s['peak']} at once | {theirs} | {versus(s['wall_s'], qs['wall_s'] if qs else None)} | "
        f"≈ {t['sleep_ideal_s']:g} s, ≤ {t['sleep_limit_s']:.3g} s: {judged} |"
    )
    job, floor = f["job"], f["floor"]
    print(
        f"| one `ScriptRunConfig` of the same script, submit → Completed | {ms(job['to_completed_s'])} "
        f"(`python step.py`: {ms(job['floor_s'])}; overhead {ms(job['overhead_s'])}) | | | |"
    )
    if p:
        print(f"| Prefect's first flow (its temporary server starts) | | {ms(p['startup_s'])} | | |")
    print()
    print(f"Reason given for the edited input: {f['linear']['edited_reason']!r}")
    print(f"Floor: the 10 linear steps as `python step.py`, one after the other: {ms(floor['chain_s'])}")
    if f["profile"]:
        print(f"Profile of fully reused submits: {f['profile']['profile']} (python -m pstats)")
    print()


if __name__ == "__main__":
    sys.exit(main())
