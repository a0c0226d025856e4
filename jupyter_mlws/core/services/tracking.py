"""Tracking use cases: create runs, move them through their lifecycle, log metrics/params/tags
and store their files. Record-level: callers pass run ids and get records back."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from ...errors import InvalidArgumentError, InvalidStateError, NotFoundError
from ..entities import ExperimentRecord, FileRecord, MetricPoint, MetricRecordEntry, RunRecord
from ..interfaces import MetadataStore
from ..names import validate_file_name, validate_key, validate_run_id
from ..redaction import REDACTOR
from ..status import ACTIVE_STATUSES, RunStatus, check_transition
from ..values import as_number, as_step, chart_value, str_map, text_values
from . import held_writes, liveness
from .context import Backends

__all__ = ["TrackingService", "error_details", "new_run_id"]


def new_run_id(experiment_name: str) -> str:
    """Azure ML v1 style: ``<experiment>_<unix seconds>_<8 hex>``."""
    return f"{experiment_name}_{int(time.time())}_{uuid.uuid4().hex[:8]}"


def error_details(error: BaseException | str | None, details: Any = None) -> dict[str, Any]:
    """A failed run's ``error``: message (and type and traceback for an exception)."""
    result: dict[str, Any] = {"message": "the run failed"}
    if isinstance(error, BaseException):
        result = {
            "message": f"{type(error).__name__}: {error}",
            "type": type(error).__name__,
            "traceback": "".join(traceback.format_exception(error)),
        }
    elif error is not None:
        result = {"message": str(error)}
    if details is not None:
        result["details"] = details
    return dict(REDACTOR.value(result))


def _masked(fields: dict[str, Any]) -> dict[str, Any]:
    """A transition's fields with any secret a job obtained masked (its error's message, traceback, log tail)."""
    if REDACTOR and fields.get("error") is not None:
        return {**fields, "error": REDACTOR.value(fields["error"])}
    return fields


_own_starts: dict[int, int | None] = {}


def _own_start() -> int | None:
    """This process's start time (``/proc/<pid>/stat``), read once per process (a fork has its own)."""
    pid = os.getpid()
    if pid not in _own_starts:
        _own_starts[pid] = liveness.process_start(pid)
    return _own_starts[pid]


