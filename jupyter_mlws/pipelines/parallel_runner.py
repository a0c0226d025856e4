"""The job a ``ParallelRunStep`` runs (issue 19): ``python -m jupyter_mlws.pipelines.parallel_runner
--settings JSON [--output FOLDER] -- [entry script arguments]``.

Inside the step's job (``Run.get_context()`` is the step run) it reads the step's inputs, splits
them into mini-batches, creates one NotStarted child run per mini-batch (tags: the partition's key
values; property ``mlws.parallel.index``), and fans the mini-batches out through the compute
target's task executor (``ComputeBackend.task_executor``: a process pool here, a Dask cluster's
workers there) in tasks of a few mini-batches each. A task is :func:`run_mini_batches`, a
module-level function of picklable arguments: it opens the workspace from its locator, imports the
entry script once per process (from the snapshot folder, restored there from the artifact store
when the worker is another machine) and calls ``init()`` once per process; then per mini-batch the
child run goes Running, ``run(mini_batch)`` runs with ``Run.get_context()`` answering that child
(:func:`~jupyter_mlws.core.runs.context_run`), and the child ends Completed or Failed with the error.
A task's children write their file rows and ends in a group commit (``core.services.held_writes``):
one transaction for a burst of quick mini-batches, made before the task reports them.

The runner logs one line per mini-batch to the step's log, stops handing out work once failures
pass ``error_threshold`` (then the step fails with the reason), writes the rows of
``output_action="append_row"`` to the append_row file, and records the summary on the step run:
properties ``mlws.parallel.partitions|succeeded|failed|seconds|error_threshold|partition_keys`` and
metrics ``partitions``, ``succeeded``, ``failed``, ``seconds``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import hashlib
import importlib.machinery
import importlib.util
import json
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

from ..core.experiment import Experiment
from ..core.interfaces.compute import default_concurrency, start_local_task_pool
from ..core.jobs import target_backend
from ..core.layout import ENV_RUN_ID, ENV_TASK_POOL, LOCAL_TASK_POOL
from ..core.locator import job_store_modules, open_located, private_cache_dir, workspace_locator
from ..core.registry import store_modules
from ..core.runs import Run, context_run
from ..core.runs.remote import job_input_values
from ..core.services import held_writes
from ..core.services.liveness import HOSTNAME, stop_beating
from ..core.status import TERMINAL_STATUSES, RunStatus
from ..errors import InvalidArgumentError, MlwsError
from .parallel import DEFAULT_APPEND_ROW_FILE, level_number, parse_mini_batch_size

if TYPE_CHECKING:
    from ..core.entities import RunRecord
    from ..core.workspace import Workspace

__all__ = [
    "INDEX_PROPERTY",
    "MINI_BATCH_RUN_TYPE",
    "EntryScriptError",
    "MiniBatch",
    "MiniBatchResult",
    "MiniBatchTask",
    "entry_imports",
    "main",
    "run_mini_batches",
    "split_inputs",
    "warm_entry",
]

MINI_BATCH_RUN_TYPE = "mlws.parallel.MiniBatch"
INDEX_PROPERTY = "mlws.parallel.index"
SUMMARY_PREFIX = "mlws.parallel."
DEFAULT_FILES_PER_BATCH = 10  # v1's default mini_batch_size for a file dataset
DEFAULT_TABULAR_BATCH = "1MB"  # and for a tabular one
TASKS_PER_WORKER = 4  # tasks handed out per worker: few enough to cost little, enough to balance
# A task's mini-batches share one hand-over and one group commit: 40 short ones (a few tenths of a
# second) cost less per partition than 16 did, and leave a worker at most that long alone at the end.
MAX_BATCHES_PER_TASK = 40
WARM_WORKERS = 2  # pool processes that load the entry script while the inputs are split
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"

log = logging.getLogger("jupyter_mlws.parallel")


# -- mini-batches ---------------------------------------------------------------------------------------
@dataclass
class MiniBatch:
    """One mini-batch: its index, display name, tags and data (a DataFrame or a list of file paths)."""

    index: int
    display_name: str
    tags: dict[str, str]
    data: Any


@dataclass
class Rows:
    """A tabular mini-batch's data: rows ``start:stop`` of ``source``, a frame that a task's mini-batches
    share (a task carries the rows of its mini-batches once, pickled together, not a frame each: pickling
    and unpickling a small DataFrame costs more than training a small model). The entry script gets
    :meth:`frame`."""

    source: Any  # a pandas DataFrame
    start: int
    stop: int

    def frame(self) -> Any:
        """The mini-batch's DataFrame (its own index, from 0)."""
        return self.source.iloc[self.start : self.stop].reset_index(drop=True)


