"""Read use cases: experiments, runs, pages of runs, details, metrics, files and logs.

Reads never change state: a status read does not fail a run whose supervisor died (the agent and
the explicit ``reconcile`` call do that), and a GET never creates an experiment.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from ...errors import InvalidArgumentError, NotFoundError
from ..entities import (
    ATTEMPT_PROPERTY,
    ExperimentRecord,
    FileRecord,
    MetricPoint,
    MetricSeriesInfo,
    RunRecord,
    RunSearchResult,
)
from ..interfaces import MetadataStore
from ..layout import DRIVER_LOG, live_dir
from ..names import validate_file_name
from ..search import FilterExpr, decode_page_token, encode_page_token, parse_filter, parse_order_by
from ..status import ACTIVE_STATUSES, RunStatus
from ..values import iso_utc, row_columns
from . import held_writes
from .context import Backends
from .views import MetricSeriesView, RunDetailView, RunSummary, RunSummaryPage, downsample

__all__ = ["QueryService", "RunRecordPage"]

MAX_RESULTS = 50_000


def _search_arguments(
    experiment_ids: Sequence[int] | None,
    filter: str | None,
    order_by: str | Sequence[str] | None,
    max_results: int,
    page_token: str | None,
    include_children: bool,
) -> dict[str, Any]:
    """A search's arguments as the stores take them: checked and parsed (errors name the problem)."""
    if not isinstance(max_results, int) or isinstance(max_results, bool) or not 1 <= max_results <= MAX_RESULTS:
        raise InvalidArgumentError(f"max_results must be an integer from 1 to {MAX_RESULTS}, got {max_results!r}")
    return {
        "experiment_ids": experiment_ids,
        "filter": parse_filter(filter),
        "order_by": parse_order_by(order_by),
        "max_results": max_results,
        "offset": decode_page_token(page_token),
        "include_children": include_children,
    }


def _next_token(result: RunSearchResult) -> str | None:
    return None if result.next_offset is None else encode_page_token(result.next_offset)


def _summaries(records: Sequence[RunRecord], found: Mapping[str, Mapping[str, Any]]) -> list[RunSummary]:
    out = []
    for record in records:
        s = found.get(record.run_id) or {}
        out.append(RunSummary(record, s.get("metrics", {}), s.get("params", {}), s.get("tags", {})))
    return out


class RunRecordPage:
    """Run records of one search page and the token of the next page (``None`` at the end)."""

    __slots__ = ("next_page_token", "records")

    def __init__(self, records: list[RunRecord], next_page_token: str | None) -> None:
        self.records = records
        self.next_page_token = next_page_token