class TrackingService:
    """Writes of experiments and runs."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    @property
    def _store(self) -> MetadataStore:
        return self._b.metadata

    # -- experiments and runs ---------------------------------------------------------------------------
    def experiment(self, name: str) -> ExperimentRecord:
        """The experiment named ``name``, created on first use."""
        record: ExperimentRecord = self._store.get_or_create_experiment(name)
        return record

    def create_run(
        self,
        experiment: ExperimentRecord,
        *,
        status: RunStatus = RunStatus.RUNNING,
        run_type: str = "interactive",
        display_name: str | None = None,
        parent_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        compute_target: str | None = None,
        snapshot_id: str | None = None,
        job_spec: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        now = time.time()
        # A run that is not a job belongs to this process: it is recorded (pid, start time, host,
        # a first heartbeat in the same insert) so a sweep can end it if the process dies.
        owned = compute_target is None and status in ACTIVE_STATUSES
        pid = os.getpid()
        record: RunRecord = self._store.create_run(
            run_id=new_run_id(experiment.name) if run_id is None else validate_run_id(run_id),
            experiment_id=experiment.id,
            status=status,
            run_type=run_type,
            created_time=now,
            parent_run_id=parent_run_id,
            display_name=REDACTOR.text(display_name) if REDACTOR and display_name else display_name,
            start_time=now if status == RunStatus.RUNNING else None,
            tags=str_map("tag", tags),
            properties=str_map("property", properties),
            compute_target=compute_target,
            snapshot_id=snapshot_id,
            job_spec=job_spec,
            supervisor_pid=pid if owned else None,
            supervisor_host=liveness.HOSTNAME if owned else None,
            supervisor_start=_own_start() if owned else None,
        )
        if owned:
            liveness.beat_for(self._store, record.run_id)
        return record

    def create_children(
        self,
        experiment: ExperimentRecord,
        parent_run_id: str,
        children: Sequence[Mapping[str, Any]],
        *,
        status: RunStatus = RunStatus.NOT_STARTED,
        run_type: str = "interactive",
    ) -> list[RunRecord]:
        """Create child runs of ``parent_run_id`` in one transaction (a ParallelRunStep's
        mini-batches, issue 19); each of ``children`` may hold ``display_name``, ``tags`` and
        ``properties``. Like any run that is not a job, they belong to this process (see
        :meth:`create_run`) until they end."""
        now = time.time()
        pid, start = os.getpid(), _own_start()
        owned = status in ACTIVE_STATUSES
        rows = []
        for child in children:
            unknown = set(child) - {"display_name", "tags", "properties"}
            if unknown:
                raise InvalidArgumentError(f"create_children: unknown field(s) {sorted(unknown)} of a child run")
            rows.append(
                {
                    "run_id": new_run_id(experiment.name),
                    "experiment_id": experiment.id,
                    "status": status,
                    "run_type": run_type,
                    "created_time": now,
                    "parent_run_id": parent_run_id,
                    "display_name": REDACTOR.value(child.get("display_name")),
                    "start_time": now if status == RunStatus.RUNNING else None,
                    "tags": str_map("tag", child.get("tags")),
                    "properties": str_map("property", child.get("properties")),
                    "supervisor_pid": pid if owned else None,
                    "supervisor_host": liveness.HOSTNAME if owned else None,
                    "supervisor_start": start if owned else None,
                }
            )
        records: list[RunRecord] = self._store.create_runs(rows)
        if owned:
            for record in records:
                liveness.beat_for(self._store, record.run_id)
        return records

    def join(self, record: RunRecord) -> None:
        """This process writes to ``record``'s run: if it is an interactive run that another process
        created (resumed with ``Run.get``), beat for it too, so that it is not ended as dead when that
        process exits while this one still logs (see :mod:`.liveness`)."""
        if record.compute_target is not None or record.status.is_terminal or record.supervisor_pid is None:
            return
        if (record.supervisor_pid, record.supervisor_host) != (os.getpid(), liveness.HOSTNAME):
            liveness.beat_for(self._store, record.run_id)
            with contextlib.suppress(Exception):  # a missed beat: the thread's next one follows
                self._store.heartbeat([record.run_id])  # now, not in a few seconds: its creator may exit now

    def transition(self, record: RunRecord, new: RunStatus, **fields: Any) -> RunRecord:
        """Move a run to ``new``, optimistically from the status last seen; on a conflict re-read
        the truth and re-check the transition. Returns the updated record."""
        base = record
        fields = _masked(fields)
        for _ in range(20):
            check_transition(base.status, new, record.run_id)
            if self._store.transition_run(record.run_id, base.status, new, **fields):
                if new.is_terminal:
                    liveness.stop_beating(self._store, record.run_id)
                # No re-read on the hot path (every run ends here): the record as it now stands.
                changed = {k: v for k, v in fields.items() if v is not None}
                return dataclasses.replace(base, status=new, **changed)
            base = self._store.get_run(record.run_id)  # someone else moved it: start from the truth
        raise InvalidStateError(f"run {record.run_id} keeps changing status; try again")

    def try_transition(self, run_id: str, expected: RunStatus, new: RunStatus, **fields: Any) -> bool:
        """One compare-and-set of a run's status: True if it was ``expected`` and is now ``new``."""
        done = bool(self._store.transition_run(run_id, expected, new, **_masked(fields)))
        if done and new.is_terminal:
            liveness.stop_beating(self._store, run_id)
        return done

    def database_time(self) -> float:
        """The database's clock (heartbeats are compared with it, never with this machine's)."""
        return float(self._store.database_time())

    def heartbeat(self, run_ids: Sequence[str]) -> None:
        """The runs' supervisor (a job's, a driver's) is alive: their heartbeat time is now."""
        self._store.heartbeat(list(run_ids))

    def end_stale_interactive(self, run_ids: Iterable[str] | None = None) -> list[str]:
        """End the active runs that are not jobs (interactive runs, child runs) whose process is
        gone (see :mod:`.liveness`): Failed with the reason, what they logged kept. Returns their
        ids. A sweep's work (the agent, ``Workspace.reconcile_jobs``, the Jupyter server), never a
        read's."""
        wanted = None if run_ids is None else set(run_ids)
        records = [
            r for r in self._store.list_interactive_runs(list(ACTIVE_STATUSES)) if wanted is None or r.run_id in wanted
        ]
        clock: list[float] = []

        def database_time() -> float:  # one query per sweep, and only if another host's run needs it
            if not clock:
                clock.append(self._store.database_time())
            return clock[0]

        ended = []
        for record in records:
            assert record.supervisor_pid is not None  # listed only with one
            reason = liveness.stale_reason(
                "the process that logged this run",
                record.supervisor_pid,
                record.supervisor_host,
                record.supervisor_start,
                record.heartbeat_time,
                database_time,
                shared=True,
            )
            if reason is None:
                continue
            new = RunStatus.CANCELED if record.status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
            error = {"message": f"{reason}; what it logged is kept", "reason": "stale"}
            # Compare-and-set: the process ending the run itself meanwhile wins, and so does another sweep.
            if self._store.transition_run(record.run_id, record.status, new, end_time=time.time(), error=error):
                ended.append(record.run_id)
        return ended

    def complete(self, record: RunRecord) -> RunRecord:
        return self._end(record, RunStatus.COMPLETED, end_time=time.time())

    def fail(self, record: RunRecord, error: BaseException | str | None = None, details: Any = None) -> RunRecord:
        return self._end(record, RunStatus.FAILED, end_time=time.time(), error=error_details(error, details))

    def _end(self, record: RunRecord, new: RunStatus, **fields: Any) -> RunRecord:
        """Flush the run's metric points, then end it; a run whose writes a group holds ends with the
        group's commit (which flushes first too: see :mod:`.held_writes`)."""
        group = held_writes.current(record.run_id)
        if group is None:
            self._b.flush()
            return self.transition(record, new, **fields)
        check_transition(record.status, new, record.run_id)
        fields = _masked(fields)
        group.end(record.run_id, record.status, new, fields)
        liveness.stop_beating(self._store, record.run_id)
        return dataclasses.replace(record, status=new, **{k: v for k, v in fields.items() if v is not None})

    def cancel(self, record: RunRecord) -> RunRecord:
        """An interactive run, or a job nobody has picked up yet, ends Canceled at once; a job that
        is executing is asked to stop (CancelRequested) and its supervisor stops it."""
        self._b.flush()
        if record.compute_target is None:
            return self.transition(record, RunStatus.CANCELED, end_time=time.time())
        if record.status in (RunStatus.NOT_STARTED, RunStatus.QUEUED) and record.supervisor_pid is None:
            # Nobody has picked it up: end it here. If a supervisor claims it first, ask it instead.
            if self.try_transition(record.run_id, record.status, RunStatus.CANCELED, end_time=time.time()):
                result: RunRecord = self._store.get_run(record.run_id)
                return result
        fresh: RunRecord = self._store.get_run(record.run_id)
        if fresh.status != RunStatus.CANCEL_REQUESTED:
            return self.transition(fresh, RunStatus.CANCEL_REQUESTED)
        return fresh

    def set_display_name(self, run_id: str, value: str | None) -> None:
        if value is not None:
            value = validate_key("display", REDACTOR.text(value) if REDACTOR else value)
        self._store.set_display_name(run_id, value)

    # -- metrics, params, tags, properties -------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[tuple[str, Any, int | None]] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Write metrics ``(name, value, step)``, params and tags in one transaction, durably."""
        now = time.time()
        points: list[MetricPoint] = []
        for item in metrics:
            try:
                name, value, step = item
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"log_batch metrics are (name, value, step) tuples, got {item!r}") from None
            points.append(MetricPoint(name, as_number(name, value), as_step(step), now))
        # Buffered points first, so every series stays in the order it was logged.
        self._b.flush()
        self._store.log_batch(run_id, points, str_map("param", params), str_map("tag", tags))

    def log_records(self, run_id: str, name: str, kind: str, payloads: Sequence[Any]) -> None:
        """Append table rows or image references (JSON-able payloads) to a metric."""
        now = time.time()
        payloads = REDACTOR.value(list(payloads)) if REDACTOR else payloads
        self._store.log_records(run_id, name, kind, [MetricRecordEntry(p, now) for p in payloads])

    def log_text(self, run_id: str, name: str, values: Sequence[Any], step: int | None = None) -> None:
        """Append text-valued points (strings or booleans, Azure ML v1's ``run.log("msg", "text")``)
        to a metric; they are kept as records of the ``text`` kind, each with its step."""
        validate_key("metric", name)
        step = as_step(step)
        texts = text_values(name, values)
        payloads = [{"value": t} if step is None else {"value": t, "step": step} for t in texts]
        self.log_records(run_id, name, "text", payloads)

    def log_chart(self, run_id: str, name: str, kind: str, value: Any) -> dict[str, Any]:
        """Log one of Azure ML v1's chart metrics (``confusion_matrix``, ``accuracy_table``,
        ``residuals``, ``predictions``): the JSON document, checked. Returns it as stored."""
        validate_key("metric", name)
        document = chart_value(kind, name, value)
        self.log_records(run_id, name, kind, [document])
        return document

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        self._store.log_batch(run_id, (), None, str_map("tag", tags))

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        self._store.delete_tags(run_id, [validate_key("tag", k) for k in keys])

    def add_properties(self, run_id: str, properties: Mapping[str, Any]) -> None:
        """Immutable properties: re-setting a key to another value raises."""
        self._store.add_properties(run_id, str_map("property", properties))

    # -- files ------------------------------------------------------------------------------------------
    def upload_file(self, run_id: str, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> str:
        """Store a file of the run under ``name`` (a relative path); files are immutable."""
        name = validate_file_name(name)
        blobs = self._b.artifacts
        if isinstance(path_or_stream, str | os.PathLike):
            source = Path(path_or_stream)
            if not source.is_file():
                raise NotFoundError(f"upload_file({name!r}): no file at {source}")
            group = held_writes.current(run_id)
            if group is not None:  # synced with the group's rows (issue 19)
                digest, size, handle = blobs.put_file_unsynced(source)
                group.add_blob(run_id, handle)
            else:
                digest, size = blobs.put_file(source)
        else:
            digest, size = blobs.put_stream(path_or_stream)
        self._index_files(run_id, [FileRecord(name, digest, size)])
        return name

    def upload_many(self, run_id: str, pairs: Sequence[tuple[str, Path]], overwrite: bool = False) -> list[str]:
        """Store several files under their names, all or none (blobs first, then one index write)."""
        pairs = [(validate_file_name(name), Path(source)) for name, source in pairs]
        for _, source in pairs:
            if not source.is_file():
                raise NotFoundError(f"no file at {source}")
        stored = self._b.artifacts.put_files([source for _, source in pairs])
        records = [FileRecord(name, digest, size) for (name, _), (digest, size) in zip(pairs, stored, strict=True)]
        self._index_files(run_id, records, overwrite)
        return [r.path for r in records]

    def _index_files(self, run_id: str, records: Sequence[FileRecord], overwrite: bool = False) -> None:
        """Name stored blobs as the run's files (held by a group that holds the run's writes)."""
        group = held_writes.current(run_id)
        if group is None:
            held_writes.wrote_through(run_id)  # a group of another thread may hold it
            self._store.add_run_files(run_id, records, overwrite=overwrite)
        else:
            group.add_files(run_id, records, overwrite)

    def upload_folder(self, run_id: str, name: str, path: str | os.PathLike[str], overwrite: bool = False) -> list[str]:
        """Store every file below ``path`` as ``name/<relative path>`` (symlinks are not followed)."""
        prefix = validate_file_name(name)
        folder = Path(path)
        if not folder.is_dir():
            raise NotFoundError(f"upload_folder({name!r}): no folder at {folder}")
        pairs = []
        for dirpath, _dirs, files in os.walk(folder):
            for file in sorted(files):
                source = Path(dirpath) / file
                if source.is_symlink() or not source.is_file():
                    continue
                pairs.append((f"{prefix}/{source.relative_to(folder).as_posix()}", source))
        return self.upload_many(run_id, pairs, overwrite)
