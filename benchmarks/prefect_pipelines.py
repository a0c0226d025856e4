"""The Prefect 3 side of ``bench_pipelines.py``: the same work as the jupyter-mlws pipelines, as Prefect flows.

Not run by hand: ``bench_pipelines.py`` starts it with the interpreter of a virtual environment that has
Prefect (``--prefect-python``), so that the project's own environment stays free of it::

    python3 -m venv /tmp/prefectv
    /tmp/prefectv/bin/pip install "prefect>=3.8,<4" "fastapi<0.151"

Every task has ``cache_policy=INPUTS + TASK_SOURCE`` and persists its result (results in a temporary folder,
``PREFECT_LOCAL_STORAGE_PATH``). The API is ``PREFECT_API_URL`` when set, otherwise Prefect's temporary local
server, started by the first flow (timed apart, as ``startup_s``) and stopped when this process exits.

Flows (the same shapes and the same work as the pipelines' steps, see ``bench_pipelines.STEP``):

- linear: ``source(folder)`` reads every file of the input folder and answers the sha256 of their bytes;
  ``link(text, i)`` answers ``sha256(text + i)``, nine times in a chain: 10 tasks.
- fan-out/fan-in: ``source(folder)``, then ``branch(text, i)`` for i < B submitted at once (a thread pool of
  ``--concurrency`` workers, the jupyter-mlws target's concurrency), then ``join(texts)``: B + 2 tasks.
- sleep: S tasks that each sleep ``--sleep-seconds``, submitted at once to ``--concurrency`` workers.

For each shape and each repeat: a first run on a new input folder (new inputs: every task misses its cache),
``--cached-repeats`` runs on the same folder (every task a cache hit), then one file of the folder rewritten
in place (same size, its mtime put back) and the flow run again: does the answer reflect the new bytes?
Times are per flow (the call of the flow function until it returns), in this process. Figures go to the
JSON file named by ``--output``.
"""

# mypy: disable-error-code="untyped-decorator"
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from prefect import __version__ as prefect_version
from prefect import flow, task
from prefect.cache_policies import INPUTS, TASK_SOURCE
from prefect.task_runners import ThreadPoolTaskRunner

POLICY = INPUTS + TASK_SOURCE


def digest_folder(folder: str) -> str:
    h = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as stream:
            h.update(name.encode() + b"\0" + stream.read())
    return h.hexdigest()


def digest_text(text: str, salt: str) -> str:
    return hashlib.sha256(f"{text}\n{salt}".encode()).hexdigest()


@task(cache_policy=POLICY, persist_result=True)
def source(folder: str) -> str:
    return digest_folder(folder)


@task(cache_policy=POLICY, persist_result=True)
def link(text: str, i: int) -> str:
    return digest_text(text, str(i))


@task(cache_policy=POLICY, persist_result=True)
def branch(text: str, i: int) -> str:
    return digest_text(text, str(i))


@task(cache_policy=POLICY, persist_result=True)
def join(texts: list[str]) -> str:
    return digest_text("".join(texts), "join")


@task(cache_policy=POLICY, persist_result=True)
def nap(token: str, i: int, seconds: float) -> str:
    time.sleep(seconds)
    return f"{token}-{i}"


def _cached(states: list[Any]) -> int:
    return sum(1 for s in states if getattr(s, "name", None) == "Cached")


@flow
def linear(folder: str, steps: int) -> dict[str, Any]:
    state = source(folder, return_state=True)
    states = [state]
    text = state.result()
    for i in range(1, steps):
        state = link(text, i, return_state=True)
        states.append(state)
        text = state.result()
    return {"answer": text, "cached": _cached(states), "tasks": len(states)}


def expected_linear(folder: str, steps: int) -> str:
    text = digest_folder(folder)
    for i in range(1, steps):
        text = digest_text(text, str(i))
    return text


def fan_flow(concurrency: int) -> Any:
    @flow(task_runner=ThreadPoolTaskRunner(max_workers=concurrency))
    def fan(folder: str, branches: int) -> dict[str, Any]:
        first = source.submit(folder)
        futures = [branch.submit(first, i) for i in range(branches)]
        last = join.submit(futures)
        answer = last.result()
        states = [first.state, *(f.state for f in futures), last.state]
        return {"answer": answer, "cached": _cached(states), "tasks": len(states)}

    return fan


