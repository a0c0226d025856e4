"""Runs: logging (buffered), files, children, lifecycle, details and search."""

from __future__ import annotations

import dataclasses
import io
import math
import numbers
import os
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import InvalidArgumentError, InvalidStateError, NotFoundError, RunFailedError
from .entities import FileRecord, MetricPoint, MetricRecordEntry, RunRecord
from .names import validate_file_name, validate_key
from .search import decode_page_token, encode_page_token, parse_filter, parse_order_by
from .status import ACTIVE_STATUSES, TERMINAL_STATUSES, RunStatus, check_transition

if TYPE_CHECKING:
    from .experiment import Experiment
    from .model import Model
    from .workspace import Workspace

__all__ = ["Run", "RunPage", "search_runs"]

ENV_RUN_ID = "MLWS_RUN_ID"
DRIVER_LOG = "user_logs/std_log.txt"
RECONCILE_EVERY_S = 2.0  # how often wait_for_completion checks that a job's supervisor lives
_now = time.time


def _number(name: str, value: object) -> float:
    """A metric value as float; anything non-numeric is refused where it was logged."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | str):
        return float(value)
    if isinstance(value, bool):
        return float(value)
    item = getattr(value, "item", None)  # numpy / torch scalars and 0-d arrays
    if callable(item) and not isinstance(value, str | bytes):
        try:
            inner = item()
        except (ValueError, RuntimeError):
            inner = None
        if isinstance(inner, numbers.Real):
            return float(inner)
    raise InvalidArgumentError(
        f"metric {name!r} takes numbers, got {type(value).__name__} {str(value)[:40]!r}: "
        "log text with run.tag() or run.log_param(), lists with run.log_list(), rows with run.log_row()"
    )


def _step(value: object) -> int | None:
    if value is None or type(value) is int:
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise InvalidArgumentError(f"step must be an integer or None, got {value!r}")


def _text(kind: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | numbers.Number):
        return str(value)
    return str(value)


def _utc(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def new_run_id(experiment_name: str) -> str:
    """Azure ML v1 style: ``<experiment>_<unix seconds>_<8 hex>``."""
    return f"{experiment_name}_{int(time.time())}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunPage:
    """One page of a run search: ``runs`` and the token of the next page (``None`` at the end)."""

    runs: list[Run]
    next_page_token: str | None

    def __iter__(self) -> Any:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)


def search_runs(
    workspace: Workspace,
    experiment_ids: Sequence[int] | None,
    filter: str | None,
    order_by: str | Sequence[str] | None,
    max_results: int,
    page_token: str | None,
    include_children: bool,
) -> RunPage:
    if not isinstance(max_results, int) or isinstance(max_results, bool) or not 1 <= max_results <= 50_000:
        raise InvalidArgumentError(f"max_results must be an integer from 1 to 50000, got {max_results!r}")
    from .experiment import Experiment

    workspace.flush()  # read your own writes: buffered metrics count in the search
    result = workspace.metadata.search_runs(
        experiment_ids=experiment_ids,
        filter=parse_filter(filter),
        order_by=parse_order_by(order_by),
        max_results=max_results,
        offset=decode_page_token(page_token),
        include_children=include_children,
    )
    experiments: dict[str, Experiment] = {}
    runs = []
    for record in result.runs:
        exp = experiments.get(record.experiment_name)
        if exp is None:
            exp = experiments[record.experiment_name] = Experiment(workspace, record.experiment_name)
        runs.append(Run(exp, record.run_id, _record=record))
    token = None if result.next_offset is None else encode_page_token(result.next_offset)
    return RunPage(runs, token)


class Run:
    """A run of an experiment. ``Run(experiment, run_id)`` fetches an existing one."""

    def __init__(self, experiment: Experiment, run_id: str, *, _record: RunRecord | None = None) -> None:
        self._experiment = experiment
        self._workspace = experiment.workspace
        self._store = self._workspace.metadata
        record = _record if _record is not None else self._store.get_run(run_id)
        if record.experiment_name != experiment.name:
            raise NotFoundError(
                f"run {run_id!r} belongs to experiment {record.experiment_name!r}, not {experiment.name!r}"
            )
        self._record = record
        self._id = record.run_id
        self._kinds: dict[str, str] = {}  # metric name -> kind, for errors at the call site

    def __getattr__(self, name: str) -> Any:
        # The writer (and its thread) exists only once a run logs: listing runs starts no thread.
        if name in ("_writer", "_enqueue"):
            writer = self._workspace.writer
            self._writer = writer
            self._enqueue = writer.append
            return getattr(self, name)
        raise AttributeError(name)

    # -- construction -----------------------------------------------------------------------------------
    @classmethod
    def get(cls, workspace: Workspace, run_id: str) -> Run:
        from .experiment import Experiment

        record = workspace.metadata.get_run(run_id)
        return cls(Experiment(workspace, record.experiment_name), run_id, _record=record)

    @classmethod
    def create(
        cls,
        experiment: Experiment,
        *,
        status: RunStatus = RunStatus.RUNNING,
        run_type: str = "interactive",
        display_name: str | None = None,
        parent: Run | None = None,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        compute_target: str | None = None,
        snapshot_id: str | None = None,
        job_spec: Mapping[str, Any] | None = None,
    ) -> Run:
        now = time.time()
        record = experiment.workspace.metadata.create_run(
            run_id=run_id or new_run_id(experiment.name),
            experiment_id=experiment.id,
            status=status,
            run_type=run_type,
            created_time=now,
            parent_run_id=parent.id if parent is not None else None,
            display_name=display_name,
            start_time=now if status == RunStatus.RUNNING else None,
            tags=_str_map("tag", tags),
            properties=_str_map("property", properties),
            compute_target=compute_target,
            snapshot_id=snapshot_id,
            job_spec=job_spec,
        )
        return cls(experiment, record.run_id, _record=record)

    @classmethod
    def get_context(cls, allow_offline: bool = True) -> Run | OfflineRun:
        """The run of the job this code runs in; outside a job an offline run that prints."""
        run_id = os.environ.get(ENV_RUN_ID)
        if run_id:
            from .workspace import Workspace

            return cls.get(Workspace.from_config(), run_id)
        if not allow_offline:
            raise InvalidStateError(
                f"this code is not running as a job ({ENV_RUN_ID} is not set); pass allow_offline=True "
                "to get an offline run"
            )
        return OfflineRun()

    # -- identity -----------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._id

    @property
    def number(self) -> int:
        return self._record.number

    @property
    def experiment(self) -> Experiment:
        return self._experiment

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def type(self) -> str:
        return self._record.run_type

    @property
    def status(self) -> RunStatus:
        """The current status, read from the store (another process may have changed it)."""
        self._record = self._fresh_record()
        return self._record.status

    def _fresh_record(self) -> RunRecord:
        # A read: it never changes the run (dead jobs are ended by sweeps, see Workspace.reconcile_jobs).
        return self._store.get_run(self._id)

    def get_status(self) -> str:
        return self.status.value

    @property
    def display_name(self) -> str | None:
        return self._record.display_name

    @display_name.setter
    def display_name(self, value: str | None) -> None:
        if value is not None:
            validate_key("display", value)
        self._store.set_display_name(self._id, value)
        self._record = self._store.get_run(self._id)

    @property
    def parent(self) -> Run | None:
        parent_id = self._record.parent_run_id
        return None if parent_id is None else Run(self._experiment, parent_id)

    @property
    def tags(self) -> dict[str, str]:
        return self._store.get_tags(self._id)

    @property
    def properties(self) -> dict[str, str]:
        return self._store.get_properties(self._id)

    def get_tags(self) -> dict[str, str]:
        return self.tags

    def get_properties(self) -> dict[str, str]:
        return self.properties

    def get_params(self) -> dict[str, str]:
        return self._store.get_params(self._id)

    def __repr__(self) -> str:
        return f"Run(experiment={self._experiment.name!r}, id={self._id!r}, status={self._record.status.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other._id == self._id and other._workspace == self._workspace

    def __hash__(self) -> int:
        return hash(self._id)

    # -- metrics ------------------------------------------------------------------------------------------
    def _claim(self, name: str, kind: str) -> None:
        known = self._kinds.get(name)
        if known is None:
            validate_key("metric", name)
            self._kinds[name] = kind
        elif known != kind:
            raise InvalidArgumentError(
                f"metric {name!r} of run {self._id} already holds {_KIND_WORDS[known]}; "
                f"log {_KIND_WORDS[kind]} under another name"
            )

    def log(self, name: str, value: Any, step: int | None = None, description: str = "") -> None:
        """Log one number (NaN and inf allowed). Returns at once; a background thread writes it."""
        if self._kinds.get(name) != "scalar":
            self._claim(name, "scalar")
        if type(value) is not float:
            value = _number(name, value)
        if step is not None and type(step) is not int:
            step = _step(step)
        self._enqueue((self._id, name, value, step, _now()))

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of numbers as one series."""
        self._claim(name, "scalar")
        now = time.time()
        rid = self._id
        points = [(rid, name, _number(name, v), None, now) for v in value]
        self._writer.queue.extend(points)

    def log_row(self, name: str, description: str | None = None, **row: Any) -> None:
        """Append one row to a table metric: ``run.log_row("roc", fpr=0.1, tpr=0.8)``."""
        if not row:
            raise InvalidArgumentError(f"log_row({name!r}) needs columns, e.g. log_row({name!r}, x=1, y=2)")
        self._claim(name, "table")
        self._store.log_records(self._id, name, "table", [MetricRecordEntry(_json_row(name, row), time.time())])

    def log_table(self, name: str, value: Mapping[str, Sequence[Any]], description: str = "") -> None:
        """Append a table given as columns: ``{"x": [1, 2], "y": [3, 4]}`` (equal lengths)."""
        if not isinstance(value, Mapping) or not value:
            raise InvalidArgumentError(f"log_table({name!r}) takes a dict of equal-length column lists")
        lengths = {len(list(col)) for col in value.values()}
        if len(lengths) != 1:
            raise InvalidArgumentError(f"log_table({name!r}): columns have different lengths {sorted(lengths)}")
        self._claim(name, "table")
        columns = {str(k): list(v) for k, v in value.items()}
        now = time.time()
        rows = [
            MetricRecordEntry(_json_row(name, {k: col[i] for k, col in columns.items()}), now)
            for i in range(lengths.pop())
        ]
        self._store.log_records(self._id, name, "table", rows)

    def log_image(
        self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """Log an image file (``path``) or a matplotlib figure (``plot``); it is stored as a run file."""
        if (path is None) == (plot is None):
            raise InvalidArgumentError(f"log_image({name!r}) takes exactly one of path= or plot=")
        self._claim(name, "image")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        if path is not None:
            source = Path(path)
            if not source.is_file():
                raise NotFoundError(f"log_image({name!r}): no image file at {source}")
            file_name = f"images/{safe}_{uuid.uuid4().hex[:8]}{source.suffix or '.png'}"
            self.upload_file(file_name, source)
        else:
            figure = getattr(plot, "gcf", lambda: plot)()  # pyplot module or a Figure
            if not hasattr(figure, "savefig"):
                raise InvalidArgumentError(f"log_image({name!r}): plot must be a matplotlib figure or pyplot")
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
            buffer.seek(0)
            file_name = f"images/{safe}_{uuid.uuid4().hex[:8]}.png"
            self.upload_file(file_name, buffer)
        self._store.log_records(self._id, name, "image", [MetricRecordEntry({"file": file_name}, time.time())])

    def log_param(self, name: str, value: Any) -> None:
        """Set a parameter (immutable: setting it again to another value raises)."""
        self.log_batch(params={name: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.log_batch(params=params)

    def log_batch(
        self,
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
            self._claim(name, "scalar")
            points.append(MetricPoint(name, _number(name, value), _step(step), now))
        # Buffered points first, so every series stays in the order it was logged.
        self._workspace.flush()
        self._store.log_batch(self._id, points, _str_map("param", params), _str_map("tag", tags))

    def flush(self, timeout: float | None = None) -> None:
        """Return once every point logged so far is on disk."""
        self._workspace.flush(timeout)

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        """``{name: value}``: one value -> scalar, several -> list, tables -> dict of columns,
        images -> file name(s). ``recursive=True`` answers ``{run_id: {...}}`` for this run and
        all its descendants."""
        self._workspace.flush()
        if recursive:
            runs = [self, *self.get_children(recursive=True)]
            return {run.id: run.get_metrics(name) for run in runs}
        result: dict[str, Any] = {}
        for series in self._store.list_metric_series(self._id):
            if name is not None and series.name != name:
                continue
            if series.kind == "scalar":
                values = self._store.get_metric_values(self._id, series.name)
                result[series.name] = values[0] if len(values) == 1 else values
            else:
                entries = self._store.get_metric_records(self._id, series.name)
                if series.kind == "table":
                    result[series.name] = _columns([e.payload for e in entries])
                else:
                    files = [e.payload["file"] for e in entries]
                    result[series.name] = files[0] if len(files) == 1 else files
        return result

    def get_metric_history(self, name: str) -> list[MetricPoint]:
        """Every point of a numeric series, with step and timestamp."""
        self._workspace.flush()
        return self._store.get_metric_history(self._id, name)

    # -- tags and properties ------------------------------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        """Set a tag (mutable). ``value`` defaults to an empty string."""
        self.set_tags({key: "" if value is None else value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._store.log_batch(self._id, (), None, _str_map("tag", tags))

    def remove_tags(self, keys: Iterable[str]) -> None:
        self._store.delete_tags(self._id, [validate_key("tag", k) for k in keys])

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add immutable properties: re-setting a key to another value raises."""
        self._store.add_properties(self._id, _str_map("property", properties))

    # -- files ----------------------------------------------------------------------------------------------
    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> str:
        """Store a file of the run under ``name`` (a relative path); files are immutable."""
        name = validate_file_name(name)
        blobs = self._workspace.artifacts
        if isinstance(path_or_stream, str | os.PathLike):
            source = Path(path_or_stream)
            if not source.is_file():
                raise NotFoundError(f"upload_file({name!r}): no file at {source}")
            digest, size = blobs.put_file(source)
        else:
            digest, size = blobs.put_stream(path_or_stream)
        self._store.add_run_files(self._id, [FileRecord(name, digest, size)])
        return name

    def upload_files(self, names: Sequence[str], paths: Sequence[str | os.PathLike[str]]) -> list[str]:
        if len(names) != len(paths):
            raise InvalidArgumentError("upload_files takes as many names as paths")
        return self._upload_many([(validate_file_name(n), Path(p)) for n, p in zip(names, paths, strict=True)])

    def upload_folder(self, name: str, path: str | os.PathLike[str], overwrite: bool = False) -> list[str]:
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
        return self._upload_many(pairs, overwrite)

    def _upload_many(self, pairs: Sequence[tuple[str, Path]], overwrite: bool = False) -> list[str]:
        for _, source in pairs:
            if not source.is_file():
                raise NotFoundError(f"no file at {source}")
        stored = self._workspace.artifacts.put_files([source for _, source in pairs])
        # Blobs first, then one index transaction: either every name appears or none does.
        records = [FileRecord(name, digest, size) for (name, _), (digest, size) in zip(pairs, stored, strict=True)]
        self._store.add_run_files(self._id, records, overwrite=overwrite)
        return [r.path for r in records]

    def get_file_names(self) -> list[str]:
        return [f.path for f in self._store.list_run_files(self._id)]

    def open_file(self, name: str) -> BinaryIO:
        record = self._store.get_run_file(self._id, validate_file_name(name))
        return self._workspace.artifacts.open(record.digest)

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> str:
        """Write one run file to ``output_file_path`` (a file or a folder; default: its base name here)."""
        record = self._store.get_run_file(self._id, validate_file_name(name))
        base = record.path.rsplit("/", 1)[-1]
        target = Path(output_file_path) if output_file_path is not None else Path(base)
        if target.is_dir():
            target = target / base
        self._workspace.artifacts.copy_to(record.digest, target)
        return str(target)

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        append_prefix: bool = True,
    ) -> list[str]:
        """Write the run's files (those under ``prefix``) below ``output_directory`` (default: here)."""
        clean = validate_file_name(prefix) if prefix else None
        files = self._store.list_run_files(self._id, clean)
        if clean:
            files = [f for f in files if f.path == clean or f.path.startswith(clean + "/")]
        out = Path(output_directory) if output_directory is not None else Path.cwd()
        written = []
        for record in files:
            relative = record.path
            if clean and not append_prefix:
                relative = relative[len(clean) :].lstrip("/") or relative.rsplit("/", 1)[-1]
            target = out / relative
            self._workspace.artifacts.copy_to(record.digest, target)
            written.append(str(target))
        return written

    # -- children -----------------------------------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None) -> Run:
        """Start a child run (Running); ``name`` becomes its display name."""
        return Run.create(self._experiment, display_name=name, parent=self, run_id=run_id)

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: Sequence[str] | None = None
    ) -> list[Run]:
        """Start several child runs; with ``tag_key``/``tag_values`` one per value, tagged with it."""
        if tag_values is not None:
            if tag_key is None:
                raise InvalidArgumentError("create_children: tag_values need a tag_key")
            return [Run.create(self._experiment, parent=self, tags={tag_key: value}) for value in tag_values]
        if not isinstance(count, int) or count < 1:
            raise InvalidArgumentError(f"create_children needs count >= 1 or tag_values, got count={count!r}")
        return [Run.create(self._experiment, parent=self) for _ in range(count)]

    def get_children(self, recursive: bool = False) -> list[Run]:
        return [Run(self._experiment, r.run_id, _record=r) for r in self._store.get_child_runs(self._id, recursive)]

    # -- lifecycle ----------------------------------------------------------------------------------------
    def _transition(self, new: RunStatus, **fields: Any) -> None:
        # Optimistic: try from the status we last saw; on a conflict read the truth and re-check.
        current = self._record.status
        for _ in range(20):
            check_transition(current, new, self._id)
            if self._store.transition_run(self._id, current, new, **fields):
                changed = {k: v for k, v in fields.items() if v is not None}
                self._record = dataclasses.replace(self._record, status=new, **changed)
                return
            current = self.status
        raise InvalidStateError(f"run {self._id} keeps changing status; try again")

    def start(self) -> None:
        """Mark a run that was created NotStarted as Running."""
        self._transition(RunStatus.RUNNING, start_time=time.time())

    def complete(self) -> None:
        """Flush every logged point, then mark the run Completed."""
        self._workspace.flush()
        self._transition(RunStatus.COMPLETED, end_time=time.time())

    def fail(self, error: BaseException | str | None = None, error_details: Any = None) -> None:
        """Mark the run Failed; ``error`` (an exception or a message) goes into its details."""
        self._workspace.flush()
        details: dict[str, Any] = {"message": "the run failed"}
        if isinstance(error, BaseException):
            details = {
                "message": f"{type(error).__name__}: {error}",
                "type": type(error).__name__,
                "traceback": "".join(traceback.format_exception(error)),
            }
        elif error is not None:
            details = {"message": str(error)}
        if error_details is not None:
            details["details"] = error_details
        self._transition(RunStatus.FAILED, end_time=time.time(), error=details)

    def cancel(self) -> None:
        """Cancel the run from any process.

        An interactive run, or a job nobody has picked up yet, ends Canceled at once; a job that is
        executing is asked to stop (CancelRequested) and its supervisor stops it (SIGTERM, then
        SIGKILL after a grace period) and marks it Canceled.
        """
        self._workspace.flush()
        record = self._fresh_record()
        if record.compute_target is None:
            self._transition(RunStatus.CANCELED, end_time=time.time())
            return
        if record.status in (RunStatus.NOT_STARTED, RunStatus.QUEUED) and record.supervisor_pid is None:
            # Nobody has picked it up: end it here. If a supervisor claims it first, ask it instead.
            if self._store.transition_run(self._id, record.status, RunStatus.CANCELED, end_time=time.time()):
                self._record = self._store.get_run(self._id)
                return
        if self.status != RunStatus.CANCEL_REQUESTED:
            self._transition(RunStatus.CANCEL_REQUESTED)

    def read_log(self, offset: int = 0, name: str = DRIVER_LOG, max_bytes: int = 1 << 20) -> tuple[bytes, int]:
        """Bytes of a log from ``offset`` (at most ``max_bytes``) and the offset to read on from.

        While a job runs its logs are read live; once it has finished, from the run's files.
        """
        clean = validate_file_name(name, "log")
        try:
            record = self._store.get_run_file(self._id, clean)
            with self._workspace.artifacts.open(record.digest) as f:
                f.seek(offset)
                data = f.read(max_bytes)
        except NotFoundError:
            from .jobs import live_dir

            try:
                with open(live_dir(self._workspace, self._id) / clean, "rb") as f:
                    f.seek(offset)
                    data = f.read(max_bytes)
            except FileNotFoundError:
                data = b""
        return data, offset + len(data)

    def wait_for_completion(
        self, show_output: bool = False, timeout: float | None = None, raise_on_error: bool = True
    ) -> dict[str, Any]:
        """Block until the run is Completed, Failed or Canceled; returns ``get_details()``.

        ``show_output=True`` streams the driver log as it grows and ends with a summary. Ctrl-C
        stops only the waiting: the run goes on (``run.cancel()`` stops it).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.02
        begun = time.monotonic()
        next_reconcile = begun + RECONCILE_EVERY_S
        offset = 0
        last = None
        try:
            while True:
                if self._record.compute_target is not None and time.monotonic() >= next_reconcile:
                    # Waiting is not reading: a job whose supervisor (and agent) died must still end,
                    # and a queued one whose dispatcher died must still be dispatched.
                    self._workspace.reconcile_jobs([self._id])
                    next_reconcile = time.monotonic() + RECONCILE_EVERY_S
                status = self.status
                if show_output:
                    if status != last:
                        print(f"RunId: {self._id}  Status: {status.value}", flush=True)
                        last = status
                    offset = self._print_log(offset)
                if status in TERMINAL_STATUSES:
                    if show_output:
                        offset = self._print_log(offset)
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"run {self._id} is still {status.value} after {timeout} s")
                time.sleep(delay)
                # Quick answers for short jobs, then gentler polling for long ones.
                delay = 0.02 if time.monotonic() - begun < 5 else min(delay * 1.5, 0.5)
        except KeyboardInterrupt:
            print(f"\nStopped waiting; run {self._id} goes on (run.cancel() stops it).", flush=True)
            return self.get_details()
        details = self.get_details()
        if show_output:
            self._print_summary(details)
        if raise_on_error and status in (RunStatus.FAILED, RunStatus.CANCELED):
            message = (details.get("error") or {}).get("message", "")
            raise RunFailedError(f"run {self._id} ended {status.value}" + (f": {message}" if message else ""))
        return details

    def _print_log(self, offset: int) -> int:
        import sys

        while True:
            data, new_offset = self.read_log(offset)
            if not data:
                return offset
            sys.stdout.write(data.decode("utf-8", errors="replace"))
            sys.stdout.flush()
            offset = new_offset

    @staticmethod
    def _print_summary(details: dict[str, Any]) -> None:
        lines = ["", "Execution Summary", "=================", f"RunId: {details['runId']}"]
        lines.append(f"Status: {details['status']}")
        if details.get("startTimeUtc") and details.get("endTimeUtc"):
            lines.append(f"Started: {details['startTimeUtc']}  Ended: {details['endTimeUtc']}")
        if "error" in details:
            lines.append(f"Error: {details['error'].get('message')}")
        print("\n".join(lines), flush=True)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self.status in TERMINAL_STATUSES:
            return
        if exc is None:
            self.complete()
        else:
            self.fail(exc)

    # -- details ------------------------------------------------------------------------------------------
    def get_details(self) -> dict[str, Any]:
        record = self._fresh_record()
        self._record = record
        files = self.get_file_names()
        details: dict[str, Any] = {
            "runId": record.run_id,
            "runNumber": record.number,
            "experiment": record.experiment_name,
            "displayName": record.display_name,
            "status": record.status.value,
            "runType": record.run_type,
            "parentRunId": record.parent_run_id,
            "createdTimeUtc": _utc(record.created_time),
            "startTimeUtc": _utc(record.start_time),
            "endTimeUtc": _utc(record.end_time),
            "properties": self.properties,
            "tags": self.tags,
            "params": self.get_params(),
            "inputDatasets": [],
            "logFiles": {f: f for f in files if f.startswith(("logs/", "user_logs/"))},
        }
        if record.compute_target is not None:
            details["target"] = record.compute_target
            details["snapshotId"] = record.snapshot_id
            if record.status in ACTIVE_STATUSES:
                from .jobs import live_dir

                live = live_dir(self._workspace, self._id)
                if live.is_dir():
                    for path in sorted(live.rglob("*")):
                        if path.is_file():
                            rel = path.relative_to(live).as_posix()
                            details["logFiles"].setdefault(rel, rel)
        if record.error is not None:
            details["error"] = record.error
        return details

    def get_environment(self) -> Any:
        """The registered Environment this job ran with; None for the submitting interpreter."""
        if self._record.compute_target is None:
            return None
        ref = self._store.get_job_spec(self._id).get("environment")
        if not ref:
            return None
        from .environment import Environment

        return Environment.get(self._workspace, ref["name"], ref.get("version"))

    def download_snapshot(self, output_file_path: str | os.PathLike[str] | None = None) -> str:
        """Write the code snapshot taken before this run as a zip; returns its path."""
        from ..snapshots import load_manifest, write_zip

        record = self._store.get_run(self._id)
        if record.snapshot_id is None:
            raise NotFoundError(f"run {self._id} has no snapshot (interactive runs are not snapshotted)")
        target = Path(output_file_path) if output_file_path is not None else Path(f"{self._id}-snapshot.zip")
        if target.is_dir():
            target = target / f"{self._id}-snapshot.zip"
        artifacts = self._workspace.artifacts
        return str(write_zip(load_manifest(artifacts, record.snapshot_id), artifacts, target))

    def register_model(
        self,
        model_name: str,
        model_path: str = "outputs",
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        datasets: Sequence[tuple[str, Any]] | None = None,
    ) -> Model:
        """Register a model version from this run's file or folder ``model_path``."""
        from .model import Model

        return Model.register(
            self._workspace,
            model_path=model_path,
            model_name=model_name,
            tags=tags,
            properties=properties,
            description=description,
            run=self,
            datasets=datasets,
        )


_KIND_WORDS = {"scalar": "numbers", "table": "table rows", "image": "images"}


def _str_map(kind: str, values: Mapping[str, Any] | None) -> dict[str, str]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidArgumentError(f"{kind}s must be a dict, got {type(values).__name__}")
    return {validate_key(kind, k): _text(kind, v) for k, v in values.items()}


def _json_row(name: str, row: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, bool | str) or value is None:
            clean[key] = value
        elif isinstance(value, numbers.Real) or callable(getattr(value, "item", None)):
            number = _number(f"{name}.{key}", value)
            # JSON has no NaN/inf: keep them as strings that float() reads back.
            clean[key] = number if math.isfinite(number) else str(number)
        else:
            raise InvalidArgumentError(
                f"metric {name!r}: column {key!r} takes numbers, strings, booleans or None, got {type(value).__name__}"
            )
    return clean


def _columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    columns = {k: [row.get(k) for row in rows] for k in keys}
    for values in columns.values():
        for i, v in enumerate(values):
            if isinstance(v, str) and v in ("nan", "inf", "-inf"):
                values[i] = float(v)
    return columns


class OfflineRun:
    """What ``Run.get_context()`` returns outside a job: it prints what would be logged."""

    def __init__(self) -> None:
        self.id = f"OfflineRun_{uuid.uuid4()}"
        self.number = 0
        self.experiment = None
        self.status = RunStatus.RUNNING
        self.display_name: str | None = None
        self.tags: dict[str, str] = {}
        self.properties: dict[str, str] = {}
        self._metrics: dict[str, list[Any]] = {}
        self._params: dict[str, str] = {}

    def _say(self, what: str, name: str, value: Any) -> None:
        print(f"Attempted to log {what} {name}:\n{value}", flush=True)

    def log(self, name: str, value: Any, step: int | None = None, description: str = "") -> None:
        value = _number(name, value)
        self._metrics.setdefault(name, []).append(value)
        self._say("scalar metric", name, value)

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        values = [_number(name, v) for v in value]
        self._metrics.setdefault(name, []).extend(values)
        self._say("list metric", name, values)

    def log_row(self, name: str, description: str | None = None, **row: Any) -> None:
        self._say("row metric", name, row)

    def log_table(self, name: str, value: Mapping[str, Sequence[Any]], description: str = "") -> None:
        self._say("table metric", name, value)

    def log_image(self, name: str, path: Any = None, plot: Any = None, description: str = "") -> None:
        self._say("image metric", name, path if path is not None else "<plot>")

    def log_param(self, name: str, value: Any) -> None:
        self.log_params({name: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        for key, value in _str_map("param", params).items():
            if self._params.get(key, value) != value:
                raise InvalidStateError(f"param {key!r} is already set to {self._params[key]!r}")
            self._params[key] = value
            self._say("param", key, value)

    def log_batch(
        self, metrics: Iterable[tuple[str, Any, int | None]] = (), params: Any = None, tags: Any = None
    ) -> None:
        for name, value, step in metrics:
            self.log(name, value, step)
        if params:
            self.log_params(params)
        if tags:
            self.set_tags(tags)

    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: "" if value is None else value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self.tags.update(_str_map("tag", tags))

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        self.properties.update(_str_map("property", properties))

    def upload_file(self, name: str, path_or_stream: Any) -> str:
        self._say("file", validate_file_name(name), path_or_stream)
        return name

    def upload_folder(self, name: str, path: Any) -> list[str]:
        self._say("folder", validate_file_name(name), path)
        return []

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        return {k: v[0] if len(v) == 1 else list(v) for k, v in self._metrics.items() if name is None or k == name}

    def get_params(self) -> dict[str, str]:
        return dict(self._params)

    def get_status(self) -> str:
        return self.status.value

    def flush(self, timeout: float | None = None) -> None:
        pass

    def complete(self) -> None:
        self.status = RunStatus.COMPLETED

    def fail(self, error: Any = None, error_details: Any = None) -> None:
        self.status = RunStatus.FAILED

    def __enter__(self) -> OfflineRun:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.complete() if exc[0] is None else self.fail(exc[1])

    def __repr__(self) -> str:
        return f"OfflineRun(id={self.id!r})"
