"""The workspace: a folder holding ``.mlws/`` (config, SQLite database, artifact blobs).

A workspace is private to its owner (issue 13): ``.mlws/`` is made 0700 and everything in it
0600 (blobs 0400), with explicit modes rather than a changed umask (the umask is per process, and a
Jupyter kernel shares it with the user's code). Opening an older workspace that other users can
read warns once per process with the ``chmod`` that fixes it. A database password is never
written into ``config.json``: libpq takes it from ``PGPASSWORD`` or ``~/.pgpass``.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ..errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
    ProjectSystemException,
)
from .entities import ExperimentRecord
from .interfaces import ArtifactStore, MetadataStore, RunLister
from .layout import ENV_JOB_API
from .names import validate_entity_name
from .registry import open_artifact_store, open_metadata_store, open_run_lister
from .storage_options import check_artifact_options
from .v1config import (
    AZUREML_DIR,
    LOCAL,
    V1_CONFIG_FILE,
    V1Config,
    candidates,
    check_file_name,
    read_v1_config,
    v1_config_text,
)
from .values import finite_number, iso_utc
from .writer import MetricWriter

if TYPE_CHECKING:
    from .. import Dataset, Datastore, Webservice
    from .compute import ComputeTarget
    from .environment import Environment
    from .experiment import Experiment
    from .keyvault import Keyvault
    from .model import Model
    from .runs import Run, RunPage
    from .services import Services

__all__ = ["CONFIG_DIR", "InsecureWorkspaceWarning", "Workspace", "close_backends"]

CONFIG_DIR = ".mlws"
CONFIG_FILE = "config.json"
CONFIG_FORMAT = 1
ENV_WORKSPACE = "MLWS_WORKSPACE"

# Stores and writers are shared by every Workspace object of a process that names the same URLs:
# one engine (connection pool) and one background writer per database.
_backends_lock = threading.Lock()
_metadata_stores: dict[str, MetadataStore] = {}
_run_listers: dict[str, RunLister | None] = {}  # None: this URL has no lister (or it declined)
_artifact_stores: dict[str, ArtifactStore] = {}
_writers: dict[str, MetricWriter] = {}
# Database passwords this process was given in a metadata URL (Workspace.create, or an older
# config.json), by the URL without its password: config.json never holds them, and every Workspace
# object of the process that names the database connects with them.
_passwords: dict[str, str] = {}
# Workspaces whose permissions and config this process has checked (warned about) already.
_checked: set[Path] = set()
_checked_lock = threading.Lock()

#: ``.mlws``'s mode: private to the owner (files in it are made 0600, blobs 0400).
PRIVATE_DIR_MODE = 0o700


class InsecureWorkspaceWarning(UserWarning):
    """An existing workspace that other local users can read, or whose ``config.json`` holds a
    database password in clear text. The message names the workspace and the fix."""


class Workspace:
    """A local-first workspace. Make one with :meth:`create`, find one with :meth:`from_config`."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        auth: object = None,
        _location: str | None = None,
        _disable_service_check: bool = False,
        _workspace_id: str | None = None,
        sku: str = "basic",
        tags: dict[str, str] | None = None,
        _cloud: str = "AzureCloud",
        *,
        subscription_id: str | None = None,
    ) -> None:
        """Open the workspace in the folder ``path`` (default: the working directory), or, called the
        Azure ML v1 way — ``Workspace(subscription_id=…, resource_group=…, workspace_name=…)``, also
        positionally — the nearest workspace, as :meth:`from_config` finds it (issue 14).

        There is no Azure subscription, resource group, region or login here: ``subscription_id``,
        ``resource_group``, ``auth`` and v1's other arguments are accepted and ignored (a first
        positional argument is a subscription id unless it names an existing folder). A
        ``workspace_name`` other than the workspace's own name is a :class:`NotFoundError` naming both.
        """
        v1_call = subscription_id is not None or resource_group is not None or workspace_name is not None
        if v1_call and path is not None and not _names_folder(path):
            path = None  # v1's positional subscription_id
        if path is not None or not v1_call:
            root = _as_root(Path(path if path is not None else "."))
        elif os.environ.get(ENV_WORKSPACE):
            root = _as_root(Path(os.environ[ENV_WORKSPACE]))
        else:
            start = Path.cwd()
            found = _nearest(start, None)
            if found.root is None:
                raise _nothing_found(start)
            root = found.root
        self._open(root)
        if workspace_name is not None and workspace_name != self._name:
            raise NotFoundError(
                f"no local workspace named {workspace_name!r}: the workspace here, at {root}, is named "
                f"{self._name!r}. Pass workspace_name={self._name!r} (or use Workspace.from_config()), or make a "
                f"workspace of that name in your project folder: Workspace.create('<folder>', name={workspace_name!r})"
            )

    def _open(self, root: Path) -> None:
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
        # An older config.json may hold the password: it still opens (the password is used in this
        # process, as before), and the check below says to move it out.
        url, password = _split_password(config.get("metadata_url") or _default_metadata_url(root))
        if password is not None:
            _passwords[url] = password
        self._metadata_url: str = url
        self._artifact_url: str = config.get("artifact_url") or str(root / CONFIG_DIR / "artifacts")
        options = config.get("artifact_options") or {}
        self._artifact_options: dict[str, Any] = dict(options) if isinstance(options, dict) else {}
        self._experiments: dict[str, ExperimentRecord] = {}
        if root not in _checked:
            _check_once(root, config_path, url, password is not None)

    # -- construction ---------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] = ".",
        name: str | None = None,
        metadata_url: str | None = None,
        artifact_url: str | None = None,
        exist_ok: bool | None = None,
        *,
        artifact_options: dict[str, Any] | None = None,
        auth: object = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        **v1_options: Any,
    ) -> Workspace:
        """Make ``<path>/.mlws/`` (config, database, artifact folder) and return the workspace;
        ``exist_ok`` (default True) opens one that is there with the same settings.

        Called the Azure ML v1 way — ``Workspace.create(name, subscription_id=…, resource_group=…,
        location=…, create_resource_group=True, exist_ok=False, …)`` — the first argument is the
        workspace's name (unless it names an existing folder) and the workspace is made in the working
        directory, where
        ``ws.write_config()`` and ``Workspace.from_config()`` find it — unless the workspace
        :meth:`from_config` finds from there already has that name: that one exists (opened with
        ``exist_ok=True``, else an :class:`AlreadyExistsError`). ``exist_ok`` keeps v1's default
        (False). There is no subscription, resource group, region or login here: those arguments and
        v1's descriptive ones (``sku``, ``tags``, ``friendly_name``, ``show_output``, …) are accepted
        and ignored; the ones that name Azure resources (``storage_account``, ``key_vault``, …) are
        refused, naming the local equivalent (issue 14).

        A team workspace (issue 19) names a PostgreSQL ``metadata_url`` and an object store
        ``artifact_url`` (``s3://bucket/prefix``); ``artifact_options`` are the fsspec storage options
        its members share (``endpoint_url``, ``client_kwargs``, …), kept in ``config.json``. Keys are
        refused there: each process gives its own in ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
        (the endpoint may come from ``AWS_ENDPOINT_URL`` too).
        """
        v1_call = (
            auth is not None
            or subscription_id is not None
            or resource_group is not None
            or location is not None
            or bool(v1_options)
        )
        if v1_call:
            _check_v1_create_options(v1_options)
            if name is None and isinstance(path, str) and path and not _names_folder(path):
                name, path = path, "."  # v1's first argument is the name (a folder stays a folder)
            exist_ok = False if exist_ok is None else exist_ok
            if name is not None and path == ".":
                # v1's workspace is found by name: one of that name found from here (a project folder
                # above, MLWS_WORKSPACE) is the one that exists, not a reason for a second one here.
                try:
                    found = cls.from_config()
                except NotFoundError:
                    found = None
                if found is not None and found.name == name:
                    path = found.root
        exist_ok = True if exist_ok is None else exist_ok
        root = Path(path).expanduser().resolve()
        if name is not None:
            validate_entity_name("workspace", name)
        password = None
        if metadata_url is not None:
            # The password reaches this process's connections, never config.json (issue 13).
            metadata_url, password = _split_password(metadata_url)
        config_path = root / CONFIG_DIR / CONFIG_FILE
        if config_path.exists():
            if not exist_ok:
                raise AlreadyExistsError(f"a workspace exists already at {root}; pass exist_ok=True to open it")
            ws = cls(root)
            if artifact_options is not None:
                artifact_options = check_artifact_options(artifact_options, artifact_url or ws.artifact_url)
            if password is not None and metadata_url == ws.metadata_url:
                _passwords[metadata_url] = password
            wanted: dict[str, object] = {
                "name": name,
                "metadata_url": metadata_url,
                "artifact_url": artifact_url,
                "artifact_options": artifact_options,
            }
            current: dict[str, object] = {
                "name": ws.name,
                "metadata_url": ws.metadata_url,
                "artifact_url": ws.artifact_url,
                "artifact_options": ws.artifact_options,
            }
            clash = [k for k, v in wanted.items() if v is not None and v != current[k]]
            if clash:
                raise AlreadyExistsError(
                    f"the workspace at {root} exists with another {', '.join(clash)}; "
                    "open it with Workspace.from_config() or create a new one elsewhere"
                )
            return ws
        if artifact_options is not None:
            artifact_options = check_artifact_options(artifact_options, artifact_url)
        _make_private_dir(root / CONFIG_DIR)
        if password is not None:
            assert metadata_url is not None
            _passwords[metadata_url] = password
        config: dict[str, Any] = {
            "format": CONFIG_FORMAT,
            "name": name or root.name or "workspace",
            "metadata_url": metadata_url,
            "artifact_url": artifact_url,
        }
        if artifact_options:
            config["artifact_options"] = artifact_options
        ws = cls.__new__(cls)
        ws._root, ws._experiments = root, {}
        ws._name = str(config["name"])
        ws._metadata_url = metadata_url or _default_metadata_url(root)
        ws._artifact_url = artifact_url or str(root / CONFIG_DIR / "artifacts")
        ws._artifact_options = dict(artifact_options or {})
        # Open both stores before writing the config: a bad URL leaves no half-made workspace.
        ws.metadata  # noqa: B018 - creates the schema
        ws.artifacts  # noqa: B018
        _write_atomic(config_path, json.dumps(config, indent=2) + "\n")
        gitignore = root / CONFIG_DIR / ".gitignore"
        if not gitignore.exists():
            _write_atomic(gitignore, "# jupyter-mlws workspace data\n*\n")
        with _checked_lock:
            _checked.add(root)  # made private just now: nothing to warn about
        return ws

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        auth: object = None,
        _logger: object = None,
        _file_name: str | None = None,
    ) -> Workspace:
        """The nearest workspace: ``MLWS_WORKSPACE`` if set, else the first one found upward of ``path``
        (default: the working directory).

        In each folder it looks for ``.mlws/`` and, as Azure ML v1 does, for a v1 config file
        ``.azureml/config.json`` or ``config.json`` (``_file_name`` replaces that name and then only v1
        files count; in one folder ``.mlws/`` comes first); ``path`` may also name such a file (or a
        workspace's own ``.mlws/config.json``). A v1 file written by :meth:`write_config`
        points at its workspace. A cloud workspace's file (no such pointer) opens the nearest local
        workspace only when that one has the name the file names; otherwise the error says how to make
        it local. ``auth`` and ``_logger`` are v1's and ignored.
        """
        env = os.environ.get(ENV_WORKSPACE)
        if env:
            return cls(env)
        file_name = None if _file_name is None else check_file_name(_file_name)
        start = Path(path if path is not None else os.getcwd()).expanduser().resolve()
        if start.is_file():
            if start.name == CONFIG_FILE and start.parent.name == CONFIG_DIR:
                return cls(start.parent.parent)  # a workspace's own .mlws/config.json
            config = read_v1_config(start, strict=True)
            assert config is not None  # strict
            found = _Found(_pointed(config), config) if config.workspace_root else _nearest(start.parent, None, config)
        else:
            found = _nearest(start, file_name)
        config = found.config
        if found.root is None:
            if config is not None:  # a cloud workspace's file and no local workspace
                folder = _project_folder(config.path)
                raise NotFoundError(
                    f"{config.path} is the config of the Azure ML workspace {config.workspace_name!r}, and there "
                    f"is no local workspace in {folder} or above: make one and point the file at it, from your "
                    f"project: ws = Workspace.create({str(folder)!r}); ws.write_config({str(folder)!r})"
                )
            raise _nothing_found(start)
        ws = cls(found.root)
        if config is not None and config.workspace_name and config.workspace_name != ws.name:
            folder = _project_folder(config.path)
            if config.workspace_root is None:
                raise NotFoundError(
                    f"{config.path} is the config of the Azure ML workspace {config.workspace_name!r}, but the "
                    f"nearest local workspace, at {ws.root}, is named {ws.name!r}: point the file at it with "
                    f"Workspace({str(ws.root)!r}).write_config({str(folder)!r}), or make a workspace of that name: "
                    f"Workspace.create({str(folder)!r}, name={config.workspace_name!r})"
                )
            raise ProjectSystemException(
                f"{config.path} names the workspace {config.workspace_name!r} but points at {ws.root}, whose "
                f"workspace is {ws.name!r}: rewrite the file with Workspace({str(ws.root)!r}).write_config("
                f"{str(folder)!r})"
            )
        return ws

    @classmethod
    def get(
        cls,
        name: str,
        auth: object = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        cloud: str = "AzureCloud",
        id: str | None = None,
    ) -> Workspace:
        """Azure ML v1's ``Workspace.get``: the nearest local workspace (as :meth:`from_config` finds
        it) when it is named ``name``, else a :class:`NotFoundError` naming both names. The other
        arguments are v1's and ignored (no subscription, region or login here)."""
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"Workspace.get needs the workspace's name, got {name!r}")
        return cls(workspace_name=name)

    def write_config(self, path: str | os.PathLike[str] | None = None, file_name: str | None = None) -> None:
        """Write Azure ML v1's ``config.json`` for this workspace to ``<path>/.azureml/<file_name>``
        (default: the working directory, ``config.json``), replacing one that is there.

        It holds v1's keys with this machine's values (``subscription_id`` and ``resource_group`` are
        ``"local"``, ``workspace_name`` this workspace's name) and ``mlws_workspace``, the folder that
        holds ``.mlws/`` (relative to the file when it lies inside that folder), so that
        ``Workspace.from_config()`` from anywhere under ``path`` opens this workspace.
        """
        folder = Path(path if path is not None else os.getcwd()).expanduser().resolve()
        target = folder / AZUREML_DIR / (V1_CONFIG_FILE if file_name is None else check_file_name(file_name))
        if folder.exists() and not folder.is_dir():
            raise InvalidArgumentError(f"write_config: {folder} is a file; give the folder to write .azureml/ into")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(target, v1_config_text(target, self.root, self.name))
        except OSError as exc:
            raise InvalidArgumentError(f"write_config cannot write {target}: {exc}") from None

    # -- identity ---------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def location(self) -> str:
        """Azure ML v1's region: ``"local"`` (a workspace lives on this machine)."""
        return LOCAL

    @property
    def subscription_id(self) -> str:
        """Azure ML v1's subscription: ``"local"`` (there is no Azure subscription behind it)."""
        return LOCAL

    @property
    def resource_group(self) -> str:
        """Azure ML v1's resource group: ``"local"`` (there is no Azure resource group behind it)."""
        return LOCAL

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
        """The metadata database's URL, without a password (libpq reads it from ``PGPASSWORD`` or
        ``~/.pgpass``; one given to :meth:`create` is kept in this process only)."""
        return self._metadata_url

    def database_environment(self) -> dict[str, str]:
        """Variables a process started from this one needs to reach the database: ``PGPASSWORD`` when
        this process was given the password in a URL (it is in no file the child could read)."""
        password = _passwords.get(self._metadata_url)
        if password is None or not self._metadata_url.startswith("postgresql"):
            return {}
        return {"PGPASSWORD": password}

    @property
    def artifact_url(self) -> str:
        return self._artifact_url

    @property
    def artifact_options(self) -> dict[str, Any]:
        """The artifact store's fsspec storage options that are not secret (``endpoint_url``, …),
        from ``config.json``; empty by default. A copy: changing it changes nothing."""
        return copy.deepcopy(self._artifact_options)

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
                    url = _with_password(self._metadata_url, _passwords.get(self._metadata_url))
                    store = _metadata_stores[self._metadata_url] = open_metadata_store(url)
        return store

    def run_lister(self) -> RunLister | None:
        """A light reader for run lists while this process has not opened the metadata store (a
        command-line process lists runs without loading the store's database toolkit); ``None`` once
        the store is open, or when the store has no lister."""
        if self._metadata_url in _metadata_stores:
            return None
        with _backends_lock:
            if self._metadata_url not in _run_listers:
                url = _with_password(self._metadata_url, _passwords.get(self._metadata_url))
                _run_listers[self._metadata_url] = open_run_lister(url)
            return _run_listers[self._metadata_url]

    @property
    def artifacts(self) -> ArtifactStore:
        key = self._artifact_url
        if self._artifact_options:
            key += "\n" + json.dumps(self._artifact_options, sort_keys=True)
        store = _artifact_stores.get(key)
        if store is None:
            with _backends_lock:
                store = _artifact_stores.get(key)
                if store is None:
                    store = _artifact_stores[key] = open_artifact_store(self._artifact_url, self._artifact_options)
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
        if timeout is not None:
            timeout = finite_number("timeout", timeout)
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

    @property
    def environments(self) -> dict[str, Environment]:
        """The newest version of every environment, by name (as ``Environment.list(ws)``)."""
        from .environment import Environment

        return Environment.list(self)

    @property
    def datastores(self) -> dict[str, Datastore]:
        """Every registered datastore by name (``workspaceblobstore`` always among them)."""
        from .. import Datastore

        return Datastore.list(self)

    @property
    def datasets(self) -> dict[str, Dataset]:
        """Every registered dataset's latest version, by name (as ``Dataset.get_all(ws)``)."""
        from .. import Dataset

        return Dataset.get_all(self)

    @property
    def webservices(self) -> dict[str, Webservice]:
        """Every deployed web service by name (as ``Webservice.list(ws)``)."""
        from .. import Webservice

        return {service.name: service for service in Webservice.list(self)}

    def get_default_datastore(self) -> Datastore:
        """The default datastore: ``workspaceblobstore`` (a folder in ``.mlws/``, made on first use)
        unless :meth:`set_default_datastore` chose another."""
        from .. import Datastore

        return Datastore.get_default(self)

    def get_default_keyvault(self) -> Keyvault:
        """The workspace's vault of secrets (encrypted at rest; the key is kept outside the database)."""
        from .keyvault import Keyvault

        return Keyvault(self)

    def set_default_datastore(self, name: str) -> None:
        """Make the registered datastore ``name`` the default."""
        from .. import Datastore

        Datastore.set_default(self, name)

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
        """Azure ML v1's dict (``id``, ``name``, ``location``, ``type``, ``workspaceid``,
        ``creationTime``, …) with this machine's values — no registry, key vault or Application
        Insights exist here (None); ``storageAccount`` is where the artifacts go; ``workspaceid`` is
        a UUID derived from the workspace's folder; ``creationTime`` is when its config was written —
        followed by the workspace's own ``root``, ``metadata_url`` and ``artifact_url``."""
        try:
            created = iso_utc((self.path / CONFIG_FILE).stat().st_mtime)
        except OSError:
            created = None
        return {
            "id": (
                f"/subscriptions/{LOCAL}/resourceGroups/{LOCAL}/providers/Microsoft.MachineLearningServices"
                f"/workspaces/{self.name}"
            ),
            "name": self.name,
            "location": LOCAL,
            "type": "Microsoft.MachineLearningServices/workspaces",
            "tags": {},
            "sku": "Basic",
            "workspaceid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.root.as_uri())),
            "description": "",
            "friendlyName": self.name,
            "creationTime": created,
            "containerRegistry": None,
            "keyVault": None,
            "applicationInsights": None,
            "storageAccount": self.artifact_url,
            "hbiWorkspace": False,
            "provisioningState": "Succeeded",
            "root": str(self.root),
            "metadata_url": _hide_password(self.metadata_url),
            "artifact_url": self.artifact_url,
            "artifact_options": self.artifact_options,
        }

    # -- v1: listing workspaces (last in the class: it shadows the builtin `list` in annotations) --
    @classmethod
    def list(
        cls,
        subscription_id: str | None = None,
        auth: object = None,
        resource_group: str | None = None,
    ) -> dict[str, list[Workspace]]:
        """Azure ML v1's ``Workspace.list``: ``{name: [workspace]}`` of the workspace
        :meth:`from_config` finds from the working directory (or ``MLWS_WORKSPACE``), ``{}`` when there
        is none. Workspaces are folders here, not entries of a subscription: there is no list of all
        of them, and the arguments are v1's and ignored."""
        try:
            ws = cls.from_config()
        except NotFoundError:
            return {}
        return {ws.name: [ws]}


