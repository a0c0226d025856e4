"""Durability of metric logging: concurrent processes, crashes, signals, exit, odd values, outages.

The contract (issue 2, DESIGN §5): nothing acknowledged by ``flush()``/``complete()`` is ever lost,
logging survives SIGTERM and interpreter exit, several processes can log into one SQLite workspace at
once, NaN/inf are faithful, non-numbers are refused where they are logged, and an unavailable store
delays points but never drops or duplicates them.

Child processes run ``durability_helpers.py`` and report progress as lines on stdout; the parent
synchronises on those lines (and on what is visible in the database), never on sleeps.
"""

from __future__ import annotations

import math
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jupyter_mlws import Experiment, Run, Workspace
from jupyter_mlws.core import writer as writer_module
from jupyter_mlws.core.workspace import close_backends
from jupyter_mlws.errors import BackendUnavailableError, InvalidArgumentError, MlwsError

HELPERS = Path(__file__).with_name("durability_helpers.py")
WRITER_THREAD = "mlws-metric-writer"
LINE_TIMEOUT_S = 90.0  # generous: four interpreters starting at once on a loaded 2-core machine


def value(k: int, i: int) -> float:
    """The value child ``k`` logs as its ``i``-th point (same formula as the helpers)."""
    return k * 1_000_000 + i + 0.25


# -- child processes -----------------------------------------------------------------------------------