def _key_text(value: Any) -> str:
    """A partition key's value as text, a missing one as pandas' groups name it (None: nan)."""
    return _text(float("nan") if value is None else value)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def split_inputs(values: Mapping[str, Any], settings: Mapping[str, Any], workdir: Path) -> list[MiniBatch]:
    """The step's inputs (``input_datasets``) as mini-batches: a tabular input by ``partition_keys``
    or by ``mini_batch_size`` bytes, a file input by ``mini_batch_size`` files."""
    names = list(settings["inputs"])
    tabular, files = [], []
    for name in names:
        if name not in values:
            raise InvalidArgumentError(f"the step's input {name!r} was not staged for its job")
        value = values[name]
        if hasattr(value, "to_pandas_dataframe"):
            tabular.append(value)
        elif isinstance(value, str):
            files.append(Path(value))
        elif hasattr(value, "download"):  # a file dataset read directly: its files, here
            folder = workdir / ".mlws-parallel" / name
            value.download(folder, overwrite=True)
            files.append(folder)
        else:
            raise InvalidArgumentError(f"the step's input {name!r} is neither a tabular nor a file dataset: {value!r}")
    if tabular and files:
        raise InvalidArgumentError(
            f"the inputs of a ParallelRunStep are all tabular or all file datasets; these mix both: {names}"
        )
    if tabular:
        return _split_tabular([t.to_pandas_dataframe() for t in tabular], settings)
    return _split_files(files, settings)


def _split_tabular(frames: list[Any], settings: Mapping[str, Any]) -> list[MiniBatch]:
    import numpy as np
    import pandas as pd

    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    keys = settings.get("partition_keys")
    if keys:
        missing = [k for k in keys if k not in df.columns]
        if missing:
            raise InvalidArgumentError(
                f"partition_keys {missing} are not columns of the input; its columns: {[str(c) for c in df.columns]}"
            )
        # The rows grouped by the keys' values, in the groups' sorted order (each group's rows as they
        # came): one frame, each partition a range of it.
        # Only the categories a categorical key has rows of (pandas 3's default; pandas 2's was all).
        codes = df.groupby(list(keys), sort=True, dropna=False, observed=True).ngroup().to_numpy()
        ordered = df.take(np.argsort(codes, kind="stable"))
        key_columns = [ordered.columns.get_loc(k) for k in keys]
        batches: list[MiniBatch] = []
        start = 0
        for count in np.bincount(codes).tolist():
            if count:  # (every group has rows: a guard, should a pandas number an empty one)
                tags = {k: _key_text(ordered.iat[start, column]) for k, column in zip(keys, key_columns, strict=True)}
                name = ", ".join(f"{k}={v}" for k, v in tags.items())
                batches.append(MiniBatch(len(batches), name, tags, Rows(ordered, start, start + count)))
            start += count
        return batches
    size = parse_mini_batch_size(settings.get("mini_batch_size") or DEFAULT_TABULAR_BATCH, files=False)
    if len(df) == 0:
        return []
    row_bytes = max(1.0, float(df.memory_usage(deep=True, index=False).sum()) / len(df))
    rows = max(1, int(size // row_bytes))
    return [
        MiniBatch(i, f"mini-batch {i}", {}, Rows(df, start, min(start + rows, len(df))))
        for i, start in enumerate(range(0, len(df), rows))
    ]


def _split_files(folders: list[Path], settings: Mapping[str, Any]) -> list[MiniBatch]:
    if settings.get("partition_keys"):
        raise InvalidArgumentError(
            "partition_keys split a tabular dataset by its columns; the input is a file dataset: use "
            "mini_batch_size (files per mini-batch) instead"
        )
    size = parse_mini_batch_size(settings.get("mini_batch_size") or DEFAULT_FILES_PER_BATCH, files=True)
    paths: list[str] = []
    for folder in folders:
        if folder.is_file():
            paths.append(str(folder))
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            paths += [str(Path(dirpath) / f) for f in sorted(filenames)]
    return [
        MiniBatch(i, f"mini-batch {i}", {}, paths[start : start + size])
        for i, start in enumerate(range(0, len(paths), size))
    ]


# -- the task a worker runs -------------------------------------------------------------------------------
@dataclass
class MiniBatchTask:
    """A few mini-batches for one worker (picklable: it may travel to another machine)."""

    locator: dict[str, Any]
    step_run_id: str
    experiment: str
    source: str  # the snapshot folder on the runner's machine
    snapshot_id: str | None
    host: str
    entry_script: str
    arguments: list[str]
    output_action: str
    run_invocation_timeout: int
    run_max_try: int
    # A process of the runner's own pool (not a cluster's worker): it stops on SIGTERM as the step
    # is canceled, and logs to the step's log at this level.
    pool_process: bool = False
    log_level: int = logging.INFO
    items: list[tuple[int, str, Any]] = field(default_factory=list)  # (index, child run id, data)
    # The children's records as created (NotStarted): a worker starts each with one compare-and-set
    # instead of reading it first (issue 19: a query less a partition).
    created: dict[str, RunRecord] = field(default_factory=dict)


@dataclass
class MiniBatchResult:
    """How a mini-batch went: its rows (append_row) or its error."""

    index: int
    run_id: str
    ok: bool
    seconds: float
    attempts: int
    error: str | None = None
    rows: list[str] = field(default_factory=list)


class _Entry:
    """The entry script loaded in this process for one step run, its ``init()`` called once."""

    def __init__(self, task: MiniBatchTask) -> None:
        started = time.monotonic()
        self.ws = open_located(task.locator)
        self.experiment = Experiment(self.ws, task.experiment)
        self.module: ModuleType | None = None
        self.init_error: BaseException | None = None
        folder = _source_folder(self.ws, task)
        path = folder / task.entry_script
        digest = hashlib.sha256(f"{task.step_run_id}:{path}".encode()).hexdigest()[:12]
        self.folder, self.module_name = str(folder), f"mlws_entry_{digest}"
        argv = sys.argv
        sys.argv = [str(path), *task.arguments]  # v1: the step's arguments are the entry script's argv
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))  # the entry script's own modules import
        try:
            spec = importlib.util.spec_from_file_location(self.module_name, path)
            if spec is None or spec.loader is None:
                raise InvalidArgumentError(f"entry_script {task.entry_script!r} cannot be imported from {folder}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if not callable(getattr(module, "run", None)):
                raise InvalidArgumentError(f"entry_script {task.entry_script!r} has no run(mini_batch) function")
            init = getattr(module, "init", None)
            if callable(init):
                # init() sees the step run as its context, on a worker of any machine.
                with context_run(Run(self.experiment, task.step_run_id)):
                    init()
            self.module = module
        except BaseException as exc:  # every mini-batch of this process fails with it
            self.init_error = EntryScriptError(
                f"the entry script {task.entry_script!r} failed to load or init(): {type(exc).__name__}: {exc}"
            )
            self.init_error.__cause__ = exc  # its traceback is the cause's
            if not isinstance(exc, Exception):
                raise
        finally:
            sys.argv = argv
        if self.init_error is not None:
            log.error("worker %d: %s", os.getpid(), self.init_error)
        else:
            log.info("worker %d: entry script loaded, init() done in %.2f s", os.getpid(), time.monotonic() - started)

    def unload(self) -> None:
        """Let go of the step's code (a long-lived Dask worker serves many steps); a task still running
        with this entry keeps its module."""
        sys.modules.pop(self.module_name, None)
        if not any(e.folder == self.folder for e in _entries.values()):
            with contextlib.suppress(ValueError):
                sys.path.remove(self.folder)


class EntryScriptError(Exception):
    """The entry script could not be imported or its init() failed (in this worker process)."""


_entries: dict[tuple[int, str], _Entry] = {}  # the most recently used last
_entries_lock = threading.Lock()
MAX_ENTRIES = 4  # steps whose entry scripts a worker process keeps loaded


def _entry(task: MiniBatchTask) -> _Entry:
    """Once per process and step run (a Dask worker's threads share it); the least recently used
    step's is let go beyond ``MAX_ENTRIES``."""
    key = (os.getpid(), task.step_run_id)
    with _entries_lock:
        entry = _entries.pop(key, None) or _Entry(task)
        _entries[key] = entry
        while len(_entries) > MAX_ENTRIES:
            _entries.pop(next(iter(_entries))).unload()
        return entry


def _source_folder(ws: Workspace, task: MiniBatchTask) -> Path:
    """The step's snapshot folder: the runner's on its machine, else restored once from the
    artifact store into this user's cache (a worker on another machine)."""
    here = Path(task.source)
    if task.host == HOSTNAME and here.is_dir():
        return here
    if not task.snapshot_id:
        raise InvalidArgumentError(f"the step's code {here} is not on this machine and it has no snapshot")
    cache = private_cache_dir("parallel") / task.snapshot_id
    if not cache.is_dir():
        cache.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=cache.parent))
        ws.services.snapshots.restore(task.snapshot_id, scratch)
        try:
            scratch.rename(cache)
        except OSError:  # another process restored it first
            shutil.rmtree(scratch, ignore_errors=True)
    return cache


