"""Store back ends by URL scheme and job input types by name, loaded lazily (STYLE 1: named plug-ins
through entry points).

The core never imports a store module directly: it names them here as strings, and third parties add
more with the entry-point groups ``jupyter_mlws.metadata_stores`` and ``jupyter_mlws.artifact_stores``.
A plug-in that fails to import gives a warning naming it and never breaks ``import jupyter_mlws``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any
from urllib.parse import urlsplit

from ..errors import BackendUnavailableError, InvalidArgumentError
from .interfaces import ArtifactStore, MetadataCopier, MetadataStore, RunLister

__all__ = [
    "PluginRegistry",
    "agent_commands",
    "agent_tasks",
    "artifact_stores",
    "job_input_types",
    "metadata_copiers",
    "metadata_stores",
    "open_artifact_store",
    "open_metadata_copier",
    "open_metadata_store",
    "open_run_lister",
    "resumable_driver",
    "run_drivers",
    "run_listers",
    "schedule_targets",
]


class PluginRegistry:
    """Name -> ``"module:attribute"`` with entry points merged in on first use."""

    def __init__(self, kind: str, group: str, builtins: dict[str, str], extras: dict[str, str]) -> None:
        self.kind = kind
        self.group = group
        self._specs = dict(builtins)
        self._extras = extras  # module prefix -> pip extra that provides its driver
        self._loaded: dict[str, Any] = {}
        self._scanned = False

    def register(self, name: str, target: Any) -> None:
        """Register a class (or a ``"module:attr"`` string) under ``name``."""
        if isinstance(target, str):
            self._specs[name] = target
            self._loaded.pop(name, None)
        else:
            self._loaded[name] = target
            self._specs[name] = f"{target.__module__}:{target.__qualname__}"

    def registered(self, name: str) -> bool:
        """Whether ``name`` is built in or registered, without reading the entry points (cheap)."""
        return name in self._specs

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        # Imported here: reading the installed distributions costs a CLI start ~20 ms (issue 22).
        from importlib.metadata import entry_points

        try:
            for ep in entry_points(group=self.group):
                self._specs.setdefault(ep.name, ep.value)
        except Exception as exc:  # a broken distribution must not break us
            warnings.warn(f"could not read {self.group} entry points: {exc}", RuntimeWarning, stacklevel=2)

    def spec(self, name: str) -> str:
        """The ``"module:attribute"`` a name is registered as (to load it where this registry is not)."""
        if name not in self._specs:  # a known name needs no scan (see get)
            self._scan()
        if name not in self._specs:
            raise InvalidArgumentError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        return self._specs[name]

    def names(self) -> list[str]:
        self._scan()
        return sorted(self._specs)

    def get(self, name: str) -> Any:
        if name not in self._specs:
            # A known name needs no scan: an entry point never replaces a name already registered
            # (``setdefault`` in ``_scan``), so opening a built-in store stays cheap (issue 22).
            self._scan()
        if name in self._loaded:
            return self._loaded[name]
        spec = self._specs.get(name)
        if spec is None:
            known = ", ".join(self.names())
            raise InvalidArgumentError(f"unknown {self.kind} {name!r}; known: {known}")
        module_name, _, attr = spec.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except ImportError as exc:
            extra = next((e for prefix, e in self._extras.items() if name.startswith(prefix)), None)
            fix = f'; install it with pip install "jupyter-mlws[{extra}]"' if extra else ""
            raise BackendUnavailableError(f"the {self.kind} {name!r} cannot be loaded ({exc}){fix}") from None
        except Exception as exc:  # a broken plug-in: its own error, named, never a raw crash
            raise BackendUnavailableError(
                f"the {self.kind} {name!r} ({spec}) is broken: {type(exc).__name__}: {exc}"
            ) from None
        self._loaded[name] = obj
        return obj

    def available(self) -> dict[str, Any]:
        """Every plug-in that loads; each broken one gives a warning naming it and is left out."""
        loaded: dict[str, Any] = {}
        for name in self.names():
            try:
                loaded[name] = self.get(name)
            except Exception as exc:
                warnings.warn(f"skipping {self.kind} {name!r}: {exc}", RuntimeWarning, stacklevel=2)
        return loaded


metadata_stores = PluginRegistry(
    "metadata store",
    "jupyter_mlws.metadata_stores",
    {
        "sqlite": "jupyter_mlws.stores.metadata.sql:SqlMetadataStore",
        "postgresql": "jupyter_mlws.stores.metadata.sql:SqlMetadataStore",
    },
    {"postgresql": "postgres"},
)
# Copiers of a workspace's metadata into another database (issue 19, `mlws workspace migrate`), by the
# target URL's scheme; each implements ``core.interfaces.MetadataCopier``.
metadata_copiers = PluginRegistry(
    "metadata copier",
    "jupyter_mlws.metadata_copiers",
    {
        "sqlite": "jupyter_mlws.stores.metadata.sql.copy:SqlMetadataCopier",
        "postgresql": "jupyter_mlws.stores.metadata.sql.copy:SqlMetadataCopier",
    },
    {"postgresql": "postgres"},
)
artifact_stores = PluginRegistry(
    "artifact store",
    "jupyter_mlws.artifact_stores",
    {
        "file": "jupyter_mlws.stores.artifacts.local:LocalArtifactStore",
        "fsspec": "jupyter_mlws.stores.artifacts.fsspec_store:FsspecArtifactStore",
    },
    {},
)

# What a job's arguments/inputs may hold besides plain values (issue 15; see core/job_inputs.py): each
# type implements ``core.interfaces.compute.JobInputType``. More come from the entry point group.
job_input_types = PluginRegistry(
    "job input type",
    "jupyter_mlws.job_input_types",
    {
        "dataset": "jupyter_mlws.data.job_inputs:DatasetInputType",
        "pipeline_data": "jupyter_mlws.pipelines.data:PipelineDataType",
    },
    {},
)

# Runs that are driven rather than executed (issue 16): a queued run of one of these run types gets a
# driver process from the dispatcher agent instead of a job on a compute target (a pipeline run
# schedules its steps). Each implements ``core.interfaces.compute.RunDriver``.
run_drivers = PluginRegistry(
    "run driver",
    "jupyter_mlws.run_drivers",
    {
        "azureml.PipelineRun": "jupyter_mlws.pipelines.driver:PipelineDriver",
        "hyperdrive": "jupyter_mlws.sweeps.driver:SweepDriver",  # a sweep's controller (issue 18)
        "mlws.datadrift": "jupyter_mlws.monitoring.driver:DriftDriver",  # a data drift check (issue 20)
    },
    {},
)


def resumable_driver(run_type: str) -> bool:
    """Whether runs of ``run_type`` are driven by a resumable driver (a sweep's controller): one
    whose run is not ended when its driver dies, but given a new driver by the agent."""
    if run_type not in run_drivers.names():
        return False
    try:
        return bool(getattr(run_drivers.get(run_type), "resumable", False))
    except Exception:  # a broken plug-in resumes nothing
        return False


def _scheme(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    return scheme.split("+", 1)[0]  # postgresql+psycopg -> postgresql


def open_metadata_store(url: str) -> MetadataStore:
    """Open the metadata store for a SQLAlchemy-style URL (``sqlite:///…``, ``postgresql+psycopg://…``)."""
    scheme = _scheme(url)
    if not scheme:
        raise InvalidArgumentError(f"metadata_url {url!r} has no scheme; use e.g. sqlite:///path/mlws.db")
    store: MetadataStore = metadata_stores.get(scheme)(url)
    return store


# Programs whose commands a client may run in a fork of its workspace's agent (``compute/agent_socket.py``):
# ``main(argv) -> exit code``. The agent is warm, so a command there starts without its imports.
agent_commands = PluginRegistry("agent command", "jupyter_mlws.agent_commands", {"mlws": "jupyter_mlws.cli:main"}, {})

# Light readers for the run lists of short-lived processes (``mlws runs list``), by URL scheme: a
# scheme without one is listed through its full metadata store. Only registered listers are used (no
# entry-point scan: a lister exists to be quick); one registered for a scheme must read the database
# that scheme's registered metadata store writes.
run_listers = PluginRegistry(
    "run lister",
    "jupyter_mlws.run_listers",
    {"sqlite": "jupyter_mlws.stores.metadata.sqlite_lister:open_sqlite_lister"},
    {},
)


def open_run_lister(url: str) -> RunLister | None:
    """A run lister for the metadata URL, or ``None`` when its scheme has none or it declines the
    database (e.g. not yet at the current schema: the full store migrates it)."""
    scheme = _scheme(url)
    if not run_listers.registered(scheme):  # no entry-point scan: a lister is there to be quick
        return None
    lister: RunLister | None = run_listers.get(scheme)(url)
    return lister


def open_metadata_copier(target_url: str) -> MetadataCopier:
    """The copier that fills a database of ``target_url``'s kind from a workspace's metadata."""
    scheme = _scheme(target_url)
    if not scheme:
        raise InvalidArgumentError(f"metadata URL {target_url!r} has no scheme; use e.g. postgresql+psycopg://host/db")
    copier: MetadataCopier = metadata_copiers.get(scheme)()
    return copier


def open_artifact_store(url: str, options: dict[str, Any] | None = None) -> ArtifactStore:
    """Open the artifact store for a local path, a ``file://`` URL or any other fsspec URL;
    ``options`` are fsspec storage options for the latter (a workspace's ``artifact_options``)."""
    name = _artifact_store_name(url)
    if name == "file":
        if options:
            raise InvalidArgumentError(
                f"the artifact store {url} is a local folder, which takes no storage options; leave "
                "artifact_options out, or name an object store (artifact_url='s3://bucket/prefix')"
            )
        store: ArtifactStore = artifact_stores.get(name)(url)
        return store
    store = artifact_stores.get(name)(url, **(options or {}))
    return store


def _artifact_store_name(url: str) -> str:
    """The registered artifact store that opens ``url``: a local path or ``file://`` URL ("file"),
    a scheme registered by name, else any other fsspec URL ("fsspec")."""
    scheme = _scheme(url)
    if scheme in ("", "file") or (len(scheme) == 1 and url[1:2] == ":"):
        return "file"
    known = artifact_stores.registered(scheme) or scheme in artifact_stores.names()  # (names: a scan)
    return scheme if known else "fsspec"


def store_modules(metadata_url: str, artifact_url: str) -> list[str]:
    """The modules of the stores a workspace of these URLs opens, named by the registry and not
    imported (a process that will open the workspace has them imported beforehand: see core/preload.py)."""
    specs = [metadata_stores.spec(_scheme(metadata_url)), artifact_stores.spec(_artifact_store_name(artifact_url))]
    return [spec.partition(":")[0] for spec in specs]


# Periodic work of the dispatcher agent besides its queue (issue 16): each task is a callable
# ``task(workspace) -> bool`` that the agent calls about once a second; it answers True while it has
# work that must keep the agent up (e.g. an enabled schedule). More come from the entry point group.
agent_tasks = PluginRegistry(
    "agent task",
    "jupyter_mlws.agent_tasks",
    {
        "schedules": "jupyter_mlws.pipelines.scheduler:agent_task",
        # deployed web services: restart dead supervisors, mirror states, publish captured inputs
        "serving": "jupyter_mlws.serving.agent_task:agent_task",
    },
    {},
)

# What a schedule fires when it is not a published pipeline (``ScheduleRecord.target_kind``, issue 20):
# each is a callable ``fire(workspace, record, fire_time) -> run id``, called by the schedule driver
# (``pipelines/scheduler.py``) only after it claimed that fire, so each fire starts once.
schedule_targets = PluginRegistry(
    "schedule target",
    "jupyter_mlws.schedule_targets",
    {"drift": "jupyter_mlws.monitoring.schedule:fire"},  # a data drift detector's interval check
    {},
)
