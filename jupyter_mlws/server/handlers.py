"""REST routes under /mlws/api/v1/ (described in openapi.yaml). Each translates one request into
calls on the core; errors are translated once, in MlwsHandler."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import tempfile
import time
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from .. import __version__
from ..core.compute import ComputeTarget
from ..core.entities import ActivityRecord, SnapshotRecord
from ..core.environment import Environment
from ..core.experiment import Experiment
from ..core.model import Model
from ..core.names import validate_entity_name
from ..core.run_config import NotebookRunConfig, ScriptRunConfig
from ..core.runs import Run, RunPage
from ..core.status import TERMINAL_STATUSES
from ..core.workspace import Workspace
from ..errors import InvalidArgumentError, NotFoundError
from .base import MlwsHandler
from .serialize import downsample, iso, model_json, run_json

__all__ = ["handlers"]

API = "/mlws/api/v1"
CAPABILITIES = [
    "script-jobs",
    "notebook-jobs",
    "snapshots",
    "events",
    "metric-downsampling",
    "run-search",
    "model-registry",
    "environments",
    "activities",
]
MAX_POINTS = 100_000


def capabilities() -> list[str]:
    """What this server can do; ``docker`` when the Docker client library is installed."""
    import importlib.util

    extra = ["docker"] if importlib.util.find_spec("docker") is not None else []
    return [*CAPABILITIES, *extra]


def _page(ws: Workspace, page: RunPage) -> dict[str, Any]:
    summaries = ws.metadata.summarize_runs([r.id for r in page.runs])
    return {
        "items": [run_json(r._record, summaries.get(r.id)) for r in page.runs],
        "next_page_token": page.next_page_token,
    }


def _run_reply(ws: Workspace, run_id: str) -> dict[str, Any]:
    return run_json(ws.metadata.get_run(run_id), ws.metadata.summarize_runs([run_id])[run_id])


def _empty() -> dict[str, Any]:
    return {"items": [], "next_page_token": None}


class WorkspaceHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        ws = self.workspace()
        targets: list[dict[str, Any]] = []
        if ws is not None:
            targets = await self.call(lambda: [t.serialize() for t in ComputeTarget.list(ws)])
        self.send(
            {
                "name": ws.name if ws else self.state.root_dir.name,
                "root": str(ws.root if ws else self.state.root_dir),
                "exists": ws is not None,
                "metadata_backend": (ws.metadata_url.split(":", 1)[0].split("+", 1)[0] if ws else "sqlite"),
                "artifact_store": ws.artifact_url if ws else None,
                "version": __version__,
                "capabilities": capabilities(),
                "default_compute_target": self.state.default_compute_target,
                "compute_targets": targets or [{"name": "local", "type": "local", "config": {}}],
            }
        )


class ExperimentsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(_empty())
        records = await self.call(ws.metadata.list_experiments)
        items = [{"name": e.name, "id": e.id, "created_time": iso(e.created_time)} for e in records]
        self.send({"items": items, "next_page_token": None})


class ExperimentRunsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        args = self.page_args()

        def search() -> dict[str, Any]:
            ws.metadata.get_experiment(name)  # 404 for an unknown experiment, never created by a GET
            return _page(ws, Experiment(ws, name).search_runs(**args))

        await self.reply(search)


class RunsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        ws = self.workspace()
        args = self.page_args()
        experiments = [e for value in self.get_query_arguments("experiment") for e in value.split(",") if e]
        if ws is None:
            from ..core.search import parse_filter, parse_order_by

            parse_filter(args["filter"])  # bad input is still a 400
            parse_order_by(args["order_by"])
            return self.send(_empty())
        await self.reply(lambda: _page(ws, ws.search_runs(**args, experiments=experiments or None)))


class RunHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()

        def detail() -> dict[str, Any]:
            run = ws.get_run(run_id)
            details = run.get_details()
            summary = ws.metadata.summarize_runs([run.id])[run.id]
            data = run_json(run._record, summary)
            children = run.get_children()
            kids = ws.metadata.summarize_runs([c.id for c in children])
            data.update(
                {
                    "properties": details["properties"],
                    "error": details.get("error"),
                    "log_files": sorted(details["logFiles"]),
                    "snapshot_id": details.get("snapshotId"),
                    "git": {
                        k.rsplit(".", 1)[-1]: v
                        for k, v in details["properties"].items()
                        if k.startswith("azureml.git.")
                    },
                    "children": [run_json(c._record, kids.get(c.id)) for c in children],
                    "series": [
                        {"name": s.name, "kind": s.kind, "count": s.count}
                        for s in ws.metadata.list_metric_series(run.id)
                    ],
                }
            )
            return data

        await self.reply(detail)


class RunMetricsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        name = self.get_query_argument("name", None)
        max_points = self.integer("max_points", 1000, 2, MAX_POINTS)

        def series() -> dict[str, Any]:
            run = ws.get_run(run_id)
            infos = {s.name: s for s in ws.metadata.list_metric_series(run.id)}
            if name is None:
                items = [
                    {
                        "name": s.name,
                        "kind": s.kind,
                        "count": s.count,
                        "last_value": s.last_value,
                        "last_step": s.last_step,
                    }
                    for s in infos.values()
                ]
                return {"items": items, "next_page_token": None}
            info = infos.get(name)
            if info is None:
                raise NotFoundError(f"run {run_id!r} has no metric {name!r}")
            if info.kind != "scalar":
                return {"name": name, "kind": info.kind, "total": info.count, "value": run.get_metrics(name)[name]}
            points = run.get_metric_history(name)
            return {
                "name": name,
                "kind": "scalar",
                "total": len(points),
                "downsampled": len(points) > max_points,
                "points": downsample(points, max_points),
            }

        await self.reply(series)


class RunFilesHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        records = await self.call(lambda: ws.metadata.list_run_files(ws.get_run(run_id).id))
        self.send({"items": [{"path": f.path, "size": f.size} for f in records], "next_page_token": None})


class RunFileHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str, path: str) -> None:
        ws = self.require_workspace()
        record = await self.call(lambda: ws.metadata.get_run_file(ws.get_run(run_id).id, _clean(path)))
        await self.stream_blob(ws, record.digest, record.path)

    async def stream_blob(self, ws: Workspace, digest: str, path: str) -> None:
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        self.set_header("Content-Type", kind)
        name = path.rsplit("/", 1)[-1]
        disposition = "attachment" if self.flag("download") else "inline"
        self.set_header("Content-Disposition", f'{disposition}; filename="{name}"')
        stream = await self.call(ws.artifacts.open, digest)
        try:
            while chunk := await self.call(stream.read, 1 << 20):
                self.write(chunk)
                await self.flush()
        finally:
            stream.close()
        self.finish()


def _clean(path: str) -> str:
    from ..core.names import validate_file_name

    return validate_file_name(path)


class RunLogsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        name = self.get_query_argument("name", "user_logs/std_log.txt")
        offset = self.integer("offset", 0, 0, 2**62)

        def read() -> dict[str, Any]:
            run = ws.get_run(run_id)
            data, next_offset = run.read_log(offset, name=name)
            status = run.status
            return {
                "name": name,
                "offset": offset,
                "next_offset": next_offset,
                "data": data.decode("utf-8", errors="replace"),
                "status": status.value,
                "complete": status in TERMINAL_STATUSES and not data,
            }

        await self.reply(read)


class RunSnapshotHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        folder = tempfile.mkdtemp(prefix="mlws-snapshot-")
        target = os.path.join(folder, f"{run_id}-snapshot.zip")
        try:
            await self.call(lambda: ws.get_run(run_id).download_snapshot(target))
            self.set_header("Content-Type", "application/zip")
            self.set_header("Content-Disposition", f'attachment; filename="{run_id}-snapshot.zip"')
            with open(target, "rb") as f:
                while chunk := f.read(1 << 20):
                    self.write(chunk)
                    await self.flush()
            self.finish()
        finally:
            if os.path.exists(target):
                os.unlink(target)
            os.rmdir(folder)


class RunCancelHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        ws = self.require_workspace()

        def cancel() -> dict[str, Any]:
            run = ws.get_run(run_id)
            run.cancel()
            return _run_reply(ws, run.id)

        await self.reply(cancel)


class SnapshotsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        path = body.get("path", ".")
        if not isinstance(path, str):
            raise InvalidArgumentError(f"'path' must be a string (a folder relative to the server root), got {path!r}")
        folder = self.confined(path, "path")
        if not folder.is_dir():
            raise NotFoundError(f"no folder {body.get('path')!r} under the server root")
        ws = self.state.require()

        def capture() -> dict[str, Any]:
            from ..snapshots import capture_snapshot

            snap = capture_snapshot(folder, ws.artifacts, cache_file=ws.path / "cache" / "snapshot-stat-cache.json")
            ws.metadata.add_snapshot(
                SnapshotRecord(snap.id, time.time(), snap.file_count, snap.total_size, str(folder))
            )
            return {
                "id": snap.id,
                "file_count": snap.file_count,
                "total_size": snap.total_size,
                "source": str(folder.relative_to(self.state.root_dir)),
            }

        await self.reply(capture, status=201)


class SubmissionsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        script_arg = body.get("script") or body.get("notebook")
        if not isinstance(script_arg, str):
            raise InvalidArgumentError("a submission needs 'script' or 'notebook': a path relative to the server root")
        script = self.confined(script_arg, "script")
        source = script.parent
        if body.get("source_directory"):
            source = self.confined(str(body["source_directory"]), "source_directory")
        if source not in script.parents:
            raise InvalidArgumentError("the script must be inside source_directory")
        arguments = body.get("arguments", [])
        if not isinstance(arguments, list):
            raise InvalidArgumentError("'arguments' must be a list")
        tags = body.get("tags") or {}
        if not isinstance(tags, dict):
            raise InvalidArgumentError("'tags' must be an object")
        experiment = body.get("experiment") or source.name or "default"
        if not isinstance(experiment, str):
            raise InvalidArgumentError("'experiment' must be a string")
        validate_entity_name("experiment", experiment)
        target = body.get("compute_target") or self.state.default_compute_target
        relative = script.relative_to(source).as_posix()
        config: ScriptRunConfig | NotebookRunConfig
        if script.suffix == ".ipynb":
            parameters = body.get("parameters") or {}
            if not isinstance(parameters, dict):
                raise InvalidArgumentError("'parameters' must be an object")
            kernel = body.get("kernel_name")
            if kernel is not None and not isinstance(kernel, str):
                raise InvalidArgumentError("'kernel_name' must be a string")
            config = NotebookRunConfig(
                source_directory=source,
                notebook=relative,
                parameters=parameters,
                compute_target=target,
                environment=body.get("environment"),
                kernel_name=kernel,
                allow_unknown_parameters=bool(body.get("allow_unknown_parameters", False)),
                max_run_duration_seconds=body.get("max_run_duration_seconds"),
            )
        else:
            config = ScriptRunConfig(
                source_directory=source,
                script=relative,
                arguments=arguments,
                compute_target=target,
                environment=body.get("environment"),
                max_run_duration_seconds=body.get("max_run_duration_seconds"),
            )
        environment = config.job_spec()["environment"]  # validate before a workspace is created for it
        existing = self.workspace()
        if existing is not None:
            ComputeTarget(existing, config.target)  # 404 naming the attached targets
            if environment is not None:
                Environment.get(existing, environment["name"], environment["version"])  # 404 if not registered
        elif config.target != "local":
            raise NotFoundError(
                f"compute target {config.target!r} is not attached (this server has no workspace yet; "
                "only 'local' exists)"
            )
        elif environment is not None:
            raise NotFoundError(
                f"environment {environment['name']!r} is not registered (this server has no workspace yet)"
            )
        ws = self.state.require()

        def submit() -> dict[str, Any]:
            run: Run = Experiment(ws, experiment).submit(config, tags=tags)
            return _run_reply(ws, run.id)

        await self.reply(submit, status=201)


class ModelsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(_empty())
        name = self.get_query_argument("name", None)
        latest = self.flag("latest")
        tags = {}
        for item in self.get_query_arguments("tag"):
            key, _, value = item.partition("=")
            tags[key] = value if _ else None
        models = await self.call(lambda: Model.list(ws, name=name, latest=latest, tags=tags or None))
        self.send({"items": [model_json(m) for m in models], "next_page_token": None})


class ModelHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        versions = await self.call(lambda: Model.list(ws, name=name))
        if not versions:
            raise NotFoundError(f"model {name!r} is not registered in this workspace")
        aliases = {alias: m.version for m in versions for alias in m.aliases}
        self.send({"name": name, "latest_version": versions[0].version, "aliases": aliases,
                   "versions": [model_json(m) for m in versions]})  # fmt: skip


def _model(ws: Workspace, name: str, version: str) -> Model:
    if version == "latest":
        return Model(ws, name)
    if version.isdigit():
        return Model(ws, name, version=int(version))
    return Model(ws, name, alias=version)


REGISTRATION_FIELDS = ("run_id", "path", "description", "tags", "properties")


def _string_map(body: dict[str, Any], field: str) -> dict[str, str]:
    """``tags``/``properties`` of a request body: absent, or an object of strings."""
    value = body.get(field, {})
    if not isinstance(value, dict):
        raise InvalidArgumentError(f'\'{field}\' must be an object of strings, e.g. {{"stage": "dev"}}; got {value!r}')
    for key, item in value.items():
        if not isinstance(item, str):
            raise InvalidArgumentError(
                f"'{field}' values must be strings: {key!r} is {item!r} (send it as {json.dumps(str(item))})"
            )
    return value


class ModelVersionsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        """Register the next version of ``name`` from a run's file or folder."""
        body = self.json_body()
        unknown = sorted(set(body) - set(REGISTRATION_FIELDS))
        if unknown:
            raise InvalidArgumentError(
                f"unknown field {unknown[0]!r} in the registration; the fields are {', '.join(REGISTRATION_FIELDS)}"
            )
        run_id = body.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            raise InvalidArgumentError(
                f"'run_id' must be a string: the id of the run whose file or folder becomes the model; got {run_id!r}"
            )
        path = body.get("path")
        if not isinstance(path, str):
            raise InvalidArgumentError(
                f"'path' must be a string: a run file or folder such as outputs/model.pkl; got {path!r}"
            )
        try:
            path = _clean(path)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"'path': {exc.message}") from None
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"'description' must be a string or null; got {description!r}")
        tags = _string_map(body, "tags")
        properties = _string_map(body, "properties")
        validate_entity_name("model", name)  # a 400 before the run is looked up (Model.register checks it too)
        ws = self.require_workspace()

        def register() -> dict[str, Any]:
            model = ws.get_run(run_id).register_model(
                model_name=name, model_path=path, tags=tags, properties=properties, description=description
            )
            return model_json(model, files=True)

        await self.reply(register, status=201)


class ModelVersionHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str, version: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: model_json(_model(ws, name, version), files=True))


class ModelFilesHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str, version: str) -> None:
        ws = self.require_workspace()
        files = await self.call(lambda: _model(ws, name, version).files())
        self.send({"items": [{"path": f.path, "size": f.size} for f in files], "next_page_token": None})


class ModelFileHandler(RunFileHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str, version: str, path: str) -> None:
        ws = self.require_workspace()
        wanted = _clean(path)

        def find() -> Any:
            for record in _model(ws, name, version).files():
                if record.path == wanted:
                    return record
            raise NotFoundError(f"model {name}:{version} has no file {wanted!r}")

        record = await self.call(find)
        await self.stream_blob(ws, record.digest, record.path)


class ComputesHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send({"items": [{"name": "local", "type": "local", "config": {}}], "next_page_token": None})
        targets = await self.call(lambda: [t.serialize() for t in ComputeTarget.list(ws)])
        self.send({"items": targets, "next_page_token": None})


def _environment_json(record: Any) -> dict[str, Any]:
    return {
        "name": record.name,
        "version": record.version,
        "content_hash": record.content_hash,
        "definition": record.definition,
        "created_time": iso(record.created_time),
    }


def _activity_json(record: ActivityRecord, with_log: bool = False) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "activity_id": record.activity_id,
        "kind": record.kind,
        "name": record.name,
        "status": record.status,
        "progress": record.progress,
        "run_id": record.run_id,
        "created_time": iso(record.created_time),
        "end_time": iso(record.end_time) if record.end_time is not None else None,
        "details": record.details,
        "error": record.error,
    }
    if with_log:
        reply["log"] = record.log
    return reply