class _InvocationTimeoutError(Exception):
    """run() took longer than run_invocation_timeout."""


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """``run_invocation_timeout``: a SIGALRM in a worker process's main thread (a pool process);
    elsewhere (a thread of a Dask worker) a call is not interrupted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise _InvocationTimeoutError(f"run() took longer than run_invocation_timeout={seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _rows(result: Any, output_action: str) -> list[str]:
    """What ``run()`` returned, as lines of the append_row file (v1: space separated)."""
    if output_action != "append_row" or result is None:
        return []
    if hasattr(result, "to_csv"):
        text = result.to_csv(sep=" ", header=False, index=False)
        return [line for line in str(text).splitlines() if line]
    if isinstance(result, str | bytes | Mapping) or not hasattr(result, "__iter__"):
        raise InvalidArgumentError(
            f"with output_action='append_row', run() returns a pandas DataFrame or a list of rows, got "
            f"{type(result).__name__}"
        )
    lines = []
    for row in result:
        if isinstance(row, list | tuple):
            lines.append(" ".join(str(v) for v in row))
        else:
            lines.append(str(row))
    return lines


def _pool_worker_setup(task: MiniBatchTask) -> None:
    """A process of the runner's pool (forked from its fork server, not from the runner): on SIGTERM
    (the step is canceled) it writes what it holds of the mini-batches it finished, then dies; it
    logs as the runner does, to the step's log."""
    if not task.pool_process or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not _on_worker_sigterm:
        signal.signal(signal.SIGTERM, _on_worker_sigterm)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=task.log_level, format=LOG_FORMAT, stream=sys.stdout)