class Child:
    """A helper process whose stdout lines are read by a thread, so waits can have timeouts."""

    def __init__(self, args: list[str], stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(HELPERS), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    @property
    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text()

    def expect(self, prefix: str, timeout: float = LINE_TIMEOUT_S) -> str:
        """The next stdout line starting with ``prefix``; fails on timeout or if the child ends first."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no {prefix!r} line from the child within {timeout} s; saw {self.seen}; {self.stderr}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=30)
                pytest.fail(
                    f"the child ended (exit {self.proc.returncode}) before printing {prefix!r}; "
                    f"saw {self.seen}; stderr:\n{self.stderr}"
                )
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = LINE_TIMEOUT_S) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            pytest.fail(f"the child did not end within {timeout} s (killed it); stderr:\n{self.stderr}")

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self._reader.join(timeout=10)
        self._stderr.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Child]]:
    """Start helper processes; whatever is still alive at the end of the test is killed."""
    children: list[Child] = []

    def start(*args: str) -> Child:
        child = Child(list(args), tmp_path / f"child-{len(children)}.stderr")
        children.append(child)
        return child

    yield start
    for child in children:
        child.cleanup()


# -- looking into the database directly ------------------------------------------------------------------


def db_path(ws: Workspace) -> Path:
    return ws.root / ".mlws" / "mlws.db"


def stored_points(db: Path) -> int:
    with closing(sqlite3.connect(db, timeout=60)) as con:
        return int(con.execute("SELECT count(*) FROM metric_points").fetchone()[0])


def integrity(db: Path) -> list[str]:
    with closing(sqlite3.connect(db, timeout=60)) as con:
        return [row[0] for row in con.execute("PRAGMA integrity_check")]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = LINE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)  # polling a condition, not synchronising on time


def fresh_run(ws: Workspace, run_id: str) -> Run:
    """The run read back through a brand-new Workspace object (and a store opened anew)."""
    close_backends()
    return Workspace(ws.root).get_run(run_id)


def assert_clean_stderr(child: Child) -> None:
    text = child.stderr
    assert "locked" not in text.lower(), text
    assert "could not be written" not in text, text
    assert "Traceback" not in text, text


def assert_contiguous(values: list[float], steps: list[int | None], at_least: int) -> None:
    """The series is exactly 0.0, 1.0, ... with steps 0, 1, ...: no gap, no duplicate, no reordering."""
    assert len(values) >= at_least
    assert values == [float(i) for i in range(len(values))]
    assert steps == list(range(len(values)))


# -- 1. concurrent writers -------------------------------------------------------------------------------

PROCESSES = 4
POINTS = 10_000


@pytest.mark.slow
def test_four_processes_log_into_their_own_runs_at_once(ws: Workspace, spawn: Callable[..., Child]) -> None:
    Experiment(ws, "concurrent")
    children = [spawn("writer", str(ws.root), "-", str(k), str(POINTS), "250") for k in range(PROCESSES)]
    for child in children:  # every interpreter is up and has opened the store ...
        child.expect("READY")
    for child in children:  # ... before any of them creates its run and starts logging
        child.send("GO")
    run_ids = [child.expect("RUN ").split()[1] for child in children]
    for child in children:
        child.expect("DONE")
    for child in children:
        assert child.wait() == 0, child.stderr
        assert_clean_stderr(child)

    assert integrity(db_path(ws)) == ["ok"]
    assert len(set(run_ids)) == PROCESSES
    assert stored_points(db_path(ws)) == PROCESSES * POINTS
    numbers = set()
    for k, run_id in enumerate(run_ids):
        run = fresh_run(ws, run_id)
        assert run.status == "Completed"
        numbers.add(run.number)
        history = run.get_metric_history("m")
        assert [p.value for p in history] == [value(k, i) for i in range(POINTS)]
        assert [p.step for p in history] == list(range(POINTS))
        assert run.get_metrics("m")["m"] == [value(k, i) for i in range(POINTS)]
    assert len(numbers) == PROCESSES  # run numbers handed out concurrently never collide


@pytest.mark.slow
def test_four_processes_log_into_one_run_at_once(ws: Workspace, spawn: Callable[..., Child]) -> None:
    run_id = Experiment(ws, "concurrent").start_logging().id
    children = [spawn("writer", str(ws.root), run_id, str(k), str(POINTS), "250") for k in range(PROCESSES)]
    for child in children:
        child.expect("READY")
    for child in children:
        child.send("GO")
    for child in children:
        child.expect("DONE")
    for child in children:
        assert child.wait() == 0, child.stderr
        assert_clean_stderr(child)

    assert integrity(db_path(ws)) == ["ok"]
    assert stored_points(db_path(ws)) == 2 * PROCESSES * POINTS
    run = fresh_run(ws, run_id)
    for k in range(PROCESSES):
        own = run.get_metric_history(f"p{k}")
        assert [p.value for p in own] == [value(k, i) for i in range(POINTS)]
        assert [p.step for p in own] == list(range(POINTS))
    shared = run.get_metric_history("shared")
    assert len(shared) == PROCESSES * POINTS
    for k in range(PROCESSES):
        mine = [p for p in shared if int(p.value // 1_000_000) == k]
        assert [p.value for p in mine] == [value(k, i) for i in range(POINTS)]  # each process's own order
        assert [p.step for p in mine] == list(range(POINTS))
    assert sorted(run.get_metrics("shared")["shared"]) == sorted(p.value for p in shared)


# -- 2. SIGKILL after flush() ------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_after_flush_loses_nothing_flushed(ws: Workspace, spawn: Callable[..., Child]) -> None:
    flushed = 20_000
    db = db_path(ws)
    exp = Experiment(ws, "kill")
    for _ in range(2):  # twice: the kill lands at a different point of the writer's work each time
        run_id = exp.start_logging().id
        before = stored_points(db)
        child = spawn("kill", str(ws.root), run_id, str(flushed))
        child.expect("FLUSHED")
        # The background writer is now committing unflushed points: kill it while it is busy.
        wait_until(lambda: stored_points(db) > before + flushed + 10_000, "background commits after FLUSHED")  # noqa: B023
        child.proc.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL

        assert integrity(db) == ["ok"]
        history = fresh_run(ws, run_id).get_metric_history("m")
        # Everything flushed is there, and whatever the writer committed later is a clean continuation.
        assert_contiguous([p.value for p in history], [p.step for p in history], at_least=flushed)

    # The workspace is consistent and still takes writes after the crashes.
    ws2 = Workspace(ws.root)
    run = Experiment(ws2, "kill").start_logging()
    run.log("after", 1.0)
    run.complete()
    assert ws2.get_run(run.id).get_metrics("after") == {"after": 1.0}


# -- 3. SIGTERM ----------------------------------------------------------------------------------------------


def test_sigterm_flushes_points_and_dies_by_sigterm(ws: Workspace, spawn: Callable[..., Child]) -> None:
    logged = 5_000
    db = db_path(ws)
    run_id = Experiment(ws, "sigterm").start_logging().id
    child = spawn("sigterm", str(ws.root), run_id, str(logged))
    assert "jupyter_mlws" in child.expect("HANDLER")  # the writer installed its handler
    child.expect("LOGGED")
    assert stored_points(db) == 0  # the child's background writer is idle: only the handler can write
    child.proc.send_signal(signal.SIGTERM)
    assert child.wait() == -signal.SIGTERM  # re-raised: the parent sees a death by SIGTERM
    assert_clean_stderr(child)

    history = fresh_run(ws, run_id).get_metric_history("m")
    assert_contiguous([p.value for p in history], [p.step for p in history], at_least=logged)
    assert len(history) == logged


@pytest.mark.slow
def test_sigterm_while_flushing_neither_hangs_nor_loses_flushed_points(
    ws: Workspace, spawn: Callable[..., Child]
) -> None:
    # The child calls flush() in a tight loop, so SIGTERM usually arrives while the main thread is
    # inside the writer (holding its lock). The handler must still flush and end the process.
    db = db_path(ws)
    exp = Experiment(ws, "sigterm")
    for _ in range(3):
        run_id = exp.start_logging().id
        before = stored_points(db)
        child = spawn("sigterm-flushing", str(ws.root), run_id)
        child.expect("LOOPING")
        wait_until(lambda: stored_points(db) > before + 5_000, "the child's flushes")  # noqa: B023
        child.proc.send_signal(signal.SIGTERM)
        try:
            code = child.proc.wait(timeout=15)  # a healthy child ends in well under a second
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait(timeout=30)
            pytest.fail(
                "the child still ran 15 s after SIGTERM (killed it): the SIGTERM handler blocked, "
                f"e.g. on the writer lock held by the flush it interrupted; stderr:\n{child.stderr}"
            )
        assert code == -signal.SIGTERM, child.stderr
        assert integrity(db) == ["ok"]
        history = fresh_run(ws, run_id).get_metric_history("m")
        assert_contiguous([p.value for p in history], [p.step for p in history], at_least=5_000)


# -- 4. interpreter exit -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("how", "code"), [("return", 0), ("sys-exit", 3), ("exception", 1)])
def test_points_are_written_at_interpreter_exit(
    ws: Workspace, spawn: Callable[..., Child], how: str, code: int
) -> None:
    logged = 5_000
    run_id = Experiment(ws, "exit").start_logging().id
    child = spawn("exit", str(ws.root), run_id, str(logged), how)
    child.expect("LOGGED")
    assert child.wait() == code
    if how == "exception":
        assert "RuntimeError: the training script crashed" in child.stderr
    else:
        assert child.stderr == ""
    assert "could not be written" not in child.stderr

    run = fresh_run(ws, run_id)
    history = run.get_metric_history("m")
    assert_contiguous([p.value for p in history], [p.step for p in history], at_least=logged)
    assert len(history) == logged
    assert run.status == "Running"  # no complete(): the run is untouched, only its points were written


# -- 5. special float values ---------------------------------------------------------------------------------

MAX = sys.float_info.max
SPECIAL = [
    (math.nan, 0),
    (math.inf, 1),
    (-math.inf, 2),
    (0.0, 3),
    (MAX, 4),
    (-MAX, 5),
    (5e-324, 6),  # the smallest subnormal
    (-5e-324, 7),
    (sys.float_info.min, 8),  # the smallest normal
    (1e-300, None),
    (-1e300, 10),
    (0.1, 2**53 + 1),
    (1 / 3, -7),
    (123456789.123456789, 0),
    (float("nan"), 14),
    (2.0**70, 15),
]


def same_float(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def assert_same_floats(got: list[float], expected: list[float]) -> None:
    assert len(got) == len(expected)
    bad = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not same_float(g, e)]
    assert not bad, f"(index, read back, logged): {bad}"


def test_nan_inf_huge_and_tiny_values_read_back_faithfully(ws: Workspace) -> None:
    run = Experiment(ws, "values").start_logging()
    for v, step in SPECIAL:
        run.log("m", v, step=step)
    run.log("only_nan", math.nan)
    run.log("only_ninf", -math.inf, step=3)
    run.complete()
    expected = [v for v, _ in SPECIAL]

    for reader in (run, fresh_run(ws, run.id)):  # through the logging run and from disk anew
        assert_same_floats(reader.get_metrics("m")["m"], expected)
        history = reader.get_metric_history("m")
        assert_same_floats([p.value for p in history], expected)
        assert [p.step for p in history] == [s for _, s in SPECIAL]
        assert [p.name for p in history] == ["m"] * len(SPECIAL)
        only_nan = reader.get_metrics("only_nan")["only_nan"]
        assert isinstance(only_nan, float)
        assert math.isnan(only_nan)
        assert reader.get_metrics("only_ninf")["only_ninf"] == -math.inf
        (point,) = reader.get_metric_history("only_ninf")
        assert (point.value, point.step) == (-math.inf, 3)


# -- 6. what run.log accepts and refuses ---------------------------------------------------------------------


class Opaque:
    pass


# Strings and booleans are metric values since Azure ML v1 compatibility (issue 14: text-valued
# metrics); a numeric name refusing them is tested in tests/v1/test_metrics_v1.py.
@pytest.mark.parametrize(
    "bad",
    [None, [1.0], (1.0,), {"a": 1.0}, object(), Opaque(), b"1", 1 + 2j, np.array([1.0, 2.0])],
    ids=["None", "list", "tuple", "dict", "object", "custom", "bytes", "complex", "array"],
)
def test_non_numeric_value_is_refused_at_the_call_site(ws: Workspace, bad: Any) -> None:
    run = Experiment(ws, "values").start_logging()
    run.log("m", 1.0, step=0)
    run.flush()
    writer = ws.writer
    with pytest.raises(InvalidArgumentError, match="'m'"):
        run.log("m", bad, step=1)
    assert writer.pending == 0  # nothing queued: the error is not deferred to the writer thread
    with pytest.raises(InvalidArgumentError, match="'fresh'"):
        run.log("fresh", bad)
    assert writer.pending == 0
    run.flush()  # and no error surfaces later either
    run.log("fresh", 2.0)  # a refused value does not poison the name
    run.complete()
    assert run.get_metrics() == {"m": 1.0, "fresh": 2.0}
    assert [(p.value, p.step) for p in run.get_metric_history("m")] == [(1.0, 0)]


@pytest.mark.parametrize("bad_step", ["1", 1.5, [1], True], ids=["str", "float", "list", "bool"])
def test_non_integer_step_is_refused_at_the_call_site(ws: Workspace, bad_step: Any) -> None:
    run = Experiment(ws, "values").start_logging()
    with pytest.raises(InvalidArgumentError, match="step"):
        run.log("m", 1.0, step=bad_step)
    assert ws.writer.pending == 0
    run.complete()
    assert run.get_metrics() == {}


def test_numpy_scalars_zero_d_arrays_and_bools_are_accepted(ws: Workspace) -> None:
    accepted = [
        (np.float32(1.5), 1.5),
        (np.float64(2.5), 2.5),
        (np.float16(-0.5), -0.5),
        (np.int64(7), 7.0),
        (np.int32(-3), -3.0),
        (np.uint8(255), 255.0),
        (np.array(4.5), 4.5),
        (np.array(9, dtype=np.int16), 9.0),
        (np.float32("nan"), math.nan),
        (np.float64("-inf"), -math.inf),
        (2**70, 2.0**70),
    ]
    run = Experiment(ws, "values").start_logging()
    for step, (v, _) in enumerate(accepted):
        run.log("m", v, step=np.int64(step))  # numpy integers are fine as steps too
    for flag in (np.bool_(True), True, False):  # booleans are kept as such (v1's text-valued metrics)
        run.log("flag", flag)
    run.complete()
    run = fresh_run(ws, run.id)
    assert run.get_metrics("flag") == {"flag": [True, True, False]}
    history = run.get_metric_history("m")
    assert_same_floats([p.value for p in history], [e for _, e in accepted])
    assert all(type(p.value) is float for p in history)
    assert [p.step for p in history] == list(range(len(accepted)))
    assert all(type(p.step) is int for p in history)


# -- 7. order -----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_long_series_reads_back_in_order(ws: Workspace) -> None:
    n = 250_000  # more than one batch (MAX_BATCH) even if the writer never ran in between
    assert n > writer_module.MAX_BATCH
    run = Experiment(ws, "order").start_logging()
    for i in range(n):
        run.log("loss", float(i), step=i)
    run.complete()
    run = fresh_run(ws, run.id)
    history = run.get_metric_history("loss")
    assert_contiguous([p.value for p in history], [p.step for p in history], at_least=n)
    assert len(history) == n
    assert run.get_metrics("loss")["loss"] == [float(i) for i in range(n)]


def test_interleaved_series_and_runs_keep_their_own_order(ws: Workspace) -> None:
    exp = Experiment(ws, "order")
    first, second = exp.start_logging(), exp.start_logging()
    n = 30_000
    for i in range(n):
        first.log("a", float(i), step=i)
        second.log("a", -float(i), step=i)
        first.log("b", float(i) + 0.5, step=None if i % 2 else i)
        if i % 3 == 0:
            first.log("c", float(i), step=n - i)
        if i == n // 2:
            first.flush()  # a flush in the middle must not reorder anything either
    first.complete()
    second.complete()
    first, second = fresh_run(ws, first.id), fresh_run(ws, second.id)
    a = first.get_metric_history("a")
    assert [(p.value, p.step) for p in a] == [(float(i), i) for i in range(n)]
    assert [(p.value, p.step) for p in second.get_metric_history("a")] == [(-float(i), i) for i in range(n)]
    b = first.get_metric_history("b")
    assert [(p.value, p.step) for p in b] == [(float(i) + 0.5, None if i % 2 else i) for i in range(n)]
    c = first.get_metric_history("c")
    assert [(p.value, p.step) for p in c] == [(float(i), n - i) for i in range(0, n, 3)]
    timestamps = [p.timestamp for p in a]
    assert timestamps == sorted(timestamps)


# -- 8. an unavailable store delays points, never drops or duplicates them -------------------------------


class FlakyLogBatch:
    """Stands in for ``store.log_batch``: raises BackendUnavailableError while the store is down.

    ``down_after`` lets the outage begin after that many more successful calls (mid-batch).
    """

    def __init__(self, original: Callable[..., None]) -> None:
        self.original = original
        self.down = False
        self.down_after: int | None = None
        self.failures = 0
        self.successes = 0

    def __call__(self, run_id: str, metrics: Any = (), params: Any = None, tags: Any = None) -> None:
        if self.down_after is not None:
            if self.down_after == 0:
                self.down, self.down_after = True, None
            else:
                self.down_after -= 1
        if self.down:
            self.failures += 1
            raise BackendUnavailableError("the metadata store is unavailable (simulated outage)")
        self.original(run_id, metrics, params, tags)
        self.successes += 1


@pytest.fixture
def quiet_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The background thread waits an hour between rounds: only flush() writes, so counts are exact."""
    monkeypatch.setattr(writer_module, "FLUSH_INTERVAL_S", 3600.0)


def test_flush_raises_during_an_outage_and_writes_everything_once_after(
    quiet_writer: None, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Experiment(ws, "outage").start_logging()
    writer = ws.writer
    flaky = FlakyLogBatch(writer.store.log_batch)
    monkeypatch.setattr(writer.store, "log_batch", flaky)

    flaky.down = True
    for i in range(1_000):
        run.log("m", float(i), step=i)
    with pytest.raises(BackendUnavailableError):
        run.flush()
    assert writer.pending == 1_000  # still queued, in front of anything logged later
    assert stored_points(db_path(ws)) == 0
    for i in range(1_000, 1_500):
        run.log("m", float(i), step=i)
    with pytest.raises(BackendUnavailableError):
        run.flush()
    assert writer.pending == 1_500
    assert flaky.failures == 2

    flaky.down = False
    run.flush()
    assert writer.pending == 0
    run.complete()
    assert stored_points(db_path(ws)) == 1_500
    history = fresh_run(ws, run.id).get_metric_history("m")
    assert_contiguous([p.value for p in history], [p.step for p in history], at_least=1_500)
    assert len(history) == 1_500


def test_background_writer_retries_after_an_outage_on_its_own(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Experiment(ws, "outage").start_logging()
    writer = ws.writer
    flaky = FlakyLogBatch(writer.store.log_batch)
    monkeypatch.setattr(writer.store, "log_batch", flaky)
    flaky.down = True
    for i in range(2_000):
        run.log("m", float(i), step=i)
    wait_until(lambda: flaky.failures >= 2, "the background writer to hit the outage twice")
    assert stored_points(db_path(ws)) == 0
    flaky.down = False
    wait_until(lambda: stored_points(db_path(ws)) >= 2_000, "the background writer to catch up", timeout=60)
    run.complete()
    history = fresh_run(ws, run.id).get_metric_history("m")
    assert_contiguous([p.value for p in history], [p.step for p in history], at_least=2_000)
    assert len(history) == 2_000


def test_outage_beginning_mid_batch_writes_each_point_once(
    quiet_writer: None, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One batch holds points of two runs. Their one transaction (log_points) is refused with a
    # deterministic error here, so they are written run by run; the store goes down after the first
    # run's transaction committed: the retry must not write that run's points again.
    exp = Experiment(ws, "outage")
    first, second = exp.start_logging(), exp.start_logging()
    writer = ws.writer
    flaky = FlakyLogBatch(writer.store.log_batch)
    monkeypatch.setattr(writer.store, "log_batch", flaky)

    def refuse(points: Any) -> None:
        raise InvalidArgumentError("refused as one batch (simulated)")

    monkeypatch.setattr(writer.store, "log_points", refuse)
    for i in range(1_000):
        first.log("m", float(i), step=i)
        second.log("m", float(i), step=i)
    flaky.down_after = 1
    with pytest.raises(BackendUnavailableError):
        first.flush()
    assert flaky.successes == 1
    flaky.down = False
    first.flush()
    first.complete()
    second.complete()
    for run_id in (first.id, second.id):
        history = fresh_run(ws, run_id).get_metric_history("m")
        assert len(history) == 1_000, f"run {run_id}: {len(history)} points for 1000 logged"
        assert_contiguous([p.value for p in history], [p.step for p in history], at_least=1_000)


# -- 9. the writer thread ------------------------------------------------------------------------------------


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WRITER_THREAD and t.is_alive()]


def test_points_of_several_runs_are_one_transaction_and_a_refused_run_holds_back_no_other(
    quiet_writer: None, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = Experiment(ws, "many")
    runs = [exp.start_logging() for _ in range(5)]
    runs[2].log_table("m", {"a": [1]})  # "m" of this run is a table: numbers are refused by the store
    runs[2].flush()
    runs[2] = ws.get_run(runs[2].id)  # a handle that has not seen the table (as another process's)
    writer = ws.writer
    calls: list[list[str]] = []
    original = writer.store.log_points

    def counted(points: Any) -> None:
        calls.append(sorted(points))
        original(points)

    monkeypatch.setattr(writer.store, "log_points", counted)
    for i in range(100):
        for run in (runs[0], runs[1], runs[3], runs[4]):
            run.log("m", float(i), step=i)
    runs[0].flush()
    assert calls == [sorted(r.id for r in (runs[0], runs[1], runs[3], runs[4]))]  # one transaction
    for i in range(100):
        for run in runs:
            run.log("m", float(i), step=i)
    with pytest.raises(MlwsError, match=f"100 points of run {runs[2].id}: .*holds rows"):
        runs[0].flush()  # the refused run's points are reported...
    for run in (runs[0], runs[1], runs[3], runs[4]):  # ...and the others' written, each point once
        history = fresh_run(ws, run.id).get_metric_history("m")
        assert [p.value for p in history] == [float(i) for i in range(100)] * 2


def test_close_backends_writes_pending_points_and_stops_every_writer_thread(tmp_path: Path) -> None:
    for round_ in range(3):  # open and close repeatedly: threads never pile up
        workspaces = [Workspace.create(tmp_path / f"ws{round_}-{i}") for i in range(3)]
        run_ids = []
        for ws in workspaces:
            run = Experiment(ws, "threads").start_logging()
            for i in range(100):
                run.log("m", float(i), step=i)  # left unflushed on purpose
            run_ids.append(run.id)
        assert len(writer_threads()) >= len(workspaces)
        close_backends()
        assert writer_threads() == []
        for ws, run_id in zip(workspaces, run_ids, strict=True):
            history = Workspace(ws.root).get_run(run_id).get_metric_history("m")
            assert [p.value for p in history] == [float(i) for i in range(100)]
        close_backends()
        assert writer_threads() == []


def test_flush_waits_for_a_batch_the_writer_thread_has_taken_but_not_committed() -> None:
    # The writer thread pops a batch and is inside the store's write when a reader flushes: the
    # queue is empty then, and flush() used to return at once — the read that followed missed the
    # batch (seen as a flaky `get_metrics` right after `log`).
    entered, release = threading.Event(), threading.Event()
    committed: list[Any] = []

    class SlowStore:
        def log_batch(self, run_id: str, points: list[Any]) -> None:
            entered.set()
            release.wait(30)
            committed.extend(points)

    writer = writer_module.MetricWriter(SlowStore())  # type: ignore[arg-type]
    try:
        writer.append(("run", "loss", 0.5, None, 0.0))
        assert entered.wait(30), "the writer thread never took the batch"
        assert not writer.queue  # taken off the queue, not yet committed
        flushed = threading.Event()
        flusher = threading.Thread(target=lambda: (writer.flush(), flushed.set()))
        flusher.start()
        assert not flushed.wait(0.3), "flush returned before the batch in flight was committed"
        release.set()
        flusher.join(30)
        assert flushed.is_set() and committed == [("loss", 0.5, None, 0.0)]
    finally:
        release.set()
        writer.close()