ACTIVITY_STATUSES = ("Running", "Completed", "Failed")


class ActivitiesHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        status = self.get_query_argument("status", None)
        if status is not None and status not in ACTIVITY_STATUSES:
            raise InvalidArgumentError(f"status must be one of {', '.join(ACTIVITY_STATUSES)}, got {status!r}")
        kind = self.get_query_argument("kind", None)
        limit = self.integer("page_size", 100, 1, 1000)
        ws = self.workspace()
        if ws is None:
            return self.send(_empty())

        def page() -> dict[str, Any]:
            records = ws.metadata.list_activities(kind=kind, status=status, limit=limit)
            return {"items": [_activity_json(r) for r in records], "next_page_token": None}

        await self.reply(page)


class ActivityHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, activity_id: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: _activity_json(ws.metadata.get_activity(activity_id), with_log=True))


class EnvironmentsHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send(_empty())

        def latest() -> dict[str, Any]:
            newest: dict[str, Any] = {}
            for record in ws.metadata.list_environments():
                newest.setdefault(record.name, record)
            return {"items": [_environment_json(r) for r in newest.values()], "next_page_token": None}

        await self.reply(latest)


class EnvironmentHandler(MlwsHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        ws = self.require_workspace()

        def versions() -> dict[str, Any]:
            records = [r for r in ws.metadata.list_environments() if r.name == name]
            if not records:
                raise NotFoundError(f"environment {name!r} is not registered in this workspace")
            return {"items": [_environment_json(r) for r in records], "next_page_token": None}

        await self.reply(versions)


class EventsHandler(MlwsHandler):
    """Server-sent events: ``event: run.status`` and a JSON ``data:`` line; ``Last-Event-ID`` resumes."""

    KEEPALIVE_S = 15.0
    _closed: asyncio.Event | None = None

    def on_connection_close(self) -> None:
        # Wake the stream at once so a departed client stops costing a subscription (and a poller).
        if self._closed is not None:
            self._closed.set()

    @web.authenticated
    @authorized
    async def get(self) -> None:
        hub = self.hub
        resume = self.request.headers.get("Last-Event-ID") or self.get_query_argument("last_event_id", None)
        if resume is not None:
            try:
                after = int(resume)
            except ValueError:
                raise InvalidArgumentError(f"Last-Event-ID must be an event id (an integer), not {resume!r}") from None
        else:
            after = await hub.latest_id()
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        queue = hub.subscribe(after)
        self._closed = asyncio.Event()
        last = after
        try:
            self.write("retry: 2000\n\n")
            await self.flush()
            for event in await hub.backlog(after):
                last = await self._send(event, last)
            closed = asyncio.ensure_future(self._closed.wait())
            while not self._closed.is_set():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, closed}, timeout=self.KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    if closed in done:
                        break
                    self.write(": keep-alive\n\n")
                    await self.flush()
                    continue
                last = await self._send(getter.result(), last)
            closed.cancel()
        except StreamClosedError:
            pass
        finally:
            hub.unsubscribe(queue)

    async def _send(self, event: Any, last: int) -> int:
        if event.id <= last:
            return last  # already sent from the backlog
        self.write(f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.data, default=str)}\n\n")
        await self.flush()
        return int(event.id)


