"""Runs inside a pooled Docker kernel's container (a *slot*, see :mod:`.docker_kernels`): the notebook
runner of the job that will take the slot, started ahead of it together with its kernel.

``python -m jupyter_mlws.compute.slot_runner`` (the container's command):

1. writes what the container started with to ``/run/mlws/launch-env.json`` (the job's supervisor
   checks that the job's start-up variables are these);
2. starts a kernel as a job's runner in a fresh container would (the image's ``python3`` kernelspec,
   ipykernel's launcher code), in a neutral folder of the container's own, and imports papermill;
3. waits for ``/run/mlws/job.json``, written by the supervisor of the job that takes the slot: the
   runner's arguments, the job's variables and folder; then runs the notebook on the kernel exactly as
   a local pooled job does (:func:`.notebook_runner.main`), its output to the job's log FIFO, and exits
   with the runner's code: the container's exit is the job's, as for a fresh container.

Everything of the job runs in the container, under its limits; the host side only writes the job's
description and reads the log and the exit code. If the kernel dies while the slot waits, the runner
exits (the agent sees the container stop and replaces it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from .docker_engine import API_MOUNT

__all__ = ["EXIT_KERNEL_DIED", "JOB_FILE", "LAUNCH_ENV", "main"]

LAUNCH_ENV = "launch-env.json"
JOB_FILE = "job.json"
POLL_S = 0.005  # how often a waiting slot looks for its job (a stat: nothing measurable)
EXIT_KERNEL_DIED = 75  # the slot's kernel died before a job came


def _write_launch_env(folder: Path) -> None:
    tmp = folder / f".{LAUNCH_ENV}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(dict(os.environ), f)
    os.replace(tmp, folder / LAUNCH_ENV)


def main(argv: list[str] | None = None) -> int:
    from . import notebook_runner
    from .kernel_pool import SHUTDOWN_WAIT_S, start_local_kernel

    api = Path(argv[0] if argv else API_MOUNT)
    _write_launch_env(api)
    kernel = start_local_kernel(
        (sys.executable, "python3"), Path(tempfile.mkdtemp(prefix="mlws-slot-")), env=dict(os.environ)
    )
    notebook_runner.preload()
    job_file = api / JOB_FILE
    while not job_file.exists():
        if not kernel.alive():
            print("the slot's kernel died before a job came", file=sys.stderr, flush=True)
            return EXIT_KERNEL_DIED
        time.sleep(POLL_S)
    job = json.loads(job_file.read_text(encoding="utf-8"))
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    # The job's output goes to its log FIFO (its supervisor masks secrets in it), as a fresh job's does.
    out = os.open(os.environ["MLWS_DRIVER_LOG"], os.O_WRONLY | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    code = notebook_runner.main(list(job["argv"]), kernel=kernel)
    # The kernel was asked to shut down: what its exit writes (exit handlers, files left open) belongs
    # in the outputs, and the container's end would kill it.
    kernel.wait_exit(SHUTDOWN_WAIT_S)
    kernel.release()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
