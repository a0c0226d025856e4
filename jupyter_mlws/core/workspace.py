"""The workspace: a folder holding ``.mlws/`` (config, SQLite database, artifact blobs)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AlreadyExistsError, InvalidStateError, NotFoundError
from .entities import ExperimentRecord
from .interfaces import ArtifactStore, MetadataStore
from .names import validate_entity_name
from .registry import open_artifact_store, open_metadata_store
from .writer import MetricWriter

if TYPE_CHECKING:
    from .compute import ComputeTarget
    from .experiment import Experiment
    from .model import Model
    from .runs import Run, RunPage
    from .services import Services

__all__ = ["CONFIG_DIR", "Workspace", "close_backends"]

CONFIG_DIR = ".mlws"
CONFIG_FILE = "config.json"
CONFIG_FORMAT = 1
ENV_WORKSPACE = "MLWS_WORKSPACE"

# Stores and writers are shared by every Workspace object of a process that names the same URLs:
# one engine (connection pool) and one background writer per database.
_backends_lock = threading.Lock()
_metadata_stores: dict[str, MetadataStore] = {}
_artifact_stores: dict[str, ArtifactStore] = {}
_writers: dict[str, MetricWriter] = {}


class Workspace:
    """A local-first workspace. Make one with :meth:`create`, find one with :meth:`from_config`."""

    def __init__(self, path: str | os.PathLike[str] = ".") -> None:
        root = _as_root(Path(path))
        config_path = root / CONFIG_DIR / CONFIG_FILE
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(
                f"no workspace at {root}: create one with `mlws init {root}` or Workspace.create({str(root)!r})"
            ) from None
        except (OSError, ValueError) as exc:
            raise InvalidStateError(f"the workspace config {config_path} cannot be read: {exc}") from None
        self._root = root
        self._name: str = config.get("name") or root.name or "workspace"
        self._metadata_url: str = config.get("metadata_url") or _default_metadata_url(root)
        self._artifact_url: str = config.get("artifact_url") or str(root / CONFIG_DIR / "artifacts")
        self._experiments: dict[str, ExperimentRecord] = {}

    # -- construction ---------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] = ".",
        name: str | None = None,
        metadata_url: str | None = None,
        artifact_url: str | None = None,
        exist_ok: bool = True,
    ) -> Workspace:
        """Make ``<path>/.mlws/`` (config, database, artifact folder) and return the workspace."""
        root = Path(path).expanduser().resolve()
        if name is not None:
            validate_entity_name("workspace", name)
        config_path = root / CONFIG_DIR / CONFIG_FILE
        if config_path.exists():
            if not exist_ok:
                raise AlreadyExistsError(f"a workspace exists already at {root}; pass exist_ok=True to open it")
            ws = cls(root)
            wanted = {"name": name, "metadata_url": metadata_url, "artifact_url": artifact_url}
            current = {"name": ws.name, "metadata_url": ws.metadata_url, "artifact_url": ws.artifact_url}
            clash = [k for k, v in wanted.items() if v is not None and v != current[k]]
            if clash:
                raise AlreadyExistsError(
                    f"the workspace at {root} exists with another {', '.join(clash)}; "
                    "open it with Workspace.from_config() or create a new one elsewhere"
                )
            return ws
        (root / CONFIG_DIR).mkdir(parents=True, exist_ok=True)
        config = {
            "format": CONFIG_FORMAT,
            "name": name or root.name or "workspace",
            "metadata_url": metadata_url,
            "artifact_url": artifact_url,
        }
        ws = cls.__new__(cls)
        ws._root, ws._experiments = root, {}
        ws._name = str(config["name"])
        ws._metadata_url = metadata_url or _default_metadata_url(root)
        ws._artifact_url = artifact_url or str(root / CONFIG_DIR / "artifacts")
        # Open both stores before writing the config: a bad URL leaves no half-made workspace.
        ws.metadata  # noqa: B018 - creates the schema
        ws.artifacts  # noqa: B018
        _write_atomic(config_path, json.dumps(config, indent=2) + "\n")
        gitignore = root / CONFIG_DIR / ".gitignore"
        if not gitignore.exists():
            _write_atomic(gitignore, "# jupyter-mlws workspace data\n*\n")
        return ws

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """The nearest workspace: ``MLWS_WORKSPACE`` if set, else the first ``.mlws/`` upward of ``path``."""
        env = os.environ.get(ENV_WORKSPACE)
        if env:
            return cls(env)
        start = Path(path if path is not None else os.getcwd()).expanduser().resolve()
        for folder in (start, *start.parents):
            if (folder / CONFIG_DIR / CONFIG_FILE).is_file():
                return cls(folder)
        raise NotFoundError(
            f"no workspace found in {start} or any folder above it: run `mlws init` there, call "
            f"Workspace.create(), or set {ENV_WORKSPACE} to a workspace folder"
        )

    # -- identity ---------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def root(self) -> Path:
        """The folder that holds ``.mlws/``."""
        return self._root

    @property
    def path(self) -> Path:
        """The ``.mlws/`` folder itself."""
        return self._root / CONFIG_DIR

    @property
    def metadata_url(self) -> str:
        return self._metadata_url

    @property
    def artifact_url(self) -> str:
        return self._artifact_url

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r}, root={str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other._root == self._root

    def __hash__(self) -> int:
        return hash(self._root)

    # -- back ends ----------------------------------------------------------------------------------------
    @property
    def metadata(self) -> MetadataStore:
        store = _metadata_stores.get(self._metadata_url)
        if store is None:
            with _backends_lock:
                store = _metadata_stores.get(self._metadata_url)
                if store is None:
                    store = _metadata_stores[self._metadata_url] = open_metadata_store(self._metadata_url)
        return store

    @property
    def artifacts(self) -> ArtifactStore:
        store = _artifact_stores.get(self._artifact_url)
        if store is None:
            with _backends_lock:
                store = _artifact_stores.get(self._artifact_url)
                if store is None:
                    store = _artifact_stores[self._artifact_url] = open_artifact_store(self._artifact_url)
        return store

    @property
    def writer(self) -> MetricWriter:
        writer = _writers.get(self._metadata_url)
        if writer is None:
            metadata = self.metadata
            with _backends_lock:
                writer = _writers.get(self._metadata_url)
                if writer is None:
                    writer = _writers[self._metadata_url] = MetricWriter(metadata)
        return writer

    @property
    def services(self) -> Services:
        """The service tier over this workspace's stores (one bundle per Workspace object)."""
        services = self.__dict__.get("_services")
        if services is None:
            from .services import Services

            services = self._services = Services(self)
        return services

    def flush(self, timeout: float | None = None) -> None:
        """Write every buffered metric point of this workspace now (nothing to do if none was logged)."""
        writer = _writers.get(self._metadata_url)
        if writer is not None:
            writer.flush(timeout)

    # -- contents -----------------------------------------------------------------------------------------
    def experiment_record(self, name: str) -> ExperimentRecord:
        """The record of experiment ``name``, created on first use (cached per Workspace object)."""
        record = self._experiments.get(name)
        if record is None:
            record = self._experiments[name] = self.services.tracking.experiment(name)
        return record

    @property
    def experiments(self) -> dict[str, Experiment]:
        from .experiment import Experiment

        return {e.name: Experiment(self, e.name) for e in self.services.queries.experiments()}

    @property
    def models(self) -> dict[str, Model]:
        """The newest version of every registered model, by name."""
        from .model import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    @property
    def compute_targets(self) -> dict[str, ComputeTarget]:
        """The attached compute targets by name (``local`` always among them)."""
        from .compute import ComputeTarget

        return {t.name: t for t in ComputeTarget.list(self)}

    def reconcile_jobs(self, run_ids: Iterable[str] | None = None) -> list[str]:
        """End the active jobs (all, or those of ``run_ids``) that can no longer finish because
        their supervisor died: Failed, or Canceled when a cancel was asked for, with the reason;
        and make sure queued jobs get dispatched. Interactive runs (``start_logging``, child runs)
        whose process died end Failed with the reason too, what they logged kept (see
        :mod:`jupyter_mlws.core.services.liveness`). Returns the ids of the runs it ended.

        Reading a status never does this: the workspace's agent does it continually, the Jupyter
        server every few seconds, and ``Run.wait_for_completion`` while it waits.
        """
        from .jobs import reconcile_jobs

        ids = None if run_ids is None else list(run_ids)
        return reconcile_jobs(self, ids) + self.services.tracking.end_stale_interactive(ids)

    def get_run(self, run_id: str) -> Run:
        from .runs import Run

        return Run.get(self, run_id)

    def search_runs(
        self,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_children: bool = False,
        experiments: Iterable[str | Experiment] | None = None,
    ) -> RunPage:
        """Runs of every experiment (or of ``experiments``) matching the filter language."""
        from .runs import search_runs

        ids = None
        if experiments is not None:
            ids = self.services.queries.experiment_ids([e if isinstance(e, str) else e.name for e in experiments])
        return search_runs(self, ids, filter, order_by, max_results, page_token, include_children)

    def get_details(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "root": str(self.root),
            "metadata_url": _hide_password(self.metadata_url),
            "artifact_url": self.artifact_url,
        }


def close_backends() -> None:
    """Write buffered metrics, stop writers and close every store this process opened."""
    with _backends_lock:
        writers = list(_writers.values())
        metadata_stores = list(_metadata_stores.values())
        artifact_stores = list(_artifact_stores.values())
        _writers.clear()
        _metadata_stores.clear()
        _artifact_stores.clear()
    try:
        for writer in writers:
            writer.close()
    finally:
        for metadata in metadata_stores:
            metadata.close()
        for artifacts in artifact_stores:
            artifacts.close()


def _as_root(path: Path) -> Path:
    path = path.expanduser().resolve()
    if path.name == CONFIG_DIR and (path / CONFIG_FILE).exists():
        return path.parent
    return path


def _default_metadata_url(root: Path) -> str:
    return f"sqlite:///{root / CONFIG_DIR / 'mlws.db'}"


def _hide_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