class UnknownRouteHandler(MlwsHandler):
    """Anything else under the API answers a JSON 404, not an HTML page."""

    def _unknown(self, *args: Any) -> None:
        raise NotFoundError(f"no such API route: {self.request.method} {self.request.path}")

    get = post = put = patch = delete = web.authenticated(_unknown)


def handlers() -> list[tuple[str, type]]:
    run = rf"{API}/runs/(?P<run_id>[^/]+)"
    model = rf"{API}/models/(?P<name>[^/]+)"
    return [
        (rf"{API}/workspace", WorkspaceHandler),
        (rf"{API}/experiments", ExperimentsHandler),
        (rf"{API}/experiments/(?P<name>[^/]+)/runs", ExperimentRunsHandler),
        (rf"{API}/runs", RunsHandler),
        (run, RunHandler),
        (rf"{run}/metrics", RunMetricsHandler),
        (rf"{run}/files", RunFilesHandler),
        (rf"{run}/files/(?P<path>.+)", RunFileHandler),
        (rf"{run}/logs", RunLogsHandler),
        (rf"{run}/snapshot", RunSnapshotHandler),
        (rf"{run}/cancel", RunCancelHandler),
        (rf"{API}/snapshots", SnapshotsHandler),
        (rf"{API}/submissions", SubmissionsHandler),
        (rf"{API}/models", ModelsHandler),
        (model, ModelHandler),
        (rf"{model}/versions", ModelVersionsHandler),
        (rf"{model}/versions/(?P<version>[^/]+)", ModelVersionHandler),
        (rf"{model}/versions/(?P<version>[^/]+)/files", ModelFilesHandler),
        (rf"{model}/versions/(?P<version>[^/]+)/files/(?P<path>.+)", ModelFileHandler),
        (rf"{API}/computes", ComputesHandler),
        (rf"{API}/activities", ActivitiesHandler),
        (rf"{API}/activities/(?P<activity_id>[^/]+)", ActivityHandler),
        (rf"{API}/environments", EnvironmentsHandler),
        (rf"{API}/environments/(?P<name>[^/]+)", EnvironmentHandler),
        (rf"{API}/events", EventsHandler),
        (rf"{API}(?:/.*)?", UnknownRouteHandler),
    ]