def warm_entry(task: MiniBatchTask) -> None:
    """Sent to each worker as the step starts: the entry script is loaded and ``init()`` called
    before the worker's first mini-batches come (``task`` has none)."""
    _pool_worker_setup(task)
    try:
        _entry(task)
    except _WorkerStoppedError:
        os._exit(128 + signal.SIGTERM)  # canceled while loading: nothing is held yet


def run_mini_batches(task: MiniBatchTask) -> list[MiniBatchResult]:
    """A worker's task: each mini-batch as its own child run (see the module docstring)."""
    _pool_worker_setup(task)
    entry = _entry(task)
    results: list[MiniBatchResult] = []
    # A group commit (issue 19): the children's file rows, models and ends are written together, at
    # most MAX_HOLD_S after the first of them ended, and always before this task reports its results.
    try:
        with held_writes.holding(entry.ws) as group:
            for index, run_id, data in task.items:
                results.append(_run_one(entry, task, index, run_id, data, group))
    except _WorkerStoppedError:
        os._exit(128 + signal.SIGTERM)  # what SIGTERM's default would do, the held rows written first
    # A child whose end did not apply (it was canceled meanwhile) did not succeed.
    for position, result in enumerate(results):
        if result.run_id in group.moved:
            error = "the mini-batch was canceled while it ran (its step stopped)"
            results[position] = dataclasses.replace(result, ok=False, error=error, rows=[])
    return results


def _run_one(
    entry: _Entry, task: MiniBatchTask, index: int, run_id: str, data: Any, group: held_writes.HeldWrites
) -> MiniBatchResult:
    started = time.monotonic()
    created = task.created.get(run_id)
    now = time.time()
    if created is not None and entry.ws.services.tracking.try_transition(
        run_id, RunStatus.NOT_STARTED, RunStatus.RUNNING, start_time=now
    ):
        # The common case: NotStarted as created, now Running. Anything else (an earlier attempt's
        # work, a cancel) fails the compare-and-set and is read below. A child started here is new
        # (no files yet): its writes are held for the group commit; one run again is written through.
        group.hold(run_id)
        child = Run(
            entry.experiment, run_id, _record=dataclasses.replace(created, status=RunStatus.RUNNING, start_time=now)
        )
    else:
        found = _read_child(entry, index, run_id)
        if isinstance(found, MiniBatchResult):
            return found
        child = found
    return _run_started(entry, task, index, child, data, started)


def _read_child(entry: _Entry, index: int, run_id: str) -> Run | MiniBatchResult:
    """A child that was not NotStarted as created: Running (run it again), or ended (its result)."""
    child = Run(entry.experiment, run_id)
    status = child.record.status
    if status == RunStatus.COMPLETED:
        # Done by an earlier attempt of this task, whose worker died before the task returned (Dask
        # ran it again): it counts as done; the rows it returned went with that worker.
        log.warning("mini-batch %d was completed by an earlier attempt of its task; its rows were lost", index)
        return MiniBatchResult(index, run_id, True, 0.0, 0)
    if status not in (RunStatus.NOT_STARTED, RunStatus.RUNNING):  # the step stopped (canceled) meanwhile
        return MiniBatchResult(index, run_id, False, 0.0, 0, f"not run: the mini-batch was {status.value}")
    if status == RunStatus.NOT_STARTED:
        child.start()
    # else: Running, left by an earlier attempt of this task whose worker died: run it again, with a
    # new start time (which tells _salvage_broken that this attempt reached it).
    elif not entry.ws.services.tracking.try_transition(run_id, status, status, start_time=time.time()):
        return _read_child(entry, index, run_id)  # it moved meanwhile
    return child


def _run_started(
    entry: _Entry, task: MiniBatchTask, index: int, child: Run, data: Any, started: float
) -> MiniBatchResult:
    run_id = child.id
    child._vouched_for()  # the runner that created it beats for it until it ends
    error: BaseException | None = entry.init_error
    rows: list[str] = []
    attempts = 0
    if entry.module is not None:
        for attempts in range(1, task.run_max_try + 1):  # noqa: B007 - the count is reported
            try:
                with context_run(child), _time_limit(task.run_invocation_timeout):
                    result = entry.module.run(data.frame() if isinstance(data, Rows) else data)
                rows = _rows(result, task.output_action)
                error = None
                break
            except Exception as exc:
                error = exc
    seconds = time.monotonic() - started
    if error is None:
        child.complete()
        return MiniBatchResult(index, run_id, True, seconds, attempts, rows=rows)
    child.fail(error)
    message = str(error) if isinstance(error, EntryScriptError) else f"{type(error).__name__}: {error}"
    return MiniBatchResult(index, run_id, False, seconds, attempts, message.splitlines()[0] if message else "")


# -- the runner ---------------------------------------------------------------------------------------------
def _limit_reason(failed: int, total: int, settings: Mapping[str, Any]) -> str | None:
    """Why the failures so far stop the step (None: they do not)."""
    threshold = int(settings["error_threshold"])
    if threshold != -1 and failed > threshold:
        return f"{failed} of {total} mini-batches failed, more than error_threshold={threshold}"
    count = settings.get("allowed_failed_count")
    if count is not None and failed > int(count):
        return f"{failed} of {total} mini-batches failed, more than allowed_failed_count={count}"
    percent = settings.get("allowed_failed_percent")
    if percent is not None and total and failed * 100 / total > float(percent):
        return f"{failed} of {total} mini-batches failed, more than allowed_failed_percent={percent}"
    return None