class QueryService:
    """Reads of experiments and runs, each view in one call."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    @property
    def _store(self) -> MetadataStore:
        return self._b.metadata

    # -- experiments ------------------------------------------------------------------------------------
    def experiments(self) -> list[ExperimentRecord]:
        return self._store.list_experiments()

    def experiment(self, name: str) -> ExperimentRecord:
        """An existing experiment (``NotFoundError`` otherwise: reads never create one)."""
        lister = self._b.run_lister()
        return (lister or self._store).get_experiment(name)

    def experiment_ids(self, names: Sequence[str]) -> list[int]:
        """The ids of the named experiments that exist (unknown names match no run)."""
        ids = []
        for name in names:
            try:
                ids.append(self._store.get_experiment(name).id)
            except NotFoundError:
                continue
        return ids

    # -- runs -------------------------------------------------------------------------------------------
    def run(self, run_id: str) -> RunRecord:
        return self._store.get_run(run_id)

    def search(
        self,
        experiment_ids: Sequence[int] | None = None,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_children: bool = False,
    ) -> RunRecordPage:
        """A page of runs matching the filter language (newest first by default)."""
        search = _search_arguments(experiment_ids, filter, order_by, max_results, page_token, include_children)
        self._b.flush()  # read your own writes: buffered metrics count in the search
        result = self._store.search_runs(**search)
        return RunRecordPage(result.runs, _next_token(result))

    def iter_runs(
        self, experiment_ids: Sequence[int], filter: FilterExpr | None, include_children: bool = False
    ) -> Iterator[RunRecord]:
        """Every run matching a parsed filter, newest first, fetched 500 at a time."""
        self._b.flush()
        offset: int | None = 0
        while offset is not None:
            page = self._store.search_runs(
                experiment_ids=experiment_ids,
                filter=filter,
                order_by=[],
                max_results=500,
                offset=offset,
                include_children=include_children,
            )
            yield from page.runs
            offset = page.next_offset

    def summaries(self, records: Sequence[RunRecord]) -> list[RunSummary]:
        """Records with their latest metrics, params and tags (three queries for a whole page)."""
        return _summaries(records, self._store.summarize_runs([r.run_id for r in records]))

    def run_summary(self, run_id: str) -> RunSummary:
        return self.summaries([self._store.get_run(run_id)])[0]

    def run_summaries(
        self,
        experiment_ids: Sequence[int] | None = None,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_children: bool = False,
    ) -> RunSummaryPage:
        """A page of run summaries: what every run list (REST, CLI, magics) shows."""
        lister = self._b.run_lister()
        if lister is not None:  # a process that has not opened the store (a command line): the light way
            search = _search_arguments(experiment_ids, filter, order_by, max_results, page_token, include_children)
            found = lister.search_runs(**search)
            if found is not None:
                summaries = lister.summarize_runs([r.run_id for r in found.runs])
                return RunSummaryPage(_summaries(found.runs, summaries), _next_token(found))
        page = self.search(experiment_ids, filter, order_by, max_results, page_token, include_children)
        return RunSummaryPage(self.summaries(page.records), page.next_page_token)

    def active_interactive_runs(self) -> list[RunRecord]:
        """Runs not ended that a process logs (``start_logging``, child runs), not jobs."""
        return self._store.list_interactive_runs(list(ACTIVE_STATUSES))

    def active_jobs(self, run_ids: Sequence[str] | None = None) -> list[RunRecord]:
        """Jobs (runs on a compute target) that have not ended: all, or those of ``run_ids``."""
        if run_ids is None:
            records = self._store.list_job_runs(None, list(ACTIVE_STATUSES))
        else:
            records = [self._store.get_run(run_id) for run_id in run_ids]
        return [r for r in records if r.compute_target is not None and r.status in ACTIVE_STATUSES]

    def children(
        self, run_id: str, recursive: bool = False, statuses: Sequence[RunStatus] | None = None
    ) -> list[RunRecord]:
        """The run's children (``recursive``: all descendants), oldest first; only those in
        ``statuses`` if given."""
        return self._store.get_child_runs(run_id, recursive, statuses)

    def tags(self, run_id: str) -> dict[str, str]:
        return self._store.get_tags(run_id)

    def properties(self, run_id: str) -> dict[str, str]:
        return self._store.get_properties(run_id)

    def params(self, run_id: str) -> dict[str, str]:
        return self._store.get_params(run_id)

    def job_spec(self, run_id: str) -> dict[str, Any]:
        return self._store.get_job_spec(run_id)

    def log_files(self, record: RunRecord, files: Sequence[str] | None = None) -> list[str]:
        """The run's log files: stored ones, and while a job runs those in its live folder."""
        names = [f.path for f in held_writes.run_files(self._store, record.run_id)] if files is None else list(files)
        found = [f for f in names if f.startswith(("logs/", "user_logs/"))]
        if record.compute_target is not None and record.status in ACTIVE_STATUSES:
            live = live_dir(self._b.path, record.run_id)
            try:
                walked = sorted(live.rglob("*")) if live.is_dir() else []
            except FileNotFoundError:  # the job ended while we looked: its live folder is stored and removed
                walked = []
                if files is None:
                    names = [f.path for f in held_writes.run_files(self._store, record.run_id)]
                    found = [f for f in names if f.startswith(("logs/", "user_logs/"))]
            for path in walked:
                if path.is_file():
                    rel = path.relative_to(live).as_posix()
                    if rel not in found:
                        found.append(rel)
        return found

    def details(self, run_id: str) -> dict[str, Any]:
        """Azure ML v1's ``get_details()`` dict."""
        record = self._store.get_run(run_id)
        files = [f.path for f in held_writes.run_files(self._store, run_id)]
        details: dict[str, Any] = {
            "runId": record.run_id,
            "runNumber": record.number,
            "experiment": record.experiment_name,
            "displayName": record.display_name,
            "status": record.status.value,
            "runType": record.run_type,
            "parentRunId": record.parent_run_id,
            "createdTimeUtc": iso_utc(record.created_time),
            "startTimeUtc": iso_utc(record.start_time),
            "endTimeUtc": iso_utc(record.end_time),
            "properties": self._store.get_properties(run_id),
            "tags": self._store.get_tags(run_id),
            "params": self._store.get_params(run_id),
            "inputDatasets": self.input_datasets(run_id),
            "logFiles": {f: f for f in self.log_files(record, files)},
        }
        if record.compute_target is not None:
            details["target"] = record.compute_target
            details["snapshotId"] = record.snapshot_id
            # Which attempt of the job this is (a retry after its worker died is the same run).
            details["attempt"] = _attempt(details["properties"])
            try:
                spec = self._store.get_job_spec(run_id)
            except NotFoundError:  # a run filed under a target without a job definition
                spec = {}
            if spec.get("kind") in ("script", "notebook"):
                details["runDefinition"] = _run_definition(spec, record.compute_target)
        if record.error is not None:
            details["error"] = record.error
        return details

    def input_datasets(self, run_id: str) -> list[dict[str, Any]]:
        """The datasets a job read, as recorded when it was submitted (issue 15; DESIGN §6
        ``inputDatasets``): ``[{"name": input name, "dataset": {"name", "version", "id", "digest"},
        "mode"}]`` in the order given; an unregistered dataset has no name, version or id."""
        return [
            {
                "name": r.input_name,
                "dataset": {"name": r.dataset_name, "version": r.version, "id": r.dataset_id, "digest": r.digest},
                "mode": r.mode,
            }
            for r in self._store.list_run_inputs(run_id)
        ]

    def run_view(self, run_id: str) -> RunDetailView:
        """A run page's data: summary, properties, error, log files, children and metric series."""
        record = self._store.get_run(run_id)
        children = self.summaries(self._store.get_child_runs(run_id, False))
        return RunDetailView(
            summary=self.summaries([record])[0],
            properties=self._store.get_properties(run_id),
            error=record.error,
            log_files=sorted(self.log_files(record)),
            snapshot_id=record.snapshot_id,  # a job's, or start_logging(snapshot_directory=)'s
            children=children,
            series=self._store.list_metric_series(run_id),
        )

    # -- metrics ----------------------------------------------------------------------------------------
    def metric_series(self, run_id: str) -> list[MetricSeriesInfo]:
        self._b.flush()
        return self._store.list_metric_series(run_id)

    def metric_history(self, run_id: str, name: str) -> list[MetricPoint]:
        """Every point of a numeric series, with step and timestamp."""
        self._b.flush()
        return self._store.get_metric_history(run_id, name)

    def metrics(self, run_id: str, name: str | None = None) -> dict[str, Any]:
        """``{name: value}``: one value -> scalar, several -> list (numbers, and text or booleans
        alike), tables -> dict of columns, images -> file name(s), v1 charts -> their JSON document(s)."""
        self._b.flush()
        result: dict[str, Any] = {}
        for series in self._store.list_metric_series(run_id):
            if name is not None and series.name != name:
                continue
            result[series.name] = self._value(run_id, series)
        return result

    def _value(self, run_id: str, series: MetricSeriesInfo) -> Any:
        if series.kind == "scalar":
            values = self._store.get_metric_values(run_id, series.name)
            return values[0] if len(values) == 1 else values
        entries = self._store.get_metric_records(run_id, series.name)
        if series.kind == "table":
            return row_columns([e.payload for e in entries])
        if series.kind == "image":
            values = [e.payload["file"] for e in entries]
        elif series.kind == "text":
            values = [e.payload["value"] for e in entries]
        else:  # a v1 chart: the document as logged
            values = [e.payload for e in entries]
        return values[0] if len(values) == 1 else values

    def metric_view(self, run_id: str, name: str, max_points: int) -> MetricSeriesView:
        """One metric for a chart: scalars down-sampled to about ``max_points`` points."""
        self._b.flush()
        infos = {s.name: s for s in self._store.list_metric_series(run_id)}
        info = infos.get(name)
        if info is None:
            raise NotFoundError(f"run {run_id!r} has no metric {name!r}")
        if info.kind != "scalar":
            return MetricSeriesView(name, info.kind, info.count, value=self._value(run_id, info))
        points = self._store.get_metric_history(run_id, name)
        return MetricSeriesView(
            name, "scalar", len(points), points=downsample(points, max_points), downsampled=len(points) > max_points
        )

    # -- files and logs ---------------------------------------------------------------------------------
    def files(self, run_id: str, prefix: str | None = None) -> list[FileRecord]:
        return held_writes.run_files(self._store, run_id, prefix)

    def file(self, run_id: str, name: str) -> FileRecord:
        return held_writes.run_file(self._store, run_id, validate_file_name(name))

    def open_file(self, run_id: str, name: str) -> BinaryIO:
        return self.open_blob(self.file(run_id, name).digest)

    def open_blob(self, digest: str) -> BinaryIO:
        """The bytes of a stored file (a run's or a model version's) named by its record's digest."""
        return self._b.artifacts.open(digest)

    def read_log(
        self, run_id: str, offset: int = 0, name: str = DRIVER_LOG, max_bytes: int = 1 << 20
    ) -> tuple[bytes, int]:
        """Bytes of a log from ``offset`` (at most ``max_bytes``) and the offset to read on from.

        While a job runs its logs are read live; once it has finished, from the run's files.
        """
        clean = validate_file_name(name, "log")
        try:
            record = held_writes.run_file(self._store, run_id, clean)
            with self._b.artifacts.open(record.digest) as f:
                f.seek(offset)
                data = f.read(max_bytes)
        except NotFoundError:
            data = _read_at(live_dir(self._b.path, run_id), clean, offset, max_bytes)
        return data, offset + len(data)


