"""What ``Run.get_context()`` returns inside a Docker job: a run reached through its supervisor.

A container job does not see the workspace (see :mod:`jupyter_mlws.compute.job_api`): every call
goes over a Unix socket (``MLWS_JOB_API``) as one JSON line, and the supervisor serves only the
job's own run and the child runs it creates. Scalar metrics are batched here and sent every second,
every few thousand points, on ``flush()`` and at exit; everything else is sent at once. Files travel
as bytes, so any file the job can read can be uploaded, and nothing else.

Only the standard library: this module runs in every job image.
"""

from __future__ import annotations

import atexit
import base64
import importlib
import io
import json
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ... import errors
from ...errors import InvalidArgumentError, InvalidStateError, MlwsError, NotFoundError
from ..entities import MetricPoint
from ..layout import ENV_INPUTS, ENV_JOB_API, ENV_RUN_ID
from ..names import secret_names, validate_file_name, validate_key
from ..redaction import REDACTOR
from ..status import TERMINAL_STATUSES, RunStatus
from ..values import as_number, as_step, as_text, chart_value, metric_value, text_values

__all__ = ["ENV_JOB_API", "RegisteredModel", "RemoteRun", "connect", "job_input_values"]

SEND_INTERVAL_S = 1.0  # how often buffered metric points go to the supervisor
BATCH_POINTS = 5000  # ... or as soon as this many are waiting
CHUNK = 1 << 20  # upload chunk (bytes before base64)
_KIND_WORDS = {
    "scalar": "numbers",
    "text": "text or booleans",
    "table": "table rows",
    "image": "images",
    "confusion_matrix": "a confusion matrix",
    "accuracy_table": "an accuracy table",
    "residuals": "residuals",
    "predictions": "predictions",
}

# Methods of ``Run`` a job on the Docker target does not get, and why each would need the workspace.
REFUSED = {
    "workspace": "the workspace object",
    "cancel": "cancel()",
    "start": "start()",
    "download_file": "download_file()",
    "download_files": "download_files()",
    "download_snapshot": "download_snapshot()",
    "open_file": "open_file()",
    "read_log": "read_log()",
    "get_environment": "get_environment()",
    "get_details_with_logs": "get_details_with_logs()",
    "wait_for_completion": "wait_for_completion()",
    "record": "the run's record",
    "get": "Run.get()",
    "create": "Run.create()",
    "list": "Run.list()",
    "get_portal_url": "get_portal_url() (the JupyterLab serving the workspace is the host's)",
    "take_snapshot": "take_snapshot() (the job's code was snapshotted when it was submitted)",
    "restore_snapshot": "restore_snapshot()",
    "submit_child": "submit_child() (a job queues no jobs of its own)",
}


def _refused(what: str) -> InvalidStateError:
    # Worded as compute.job_api.refusal words the supervisor's refusals.
    return InvalidStateError(
        f"{what} is not available to a job on the Docker target: it keeps jobs away from the workspace "
        "(a job reaches only its own run and the child runs it creates). Do it from the notebook or the "
        "host after the run, or run the job on a local compute target"
    )