def _groups(batches: list[MiniBatch], workers: int) -> Iterator[list[MiniBatch]]:
    """The mini-batches in tasks of a few each (about ``TASKS_PER_WORKER`` tasks per worker)."""
    per_task = max(1, min(MAX_BATCHES_PER_TASK, math.ceil(len(batches) / max(1, workers * TASKS_PER_WORKER))))
    for start in range(0, len(batches), per_task):
        yield batches[start : start + per_task]


def _children(step: Run, group: list[MiniBatch]) -> dict[str, Any]:
    """One NotStarted child run of the step per mini-batch, made in one transaction: the task's
    ``items`` (``(index, run id, data)``) and ``created`` (the records)."""
    records = step.experiment.workspace.services.tracking.create_children(
        step.experiment.record,
        step.id,
        [{"display_name": b.display_name, "tags": b.tags, "properties": {INDEX_PROPERTY: str(b.index)}} for b in group],
        run_type=MINI_BATCH_RUN_TYPE,
    )
    return {
        "items": [(b.index, r.run_id, data) for b, r, data in zip(group, records, _packed(group), strict=True)],
        "created": {r.run_id: r for r in records},
    }


def _packed(group: list[MiniBatch]) -> list[Any]:
    """The group's data, its tabular rows as ranges of one frame holding just theirs (a task pickles
    it once: see :class:`Rows`)."""
    rows = [b.data for b in group if isinstance(b.data, Rows)]
    if not rows or len(rows) != len(group) or any(r.source is not rows[0].source for r in rows):
        return [b.data for b in group]
    first, last = min(r.start for r in rows), max(r.stop for r in rows)
    shared = rows[0].source.iloc[first:last]
    return [Rows(shared, r.start - first, r.stop - first) for r in rows]