def close_backends() -> None:
    """Write buffered metrics, stop writers and close every store this process opened."""
    with _backends_lock:
        writers = list(_writers.values())
        metadata_stores = list(_metadata_stores.values())
        artifact_stores = list(_artifact_stores.values())
        listers = [lister for lister in _run_listers.values() if lister is not None]
        _writers.clear()
        _metadata_stores.clear()
        _artifact_stores.clear()
        _run_listers.clear()
    for lister in listers:
        lister.close()
    try:
        for writer in writers:
            writer.close()
    finally:
        for metadata in metadata_stores:
            metadata.close()
        for artifacts in artifact_stores:
            artifacts.close()


def _forget_listers_in_child() -> None:
    # A forked child must not use its parent's SQLite connections (nor wait on a lock a parent's
    # thread held at the fork): it opens its own listers. Not closed: they are the parent's.
    _run_listers.clear()


os.register_at_fork(after_in_child=_forget_listers_in_child)


class _Found(NamedTuple):
    """What a search upward found: the workspace folder (None: none), and the v1 config file that
    led there or was met on the way (a cloud workspace's, without a pointer)."""

    root: Path | None
    config: V1Config | None


def _nearest(start: Path, file_name: str | None, cloud: V1Config | None = None) -> _Found:
    """Search ``start`` and the folders above it for the nearest workspace (see
    :meth:`Workspace.from_config`). ``file_name``: look only for v1 config files of that name (until a
    cloud workspace's file is met: then for the local workspace it stands for, as well)."""
    for folder in (start, *start.parents):
        holds_workspace = (folder / CONFIG_DIR / CONFIG_FILE).is_file()
        if holds_workspace and (file_name is None or cloud is not None):
            return _Found(folder, cloud)
        azureml, bare = candidates(folder, file_name or V1_CONFIG_FILE)
        for candidate, strict in ((azureml, True), (bare, file_name is not None)):
            if not candidate.is_file():
                continue
            config = read_v1_config(candidate, strict=strict)
            if config is None:
                continue  # a config.json of something else
            if config.workspace_root is not None:
                return _Found(_pointed(config), config)
            if cloud is None:
                cloud = config
            break
        if holds_workspace and cloud is not None:
            return _Found(folder, cloud)
    return _Found(None, cloud)