class _Connection:
    """One connection per process to the job's supervisor; requests are answered in order."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._reader: Any = None
        self.points: deque[list[Any]] = deque()  # [run_id, name, value, step, time], appended lock-free
        self._sender: threading.Thread | None = None
        self._closed = False

    def _connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise errors.BackendUnavailableError(
                f"the job API at {self.path} does not answer ({exc.strerror or exc}): the job's supervisor is gone"
            ) from None
        self._sock = sock
        self._reader = sock.makefile("rb")

    def call(self, op: str, **args: Any) -> Any:
        with self._lock:
            return self._call(op, args)

    def _call(self, op: str, args: Mapping[str, Any]) -> Any:
        if self._sock is None:
            self._connect()
        assert self._sock is not None
        try:
            self._sock.sendall((json.dumps({"op": op, **args}) + "\n").encode())
            line = self._reader.readline()
        except OSError as exc:
            self._drop()
            raise errors.BackendUnavailableError(f"lost the job API at {self.path}: {exc}") from None
        if not line:
            self._drop()
            raise errors.BackendUnavailableError(f"the job API at {self.path} closed the connection")
        answer = json.loads(line)
        if answer.get("ok"):
            return answer.get("result")
        kind = getattr(errors, str(answer.get("type")), MlwsError)
        if not (isinstance(kind, type) and issubclass(kind, MlwsError)):
            kind = MlwsError
        raise kind(str(answer.get("message")))

    def _drop(self) -> None:
        if self._sock is not None:
            self._reader.close()
            self._sock.close()
        self._sock = None

    # -- metric points -------------------------------------------------------------------------------------
    def queue(self, point: list[Any]) -> None:
        self.points.append(point)
        if self._sender is None:
            self._sender = threading.Thread(target=self._send_loop, name="mlws-job-api-sender", daemon=True)
            self._sender.start()
        if len(self.points) >= BATCH_POINTS:
            self.send_points()

    def _send_loop(self) -> None:
        while not self._closed:
            time.sleep(SEND_INTERVAL_S)
            try:
                self.send_points()
            except errors.BackendUnavailableError:  # kept queued; flush() reports it
                continue
            except MlwsError as exc:  # refused for good: say so in the job's log rather than lose them silently
                print(f"jupyter-mlws: metric points were refused: {exc}", file=sys.stderr, flush=True)

    def send_points(self) -> None:
        """Send the waiting points in logging order (those of each run in one request)."""
        with self._lock:
            self._send_points()

    def _send_points(self) -> None:
        """Send the waiting points; the caller holds ``self._lock``."""
        while self.points:
            batch = [self.points.popleft() for _ in range(min(len(self.points), BATCH_POINTS))]
            by_run: dict[str, list[list[Any]]] = {}
            for run_id, *point in batch:
                by_run.setdefault(run_id, []).append(point)
            for index, (run_id, points) in enumerate(by_run.items()):
                try:
                    self._call("log_metrics", {"run_id": run_id, "points": points})
                except errors.BackendUnavailableError:
                    # Not sent: back in front, in order, to go with the next try.
                    rest = [[rid, *p] for rid, pts in list(by_run.items())[index:] for p in pts]
                    self.points.extendleft(reversed(rest))
                    raise

    def flush(self, run_id: str) -> None:
        self.send_points()
        self.call("flush", run_id=run_id)

    def close(self, run_id: str) -> None:
        """At exit: what is buffered reaches the store before the process ends."""
        try:
            if self.points:
                self.flush(run_id)
        except MlwsError as exc:
            print(f"jupyter-mlws: metrics logged at the end of the job could not be sent: {exc}", flush=True)
        finally:
            self._closed = True
            with self._lock:
                self._drop()

    def flush_on_signal(self, run_id: str) -> None:
        """On SIGTERM (a cancel, a time limit): send what is buffered, waiting a little for the lock
        (this thread may hold it, interrupted mid-request: then the points are lost, not deadlocked)."""
        if not self.points or not self._lock.acquire(timeout=2.0):
            return
        try:
            self._send_points()
            self._call("flush", {"run_id": run_id})
        except MlwsError as exc:
            print(f"jupyter-mlws: metrics logged before SIGTERM could not be sent: {exc}", flush=True)
        finally:
            self._lock.release()

    def after_fork(self) -> None:
        # A forked child (a data loader's worker) must not share the parent's socket, lock or points.
        self._lock = threading.Lock()
        if self._sock is not None:
            self._drop()  # closes this process's copy of the descriptor; the parent's stays open
        self.points = deque()
        self._sender = None


def ask(path: str, op: str, **args: Any) -> Any:
    """One request on a connection of its own, closed after the answer: for a process that only asks
    (a local job's secrets), without the exit and SIGTERM hooks that :func:`connect` installs for
    logging (they would take the place of the local writer's own flush on SIGTERM)."""
    connection = _Connection(path)
    try:
        return connection.call(op, **args)
    finally:
        with connection._lock:
            connection._drop()


_connections: dict[tuple[str, int], _Connection] = {}
_run_ids: dict[tuple[str, int], str] = {}


def _after_fork_in_child() -> None:
    for connection in _connections.values():
        connection.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def connect(path: str, run_id: str) -> _Connection:
    """This process's connection to the job API at ``path`` (flushed at exit and on SIGTERM)."""
    key = (path, os.getpid())
    found = _connections.get(key)
    if found is None:
        found = _connections[key] = _Connection(path)
        _run_ids[key] = run_id
        atexit.register(found.close, run_id)
        _install_sigterm_handler()
    return found


def _install_sigterm_handler() -> None:
    """As a local job's metric writer does: flush on SIGTERM, then die as SIGTERM would have. Only
    from the main thread, and only when nobody else handles SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not allowed here
        pass


def _on_sigterm(signum: int, frame: Any) -> None:
    # Every connection this process holds points in (a forked worker's inherited one included).
    for key, connection in list(_connections.items()):
        connection.flush_on_signal(_run_ids[key])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass(frozen=True)
class RegisteredModel:
    """What ``register_model`` returns in a Docker job: the new version's name and number."""

    name: str
    version: int
    run_id: str

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"


class _Experiment:
    """The experiment's name; its workspace stays with the host."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def workspace(self) -> Any:
        raise _refused("the experiment's workspace")

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r})"


class RemoteRun:
    """A job's run on the Docker target, the ``Run`` API over the job API (see the module docs)."""

    def __init__(self, connection: _Connection, run_id: str, summary: Mapping[str, Any] | None = None) -> None:
        self._conn = connection
        self._id = run_id
        self._summary = dict(summary) if summary is not None else None
        self._kinds: dict[str, str] = {}

    @classmethod
    def from_environment(cls, run_id: str) -> RemoteRun:
        return cls(connect(os.environ[ENV_JOB_API], run_id), run_id)

    def _call(self, op: str, **args: Any) -> Any:
        return self._conn.call(op, run_id=self._id, **args)

    def _info(self) -> dict[str, Any]:
        if self._summary is None:
            self._summary = self._call("get_run")
        return self._summary

    def __getattr__(self, name: str) -> Any:
        if name in REFUSED:
            raise _refused(REFUSED[name])
        raise AttributeError(name)

    # -- identity ------------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._id

    @property
    def number(self) -> int:
        return int(self._info()["number"])

    @property
    def experiment(self) -> _Experiment:
        return _Experiment(self._info()["experiment"])

    @property
    def type(self) -> str:
        return str(self._info()["type"])

    @property
    def status(self) -> RunStatus:
        self._summary = self._call("get_run")
        return RunStatus(self._summary["status"])

    def get_status(self) -> str:
        return self.status.value

    @property
    def display_name(self) -> str | None:
        name = self._info()["display_name"]
        return None if name is None else str(name)

    @display_name.setter
    def display_name(self, value: str | None) -> None:
        self._call("set_display_name", value=value)
        self._summary = None

    @property
    def parent(self) -> RemoteRun | None:
        parent_id = self._info()["parent_run_id"]
        return None if parent_id is None else RemoteRun(self._conn, parent_id)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._call("get_tags"))

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._call("get_properties"))

    def get_tags(self) -> dict[str, str]:
        return self.tags

    def get_properties(self) -> dict[str, str]:
        return self.properties

    def get_params(self) -> dict[str, str]:
        return dict(self._call("get_params"))

    @property
    def input_datasets(self) -> dict[str, Any]:
        """The job's inputs, staged into its folder before it started (no job API call): a tabular
        input is its dataset, a file input mounted or downloaded its local folder (a string)."""
        return job_input_values(self._id)

    def get_details(self) -> dict[str, Any]:
        self.flush()
        return dict(self._call("get_details"))

    def get_file_names(self) -> list[str]:
        return list(self._call("get_file_names"))

    # -- metrics -------------------------------------------------------------------------------------------
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
        """Log one number (NaN and inf allowed; sent in a batch within a second), or as Azure ML v1
        a string or a boolean (a text-valued metric, sent at once)."""
        value = metric_value(name, value)
        if type(value) is not float:
            self._log_text(name, [value], as_step(step))
            return
        self._claim(name, "scalar")
        self._conn.queue([self._id, name, value, as_step(step), time.time()])

    def _log_text(self, name: str, values: list[Any], step: int | None = None) -> None:
        texts = text_values(name, values)  # JSON carries them (numpy's bool_ would not go)
        self._claim(name, "text")
        self._call("log_text", name=name, values=texts, step=step)

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        items = list(value)
        if items and as_text(items[0]) is not None:  # text, as its first value says
            self._log_text(name, items)
            return
        self._claim(name, "scalar")
        now = time.time()
        for v in [as_number(name, v) for v in items]:
            self._conn.queue([self._id, name, v, None, now])

    # -- Azure ML v1's chart metrics (checked here and again by the supervisor) ---------------------------------
    def _log_chart(self, kind: str, name: str, value: Any) -> None:
        document = chart_value(kind, name, value)
        self._claim(name, kind)
        self._call("log_chart", name=name, kind=kind, value=document)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        self._log_chart("confusion_matrix", name, value)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        self._log_chart("accuracy_table", name, value)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        self._log_chart("residuals", name, value)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        self._log_chart("predictions", name, value)

    def log_row(self, name: str, description: str | None = None, **row: Any) -> None:
        if not row:
            raise InvalidArgumentError(f"log_row({name!r}) needs columns, e.g. log_row({name!r}, x=1, y=2)")
        self._claim(name, "table")
        self._call("log_records", name=name, rows=[row])

    def log_table(self, name: str, value: Mapping[str, Sequence[Any]], description: str = "") -> None:
        if not isinstance(value, Mapping) or not value:
            raise InvalidArgumentError(f"log_table({name!r}) takes a dict of equal-length column lists")
        columns = {str(k): list(v) for k, v in value.items()}
        lengths = {len(col) for col in columns.values()}
        if len(lengths) != 1:
            raise InvalidArgumentError(f"log_table({name!r}): columns have different lengths {sorted(lengths)}")
        self._claim(name, "table")
        rows = [{k: col[i] for k, col in columns.items()} for i in range(lengths.pop())]
        self._call("log_records", name=name, rows=rows)

    def log_image(
        self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """Log an image file (``path``) or a matplotlib figure (``plot``); it is stored as a run file."""
        if (path is None) == (plot is None):
            raise InvalidArgumentError(f"log_image({name!r}) takes exactly one of path= or plot=")
        self._claim(name, "image")
        if path is not None:
            source = Path(path)
            if not source.is_file():
                raise NotFoundError(f"log_image({name!r}): no image file at {source}")
            with open(source, "rb") as stream:
                token = self._send_bytes(stream)
            suffix = source.suffix or ".png"
        else:
            figure = getattr(plot, "gcf", lambda: plot)()  # pyplot module or a Figure
            if not hasattr(figure, "savefig"):
                raise InvalidArgumentError(f"log_image({name!r}): plot must be a matplotlib figure or pyplot")
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
            buffer.seek(0)
            token = self._send_bytes(buffer)
            suffix = ".png"
        self._conn.call("upload_image", run_id=self._id, name=name, token=token, suffix=suffix)

    def log_param(self, name: str, value: Any) -> None:
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
        checked = []
        for item in metrics:
            try:
                name, value, step = item
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"log_batch metrics are (name, value, step) tuples, got {item!r}") from None
            self._claim(name, "scalar")
            checked.append([name, as_number(name, value), as_step(step)])
        self._conn.send_points()  # points logged before keep their order
        self._call("log_batch", metrics=checked, params=_plain(params), tags=_plain(tags))

    def get_secret(self, name: str) -> str:
        """The value of secret ``name``, asked of the job's supervisor (never the vault's key)."""
        if not isinstance(name, str):
            raise errors.InvalidArgumentError(f"get_secret takes a secret's name (a str), not {type(name).__name__}")
        return self.get_secrets([name])[name]

    def get_secrets(self, secrets: Iterable[str]) -> dict[str, str]:
        answer = self._call("get_secrets", names=secret_names(secrets))
        values = {str(k): str(v) for k, v in answer.items()}
        REDACTOR.add(values.values())
        return values

    def flush(self, timeout: float | None = None) -> None:
        """Return once every point logged so far is on disk."""
        self._conn.flush(self._id)

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        self._conn.send_points()
        return dict(self._call("get_metrics", name=name, recursive=recursive))

    def get_metric_history(self, name: str) -> list[MetricPoint]:
        self._conn.send_points()
        return [MetricPoint(*p) for p in self._call("get_metric_history", name=name)]

    # -- tags and properties -------------------------------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: "" if value is None else value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._call("set_tags", tags=_plain(tags))

    def remove_tags(self, keys: Iterable[str]) -> None:
        self._call("remove_tags", keys=list(keys))

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        self._call("add_properties", properties=_plain(properties))

    # -- files ---------------------------------------------------------------------------------------------
    def _send_bytes(self, stream: BinaryIO) -> str:
        token = self._conn.call("upload_begin")
        while chunk := stream.read(CHUNK):
            self._conn.call("upload_chunk", token=token, data=base64.b64encode(chunk).decode("ascii"))
        return str(token)

    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> str:
        """Store a file of the run under ``name`` (its bytes are sent to the supervisor)."""
        name = validate_file_name(name)
        if isinstance(path_or_stream, str | os.PathLike):
            source = Path(path_or_stream)
            if not source.is_file():
                raise NotFoundError(f"upload_file({name!r}): no file at {source}")
            with open(source, "rb") as stream:
                token = self._send_bytes(stream)
        else:
            token = self._send_bytes(path_or_stream)
        return str(self._conn.call("upload_file", run_id=self._id, name=name, token=token))

    def upload_files(self, names: Sequence[str], paths: Sequence[str | os.PathLike[str]]) -> list[str]:
        if len(names) != len(paths):
            raise InvalidArgumentError("upload_files takes as many names as paths")
        return [self.upload_file(n, p) for n, p in zip(names, paths, strict=True)]

    def upload_folder(self, name: str, path: str | os.PathLike[str], overwrite: bool = False) -> list[str]:
        """Store every file below ``path`` as ``name/<relative path>`` (symlinks are not followed)."""
        prefix = validate_file_name(name)
        folder = Path(path)
        if not folder.is_dir():
            raise NotFoundError(f"upload_folder({name!r}): no folder at {folder}")
        stored = []
        for dirpath, _dirs, files in os.walk(folder):
            for file in sorted(files):
                source = Path(dirpath) / file
                if source.is_symlink() or not source.is_file():
                    continue
                stored.append(self.upload_file(f"{prefix}/{source.relative_to(folder).as_posix()}", source))
        return stored

    # -- lifecycle and children ----------------------------------------------------------------------------
    def complete(self) -> None:
        """A child run: flush, then Completed. The job's own run: a flush (its supervisor ends it)."""
        self._conn.send_points()
        self._call("complete")
        self._summary = None

    def fail(self, error: BaseException | str | None = None, error_details: Any = None) -> None:
        """Mark a child run Failed (the job's own run fails when the job exits with an error)."""
        self._conn.send_points()
        message = error if error is None or isinstance(error, str) else f"{type(error).__name__}: {error}"
        self._call("fail", error=message, details=_plain(error_details))
        self._summary = None

    def __enter__(self) -> RemoteRun:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self.status in TERMINAL_STATUSES:
            return
        if exc is None:
            self.complete()
        else:
            self.fail(exc)

    def child_run(self, name: str | None = None, run_id: str | None = None) -> RemoteRun:
        """Start a child run (Running); ``name`` becomes its display name."""
        summary = self._call("child_run", name=name, child_id=run_id)
        return RemoteRun(self._conn, summary["run_id"], summary)

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: Sequence[str] | None = None
    ) -> list[RemoteRun]:
        if tag_values is not None:
            if tag_key is None:
                raise InvalidArgumentError("create_children: tag_values need a tag_key")
            made = [self._call("child_run", tags={tag_key: value}) for value in tag_values]
        else:
            if not isinstance(count, int) or count < 1:
                raise InvalidArgumentError(f"create_children needs count >= 1 or tag_values, got count={count!r}")
            made = [self._call("child_run") for _ in range(count)]
        return [RemoteRun(self._conn, s["run_id"], s) for s in made]

    def get_children(self, recursive: bool = False) -> list[RemoteRun]:
        return [RemoteRun(self._conn, s["run_id"], s) for s in self._call("get_children", recursive=recursive)]

    def register_model(
        self,
        model_name: str,
        model_path: str = "outputs",
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        datasets: Sequence[tuple[str, Any]] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        child_paths: Sequence[str] | None = None,
    ) -> RegisteredModel:
        """Register a model version from this run's file or folder ``model_path`` (uploaded already:
        ``outputs/`` is collected only after the job). Returns its name and version; the ``Model``
        object itself lives with the workspace. v1's framework and resource keywords become the same
        properties as outside a job."""
        from ..model_v1 import v1_model_properties

        for keyword, value in (
            ("datasets", datasets),
            ("sample_input_dataset", sample_input_dataset),
            ("sample_output_dataset", sample_output_dataset),
            ("child_paths", child_paths),
        ):
            if value:
                raise _refused(f"register_model({keyword}=...)")
        v1 = v1_model_properties(model_framework, model_framework_version, resource_configuration)
        made = self._call(
            "register_model",
            model_name=model_name,
            model_path=model_path,
            tags=_plain(tags),
            properties=_plain({**v1, **(properties or {})}),
            description=description,
        )
        return RegisteredModel(str(made["name"]), int(made["version"]), self._id)

    def __repr__(self) -> str:
        return f"Run(id={self._id!r}, via the job API)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemoteRun) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)


