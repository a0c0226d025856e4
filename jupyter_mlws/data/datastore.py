"""Datastores (issue 15): a name for any fsspec URL — a local folder, ``s3://bucket/prefix``,
``memory://`` — with Azure ML v1's ``Datastore`` spellings over it.

Credentials are never written in plaintext anywhere: not the workspace database, a file, a REST reply,
a repr or a log (issue 21). Options that are not secret (``endpoint_url``, ``region_name``, …) are kept
with the datastore in the database; the others (``key``, ``secret``, ``token``, anything naming a key,
secret, token, password or credential, and nested option dicts) go to the workspace vault
(:mod:`jupyter_mlws.core.keyvault`) as one secret per datastore holding their JSON, as Azure ML v1 keeps
datastore credentials as generated secrets of the workspace Key Vault: the name is
:func:`credentials_secret_name` (``datastore-<readable name>-<hash>``: Key Vault names allow only
letters, digits and dashes). The vault encrypts with the workspace's secret key (``MLWS_SECRET_KEY``,
the OS keyring or the key file; a team workspace needs ``MLWS_SECRET_KEY``), so whoever stages a job's
inputs — this machine for the local and Docker targets, the worker for Dask — reads them with the key of
its own environment. A datastore without credentials needs no key.

Without credentials, the filesystem takes its keys from the environment at use (for S3:
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``,
``AWS_ENDPOINT_URL``).

Workspaces made before the vault kept the secret options in ``.mlws/datastore-credentials.json``
(:data:`LEGACY_CREDENTIALS_FILE`). The first use of a datastore moves its entries into the vault and
then removes the file: a crash in between leaves the file, and the next use moves them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn
from urllib.parse import urlsplit

from ..core.filelock import locked_beside
from ..core.interfaces import DatastoreRecord, DatastoreStore
from ..core.names import validate_entity_name
from ..core.services.secrets import SecretKeyError
from ..core.storage_options import is_local_url, looks_secret
from ..errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
    UserErrorException,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ..core.workspace import Workspace

__all__ = ["DEFAULT_DATASTORE", "DataPath", "Datastore", "credentials_secret_name", "resolve_data_path"]

#: The name of the workspace's default datastore, as in Azure ML v1.
DEFAULT_DATASTORE = "workspaceblobstore"
#: The plaintext file (mode 0600, beside the database) where workspaces made before the vault kept
#: datastore secrets; moved into the vault and removed on first use.
LEGACY_CREDENTIALS_FILE = "datastore-credentials.json"
#: The prefix of the vault secret that holds a datastore's secret options.
CREDENTIALS_SECRET_PREFIX = "datastore-"  # noqa: S105 - a name prefix, not a password
#: Scheme -> (kind shown to users, module of its fsspec driver, pip extra that provides it).
SCHEMES: dict[str, tuple[str, str | None, str | None]] = {
    "file": ("file", None, None),
    "memory": ("memory", None, None),
    "s3": ("s3", "s3fs", "s3"),
}
# An unanswering S3 endpoint is reported after at most this many attempts of this many seconds.
S3_ATTEMPTS = 2
S3_TIMEOUT = 2.0
S3_RETRY_PAUSE = 0.25

_credentials_lock = threading.Lock()


class DataPath(NamedTuple):
    """A path on a datastore (v1's ``DataPath``): ``(datastore, path)``, hashable, and accepted
    wherever this package takes a path — as is a plain ``(datastore, "path")`` tuple.

    ``os.fspath`` of one on a local folder datastore is the local path.
    """

    datastore: Datastore
    path: str

    @property
    def datastore_name(self) -> str:
        return self.datastore.name

    @property
    def path_on_datastore(self) -> str:
        return self.path

    @property
    def url(self) -> str:
        """The full fsspec URL of this path."""
        return self.datastore.url_of(self.path)

    def __fspath__(self) -> str:
        if self.datastore.datastore_type != "file":
            raise InvalidArgumentError(
                f"{self!r} is on a {self.datastore.datastore_type} datastore, not a local folder: download it "
                f"first (datastore.download(target_path, prefix={self.path!r}))"
            )
        return self.url.removeprefix("file://")

    def __repr__(self) -> str:
        return f"DataPath(datastore={self.datastore.name!r}, path={self.path!r})"

    def __str__(self) -> str:
        return f"{self.datastore.name}:{self.path}"


def resolve_data_path(value: object) -> DataPath:
    """A :class:`DataPath` from a ``DataPath`` or a ``(Datastore, "path")`` tuple; a clear error otherwise."""
    if isinstance(value, DataPath):
        return value
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], Datastore) and isinstance(value[1], str):
        return value[0].path(value[1])
    raise InvalidArgumentError(
        f"expected a datastore path — datastore.path('folder/file.csv') or a (datastore, 'path') tuple — "
        f"got {type(value).__name__} {value!r}"
    )


class Datastore:
    """A named place that holds data: a local folder, an S3 bucket (any S3-compatible endpoint), or
    fsspec's in-memory filesystem. Register one with :meth:`register`, find one with :meth:`get`."""

    def __init__(self, workspace: Workspace, name: str | None = None) -> None:
        """v1's ``Datastore(ws, name)``: the registered datastore ``name`` (default: the default one)."""
        record = _default_record(workspace) if name is None else _store(workspace).get_datastore(name)
        self._bind(workspace, record)

    def _bind(self, workspace: Workspace, record: DatastoreRecord) -> None:
        self._workspace = workspace
        self._record = record
        self._fs: AbstractFileSystem | None = None

    @classmethod
    def _of(cls, workspace: Workspace, record: DatastoreRecord) -> Datastore:
        ds = cls.__new__(cls)
        ds._bind(workspace, record)
        return ds

    # -- registry -----------------------------------------------------------------------------------------
    @classmethod
    def register(
        cls,
        workspace: Workspace,
        name: str,
        url: str | os.PathLike[str],
        credentials: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> Datastore:
        """Register ``url`` (a folder, ``file://…``, ``s3://bucket/prefix``, ``memory://…``) as ``name``.

        ``credentials`` are the filesystem's storage options (for S3: ``key``, ``secret``, ``token``,
        ``endpoint_url``, ``region_name``, ``client_kwargs``, …); without keys, S3 takes them from
        the usual AWS environment variables (``AWS_ENDPOINT_URL`` too) each time it is used.
        Registering a name again with the same URL updates its credentials; another URL needs
        ``overwrite=True``. A local folder is made if missing; an S3 bucket must answer.
        """
        name = validate_entity_name("datastore", name)
        url = _normalise_url(url)
        public, secret = _split_credentials(credentials)
        store = _store(workspace)
        existing = {r.name: r for r in store.list_datastores()}.get(name)
        if existing is not None and existing.url != url and not overwrite:
            raise AlreadyExistsError(
                f"datastore {name!r} is registered for {existing.url!r}, not {url!r}: pass overwrite=True to "
                "point it at the new URL, or choose another name"
            )
        candidate = cls._of(workspace, DatastoreRecord(name, url, public))
        candidate._secret_override = secret
        candidate._check_reachable()
        # Credentials first, then the record: a crash between the two leaves a secret no datastore uses
        # (replaced by the next register), never a registered datastore whose credentials are lost.
        _migrate_legacy_credentials(workspace, name)
        _store_credentials(workspace, name, secret)
        record = store.put_datastore(name, url, public, time.time())
        return cls._of(workspace, record)

    @classmethod
    def get(cls, workspace: Workspace, datastore_name: str) -> Datastore:
        """The registered datastore ``datastore_name`` (a NotFoundError lists the registered names)."""
        if datastore_name == DEFAULT_DATASTORE:
            _ensure_builtin(workspace)
        return cls._of(workspace, _store(workspace).get_datastore(datastore_name))

    @classmethod
    def get_default(cls, workspace: Workspace) -> Datastore:
        """The workspace's default datastore (``workspaceblobstore``, a folder in ``.mlws/`` — beside the
        artifacts when they are in an object store, as in a team workspace — unless :meth:`set_default`
        chose another)."""
        return cls._of(workspace, _default_record(workspace))

    @classmethod
    def set_default(cls, workspace: Workspace, name: str) -> None:
        """Make the registered datastore ``name`` the workspace's default."""
        if name == DEFAULT_DATASTORE:
            _ensure_builtin(workspace)
        _store(workspace).set_default_datastore(name)

    @classmethod
    def list(cls, workspace: Workspace) -> dict[str, Datastore]:
        """Every registered datastore by name (as ``ws.datastores``; ``workspaceblobstore`` among them)."""
        _ensure_builtin(workspace, make_folder=False)
        return {r.name: cls._of(workspace, r) for r in _store(workspace).list_datastores()}

    def unregister(self) -> None:
        """Forget this datastore (its data stays where it is). If it was the default, the default is
        ``workspaceblobstore`` again."""
        _store(self._workspace).delete_datastore(self.name)
        _store_credentials(self._workspace, self.name, {})

    # v1's cloud-only constructors: importable, refused with what to use here.
    @classmethod
    def _cloud_only(cls, what: str) -> NoReturn:
        raise UserErrorException(
            f"Datastore.{what}(...) registers Azure storage, which is cloud-only and not available here: register "
            "any fsspec URL with Datastore.register(ws, name, url, credentials=None) — a local folder, "
            "'s3://bucket/prefix' (any S3-compatible endpoint) or 'memory://name'"
        )

    @classmethod
    def register_azure_blob_container(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_azure_blob_container")

    @classmethod
    def register_azure_file_share(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_azure_file_share")

    @classmethod
    def register_azure_data_lake(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_azure_data_lake")

    @classmethod
    def register_azure_data_lake_gen2(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_azure_data_lake_gen2")

    @classmethod
    def register_azure_sql_database(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_azure_sql_database")

    @classmethod
    def register_azure_postgre_sql(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_azure_postgre_sql")

    @classmethod
    def register_azure_my_sql(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_azure_my_sql")

    @classmethod
    def register_dbfs(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_dbfs")

    @classmethod
    def register_hdfs(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._cloud_only("register_hdfs")

    # -- attributes ---------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def url(self) -> str:
        """The datastore's URL (never with credentials)."""
        return self._record.url

    @property
    def datastore_type(self) -> str:
        """``file``, ``s3`` or ``memory``."""
        return SCHEMES[_scheme(self.url)][0]

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def is_default(self) -> bool:
        return _default_record(self._workspace).name == self.name

    def __repr__(self) -> str:
        return f"Datastore(name={self.name!r}, url={self.url!r}, type={self.datastore_type!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Datastore) and (other._workspace, other.name) == (self._workspace, self.name)

    def __hash__(self) -> int:
        return hash((self._workspace, self.name))

    def path(self, path: str = "") -> DataPath:
        """A reference to ``path`` on this datastore (v1's ``datastore.path(...)``)."""
        if not isinstance(path, str):
            raise InvalidArgumentError(f"a datastore path is a string, got {type(path).__name__} {path!r}")
        return DataPath(self, _clean_relative(path, "path"))

    def url_of(self, path: str) -> str:
        """The full URL of ``path`` on this datastore."""
        rel = _clean_relative(path, "path")
        return self.url if not rel else f"{self.url.rstrip('/')}/{rel}"

    # -- filesystem ---------------------------------------------------------------------------------------
    _secret_override: dict[str, Any] | None = None

    def _options(self) -> dict[str, Any]:
        options = {**_workspace_options(self._workspace, self._record), **self._record.options}
        if self._secret_override is None:  # read once per object: each read decrypts
            self._secret_override = _read_credentials(self._workspace, self.name)
        options.update(self._secret_override)
        if _scheme(self.url) == "s3":
            endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            if "endpoint_url" not in options and endpoint:
                options["endpoint_url"] = endpoint
            config = dict(options.get("config_kwargs") or {})
            config.setdefault("connect_timeout", S3_TIMEOUT)
            config.setdefault("read_timeout", 30)
            config.setdefault("retries", {"total_max_attempts": 1})  # _call retries, without a long backoff
            options["config_kwargs"] = config
            options.setdefault("use_listings_cache", False)  # another writer may change the bucket
            # Keys from the environment are read when the session starts: a new object sees new ones.
            options.setdefault("skip_instance_cache", True)
        return options

    @property
    def filesystem(self) -> AbstractFileSystem:
        """The fsspec filesystem of this datastore (made once per object)."""
        if self._fs is None:
            self._fs = _filesystem(_scheme(self.url), self._options())
        return self._fs

    def _root(self) -> str:
        """The datastore's root as its filesystem spells paths."""
        scheme = _scheme(self.url)
        rest = self.url.split("://", 1)[1]
        if scheme == "memory":
            return "/" + rest.strip("/")
        if scheme == "file":
            return rest.rstrip("/") or "/"
        return rest.strip("/")

    def _full(self, rel: str) -> str:
        rel = _clean_relative(rel, "path")
        root = self._root()
        return f"{root.rstrip('/')}/{rel}" if rel else root

    def _endpoint(self) -> str:
        return str(self._options().get("endpoint_url") or "the default AWS S3 endpoint")

    def _unavailable(self, exc: BaseException) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"datastore {self.name!r} ({self.url}): the S3 endpoint {self._endpoint()} does not answer "
            f"({type(exc).__name__}: {_short(exc)}); check that it is running and that endpoint_url (or "
            "AWS_ENDPOINT_URL) names it"
        )

    def _check_reachable(self) -> None:
        """Make a missing local folder; make sure an S3 bucket answers (a bounded retry)."""
        fs = self.filesystem
        scheme = _scheme(self.url)
        if scheme in ("file", "memory"):
            fs.makedirs(self._root(), exist_ok=True)
            return
        bucket = self._root().split("/", 1)[0]
        try:
            self._call(fs.ls, bucket, refresh=True)
        except FileNotFoundError:
            raise InvalidArgumentError(
                f"datastore {self.name!r}: the bucket {bucket!r} does not exist at {self._endpoint()}; create it "
                "first (for example with boto3's create_bucket or `aws s3 mb`)"
            ) from None
        except PermissionError as exc:
            raise InvalidArgumentError(
                f"datastore {self.name!r}: the S3 endpoint {self._endpoint()} refused the credentials for "
                f"bucket {bucket!r} ({_short(exc)}); pass key and secret in credentials, or set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from None
        except (BackendUnavailableError, InvalidArgumentError):
            raise
        except Exception as exc:
            raise self._unavailable(exc) from None

    def _no_credentials(self) -> InvalidArgumentError:
        return InvalidArgumentError(
            f"datastore {self.name!r} ({self.url}) has no S3 keys here: register it again with "
            "credentials={'key': …, 'secret': …}, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE)"
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(...)`` on the filesystem; on S3, an endpoint that does not answer is tried
        ``S3_ATTEMPTS`` times in all, then reported (as are missing keys) by a clear error."""
        if _scheme(self.url) != "s3":
            return fn(*args, **kwargs)
        return _call_s3(fn, args, kwargs, unavailable=self._unavailable, no_credentials=self._no_credentials)

    def _existing(self, prefix: str) -> set[str]:
        """Relative paths (to the datastore root) of the files under ``prefix``."""
        full = self._full(prefix)
        fs = self.filesystem
        if not self._call(fs.exists, full):
            return set()
        root = self._root().rstrip("/")
        found: list[str] = self._call(fs.find, full)
        return {_strip(fs, p, root) for p in found}

    # -- data ---------------------------------------------------------------------------------------------
    def upload(
        self,
        src_dir: str | os.PathLike[str],
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> DataPath:
        """Upload the contents of the folder ``src_dir`` under ``target_path`` (the folder's own name is
        not kept, as in v1). A file that already exists there is skipped unless ``overwrite``.
        Returns the :class:`DataPath` of ``target_path``."""
        src = Path(src_dir)
        if not src.is_dir():
            raise InvalidArgumentError(f"upload: {str(src)!r} is not a folder (use upload_files for single files)")
        files = sorted(p for p in src.rglob("*") if p.is_file())
        return self._put(files, src, target_path, overwrite, show_progress)

    def upload_files(
        self,
        files: Iterable[str | os.PathLike[str]],
        relative_root: str | os.PathLike[str] | None = None,
        target_path: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> DataPath:
        """Upload ``files``; each lands under ``target_path`` at its path relative to ``relative_root``
        (default: the files' common folder), as in v1. Existing files are skipped unless ``overwrite``."""
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        paths = [Path(f).absolute() for f in files]
        if not paths:
            raise InvalidArgumentError("upload_files: no files given")
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise InvalidArgumentError(f"upload_files: not a file: {', '.join(missing)}")
        if relative_root is None:
            root = Path(os.path.commonpath([p.parent for p in paths]))
        else:
            root = Path(relative_root).absolute()
        outside = [str(p) for p in paths if root not in p.parents]
        if outside:
            raise InvalidArgumentError(
                f"upload_files: relative_root {str(root)!r} is not a folder of {', '.join(outside)}; pass a common "
                "folder of all the files (or leave relative_root out)"
            )
        return self._put(paths, root, target_path, overwrite, show_progress)

    def _put(self, files: Sequence[Path], root: Path, target_path: str | None, overwrite: bool, show: bool) -> DataPath:
        target = _clean_relative(target_path or "", "target_path")
        fs = self.filesystem
        existing = set() if overwrite else self._existing(target)
        uploaded = skipped = 0
        for i, local in enumerate(files, 1):
            rel = "/".join(filter(None, [target, local.relative_to(root).as_posix()]))
            if rel in existing:
                skipped += 1
                _progress(show, f"Skipping {rel} ({i}/{len(files)}): it exists on {self.name} (overwrite=False)")
                continue
            dest = self._full(rel)
            try:
                if _scheme(self.url) == "s3":
                    self._call(fs.put_file, str(local), dest)  # an S3 object appears whole or not at all
                else:
                    self._call(fs.makedirs, dest.rsplit("/", 1)[0], exist_ok=True)
                    self._put_whole(str(local), dest)
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                raise InvalidArgumentError(
                    f"upload: {rel!r} cannot be written on datastore {self.name!r}: a file stands where a folder "
                    "of that path is, or a folder where the file would go; choose another target_path"
                ) from None
            uploaded += 1
            _progress(show, f"Uploaded {local} -> {self.name}:{rel} ({i}/{len(files)})")
        _progress(show, f"Uploaded {uploaded} file(s) to {self.name}:{target or '/'}, {skipped} skipped")
        return self.path(target)

    def _put_whole(self, local: str, dest: str) -> None:
        """``put_file`` to a temporary name, then moved into place: a cut-off upload leaves no truncated
        file that a later upload (overwrite=False) would skip as already there."""
        fs = self.filesystem
        parent, leaf = dest.rsplit("/", 1)
        tmp = f"{parent}/.{leaf}.{uuid.uuid4().hex}.part"
        try:
            self._call(fs.put_file, local, tmp)
            if self._call(fs.isdir, dest):  # mv would put the file inside that folder
                raise IsADirectoryError(dest)
            self._call(fs.mv, tmp, dest)
        except BaseException:
            with contextlib.suppress(Exception):
                if fs.exists(tmp):
                    fs.rm_file(tmp)
            raise

    def download(
        self,
        target_path: str | os.PathLike[str],
        prefix: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> int:
        """Download the files under ``prefix`` (default: all) into ``target_path``, keeping their paths
        on the datastore, as v1 does. An existing local file is skipped unless ``overwrite``.
        Returns the number of files downloaded."""
        base = Path(target_path)
        prefix_rel = _clean_relative(prefix or "", "prefix")
        fs = self.filesystem
        root = self._root().rstrip("/")
        full = self._full(prefix_rel)
        if prefix_rel and self._call(fs.isfile, full):
            found = [full]
        else:
            if prefix_rel and not self._call(fs.exists, full):
                raise InvalidArgumentError(f"download: nothing under {prefix_rel!r} on datastore {self.name!r}")
            found = self._call(fs.find, full)
        # A remote name is only a name: one with '..' (a legal S3 key) must not land outside target_path.
        planned = [(remote, _strip(fs, remote, root)) for remote in sorted(found)]
        unsafe = [rel for _, rel in planned if ".." in rel.replace("\\", "/").split("/")]
        if unsafe:
            raise InvalidArgumentError(
                f"download: datastore {self.name!r} holds file names that would land outside {str(base)!r}: "
                f"{', '.join(repr(r) for r in unsafe[:5])}; rename them on the datastore, or download another prefix"
            )
        count = skipped = 0
        for i, (remote, rel) in enumerate(planned, 1):
            local = base.joinpath(*PurePosixPath(rel).parts)
            if local.exists() and not overwrite:
                skipped += 1
                _progress(show_progress, f"Skipping {local} ({i}/{len(found)}): it exists (overwrite=False)")
                continue
            try:
                local.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise InvalidArgumentError(
                    f"download: {rel!r} cannot be written under {str(base)!r}: a local file stands where one of "
                    "its folders would be; choose another target_path (or move that file)"
                ) from None
            # Into a temporary file renamed into place: a cut-off download leaves no truncated file that a
            # later download (overwrite=False) would skip as already there.
            tmp = str(local.with_name(f".{local.name}.{uuid.uuid4().hex}.part"))  # made with the usual mode
            try:
                self._call(fs.get_file, remote, tmp)
                os.replace(tmp, local)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            count += 1
            _progress(show_progress, f"Downloaded {self.name}:{rel} -> {local} ({i}/{len(found)})")
        _progress(show_progress, f"Downloaded {count} file(s) to {base}, {skipped} skipped")
        return count

    def as_dict(self) -> dict[str, Any]:
        """What may be shown anywhere: name, URL, type, non-secret options, whether it is the default."""
        return {
            "name": self.name,
            "url": self.url,
            "type": self.datastore_type,
            "options": dict(self._record.options),
            "is_default": self._record.is_default,
        }


# -- helpers -----------------------------------------------------------------------------------------------
def _store(workspace: Workspace) -> DatastoreStore:
    return workspace.metadata


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "file"


def _supported() -> str:
    return "a local folder or file://, s3://bucket[/prefix], memory://"


def _normalise_url(url: object) -> str:
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str) or not url.strip():
        raise InvalidArgumentError(f"a datastore URL is a non-empty string ({_supported()}), got {url!r}")
    if "://" not in url:
        if ":" in url.split("/", 1)[0] and not os.path.isabs(url):
            raise InvalidArgumentError(f"unsupported datastore URL {url!r}: use {_supported()}")
        return "file://" + str(Path(url).expanduser().absolute())
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = url if parts.password is None else url.replace(f":{parts.password}@", ":***@", 1)  # never echo it
        raise InvalidArgumentError(
            f"unsupported datastore URL scheme {scheme!r} in {shown!r}: supported are {_supported()}"
        )
    if parts.password or parts.username or parts.query:
        raise InvalidArgumentError(
            f"datastore URL for {scheme}:// must not carry credentials or options: pass them in credentials={{...}}"
        )
    if scheme == "file":
        path = url.split("://", 1)[1]
        if not path.startswith("/"):
            raise InvalidArgumentError(f"a file:// datastore URL needs an absolute path, got {url!r}")
        return "file://" + str(Path(path).absolute())
    rest = url.split("://", 1)[1].strip("/")
    if not rest:
        raise InvalidArgumentError(f"datastore URL {url!r} names no {'bucket' if scheme == 's3' else 'folder'}")
    return f"{scheme}://{rest}"


def _clean_relative(path: str, what: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgumentError(f"{what} {path!r} must stay inside the datastore (no '..')")
    return "/".join(parts)


def _strip(fs: AbstractFileSystem, path: str, root: str) -> str:
    path = fs._strip_protocol(path)
    root = fs._strip_protocol(root) if root else root
    return path[len(root) :].lstrip("/") if root and path.startswith(root) else path.lstrip("/")


def _split_credentials(credentials: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    if credentials is None:
        return {}, {}
    if not isinstance(credentials, Mapping):
        raise InvalidArgumentError(
            "credentials is a dict of the filesystem's storage options (for S3: key, secret, endpoint_url, …), "
            f"got {type(credentials).__name__}"
        )
    public: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for key, value in credentials.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"credentials keys are option names (strings), got {key!r}")
        # Options that are never secret are kept in the database; anything whose name looks secret goes
        # to the private file.
        if not (looks_secret(key) or isinstance(value, Mapping)):
            public[key] = value
        else:
            secret[key] = value  # nested options (client_kwargs, …) may hold keys: kept private too
    try:
        json.dumps(public), json.dumps(secret)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"credentials must be JSON values (strings, numbers, dicts): {exc}") from None
    return public, secret


def credentials_secret_name(name: str) -> str:
    """The vault secret that holds datastore ``name``'s secret options: ``datastore-`` plus the name with
    every character Key Vault refuses (``_``, ``.``) as ``-`` (to be recognisable in ``list_secrets``),
    plus a hash of the exact name — ``a_b`` and ``a-b`` are different datastores and get different secrets."""
    readable = re.sub(r"[^A-Za-z0-9-]", "-", name)[:80]
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    return f"{CREDENTIALS_SECRET_PREFIX}{readable}-{digest}"


def _vault_error(name: str, exc: SecretKeyError, *, writing: bool = False) -> SecretKeyError:
    """``exc`` (which says where the key was looked for and how to give one) for datastore ``name``; a
    read gets the other fix too: register the credentials again (with the key now at hand)."""
    if writing:
        return SecretKeyError(
            f"datastore {name!r}: its credentials go to the workspace vault (secret "
            f"{credentials_secret_name(name)!r}), which cannot be used here: {exc.message}"
        )
    return SecretKeyError(
        f"datastore {name!r} keeps its credentials in the workspace vault (secret {credentials_secret_name(name)!r}), "
        f"which cannot be used here: {exc.message}. Or register the datastore again with its credentials: "
        f"Datastore.register(ws, {name!r}, url, credentials={{...}}, overwrite=True)"
    )


def _read_credentials(workspace: Workspace, name: str) -> dict[str, Any]:
    """Datastore ``name``'s secret options from the vault (``{}`` without any; then no key is needed)."""
    _migrate_legacy_credentials(workspace, name)
    secret_name = credentials_secret_name(name)
    try:
        text = workspace.services.secrets.find(secret_name)
    except SecretKeyError as exc:
        raise _vault_error(name, exc) from None
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):  # set by hand through the vault: say which, not a TypeError
        raise InvalidStateError(
            f"datastore {name!r}: its vault secret {secret_name!r} is not a JSON object of storage options; "
            f"register it again with Datastore.register(ws, {name!r}, url, credentials={{...}}, overwrite=True)"
        )
    return value


def _store_credentials(workspace: Workspace, name: str, secret: Mapping[str, Any]) -> None:
    """Set (or, empty, delete) datastore ``name``'s secret options in the vault."""
    secrets = workspace.services.secrets
    secret_name = credentials_secret_name(name)
    if not secret:
        with contextlib.suppress(NotFoundError):  # deleting needs no key
            secrets.delete(secret_name)
        return
    try:
        secrets.set({secret_name: json.dumps(dict(secret), sort_keys=True)})
    except SecretKeyError as exc:
        raise _vault_error(name, exc, writing=True) from None


def _legacy_path(workspace: Workspace) -> Path:
    return workspace.path / LEGACY_CREDENTIALS_FILE


def _migrate_legacy_credentials(workspace: Workspace, needed_by: str | None) -> None:
    """Move the entries of a pre-vault workspace's plaintext credentials file into the vault, then remove
    the file (issue 21). The vault is written first: a crash before the file is removed leaves it, and the
    next use moves its entries again. An entry is moved only for a registered datastore without a vault
    secret (a vault secret was written later, by this version). Without a usable key the file stays; that
    is an error only for ``needed_by``, the datastore being used, when the file holds its credentials."""
    path = _legacy_path(workspace)
    if not path.exists():
        return
    with _credentials_lock, locked_beside(path):  # another process may be moving it too
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return  # moved meanwhile
        except (OSError, ValueError) as exc:
            raise InvalidStateError(
                f"the old datastore credentials file {path} cannot be read to move it into the workspace vault "
                f"({exc}); fix it, or remove it and register the datastores that need credentials again with "
                "Datastore.register(ws, name, url, credentials={...}, overwrite=True)"
            ) from None
        entries = data if isinstance(data, dict) else {}
        secrets = workspace.services.secrets
        registered = {r.name for r in _store(workspace).list_datastores()}
        held = {n for n, _, _ in secrets.list()}
        moving = {
            credentials_secret_name(n): json.dumps(v, sort_keys=True)
            for n, v in entries.items()
            if n in registered and v and credentials_secret_name(n) not in held
        }
        try:
            secrets.set(moving)
        except SecretKeyError as exc:
            if needed_by is not None and needed_by in entries:
                raise SecretKeyError(
                    f"datastore {needed_by!r}: its credentials are in the old file {path}, to be moved into the "
                    f"workspace vault, which cannot be used here: {exc.message}"
                ) from None
            return  # moved by a later use, once a key is there
        path.unlink()
        # The old version wrote the file through a temporary copy: one left by a crash holds plaintext
        # credentials too (older than the file just moved). The lock file goes as well: a process waiting
        # on it finds no credentials file and returns.
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        path.with_name(path.name + ".lock").unlink(missing_ok=True)


def _filesystem(scheme: str, options: dict[str, Any]) -> AbstractFileSystem:
    kind, driver, extra = SCHEMES[scheme]
    if driver is not None:
        try:
            importlib.import_module(driver)
        except ImportError:
            raise BackendUnavailableError(
                f"{kind}:// datastores need the {driver} package, which is not installed: "
                f'pip install "jupyter-mlws[{extra}]"'
            ) from None
    import fsspec

    fs = fsspec.filesystem(scheme, **options)
    if scheme == "s3":
        fs.retries = 1  # the bounded retry is Datastore._call's (s3fs would try 5 times, botocore more)
    return fs


def _builtin_url(workspace: Workspace) -> str:
    """``workspaceblobstore``'s URL: beside the artifacts. A workspace whose artifacts are in an object
    store (a team workspace, issue 19) keeps it there too, so that every member reads the same data;
    otherwise it is a folder in ``.mlws/``."""
    if not is_local_url(workspace.artifact_url):
        return f"{workspace.artifact_url.rstrip('/')}/datastores/{DEFAULT_DATASTORE}"
    return "file://" + str(workspace.path / "datastores" / DEFAULT_DATASTORE)


def _workspace_options(workspace: Workspace, record: DatastoreRecord) -> dict[str, Any]:
    """The workspace's artifact options (its object store's endpoint, …) when ``record`` is the
    built-in datastore inside that store: each member's config supplies them, not the first member's."""
    if record.name != DEFAULT_DATASTORE or is_local_url(workspace.artifact_url):
        return {}
    return workspace.artifact_options if record.url.startswith(workspace.artifact_url.rstrip("/") + "/") else {}


def _ensure_builtin(workspace: Workspace, make_folder: bool = True) -> DatastoreRecord:
    """``workspaceblobstore``: registered (and its folder made) on first use; the default whenever no
    other datastore is."""
    store = _store(workspace)
    records = {r.name: r for r in store.list_datastores()}
    record = records.get(DEFAULT_DATASTORE)
    if record is None:
        record = store.put_datastore(DEFAULT_DATASTORE, _builtin_url(workspace), {}, time.time())
    if not any(r.is_default for r in records.values()):
        store.set_default_datastore(DEFAULT_DATASTORE)
        record = store.get_datastore(DEFAULT_DATASTORE)
    if make_folder and record.url.startswith("file://"):
        folder = Path(record.url.removeprefix("file://"))
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidStateError(
                f"the datastore {record.name!r} is the folder {folder}, which cannot be made here ({exc}); in a "
                "team workspace make a shared datastore the default: Datastore.register(ws, name, 's3://…') and "
                "ws.set_default_datastore(name)"
            ) from None
    return record


def _default_record(workspace: Workspace) -> DatastoreRecord:
    chosen = next((r for r in _store(workspace).list_datastores() if r.is_default), None)
    if chosen is not None:
        return chosen
    _ensure_builtin(workspace)
    return _store(workspace).get_datastore(DEFAULT_DATASTORE)


def _progress(show: bool, message: str) -> None:
    if show:
        print(message, file=sys.stdout, flush=True)


def _call_s3(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    unavailable: Callable[[Exception], Exception],
    no_credentials: Callable[[], Exception] | None = None,
) -> Any:
    """``fn(*args, **kwargs)`` on an S3 filesystem, with the bounded retry of every S3 call (a datastore's,
    and a dataset's on an s3:// URL): an endpoint that does not answer (an ``OSError`` or a connection
    error) is tried ``S3_ATTEMPTS`` times in all, ``S3_RETRY_PAUSE`` apart, then ``unavailable(exc)``
    is raised. A missing file, a folder, a refusal are the answer, not an outage: raised at once. With
    ``no_credentials``, missing keys raise ``no_credentials()``."""
    for attempt in range(1, S3_ATTEMPTS + 1):
        try:
            return fn(*args, **kwargs)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
            raise
        except Exception as exc:
            if no_credentials is not None and _is_missing_credentials(exc):
                raise no_credentials() from None
            if not (isinstance(exc, OSError) or _is_connection_error(exc)):
                raise
            if attempt == S3_ATTEMPTS:
                raise unavailable(exc) from None
            time.sleep(S3_RETRY_PAUSE)
    raise AssertionError("unreachable")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _is_missing_credentials(exc: BaseException) -> bool:
    return any(t.__name__ in ("NoCredentialsError", "PartialCredentialsError") for t in type(exc).__mro__)


def _is_connection_error(exc: BaseException) -> bool:
    names = {t.__name__ for t in type(exc).__mro__}
    return bool(
        names
        & {
            "EndpointConnectionError",
            "ConnectTimeoutError",
            "ReadTimeoutError",
            "ConnectionError",
            "ClientConnectorError",
            "ServerDisconnectedError",
            "ConnectionClosedError",
        }
    )