class _StepStoppedError(BaseException):
    """SIGTERM (the step is being canceled): stop handing out work."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _StepStoppedError("the step was asked to stop")


class _WorkerStoppedError(BaseException):
    """SIGTERM in a pool worker process: write what is held, then exit."""


def _on_worker_sigterm(signum: int, frame: FrameType | None) -> None:
    # Once: a second SIGTERM (the pool stops its processes when it sees one of them gone) must not
    # interrupt the writing of what this one holds.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _WorkerStoppedError("the worker was asked to stop")


def run_step(step: Run, settings: Mapping[str, Any], output: Path | None, arguments: list[str]) -> str | None:
    """Run the step's mini-batches; returns why the step fails (None: it completes)."""
    ws = step.experiment.workspace
    workdir = Path.cwd()
    started = time.monotonic()
    planned = max(
        1, int(settings.get("node_count") or 1) * int(settings.get("process_count_per_node") or default_concurrency())
    )
    template = MiniBatchTask(
        locator=workspace_locator(ws),
        step_run_id=step.id,
        experiment=step.experiment.name,
        source=str(workdir),
        snapshot_id=step.record.snapshot_id,
        host=HOSTNAME,
        entry_script=str(settings["entry_script"]),
        arguments=arguments,
        output_action=str(settings["output_action"]),
        run_invocation_timeout=int(settings["run_invocation_timeout"]),
        run_max_try=int(settings["run_max_try"]),
        log_level=logging.getLogger().getEffectiveLevel(),
    )
    results: dict[int, MiniBatchResult] = {}
    failed = 0
    stop_reason: str | None = None
    target = step.record.compute_target or "local"
    backend = target_backend(ws, target)
    # Before the pool starts: a SIGTERM from then on stops the fan-out (the pool's processes set up
    # their own handler with their first task; the fork server ignores it: see core/preload.py).
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    pools = contextlib.ExitStack()
    try:
        preload = _preload(step.input_datasets, workdir / template.entry_script, workdir)
        # The workspace's stores too: a worker opens the workspace before its first mini-batch.
        preload += store_modules(ws.metadata_url, ws.artifact_url)
        pool = pools.enter_context(backend.task_executor(planned, preload))
        if isinstance(pool, ProcessPoolExecutor):
            template.pool_process = True
            # The first workers start now and load the entry script (its imports done by the pool's
            # fork server meanwhile, then init()) while this process reads and splits the inputs and
            # makes the children. Only a few: how many mini-batches there are is not known yet. From
            # a thread: a process of the pool starts once the fork server has its imports. (A
            # cluster's workers are shared and placed by the cluster: they load it with their first
            # task.)
            threading.Thread(
                target=_warm, args=(pool, template, min(planned, WARM_WORKERS)), name="mlws-warm", daemon=True
            ).start()
        batches = split_inputs(step.input_datasets, settings, workdir)
        total = len(batches)
        log.info("%d mini-batches from input(s) %s", total, ", ".join(settings["inputs"]))
        workers = max(1, min(planned, total or 1))
        names = {b.index: b.display_name for b in batches}
        retry: list[MiniBatchTask] | None = None  # None: the first round makes its tasks as it goes
        while True:
            if retry is None:
                tasks: Iterator[MiniBatchTask] = (
                    MiniBatchTask(**{**template.__dict__, **_children(step, group)})
                    for group in _groups(batches, workers)
                )
            else:
                tasks = iter(retry)
            ended_before = len(results)
            retry = []
            with pools:
                log.info("fanning out to %d worker(s) on %r", workers, target)
                pending: set[Future[list[MiniBatchResult]]] = set()
                owners: dict[Future[list[MiniBatchResult]], MiniBatchTask] = {}
                handed: dict[Future[list[MiniBatchResult]], float] = {}  # when each task was handed out
                # Each task's children are made just before it is handed out: the first workers start
                # on theirs while the runner makes the rest.
                for task in tasks:
                    try:
                        future = pool.submit(run_mini_batches, task)
                    except BrokenProcessPool:  # a worker died already (init() killing its process)
                        retry.append(task)
                        continue
                    pending.add(future)
                    owners[future] = task
                    handed[future] = time.time()
                try:
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            if _pool_broke(future):
                                ended, unstarted = _salvage_broken(ws, owners[future], handed[future])
                                if unstarted is not None:
                                    retry.append(unstarted)
                            else:
                                ended = _task_results(ws, future, owners[future])
                            for result in ended:
                                results[result.index] = result
                                stop_beating(ws.metadata, result.run_id)  # ended: its creator no longer vouches
                                failed += not result.ok
                                _log_result(result, names[result.index])
                        if stop_reason is None and _limit_reason(failed, total, settings):
                            stop_reason = "failures"
                            log.error("stopping: %s", _limit_reason(failed, total, settings))
                            for future in pending:
                                future.cancel()
                except _StepStoppedError:
                    # Before leaving the pool (which waits for its tasks): the children not run yet end
                    # Canceled, so a task that starts meanwhile runs none of them, and the rest is dropped.
                    _end_unfinished(ws, step.id, "canceled")
                    for future in pending:
                        future.cancel()
                    raise
            if not retry or stop_reason is not None:
                break
            if len(results) == ended_before:
                # The pool broke before any mini-batch ran (init() killing its process, say): no progress.
                stop_reason = "failures"
                log.error("stopping: the worker processes die before running any mini-batch")
                break
            # A mini-batch killed its worker process (os._exit, a crash, out of memory): the pool is
            # broken, and what it had not started yet goes to a new one.
            log.warning("a worker process died: %d task(s) not run go to a new pool", len(retry))
            pools = contextlib.ExitStack()
            pool = pools.enter_context(backend.task_executor(workers, preload))
    except _StepStoppedError:
        stop_reason = "canceled"
        raise
    finally:
        try:
            pools.close()  # left open only when the step stopped before fanning out (bad input, a cancel)
        finally:
            signal.signal(signal.SIGTERM, previous)
            _end_unfinished(ws, step.id, stop_reason)
    seconds = time.monotonic() - started
    succeeded = sum(1 for r in results.values() if r.ok)
    failed = sum(1 for r in results.values() if not r.ok)
    reason = _limit_reason(failed, total, settings)
    if settings["output_action"] == "append_row":
        _write_rows(results, output, str(settings.get("append_row_file_name") or DEFAULT_APPEND_ROW_FILE), workdir)
    _summary(step, settings, total, succeeded, failed, seconds)
    log.info("%d of %d mini-batches succeeded, %d failed, in %.2f s", succeeded, total, failed, seconds)
    return reason


def _warm(pool: ProcessPoolExecutor, template: MiniBatchTask, workers: int) -> None:
    with contextlib.suppress(Exception):  # a pool that breaks or closes meanwhile: the tasks report it
        for _ in range(workers):
            pool.submit(warm_entry, template)


def _start_pool_early(settings: Mapping[str, Any]) -> None:
    """In a job whose tasks run in a pool of this machine's processes (its ``MLWS_TASK_POOL`` says
    so), start the pool's fork server now, before the workspace opens and the inputs are read: its
    imports (seconds, for scikit-learn) are the first workers' critical path. Anything amiss here is
    left to run_step, which meets it again and reports it."""
    run_id = os.environ.get(ENV_RUN_ID)
    if os.environ.get(ENV_TASK_POOL) != LOCAL_TASK_POOL or not run_id:
        return
    stores = job_store_modules()
    if stores is None:
        return
    workdir = Path.cwd()
    try:
        modules = _preload(job_input_values(run_id), workdir / str(settings["entry_script"]), workdir)
    except (MlwsError, KeyError):
        return
    start_local_task_pool(modules + stores)


def _preload(inputs: Mapping[str, Any], entry_script: Path, folder: Path) -> list[str]:
    """The modules a pool's processes import before their first task: this runner's (the tasks'
    code; run_step runs in the module imported by name, never in ``__main__``), pandas for a tabular
    input among ``inputs`` (its mini-batches are DataFrames), and the libraries the entry script
    imports at its top level (not its own modules beside it: only its init() runs its code, once per
    process)."""
    modules = [__name__]
    if any(hasattr(value, "to_pandas_dataframe") for value in inputs.values()):
        modules.append("pandas")
    for name in entry_imports(entry_script):
        top = name.split(".")[0]
        try:  # a top-level name: found without importing anything
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        if spec is None or _inside(spec, folder):
            continue
        if name not in modules:
            modules.append(name)
    return modules


