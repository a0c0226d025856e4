"""The narrow API a job on the Docker target reaches its run through, served by its supervisor.

A container job sees neither the workspace's ``.mlws`` (database, blobs, snapshot stat cache) nor
the agent: code in the container (a malicious pip dependency included) must not queue a job the
host runs, nor poison what the next snapshot captures. It talks to its run instead through a Unix
socket in a private folder mounted into the container, one JSON object a line each way::

    -> {"op": "log_batch", "run_id": "...", "params": {"lr": 0.1}}
    <- {"ok": true, "result": null}     or     {"ok": false, "type": "NotFoundError", "message": "..."}

Only operations on the job's own run and on the child runs it created are served: logging (metrics
in batches, tables, images, params, tags, properties), files (their bytes streamed over the socket:
the supervisor never opens a path the job names), reads of those runs, child runs, completing or
failing a child, flushing, and registering a model from the run's own files. Anything else — the
workspace, other runs, queuing jobs — is refused with an error saying why and what to do instead.
The job's side is :mod:`jupyter_mlws.core.runs.remote` (what ``Run.get_context()`` returns there).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import numbers
import os
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..core.layout import ENV_JOB_API
from ..core.names import validate_entity_name, validate_file_name, validate_key
from ..core.redaction import REDACTOR, Redactor
from ..core.values import as_number, as_step, json_row
from ..errors import InvalidArgumentError, InvalidStateError, MlwsError, NotFoundError

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["ENV_JOB_API", "MAX_LINE", "JobApi", "refusal"]

#: The longest request line served (an upload chunk of 1 MiB is about 1.4 MB of base64).
MAX_LINE = 4 << 20
_MAX_UPLOADS = 64  # open uploads per connection
_MAX_CONNECTIONS = 64  # a job's processes (its kernel, its workers) each hold one
_MAX_ANSWERING = 2  # requests decoded and served at once: a 4 MB line can decode to ~100 MB of objects
_MAX_DETAILS = 64 << 10  # a child run's error details, as JSON
_MAX_DEPTH = 32  # nesting of a child run's error details


def refusal(what: str) -> InvalidStateError:
    """The error for anything outside the job's own runs (the job's side words it the same way)."""
    return InvalidStateError(
        f"{what}: the Docker target keeps jobs away from the workspace (a job reaches only its own run "
        "and the child runs it creates). Do it from the notebook or the host after the run, or run the "
        "job on a local compute target"
    )


class JobApi:
    """Serves one job's requests on ``folder/api.sock`` while the job runs (one thread a connection)."""

    def __init__(
        self,
        workspace: Workspace,
        run_id: str,
        folder: Path,
        *,
        only: frozenset[str] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.workspace = workspace
        self.run_id = run_id
        self.socket_path = folder / "api.sock"
        # The secret values this job obtained: its supervisor masks them in the job's log (issue 21).
        self.redactor = Redactor() if redactor is None else redactor
        self._restricted = only is not None
        self._allowed = {run_id}  # the job's run and the children it created
        self._lock = threading.Lock()  # one request at a time reaches the stores
        # However many connections, only this many requests are decoded and held in memory at once.
        self._answering = threading.BoundedSemaphore(_MAX_ANSWERING)
        self._server: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()  # the accepting, serving and closing threads share it
        self._closed = False
        self._ops: dict[str, Callable[..., Any]] = {
            name.removeprefix("op_"): getattr(self, name)
            for name in dir(self)
            if name.startswith("op_") and (only is None or name.removeprefix("op_") in only)
        }

    # -- serving -------------------------------------------------------------------------------------------
    def start(self) -> None:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.socket_path))
        os.chmod(self.socket_path, 0o600)  # the container runs as the submitting user
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, name="mlws-job-api", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with self._connections_lock:
            sockets = [*([self._server] if self._server else []), *self._connections]
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        with contextlib.suppress(OSError):
            self.socket_path.unlink()

    def _accept(self) -> None:
        assert self._server is not None
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            with self._connections_lock:
                if len(self._connections) >= _MAX_CONNECTIONS or self._closed:
                    conn.close()  # a job opening connections without end gets no more supervisor threads
                    continue
                self._connections.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="mlws-job-api-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        uploads: dict[str, IO[bytes]] = {}
        try:
            with conn, conn.makefile("rb") as reader, conn.makefile("wb") as writer:
                while True:
                    line = reader.readline(MAX_LINE + 1)
                    if not line:
                        return
                    if len(line) > MAX_LINE:
                        answer = _failure(
                            InvalidArgumentError(
                                f"a job API request is longer than {MAX_LINE} bytes: log fewer rows or params at "
                                "once, or upload large values as a file (run.upload_file)"
                            )
                        )
                        writer.write(answer)
                        writer.flush()
                        return  # the rest of that line cannot be told apart from the next request
                    with self._answering:
                        answer = self.answer(line, uploads)
                    writer.write(answer)  # a client that does not read holds up only itself
                    writer.flush()
        except OSError:
            return  # the job went away
        finally:
            with self._connections_lock:
                self._connections.discard(conn)
            for upload in uploads.values():
                upload.close()

    def answer(self, line: bytes, uploads: dict[str, IO[bytes]]) -> bytes:
        """One request line in, one answer line out (errors are answers, never exceptions)."""
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                raise InvalidArgumentError('a job API request is a JSON object with an "op"')
            op = request.pop("op")
            handler = self._ops.get(op)
            if handler is None:
                if self._restricted:
                    raise InvalidArgumentError(f"{op!r}: this channel answers only {sorted(self._ops)}")
                raise refusal(f"{op!r} is not available to a job on the Docker target")
            if op.startswith("upload_"):
                result = handler(uploads, **request)
            else:
                with self._lock:
                    result = handler(**request)
            return (json.dumps({"ok": True, "result": result}) + "\n").encode()
        except MlwsError as exc:
            return _failure(exc)
        except TypeError as exc:  # missing or unexpected arguments
            return _failure(InvalidArgumentError(f"bad job API request: {exc}"))
        except ValueError as exc:
            return _failure(InvalidArgumentError(f"bad job API request: {exc}"))
        except Exception as exc:  # a request of the wrong shape: the job hears why, the supervisor goes on
            return _failure(MlwsError(f"the job API could not serve the request: {type(exc).__name__}: {exc}"))

    # -- checks --------------------------------------------------------------------------------------------
    def _own(self, run_id: Any) -> str:
        if not isinstance(run_id, str) or run_id not in self._allowed:
            raise refusal(f"run {run_id!r} is not this job's run or a child run it created")
        return run_id

    def _summary(self, run_id: str) -> dict[str, Any]:
        record = self.workspace.services.queries.run(run_id)
        return {
            "run_id": record.run_id,
            "number": record.number,
            "experiment": record.experiment_name,
            "display_name": record.display_name,
            "status": record.status.value,
            "parent_run_id": record.parent_run_id,
            "type": record.run_type,
        }

    @property
    def _tracking(self) -> Any:
        return self.workspace.services.tracking

    @property
    def _queries(self) -> Any:
        return self.workspace.services.queries

    # -- uploads: bytes streamed into a private temporary file, never a path the job names -------------
    def op_upload_begin(self, uploads: dict[str, IO[bytes]]) -> str:
        if len(uploads) >= _MAX_UPLOADS:
            raise InvalidStateError(f"more than {_MAX_UPLOADS} uploads open at once on one connection")
        token = uuid.uuid4().hex
        uploads[token] = tempfile.TemporaryFile()  # closed when used or at disconnect
        return token

    def op_upload_chunk(self, uploads: dict[str, IO[bytes]], token: str, data: str) -> None:
        _upload(uploads, token).write(base64.b64decode(data, validate=True))

    def _take(self, uploads: dict[str, IO[bytes]], token: str) -> IO[bytes]:
        stream = _upload(uploads, token)
        del uploads[token]
        stream.seek(0)
        return stream

    def op_upload_file(self, uploads: dict[str, IO[bytes]], run_id: str, name: str, token: str) -> str:
        with self._lock:
            self._own(run_id)
            with self._take(uploads, token) as stream:
                result: str = self._tracking.upload_file(run_id, name, stream)
                return result

    def op_upload_image(
        self, uploads: dict[str, IO[bytes]], run_id: str, name: str, token: str, suffix: str = ".png"
    ) -> str:
        with self._lock:
            self._own(run_id)
            validate_key("metric", name)
            if not isinstance(suffix, str) or len(suffix) > 16 or not suffix.startswith(".") or "/" in suffix:
                raise InvalidArgumentError(f"log_image({name!r}): bad file suffix {suffix!r}")
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
            file_name = validate_file_name(f"images/{safe}_{uuid.uuid4().hex[:8]}{suffix}")
            with self._take(uploads, token) as stream:
                self._tracking.upload_file(run_id, file_name, stream)
            self._tracking.log_records(run_id, name, "image", [{"file": file_name}])
            return file_name

    # -- logging -------------------------------------------------------------------------------------------
    def op_log_metrics(self, run_id: str, points: list[Any]) -> None:
        """Scalar points ``[name, value, step, time]`` batched by the job, queued in logging order."""
        self._own(run_id)
        checked = []
        for point in points:
            try:
                name, value, step, ts = point
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"metric points are [name, value, step, time], got {point!r}") from None
            validate_key("metric", name)
            checked.append((run_id, name, as_number(name, value), as_step(step), _timestamp(name, ts)))
        self.workspace.writer.queue.extend(checked)

    def op_log_records(self, run_id: str, name: str, rows: list[Any]) -> None:
        self._own(run_id)
        validate_key("metric", name)
        if not isinstance(rows, list) or not all(isinstance(r, dict) and r for r in rows):
            raise InvalidArgumentError(f"table {name!r}: rows are non-empty objects")
        self._tracking.log_records(run_id, name, "table", [json_row(name, row) for row in rows])

    def op_log_text(self, run_id: str, name: str, values: list[Any], step: int | None = None) -> None:
        """Text-valued points (strings or booleans) of a metric, written at once."""
        self._own(run_id)
        if not isinstance(values, list):
            raise InvalidArgumentError(f"metric {name!r}: text values come as a list")
        self._tracking.log_text(run_id, name, values, step)

    def op_log_chart(self, run_id: str, name: str, kind: str, value: Any) -> None:
        """One of v1's chart metrics (confusion matrix, accuracy table, residuals, predictions),
        checked here again: the job's side is not trusted."""
        self._own(run_id)
        self._tracking.log_chart(run_id, name, kind, value)

    def op_log_batch(self, run_id: str, metrics: list[Any] | None = None, params: Any = None, tags: Any = None) -> None:
        self._own(run_id)
        items = [tuple(m) if isinstance(m, list) else m for m in metrics or []]
        self._tracking.log_batch(run_id, items, params, tags)

    def op_set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        self._tracking.set_tags(self._own(run_id), tags)

    def op_remove_tags(self, run_id: str, keys: list[str]) -> None:
        self._tracking.remove_tags(self._own(run_id), keys)

    def op_add_properties(self, run_id: str, properties: dict[str, Any]) -> None:
        self._tracking.add_properties(self._own(run_id), properties)

    def op_set_display_name(self, run_id: str, value: str | None) -> None:
        self._tracking.set_display_name(self._own(run_id), value)

    def op_flush(self, run_id: str) -> None:
        self._own(run_id)
        self.workspace.flush()

    # -- reads ---------------------------------------------------------------------------------------------
    def op_get_secrets(self, run_id: str, names: list[Any]) -> dict[str, str]:
        """The values of the named secrets, for this job only; remembered to mask them wherever the job's
        output and records pass through this supervisor."""
        self._own(run_id)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidArgumentError("get_secrets takes a list of secret names")
        values: dict[str, str] = self.workspace.services.secrets.get(names)
        self.redactor.add(values.values())
        if not self._restricted:
            # A Docker job's supervisor stores everything for it: what it stores is masked. (A local or
            # Dask job masks what it stores itself; a Dask worker's supervisor serves many jobs, and one
            # job's values must not change what another's records say.)
            REDACTOR.add(values.values())
        return values

    def op_get_run(self, run_id: str) -> dict[str, Any]:
        return self._summary(self._own(run_id))

    def op_get_metrics(self, run_id: str, name: str | None = None, recursive: bool = False) -> Any:
        self._own(run_id)
        self.workspace.flush()  # what the job logged before asking
        if recursive:
            ids = [run_id, *(r.run_id for r in self._queries.children(run_id, recursive=True))]
            self._allowed.update(ids)  # its descendants: created by this job
            return {rid: self._queries.metrics(rid, name) for rid in ids}
        return self._queries.metrics(run_id, name)

    def op_get_metric_history(self, run_id: str, name: str) -> list[list[Any]]:
        self._own(run_id)
        self.workspace.flush()
        return [[p.name, p.value, p.step, p.timestamp] for p in self._queries.metric_history(run_id, name)]

    def op_get_params(self, run_id: str) -> dict[str, str]:
        result: dict[str, str] = self._queries.params(self._own(run_id))
        return result

    def op_get_tags(self, run_id: str) -> dict[str, str]:
        result: dict[str, str] = self._queries.tags(self._own(run_id))
        return result

    def op_get_properties(self, run_id: str) -> dict[str, str]:
        result: dict[str, str] = self._queries.properties(self._own(run_id))
        return result

    def op_get_details(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._queries.details(self._own(run_id))
        return result

    def op_get_file_names(self, run_id: str) -> list[str]:
        return [f.path for f in self._queries.files(self._own(run_id))]

    def op_get_children(self, run_id: str, recursive: bool = False) -> list[dict[str, Any]]:
        children = self._queries.children(self._own(run_id), recursive=bool(recursive))
        self._allowed.update(r.run_id for r in children)  # descendants of the job's run: its own
        return [self._summary(r.run_id) for r in children]

    # -- children ------------------------------------------------------------------------------------------
    def op_child_run(
        self, run_id: str, name: str | None = None, child_id: str | None = None, tags: Any = None
    ) -> dict[str, Any]:
        self._own(run_id)
        if name is not None:
            validate_key("display", name)
        if child_id is not None:
            validate_entity_name("run id", child_id)
        parent = self._queries.run(run_id)
        record = self._tracking.create_run(
            self._tracking.experiment(parent.experiment_name),
            display_name=name,
            parent_run_id=run_id,
            run_id=child_id,
            tags=tags,
        )
        self._allowed.add(record.run_id)
        return self._summary(record.run_id)

    def _child(self, run_id: str, what: str) -> str:
        self._own(run_id)
        if run_id == self.run_id:
            raise InvalidStateError(
                f"{what} of the job's own run: its supervisor ends it when the job's process exits "
                "(exit with a non-zero code, or raise, to fail it)"
            )
        return run_id

    def op_complete(self, run_id: str) -> str:
        if run_id == self.run_id:
            self.workspace.flush()  # Azure ML scripts often complete their context run: a flush here
            return str(self._summary(run_id)["status"])
        record = self._tracking.complete(self._queries.run(self._child(run_id, "complete()")))
        return str(record.status.value)

    def op_fail(self, run_id: str, error: str | None = None, details: Any = None) -> str:
        if error is not None and not isinstance(error, str):
            raise InvalidArgumentError(f"fail(): error is a message (a string), got {type(error).__name__}")
        _check_details(details)
        record = self._tracking.fail(self._queries.run(self._child(run_id, "fail()")), error, details)
        return str(record.status.value)

    # -- the one registry write: a model version made of the run's own files --------------------------------
    def op_register_model(
        self,
        run_id: str,
        model_name: str,
        model_path: str = "outputs",
        tags: Any = None,
        properties: Any = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        self._own(run_id)
        validate_entity_name("model", model_name)
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"register_model({model_name!r}): description is a string or None")
        registry = self.workspace.services.registry
        files = registry.files_from_run(run_id, str(model_path))
        record = registry.register_model(
            model_name, files, description=description, tags=tags, properties=properties, run_id=run_id, datasets=[]
        )
        record = registry.numbered(record)  # the job's caller reads the number now
        return {"name": record.name, "version": record.version}


def _upload(uploads: dict[str, IO[bytes]], token: Any) -> IO[bytes]:
    stream = uploads.get(token) if isinstance(token, str) else None
    if stream is None:
        raise NotFoundError(f"no open upload {token!r} on this connection")
    return stream


def _timestamp(name: str, ts: Any) -> float:
    """A point's logging time from the job: a finite number (a store refuses NaN, and a point it refuses
    in the background writer would hold up every point logged after it)."""
    if isinstance(ts, numbers.Real) and not isinstance(ts, bool) and math.isfinite(ts):
        return float(ts)
    raise InvalidArgumentError(f"metric {name!r}: a point's time is a finite number of seconds, got {ts!r}")


def _check_details(value: Any, depth: int = 0) -> None:
    """Error details as strict JSON (no NaN, which JSON readers refuse), shallow and small."""
    if depth > _MAX_DEPTH:
        raise InvalidArgumentError(f"fail(): error_details nest deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_details(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_details(item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidArgumentError(f"fail(): error_details hold {value!r}; JSON has no NaN or infinity")
    if depth == 0 and len(json.dumps(value)) > _MAX_DETAILS:
        raise InvalidArgumentError(f"fail(): error_details are longer than {_MAX_DETAILS} bytes as JSON")


def _failure(exc: MlwsError) -> bytes:
    return (json.dumps({"ok": False, "type": type(exc).__name__, "message": exc.message}) + "\n").encode()