def expected_fan(folder: str, branches: int) -> str:
    text = digest_folder(folder)
    return digest_text("".join(digest_text(text, str(i)) for i in range(branches)), "join")


def sleep_flow(concurrency: int) -> Any:
    @flow(task_runner=ThreadPoolTaskRunner(max_workers=concurrency))
    def sleepy(token: str, steps: int, seconds: float) -> int:
        futures = [nap.submit(token, i, seconds) for i in range(steps)]
        return len([f.result() for f in futures])

    return sleepy


def make_input(folder: Path, files: int, size: int) -> None:
    folder.mkdir(parents=True)
    for i in range(files):
        (folder / f"part-{i:02d}.csv").write_bytes(os.urandom(size // 2).hex().encode()[:size])


def rewrite_in_place(path: Path) -> None:
    before = path.stat()
    path.write_bytes(os.urandom(before.st_size // 2 + 1).hex().encode()[: before.st_size])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def shape(name: str, run: Any, expected: Any, size_arg: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    first, cached, edited = [], [], []
    noticed, first_cached, cached_hits, edited_cached, first_correct = [], [], [], [], []
    tasks = 0
    for r in range(args.repeats):
        folder = work / f"{name}-input-{r}"
        make_input(folder, args.files, args.file_size)
        t, out = timed(run, str(folder), size_arg)
        first.append(t)
        first_cached.append(out["cached"])
        first_correct.append(out["answer"] == expected(str(folder), size_arg))
        tasks = out["tasks"]
        for _ in range(args.cached_repeats):
            t, out = timed(run, str(folder), size_arg)
            cached.append(t)
            cached_hits.append(out["cached"])
        rewrite_in_place(folder / "part-01.csv")
        t, out = timed(run, str(folder), size_arg)
        edited.append(t)
        edited_cached.append(out["cached"])
        noticed.append(out["answer"] == expected(str(folder), size_arg))
    return {
        "tasks": tasks,
        "first_s": statistics.median(first),
        "first_samples": first,
        "first_cached_tasks": max(first_cached),
        "first_answer_correct": all(first_correct),  # the same work as the steps: the check below means something
        "cached_s": statistics.median(cached),
        "cached_samples": cached,
        "cached_tasks": min(cached_hits),
        "edited_s": statistics.median(edited),
        "edited_samples": edited,
        "edited_cached_tasks": min(edited_cached),
        "noticed_in_place_edit": all(noticed),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--linear-steps", type=int, default=10)
    parser.add_argument("--branches", type=int, default=18)
    parser.add_argument("--sleep-steps", type=int, default=20)
    parser.add_argument("--sleep-seconds", type=float, default=1.0)
    parser.add_argument("--sleep-repeats", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cached-repeats", type=int, default=3)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--file-size", type=int, default=4096)
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)

    # Warm-up: the first flow starts the temporary API server (unless PREFECT_API_URL names one).
    warm = work / "warm-input"
    make_input(warm, 1, 16)
    startup_s, _ = timed(linear, str(warm), 1)
    print(f"prefect: first flow (server start-up) {startup_s:.1f} s", file=sys.stderr, flush=True)

    figures: dict[str, Any] = {
        "version": prefect_version,
        "api": os.environ.get("PREFECT_API_URL") or "temporary local server",
        "startup_s": startup_s,
    }
    figures["linear"] = shape("linear", linear, expected_linear, args.linear_steps, work, args)
    print("prefect: linear done", file=sys.stderr, flush=True)
    figures["fan"] = shape("fan", fan_flow(args.concurrency), expected_fan, args.branches, work, args)
    print("prefect: fan-out/fan-in done", file=sys.stderr, flush=True)
    if args.sleep_steps > 0:
        sleepy = sleep_flow(args.concurrency)
        samples = []
        for r in range(args.sleep_repeats):
            t, done = timed(sleepy, f"{os.getpid()}-{time.time_ns()}-{r}", args.sleep_steps, args.sleep_seconds)
            assert done == args.sleep_steps
            samples.append(t)
        figures["sleep"] = {
            "steps": args.sleep_steps,
            "seconds": args.sleep_seconds,
            "concurrency": args.concurrency,
            "wall_s": statistics.median(samples),
            "samples": samples,
        }
    args.output.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