def _inside(spec: importlib.machinery.ModuleSpec, folder: Path) -> bool:
    """Whether a module is the step's own code: a file or a package (a namespace one too) in its folder."""
    places = list(spec.submodule_search_locations or [])
    if spec.has_location and spec.origin:
        places.append(spec.origin)
    root = folder.resolve()
    return any(Path(place).resolve().is_relative_to(root) for place in places)


def entry_imports(path: Path) -> list[str]:
    """The absolute imports at an entry script's top level (also under a top-level ``if`` or
    ``try``), in order; none if it cannot be read or parsed (its import reports that)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    names: list[str] = []
    statements: list[ast.AST] = list(tree.body)
    while statements:
        node = statements.pop(0)
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.If):
            if not _never_at_import(node.test):
                statements[:0] = [*node.body, *node.orelse]
        elif isinstance(node, ast.Try | ast.TryStar):
            statements[:0] = [*node.body, *node.handlers, *node.orelse, *node.finalbody]
        elif isinstance(node, ast.ExceptHandler):
            statements[:0] = list(node.body)
    return names


def _never_at_import(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` and ``if __name__ == "__main__":``: imports a worker never runs."""
    if isinstance(test, ast.Name | ast.Attribute):
        return (test.id if isinstance(test, ast.Name) else test.attr) == "TYPE_CHECKING"
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _pool_broke(future: Future[list[MiniBatchResult]]) -> bool:
    """Whether the task was lost with its process pool (a worker process died: every task then fails)."""
    if future.cancelled():
        return False
    return isinstance(future.exception(), BrokenProcessPool)


def _salvage_broken(
    ws: Workspace, task: MiniBatchTask, handed_out: float
) -> tuple[list[MiniBatchResult], MiniBatchTask | None]:
    """A task lost with its pool: what its records say of each mini-batch. Those it ended count as they
    ended (a completed one's rows went with the pool); the one it was running fails (its process died,
    or was stopped because another one's died); those it never started, and those whose ends it held
    (a group commit) when its process died, make a task for the next pool."""
    ended: list[MiniBatchResult] = []
    unstarted = []
    records = [(index, run_id, data, ws.services.queries.run(run_id)) for index, run_id, data in task.items]
    # The children this task reached got a start time after it was handed out (a re-run one too: see
    # _read_child); the one it reached last was running. A Running child it did not reach was left
    # by an earlier pool.
    reached = [
        (record.start_time, run_id)
        for _index, run_id, _data, record in records
        if record.status == RunStatus.RUNNING and record.start_time is not None and record.start_time >= handed_out
    ]
    running = max(reached)[1] if reached else None
    for index, run_id, data, record in records:
        if record.status == RunStatus.NOT_STARTED or (record.status == RunStatus.RUNNING and run_id != running):
            unstarted.append((index, run_id, data))
            continue
        if record.status == RunStatus.RUNNING:
            message = "its worker process died while running it (this mini-batch or one beside it crashed)"
            error = {"message": message, "reason": "worker_died"}
            if ws.services.tracking.try_transition(
                run_id, RunStatus.RUNNING, RunStatus.FAILED, end_time=time.time(), error=error
            ):
                ended.append(MiniBatchResult(index, run_id, False, 0.0, 1, message))
                continue
            # It ended meanwhile: a worker the broken pool stopped wrote its held ends as it exited.
            record = ws.services.queries.run(run_id)
        if record.status == RunStatus.COMPLETED:
            ended.append(MiniBatchResult(index, run_id, True, 0.0, 1))
        else:
            message = str((record.error or {}).get("message") or f"the mini-batch ended {record.status.value}")
            ended.append(MiniBatchResult(index, run_id, False, 0.0, 1, message))
    again = MiniBatchTask(**{**task.__dict__, "items": unstarted}) if unstarted else None
    return ended, again


def _task_results(ws: Workspace, future: Future[list[MiniBatchResult]], task: MiniBatchTask) -> list[MiniBatchResult]:
    """A task's results; a task that failed as a whole (its worker died) fails each of its mini-batches."""
    if future.cancelled():
        return []
    try:
        return future.result()
    except Exception as exc:
        message = f"the worker running this mini-batch failed: {type(exc).__name__}: {exc}"
        ended = []
        for index, run_id, _data in task.items:
            error = {"message": message, "traceback": "".join(traceback.format_exception(exc))}
            if any(
                ws.services.tracking.try_transition(run_id, status, RunStatus.FAILED, end_time=time.time(), error=error)
                for status in (RunStatus.NOT_STARTED, RunStatus.RUNNING)
            ):
                ended.append(MiniBatchResult(index, run_id, False, 0.0, 0, message))
                continue
            record = ws.services.queries.run(run_id)  # it had ended: as it ended
            done = record.status == RunStatus.COMPLETED
            said = None if done else str((record.error or {}).get("message") or f"it ended {record.status.value}")
            ended.append(MiniBatchResult(index, run_id, done, 0.0, 0, said))
        return ended


