"""Child-process programs for ``test_durability.py``; run as ``python durability_helpers.py MODE ...``.

Every mode talks to the parent through single lines on stdout (``READY``, ``FLUSHED``, ...) so that the
parent synchronises on what the child has really done, never on sleeps. Values are chosen so that a
point says which process logged it and in which position: ``value(k, i) = k * 1_000_000 + i + 0.25``.

Modes
- ``writer WS RUN_ID|- K N FLUSH_EVERY``: print ``READY``, wait for a line on stdin, then log N points
  (own run when RUN_ID is ``-``: series ``m``; shared run: series ``p<K>`` and ``shared``), flushing every
  FLUSH_EVERY points; print ``DONE``.
- ``kill WS RUN_ID N``: log N points, ``flush()``, print ``FLUSHED``, then keep logging without flushing.
- ``sigterm WS RUN_ID N``: with the background interval made huge (only the SIGTERM handler can write),
  log N points without flushing, print ``LOGGED``, sleep.
- ``sigterm-flushing WS RUN_ID``: log and ``flush()`` in a tight loop, print ``LOOPING`` after the first
  flush; the parent sends SIGTERM at an arbitrary moment (often inside a flush).
- ``exit WS RUN_ID N HOW``: with the background interval made huge (only the exit hook can write), log N
  points and leave: HOW is ``return``, ``sys-exit`` (code 3) or ``exception``.
"""

from __future__ import annotations

import signal
import sys
import time

DEADLINE_S = 90.0  # a child never outlives a lost parent by long


def value(k: int, i: int) -> float:
    return k * 1_000_000 + i + 0.25


def _quiet_background_writer() -> None:
    # Must run before the workspace creates its writer: the thread then waits an hour between rounds,
    # so only flush(), the SIGTERM handler or the exit hook can write.
    from jupyter_mlws.core import writer

    writer.FLUSH_INTERVAL_S = 3600.0


def _say(line: str) -> None:
    print(line, flush=True)


def _run(ws_path: str, run_id: str):  # type: ignore[no-untyped-def]
    from jupyter_mlws import Run, Workspace

    return Run.get(Workspace(ws_path), run_id)


def writer_mode(ws_path: str, run_id: str, k: int, n: int, flush_every: int) -> None:
    from jupyter_mlws import Experiment, Workspace

    ws = Workspace(ws_path)
    shared = run_id != "-"
    if shared:
        run = _run(ws_path, run_id)
    else:
        Experiment(ws, "concurrent")  # already created by the parent; opens the store before the start
    _say("READY")
    if sys.stdin.readline().strip() != "GO":
        sys.exit("no GO from the parent")
    if not shared:
        run = Experiment(ws, "concurrent").start_logging(display_name=f"writer-{k}")
        _say(f"RUN {run.id}")
    for i in range(n):
        v = value(k, i)
        if shared:
            run.log(f"p{k}", v, step=i)
            run.log("shared", v, step=i)
        else:
            run.log("m", v, step=i)
        if (i + 1) % flush_every == 0:
            run.flush()
    run.flush()
    if not shared:
        run.complete()
    _say("DONE")


def kill_mode(ws_path: str, run_id: str, n: int) -> None:
    run = _run(ws_path, run_id)
    for i in range(n):
        run.log("m", float(i), step=i)
    run.flush()
    _say("FLUSHED")
    i = n
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        for _ in range(1000):
            run.log("m", float(i), step=i)
            i += 1
        time.sleep(0.001)  # keep the queue bounded: the writer drains it between bursts
    sys.exit(3)


def sigterm_mode(ws_path: str, run_id: str, n: int) -> None:
    _quiet_background_writer()
    run = _run(ws_path, run_id)
    for i in range(n):
        run.log("m", float(i), step=i)
    handler = signal.getsignal(signal.SIGTERM)
    _say(f"HANDLER {getattr(handler, '__module__', '')}.{getattr(handler, '__name__', handler)}")
    _say("LOGGED")
    time.sleep(DEADLINE_S)
    sys.exit(3)


def sigterm_flushing_mode(ws_path: str, run_id: str) -> None:
    run = _run(ws_path, run_id)
    i = 0
    deadline = time.monotonic() + DEADLINE_S
    first = True
    while time.monotonic() < deadline:
        for _ in range(50):
            run.log("m", float(i), step=i)
            i += 1
        run.flush()
        if first:
            _say("LOOPING")
            first = False
    sys.exit(3)


def exit_mode(ws_path: str, run_id: str, n: int, how: str) -> None:
    _quiet_background_writer()
    run = _run(ws_path, run_id)
    for i in range(n):
        run.log("m", float(i), step=i)
    _say("LOGGED")
    if how == "sys-exit":
        sys.exit(3)
    if how == "exception":
        raise RuntimeError("the training script crashed")


def main(argv: list[str]) -> None:
    mode, ws_path, run_id, *rest = argv
    if mode == "writer":
        writer_mode(ws_path, run_id, int(rest[0]), int(rest[1]), int(rest[2]))
    elif mode == "kill":
        kill_mode(ws_path, run_id, int(rest[0]))
    elif mode == "sigterm":
        sigterm_mode(ws_path, run_id, int(rest[0]))
    elif mode == "sigterm-flushing":
        sigterm_flushing_mode(ws_path, run_id)
    elif mode == "exit":
        exit_mode(ws_path, run_id, int(rest[0]), rest[1])
    else:
        sys.exit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