def _pointed(config: V1Config) -> Path:
    """The workspace folder a v1 config file points at, checked to hold a workspace."""
    root = config.workspace_root
    assert root is not None
    if not (root / CONFIG_DIR / CONFIG_FILE).is_file():
        raise NotFoundError(
            f"{config.path} points at {root}, where there is no workspace: make one there with "
            f"Workspace.create({str(root)!r}), or rewrite the file from your project with "
            f"Workspace.from_config(<workspace folder>).write_config({str(_project_folder(config.path))!r})"
        )
    return root


def _project_folder(config_path: Path) -> Path:
    """The folder a v1 config file belongs to (the parent of ``.azureml/``)."""
    folder = config_path.parent
    return folder.parent if folder.name == AZUREML_DIR else folder


#: Workspace.create's v1 arguments that describe a cloud workspace: accepted, nothing to do locally.
_V1_CREATE_IGNORED = frozenset(
    {
        "create_resource_group",
        "sku",
        "tags",
        "friendly_name",
        "show_output",
        "hbi_workspace",
        "system_datastores_auth_mode",
        "v1_legacy_mode",
        "private_endpoint_auto_approval",
    }
)
#: Workspace.create's v1 arguments that name Azure resources, and what stands for them here.
_V1_CREATE_REFUSED = {
    "storage_account": "artifact_url= (a folder or an fsspec URL)",
    "key_vault": "the environment of the job (there is no key vault here)",
    "app_insights": "the run logs and activities (there is no Application Insights here)",
    "container_registry": "the local Docker engine (images are built there)",
    "adb_workspace": "a workspace of its own (there is no Databricks here)",
    "primary_user_assigned_identity": "the user running Jupyter (there are no Azure identities here)",
    "user_assigned_identity_for_cmk_encryption": "the user running Jupyter (there are no Azure identities here)",
    "cmk_keyvault": "the workspace folder's permissions (.mlws is private to its owner)",
    "resource_cmk_uri": "the workspace folder's permissions (.mlws is private to its owner)",
    "private_endpoint_config": "Jupyter Server's own authentication (there is no Azure network here)",
    "default_cpu_compute_target": "ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(...))",
    "default_gpu_compute_target": "ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(...))",
}