def _plain(values: Any) -> Any:
    """As JSON carries it: what is not JSON becomes its ``str`` (as the store would keep it)."""
    return None if values is None else json.loads(json.dumps(values, default=str))


# -- the job's inputs (issue 15) -------------------------------------------------------------------------
_inputs: dict[str, dict[str, Any]] = {}
_inputs_lock = threading.Lock()


def job_input_values(run_id: str) -> dict[str, Any]:
    """Inside the job of ``run_id``: ``{input name: value}`` of its inputs, rebuilt from what its
    supervisor staged into the job folder and described in the ``MLWS_INPUTS`` file (the same objects
    on every call; empty without inputs, or in another run). Each input's type rebuilds it (its
    ``module:attribute`` is in the file): no workspace, store or job API call is needed, so this works
    in a container too; it is shared with ``Run.input_datasets`` on the local target."""
    if os.environ.get(ENV_RUN_ID) != run_id or not os.environ.get(ENV_INPUTS):
        return {}
    path = os.environ[ENV_INPUTS]
    with _inputs_lock:
        if path not in _inputs:
            try:
                payload = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InvalidStateError(f"the job's input description {path} cannot be read: {exc}") from None
            values: dict[str, Any] = {}
            for entry in payload.get("inputs", []):
                module, _, attr = str(entry["resolver"]).partition(":")
                kind: Any = importlib.import_module(module)
                for part in attr.split("."):
                    kind = getattr(kind, part)
                described = entry["described"]
                values[described["name"]] = kind().resolve(described, entry.get("data"), Path(entry["folder"]))
            _inputs[path] = values
        return dict(_inputs[path])