def _read_at(folder: Path, name: str, offset: int, max_bytes: int) -> bytes:
    """Up to ``max_bytes`` of the file ``name`` in ``folder`` from ``offset``; nothing if it does not
    exist (yet), or is not a regular file inside ``folder``: a job writes its live folder (a Docker
    job included), and a link there must not serve a host file, nor a FIFO block the reader for ever.

    A raw descriptor and ``pread``: waiting on a log is often interrupted (Ctrl-C stops only the
    waiting), and an interrupt between ``open()`` and ``with`` would leave a file object to the
    garbage collector (a ResourceWarning); this has no such window worth the name.
    """
    path = folder / name
    try:
        if not path.parent.resolve().is_relative_to(folder.resolve()):
            return b""  # a folder on the way is a link out of the live folder
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # missing, or a link (ELOOP)
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.pread(fd, max_bytes, offset)
    finally:
        os.close(fd)


def _run_definition(spec: Mapping[str, Any], target: str) -> dict[str, Any]:
    """v1's ``runDefinition`` of a job's details: what it ran, with which arguments, where (v1 code
    reads a sweep's best trial's arguments from here)."""
    environment = spec.get("environment") or None
    return {
        "script": spec.get("script") or spec.get("notebook"),
        "command": spec.get("command"),
        "arguments": list(spec.get("arguments") or []),
        "target": target,
        "environment": None
        if environment is None
        else {"name": environment.get("name"), "version": environment.get("version")},
        "maxRunDurationSeconds": spec.get("max_run_duration_seconds"),
    }


def _attempt(properties: Mapping[str, str]) -> int:
    try:
        return max(1, int(properties.get(ATTEMPT_PROPERTY, "1")))
    except ValueError:
        return 1
