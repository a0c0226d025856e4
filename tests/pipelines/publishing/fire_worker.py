"""One of the processes of the two-process schedule test: it opens the workspace, waits for the go
file, ticks through the same fake clock as its peers — in step with them: before each tick it waits
until every process reached that step (files in a barrier folder), so that they read the schedules
and claim the same fires at the same moment — and prints the ids of the runs it started, as JSON.

``python -m tests.pipelines.publishing.fire_worker WORKSPACE GO_FILE START STEP_SECONDS STEPS NAME PEERS``
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from jupyter_mlws import Workspace
from jupyter_mlws.pipelines.scheduler import tick
from tests.pipelines.publishing import engine_double


def main(argv: list[str]) -> int:
    root, go, start, step, steps = argv[0], Path(argv[1]), float(argv[2]), float(argv[3]), int(argv[4])
    name, peers = argv[5], int(argv[6])
    barrier = go.parent / "barrier"
    engine_double.install()
    ws = Workspace(root)
    ws.metadata.list_schedules()  # the store is open before the race starts
    _wait(lambda: go.exists(), "the go file")
    fired: list[str] = []
    for i in range(steps):
        (barrier / f"{i}-{name}").touch()
        _wait(lambda: len(list(barrier.glob(f"{i}-*"))) >= peers, f"the peers at step {i}")  # noqa: B023
        fired += tick(ws, now=start + i * step)
    print(json.dumps(fired))
    return 0


def _wait(ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.001)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