def _check_v1_create_options(options: dict[str, Any]) -> None:
    for key, value in options.items():
        if key in _V1_CREATE_IGNORED:
            continue
        if key in _V1_CREATE_REFUSED:
            if value is None:
                continue
            raise InvalidArgumentError(
                f"Workspace.create({key}=...) names an Azure resource, and a workspace here is a local folder; "
                f"leave {key} out (locally: {_V1_CREATE_REFUSED[key]})"
            )
        known = ", ".join(sorted({"auth", "subscription_id", "resource_group", "location", *_V1_CREATE_IGNORED}))
        raise InvalidArgumentError(
            f"Workspace.create got an unknown argument {key!r}; it takes path, name, metadata_url, artifact_url, "
            f"exist_ok, artifact_options and v1's {known}"
        )


def _names_folder(path: str | os.PathLike[str]) -> bool:
    """Whether a first positional argument is a folder (ours) rather than v1's subscription id."""
    return not isinstance(path, str) or Path(path).expanduser().is_dir()


def _nothing_found(start: Path) -> NotFoundError:
    if os.environ.get(ENV_JOB_API):
        return NotFoundError(
            "a Docker job has no workspace: its container sees only the job's own folders; use "
            "Run.get_context() for this job's run, and do the rest from the notebook after the run "
            "or on a local target"
        )
    return NotFoundError(
        f"no workspace found in {start} or any folder above it: run `mlws init` there, call "
        f"Workspace.create(), or set {ENV_WORKSPACE} to a workspace folder"
    )


