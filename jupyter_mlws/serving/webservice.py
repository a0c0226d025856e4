"""v1's ``Webservice``, ``LocalWebservice`` and ``DockerWebservice``: a deployed model as a service.

``Webservice(ws, name)`` gives the service of that name as its own class (a ``LocalWebservice`` or a
``DockerWebservice``); ``Model.deploy(...)`` makes one. Reading an attribute reads the service's
record and the state its supervisor keeps in ``state.json`` (live: no call to a worker).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Self

from ..core.interfaces.webservices import WebserviceRecord
from ..errors import InvalidArgumentError, NotFoundError, WebserviceException
from . import deploy as deployer
from .config import (
    DockerWebserviceDeploymentConfiguration,
    InferenceConfig,
    LocalWebserviceDeploymentConfiguration,
    validate_service_name,
)
from .layout import read_json, write_json

if TYPE_CHECKING:
    import pandas as pd

    from ..core.workspace import Workspace

__all__ = ["DockerWebservice", "LocalWebservice", "Webservice"]

TERMINAL_STATES = ("Healthy", "Failed")
CALL_TIMEOUT_S = 90.0


class Webservice:
    """A deployed web service (v1's ``azureml.core.webservice.Webservice``)."""

    _compute_type: ClassVar[str | None] = None  # "local" / "docker" in the subclasses

    def __new__(cls, workspace: Workspace, name: str) -> Self:
        record = _record(workspace, name)
        kind = _CLASSES.get(record.compute_type, Webservice)
        if cls is not Webservice and kind is not cls:
            raise WebserviceException(f"web service {name!r} is a {kind.__name__}, not a {cls.__name__}")
        service = object.__new__(kind)
        service._init(workspace, record)
        return service  # type: ignore[return-value]

    def __init__(self, workspace: Workspace, name: str) -> None:
        """Set up by ``__new__`` (which picks the subclass)."""

    def _init(self, workspace: Workspace, record: WebserviceRecord) -> None:
        self.workspace = workspace
        self._record = record
        self._folder = deployer.service_folder(workspace, record.name)

    @classmethod
    def _of(cls, workspace: Workspace, record: WebserviceRecord) -> Webservice:
        service = object.__new__(_CLASSES.get(record.compute_type, Webservice))
        service._init(workspace, record)
        return service

    # -- making and listing ---------------------------------------------------------------------------
    @staticmethod
    def _deploy_models(
        workspace: Workspace,
        name: str,
        models: Any,
        inference_config: InferenceConfig | None = None,
        deployment_config: Any = None,
        overwrite: bool = False,
        show_output: bool = False,
    ) -> Webservice:
        """``Model.deploy(...)``: record and start the service; ``wait_for_deployment()`` waits for it."""
        deployer.deploy(workspace, name, models, inference_config, deployment_config, overwrite, show_output)
        service = Webservice(workspace, name)
        if show_output:
            service.wait_for_deployment(show_output=True)
        return service

    @staticmethod
    def list(
        workspace: Workspace,
        compute_type: str | None = None,
        image_name: str | None = None,
        image_id: str | None = None,
        model_name: str | None = None,
        model_id: str | None = None,
        tags: Any = None,
        properties: Any = None,
        image_digest: str | None = None,
    ) -> builtins.list[Webservice]:
        """Every service, filtered as v1 filters (``compute_type`` ``"Local"``/``"Docker"``, a model's
        name or ``name:version``, tags and properties as a list of keys or ``[key, value]`` pairs)."""
        if image_name is not None or image_id is not None or image_digest is not None:
            raise InvalidArgumentError("services here are not built from registered images: filter by model instead")
        services = []
        for record in workspace.metadata.list_webservices():
            kind = _CLASSES.get(record.compute_type, Webservice)
            if compute_type is not None and compute_type.lower() != (kind._compute_type or "").lower():
                continue
            if model_name is not None and not any(m.rpartition(":")[0] == model_name for m in record.models):
                continue
            if model_id is not None and model_id not in record.models:
                continue
            if not _matches(record.tags, tags, "tags") or not _matches(record.properties, properties, "properties"):
                continue
            services.append(Webservice._of(workspace, record))
        return services

    @staticmethod
    def check_for_existing_webservice(workspace: Workspace, name: str, overwrite: bool = False) -> None:
        """v1: raise if a service of this name exists (unless ``overwrite``)."""
        validate_service_name(name)
        with contextlib.suppress(NotFoundError):
            workspace.metadata.get_webservice(name)
            if not overwrite:
                raise WebserviceException(f"a web service named {name!r} already exists")

    # -- attributes -----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def compute_type(self) -> str:
        return type(self)._compute_type or self._record.compute_type

    @property
    def state(self) -> str:
        """``Transitioning``, ``Healthy``, ``Unhealthy`` or ``Failed``: the supervisor's word now."""
        return self._live()[0]

    @property
    def error(self) -> str | None:
        return self._live()[1]

    def _live(self) -> tuple[str, str | None]:
        state = self._folder.state()
        value = state.get("state")
        if value == "Failed":
            return "Failed", state.get("error")
        if not self._folder.supervisor_alive():
            if value is None and _written_within(self._folder.log_file, 15.0):
                return "Transitioning", None  # being built, or the supervisor is starting
            return "Unhealthy", state.get("error") or "the service's supervisor is not running"
        return str(value or "Transitioning"), state.get("error")

    @property
    def port(self) -> int | None:
        port = self._folder.state().get("port")
        return int(port) if isinstance(port, int) else None

    @property
    def scoring_uri(self) -> str | None:
        port = self.port
        return f"http://127.0.0.1:{port}/score" if port else None

    @property
    def swagger_uri(self) -> str | None:
        port = self.port
        return f"http://127.0.0.1:{port}/swagger.json" if port else None

    @property
    def auth_enabled(self) -> bool:
        return bool(self._record.config.get("auth_enabled", True))

    @property
    def models(self) -> builtins.list[Any]:
        from ..core.model import Model

        return [Model(self.workspace, id=model_id) for model_id in self._record.models]

    @property
    def model_ids(self) -> builtins.list[str]:
        return list(self._record.models)

    @property
    def generation(self) -> int:
        return self._record.generation

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._record.properties)

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def created_time(self) -> datetime:
        return datetime.fromtimestamp(self._record.created_time, UTC)

    @property
    def updated_time(self) -> datetime:
        return datetime.fromtimestamp(self._record.updated_time, UTC)

    @property
    def entry_script(self) -> str | None:
        return self._record.inference.get("entry_script")

    def update_deployment_state(self) -> None:
        """v1: refresh what this object knows (its record; the state is always read live)."""
        self._record = _record(self.workspace, self.name)

    def serialize(self) -> dict[str, Any]:
        state, error = self._live()
        return {
            "name": self.name,
            "computeType": self.compute_type,
            "state": state,
            "error": error,
            "scoringUri": self.scoring_uri,
            "swaggerUri": self.swagger_uri,
            "models": list(self._record.models),
            "generation": self._record.generation,
            "authEnabled": self.auth_enabled,
            "createdTime": self.created_time.isoformat(),
            "updatedTime": self.updated_time.isoformat(),
            "description": self.description,
            "tags": self.tags,
            "properties": self.properties,
        }

    # -- waiting, logs, keys ----------------------------------------------------------------------------
    def wait_for_deployment(self, show_output: bool = False, timeout_sec: float | None = None) -> None:
        """Wait until the service is Healthy (returns) or Failed (raises ``WebserviceException`` with
        the error, e.g. the traceback of ``init()``); ``show_output`` streams the service log."""
        deadline = None if timeout_sec is None else time.monotonic() + timeout_sec
        offset = _last_deployment_offset(self._folder.log_file) if show_output else 0
        while True:
            if show_output:
                offset = _print_new(self._folder.log_file, offset)
            state, error = self._live()
            if state in TERMINAL_STATES or (state == "Unhealthy" and not self._folder.supervisor_alive()):
                break
            if deadline is not None and time.monotonic() > deadline:
                raise WebserviceException(
                    f"web service {self.name!r} is still {state} after {timeout_sec:g} s; see get_logs()"
                )
            time.sleep(0.05)
        if show_output:
            _print_new(self._folder.log_file, offset)
            print(f"{self.name}: {state}")
        if state != "Healthy":
            raise WebserviceException(f"web service {self.name!r} deployment failed ({state}):\n{error}")

    def get_logs(self, num_lines: int = 5000, init: bool = False) -> str:
        """The last ``num_lines`` lines of the service log: the build, the supervisor and the worker."""
        if isinstance(num_lines, bool) or not isinstance(num_lines, int) or num_lines < 0:
            raise InvalidArgumentError(f"num_lines must be a non-negative integer, got {num_lines!r}")
        return self._folder.log_tail(num_lines)

    def get_keys(self) -> tuple[str, str]:
        """``(primary, secondary)``: either goes in ``Authorization: Bearer <key>``."""
        keys = read_json(self._folder.keys_file) or {}
        return str(keys.get("primary", "")), str(keys.get("secondary", ""))

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """A new ``"Primary"`` or ``"Secondary"`` key (``set_key`` to choose it); the running service
        takes it within a second, the other key keeps working meanwhile."""
        import secrets

        which = str(key).lower()
        if which not in ("primary", "secondary"):
            raise InvalidArgumentError(f"key must be 'Primary' or 'Secondary', got {key!r}")
        if set_key is not None and (not isinstance(set_key, str) or len(set_key) < 16):
            raise InvalidArgumentError("set_key must be a string of at least 16 characters")
        keys = read_json(self._folder.keys_file) or {}
        keys[which] = set_key or secrets.token_urlsafe(32)
        write_json(self._folder.keys_file, keys, 0o600)

    def get_token(self) -> NoReturn:
        raise WebserviceException("services here use keys (get_keys()), not tokens")

    # -- calling -----------------------------------------------------------------------------------------
    def run(self, input_data: Any) -> Any:
        """POST ``input_data`` (a JSON string, or a value sent as JSON) to the scoring URI with the
        primary key; returns the decoded answer. An error answer raises ``WebserviceException`` with
        the service's message."""
        uri = self.scoring_uri
        if uri is None:
            raise WebserviceException(f"web service {self.name!r} is not listening ({self.state}); see get_logs()")
        body = (
            input_data.encode()
            if isinstance(input_data, str)
            else input_data
            if isinstance(input_data, bytes)
            else None
        )
        if body is None:
            body = json.dumps(input_data).encode()
        headers = {"Content-Type": "application/json"}
        if self.auth_enabled:
            headers["Authorization"] = f"Bearer {self.get_keys()[0]}"
        request = urllib.request.Request(uri, data=body, headers=headers, method="POST")  # noqa: S310 - our http URL
        try:
            with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_S) as response:  # noqa: S310 - our own http URL
                payload = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise WebserviceException(f"web service {self.name!r} answered {exc.code}: {detail}") from None
        except OSError as exc:
            raise WebserviceException(f"web service {self.name!r} did not answer at {uri}: {exc}") from None
        try:
            return json.loads(payload)
        except ValueError:
            return payload.decode("utf-8", "replace")

    def get_telemetry(self, since: datetime | float | None = None) -> pd.DataFrame:
        """One row per request (time, status, latency_ms, request/response bytes, models, …), oldest
        first; ``since`` (a datetime or epoch seconds) keeps the later ones."""
        import pandas as pd

        from .telemetry import read_telemetry

        start = since.timestamp() if isinstance(since, datetime) else since
        rows = read_telemetry(self._folder.telemetry_dir, since=start)
        frame = pd.DataFrame(rows)
        if not frame.empty:
            frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
        return frame

    # -- changing -------------------------------------------------------------------------------------------
    def update(
        self,
        models: Any = None,
        image_config: Any = None,
        deployment_config: Any = None,
        wait: bool = True,
        inference_config: InferenceConfig | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        """Deploy new models and/or a new inference configuration without downtime: the new version
        starts beside the old, is health-checked, takes the traffic, and the old drains. Returns once
        the switch is made (``wait`` is v1's; the switch is always waited for); a new version that
        fails raises (the old one goes on serving). ``models`` alone keeps the serving code."""
        if image_config is not None:
            raise InvalidArgumentError(
                "image_config described an image built by Azure ML; pass inference_config=InferenceConfig(...) instead"
            )
        if tags is not None or properties is not None or description is not None:
            record = _record(self.workspace, self.name)  # what runs now, not what this object last saw
            self.workspace.metadata.update_webservice(
                self.name,
                generation=record.generation,
                models=record.models,
                inference=record.inference,
                config=record.config,
                updated_time=time.time(),
                tags=tags,
                properties=properties,
                description=description,
            )
        if models is not None or inference_config is not None or deployment_config is not None:
            deployer.update(self.workspace, self.name, models, inference_config, deployment_config)
        self.update_deployment_state()

    def delete(self) -> None:
        """Stop the service (in-flight requests finish), remove its files and lift its hold on the
        model versions. Captured inputs stay a dataset of the workspace."""
        deployer.remove(self.workspace, self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workspace={self.workspace.name!r}, name={self.name!r}, state={self.state!r})"


class LocalWebservice(Webservice):
    """A service run as a process on this machine (v1's ``LocalWebservice``), supervised so that it
    outlives the kernel and the Jupyter server and is restarted if it crashes."""

    _compute_type = "Local"

    def reload(self, wait: bool = False) -> None:
        """v1: serve the entry script and the files of the source folder as they are now (a new
        generation of the same models, switched without downtime)."""
        deployer.reload(self.workspace, self.name)
        self.update_deployment_state()

    @staticmethod
    def deploy_configuration(
        port: int | None = None,
        auth_enabled: bool = True,
        enable_data_collection: bool = False,
        data_collection_sample_rate: float = 1.0,
        scoring_timeout_ms: int = 60_000,
        max_request_size_mb: float = 32.0,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        description: str | None = None,
    ) -> LocalWebserviceDeploymentConfiguration:
        """Where and how: ``port`` (None: any free port), key auth (on by default), input capture."""
        return LocalWebserviceDeploymentConfiguration(
            port=port,
            auth_enabled=auth_enabled,
            enable_data_collection=enable_data_collection,
            data_collection_sample_rate=data_collection_sample_rate,
            scoring_timeout_ms=scoring_timeout_ms,
            max_request_size_mb=max_request_size_mb,
            tags=dict(tags or {}),
            properties=dict(properties or {}),
            description=description,
        )


class DockerWebservice(Webservice):
    """A service run as a container of a real Docker engine; the supervisor on this machine owns its
    port and hands it to the container, so updates switch without downtime here too."""

    _compute_type = "Docker"

    @staticmethod
    def deploy_configuration(
        port: int | None = None,
        cpu_cores: float | None = None,
        memory_gb: float | None = None,
        auth_enabled: bool = True,
        enable_data_collection: bool = False,
        data_collection_sample_rate: float = 1.0,
        scoring_timeout_ms: int = 60_000,
        max_request_size_mb: float = 32.0,
        compute_target: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        description: str | None = None,
    ) -> DockerWebserviceDeploymentConfiguration:
        return DockerWebserviceDeploymentConfiguration(
            port=port,
            cpu_cores=cpu_cores,
            memory_gb=memory_gb,
            auth_enabled=auth_enabled,
            enable_data_collection=enable_data_collection,
            data_collection_sample_rate=data_collection_sample_rate,
            scoring_timeout_ms=scoring_timeout_ms,
            max_request_size_mb=max_request_size_mb,
            compute_target=compute_target,
            tags=dict(tags or {}),
            properties=dict(properties or {}),
            description=description,
        )


_CLASSES: dict[str, type[Webservice]] = {"local": LocalWebservice, "docker": DockerWebservice}


def _record(workspace: Workspace, name: str) -> WebserviceRecord:
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"a web service name is needed, got {name!r}")
    return workspace.metadata.get_webservice(name)


def _matches(values: Any, wanted: Any, what: str) -> bool:
    if wanted is None:
        return True
    if isinstance(wanted, str):
        wanted = [wanted]
    for item in wanted:
        if isinstance(item, str):
            if item not in values:
                return False
        elif isinstance(item, list | tuple) and len(item) == 2:
            if values.get(item[0]) != item[1]:
                return False
        else:
            raise InvalidArgumentError(f"{what} must be a list of keys or [key, value] pairs, got {wanted!r}")
    return True


def _written_within(path: Any, seconds: float) -> bool:
    try:
        return bool(time.time() - path.stat().st_mtime < seconds)
    except OSError:
        return False


def _last_deployment_offset(path: Any) -> int:
    """Where the latest deployment's part of the service log starts (its deployer's first line)."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    starts = [data.rfind(marker) for marker in (b"[deploy] deploying ", b"[deploy] updating ")]
    start = max(starts)
    return 0 if start < 0 else data.rfind(b"\n", 0, start) + 1


def _print_new(path: Any, offset: int) -> int:
    """Print what the log gained since ``offset``; the new offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return offset
    if data:
        sys.stdout.write(data.decode("utf-8", "replace"))
        sys.stdout.flush()
    return offset + len(data)