def _end_unfinished(ws: Workspace, step_id: str, stop_reason: str | None) -> None:
    """Children not ended when the step stops end Canceled, saying why (not run, or stopped)."""
    if stop_reason is None:
        return
    why = "the step was canceled" if stop_reason == "canceled" else "the step stopped: too many mini-batches failed"
    records = ws.services.queries.children(step_id)
    if any(r.status == RunStatus.RUNNING for r in records):
        # First what never ran (no worker starts it now), then a moment for the ends a worker holds
        # (a group commit writes them within MAX_HOLD_S; a pool worker at once, as SIGTERM stops it):
        # work that is done is not canceled.
        _cancel(ws, [r for r in records if r.status == RunStatus.NOT_STARTED], why)
        time.sleep(held_writes.MAX_HOLD_S + 0.25)
        records = ws.services.queries.children(step_id)
    _cancel(ws, records, why)


def _cancel(ws: Workspace, records: Sequence[RunRecord], why: str) -> None:
    tracking = ws.services.tracking
    for record in records:
        if record.status not in TERMINAL_STATUSES:
            verb = "not run" if record.status == RunStatus.NOT_STARTED else "stopped"
            error = {"message": f"{verb}: {why}", "reason": "parallel_step_stopped"}
            with contextlib.suppress(MlwsError):
                tracking.try_transition(
                    record.run_id, record.status, RunStatus.CANCELED, end_time=time.time(), error=error
                )


def _log_result(result: MiniBatchResult, name: str) -> None:
    if result.ok:
        log.info("mini-batch %d (%s): Completed in %.3f s", result.index, name, result.seconds)
    else:
        log.error(
            "mini-batch %d (%s): Failed after %d attempt(s): %s", result.index, name, result.attempts, result.error
        )


def _write_rows(results: Mapping[int, MiniBatchResult], output: Path | None, name: str, workdir: Path) -> None:
    folder = output if output is not None else workdir / "outputs"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "w", encoding="utf-8") as f:
        for index in sorted(results):
            for line in results[index].rows:
                f.write(line + "\n")


def _summary(step: Run, settings: Mapping[str, Any], total: int, succeeded: int, failed: int, seconds: float) -> None:
    step.add_properties(
        {
            f"{SUMMARY_PREFIX}partitions": str(total),
            f"{SUMMARY_PREFIX}succeeded": str(succeeded),
            f"{SUMMARY_PREFIX}failed": str(failed),
            f"{SUMMARY_PREFIX}seconds": f"{seconds:.3f}",
            f"{SUMMARY_PREFIX}error_threshold": str(settings["error_threshold"]),
            f"{SUMMARY_PREFIX}partition_keys": json.dumps(list(settings.get("partition_keys") or [])),
        }
    )
    step.log_batch(
        metrics=[
            ("partitions", total, None),
            ("succeeded", succeeded, None),
            ("failed", failed, None),
            ("seconds", seconds, None),
        ]
    )
    step.flush()


def _arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    argv = list(argv)
    user: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, user = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlws.pipelines.parallel_runner")
    parser.add_argument("--settings", required=True, help="the ParallelRunConfig's settings (JSON)")
    parser.add_argument("--output", default=None, help="the folder of the step's output")
    return parser.parse_args(argv), user


def main(argv: Sequence[str] | None = None) -> int:
    options, user = _arguments(sys.argv[1:] if argv is None else argv)
    settings = json.loads(options.settings)
    logging.basicConfig(
        level=level_number(str(settings.get("logging_level") or "INFO")),
        format=LOG_FORMAT,
        stream=sys.stdout,
    )
    _start_pool_early(settings)
    step = Run.get_context(allow_offline=False)
    if not isinstance(step, Run):
        raise InvalidArgumentError(
            "a ParallelRunStep runs on a target whose jobs reach the workspace (local, Dask); "
            f"this job reaches its run only through its supervisor ({type(step).__name__})"
        )
    try:
        reason = run_step(step, settings, Path(options.output) if options.output else None, user)
    except MlwsError as exc:  # bad input (a partition key that is no column...): the reason, no traceback
        return _failed(exc.message, "invalid_input")
    return 0 if reason is None else _failed(reason, "error_threshold")


def _failed(message: str, reason: str) -> int:
    """The step fails with ``message`` as its error (the job's error file) and exit code 1."""
    log.error("the step failed: %s", message)
    error_file = os.environ.get("MLWS_ERROR_FILE")
    if error_file:
        Path(error_file).write_text(json.dumps({"message": message, "reason": reason}), encoding="utf-8")
    return 1


if __name__ == "__main__":
    # Run as `python -m`, this file is `__main__`: the tasks must name the real module, which a
    # worker on another machine imports (by its name, not this process's `__main__`).
    import atexit

    from jupyter_mlws.pipelines.parallel_runner import main as _main

    _code = _main()
    # The step is recorded. What is left is the interpreter's teardown of the inputs' mini-batches
    # and of every module (a fifth of a second for 1,000 partitions) while the supervisor waits for
    # this process to end the step: the exit handlers run (logging, the metric writer, finalizers),
    # the output is flushed, and the process leaves.
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_code)