def _as_root(path: Path) -> Path:
    path = path.expanduser().resolve()
    if path.name == CONFIG_DIR and (path / CONFIG_FILE).exists():
        return path.parent
    return path


def _default_metadata_url(root: Path) -> str:
    return f"sqlite:///{root / CONFIG_DIR / 'mlws.db'}"


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _split_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password (in the user part or a ``password=`` query parameter), and the
    password (decoded), or None if it has none."""
    parts = urlsplit(url)
    password: str | None = None
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        user, _, raw = userinfo.partition(":")
        password = unquote(raw)
        netloc = f"{user}@{hostport}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(key == "password" for key, _ in pairs):
        password = next(value for key, value in pairs if key == "password")
        query = urlencode([(key, value) for key, value in pairs if key != "password"])
    if password is None:
        return url, None
    return urlunsplit(parts._replace(netloc=netloc, query=query)), (password or None)


def _with_password(url: str, password: str | None) -> str:
    """``url`` (without a password) with ``password`` put back in its user part."""
    if not password:
        return url
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url  # no user to attach it to: libpq's own defaults apply
    return urlunsplit(parts._replace(netloc=f"{userinfo}:{quote(password, safe='')}@{hostport}"))


def _make_private_dir(path: Path) -> None:
    """Make ``path`` (and missing parents, with the usual modes) and give it mode 0700.

    The mode is set explicitly, not through the umask: ``mkdir`` alone leaves an existing folder's
    mode as it was, and a umask like 0o002 would let a group in.
    """
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    st = path.stat()
    if stat.S_IMODE(st.st_mode) != PRIVATE_DIR_MODE and st.st_uid == os.geteuid():
        os.chmod(path, PRIVATE_DIR_MODE)


def _write_atomic(path: Path, text: str) -> None:
    """Write ``path`` whole (a new private file renamed into place): mode 0600 from its creation."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_once(root: Path, config_path: Path, metadata_url: str, password_in_config: bool) -> None:
    """Warn (once per process per workspace) when other users can read it, or its config holds a
    database password. Runs on the first open only: Workspace() is built on hot paths."""
    with _checked_lock:
        if root in _checked:
            return
        _checked.add(root)
    exposed = [p for p in _private_paths(root, config_path, metadata_url) if _open_to_others(p)]
    if exposed:
        private = root / CONFIG_DIR
        outside = [p for p in exposed if p != private and private not in p.parents]
        fix = " ".join(str(p) for p in [private, *outside])
        warnings.warn(
            InsecureWorkspaceWarning(
                f"the workspace {root} can be read by other users of this machine "
                f"({', '.join(map(str, exposed))} allow group or other access): they could read its "
                f"parameters, metrics, files and config. Make it private with: chmod -R go-rwx {fix}"
            ),
            stacklevel=4,
        )
    if password_in_config:
        warnings.warn(
            InsecureWorkspaceWarning(
                f"the workspace config {config_path} holds the database password in clear text: remove it "
                f"from metadata_url there (leaving {_hide_password(metadata_url)!r} without ':password') and "
                "give it to libpq instead, in PGPASSWORD or ~/.pgpass (mode 0600)"
            ),
            stacklevel=4,
        )


def _private_paths(root: Path, config_path: Path, metadata_url: str) -> list[Path]:
    paths = [root / CONFIG_DIR, config_path]
    if metadata_url.startswith("sqlite:///"):
        database = metadata_url.removeprefix("sqlite:///").split("?", 1)[0]
        if database and database != ":memory:":
            paths.append(Path(database))
    return paths


def _open_to_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(stat.S_IMODE(mode) & 0o077)
