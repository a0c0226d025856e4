"""Datasets (issue 15): named, versioned references to files, with Azure ML v1's spellings —
``Dataset.File.from_files``, ``Dataset.Tabular.from_delimited_files`` / ``from_parquet_files`` /
``from_json_lines_files``, ``register``, ``get_by_name``, ``to_pandas_dataframe``, ``download``,
``mount``, ``as_named_input``.

A dataset object is a definition (where the files are; for tabular data how to read them) until it
is registered. Registering fingerprints the files (:mod:`jupyter_mlws.data.fingerprint`) and stores an
immutable version: the manifest (path, size, sha256 per file) and its digest. A registered version
reads exactly the files of its manifest and checks first that they still hold those bytes — a file
changed in place (even with its mtime put back) is reported by :class:`DatasetChangedError`, never
read as if it were the old one. ``validate=False`` skips the check for one read.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Self, TypeVar
from urllib.parse import urlsplit

from ..core.interfaces import DatasetStore, DatasetVersionRecord
from ..core.names import validate_entity_name
from ..errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    DatasetChangedError,
    InvalidArgumentError,
    InvalidStateError,
)
from . import tabular, timeseries
from .datastore import S3_TIMEOUT, DataPath, Datastore, _call_s3, resolve_data_path
from .fingerprint import (
    BUFFER_SIZE,
    DataManifest,
    FileEntry,
    fingerprint,
    is_local_fs,
    list_files,
    stat_cache_path,
    verify,
)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from fsspec import AbstractFileSystem

    from ..core.workspace import Workspace
    from .consumption import DatasetConsumptionConfig

__all__ = ["Dataset", "FileDataset", "MountContext", "TabularDataset"]

STAGED_FORMAT = "mlws-staged-dataset/1"
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


# -- where the files are -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Where:
    """A resolved location: the filesystem (None: local), a root on it, and how to call it (a
    datastore's bounded retry for S3, else directly)."""

    fs: AbstractFileSystem | None
    root: str
    datastore: Datastore | None

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.datastore is not None and self.datastore.datastore_type == "s3":
            return self.datastore._call(fn, *args, **kwargs)
        if self.datastore is None and self.fs is not None and _is_s3(self.fs):
            # As a datastore's calls are: the bounded retry, then an error naming the endpoint.
            return _call_s3(fn, args, kwargs, unavailable=_s3_url_unavailable(self.fs))
        return fn(*args, **kwargs)

    def join(self, rel: str) -> str:
        if self.fs is None:
            return os.path.join(self.root, *rel.split("/"))
        return f"{self.root.rstrip('/')}/{rel}"

    def open(self, rel: str) -> BinaryIO:
        path = self.join(rel)
        if self.fs is None:
            return open(path, "rb")
        handle: BinaryIO = self.call(self.fs.open, path, "rb")
        return handle


def _source_of(path: object) -> dict[str, Any]:
    """The JSON source of v1's ``path`` argument: ``{"datastore": name | None, "patterns": [...]}`` —
    patterns relative to the datastore's root, else absolute local paths or URLs."""
    items = list(path) if isinstance(path, list) else [path]
    if not items:
        raise InvalidArgumentError(
            "path is empty: pass a (datastore, 'glob') tuple, a list of them, a local path or a URL"
        )
    stores: set[str] = set()
    patterns: builtins.list[str] = []
    datastore: Datastore | None = None
    local = 0
    for item in items:
        if isinstance(item, DataPath) or (isinstance(item, tuple) and len(item) == 2):
            ref = resolve_data_path(item)
            datastore = ref.datastore
            stores.add(ref.datastore.name)
            patterns.append(ref.path)
        elif isinstance(item, (str, os.PathLike)):
            text = os.fspath(item)
            if not text.strip():
                raise InvalidArgumentError("a dataset path is an empty string")
            local += 1
            if "://" in text and not text.startswith("file://"):
                _no_secrets_in_url(text)
                patterns.append(text)
            else:
                patterns.append(os.path.abspath(os.path.expanduser(text.removeprefix("file://"))))
        else:
            raise InvalidArgumentError(
                f"a dataset path is a (datastore, 'path or glob') tuple, datastore.path(...), a local path or a URL; "
                f"got {type(item).__name__} {item!r}"
            )
    if len(stores) > 1 or (stores and local):
        mixed = ", ".join(sorted(stores)) + (" and local paths" if local and stores else "")
        raise InvalidArgumentError(
            f"the paths of one dataset are on one datastore (or all local): got {mixed}; make one dataset per datastore"
        )
    source: dict[str, Any] = {"datastore": datastore.name if datastore else None, "patterns": patterns}
    source["_datastore_obj"] = datastore  # not stored: the object the user passed (its workspace)
    return source


def _no_secrets_in_url(url: str) -> None:
    """A URL is stored in the version's definition and shown in REST replies: it must not carry a
    password or a query (signed URLs' tokens), as a datastore URL must not."""
    parts = urlsplit(url)
    if parts.password or parts.query:
        shown = url.split("://", 1)[0] + "://" + (parts.hostname or "") + parts.path
        raise InvalidArgumentError(
            f"the dataset URL {shown}… carries a password or a query (a token, a signature): it would be stored in "
            "the workspace database and shown in replies. Register a datastore with the credentials instead "
            "(Datastore.register(ws, name, url, credentials={...})) and use (datastore, 'path')"
        )


def _stored(source: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in source.items() if not k.startswith("_")}


def _resolve(workspace: Workspace | None, source: Mapping[str, Any]) -> tuple[builtins.list[str], _Where]:
    """Full patterns and the location of a source's filesystem (root: the datastore's root)."""
    name = source.get("datastore")
    if name is not None:
        obj = source.get("_datastore_obj")
        if obj is None or (workspace is not None and obj.workspace is not workspace and obj.workspace != workspace):
            if workspace is None:
                raise InvalidStateError(f"the dataset is on datastore {name!r} but knows no workspace")
            obj = Datastore.get(workspace, name)
        fs = obj.filesystem
        local = is_local_fs(fs)
        root = obj._root()
        full = [obj._full(p) if p else root for p in source["patterns"]]
        return full, _Where(None if local else fs, root, obj)
    patterns = list(source["patterns"])
    remote = [p for p in patterns if "://" in p]
    if remote:
        fs, _ = _url_to_fs(remote[0])
        if _is_s3(fs):
            fs.retries = 1  # the bounded retry is _call_s3's (s3fs would try 5 times)
        return patterns, _Where(fs, "/", None)
    return patterns, _Where(None, "/", None)


def _is_s3(fs: AbstractFileSystem) -> bool:
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return "s3" in protocols


def _s3_url_unavailable(s3: AbstractFileSystem) -> Callable[[Exception], BackendUnavailableError]:
    """The error of an s3:// URL's filesystem (no datastore) whose endpoint does not answer, naming it."""

    def error(exc: Exception) -> BackendUnavailableError:
        endpoint = (
            (getattr(s3, "client_kwargs", None) or {}).get("endpoint_url")
            or getattr(s3, "endpoint_url", None)
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or "the default AWS S3 endpoint"
        )
        return BackendUnavailableError(
            f"the S3 endpoint {endpoint} does not answer ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); check that it is running and that "
            "AWS_ENDPOINT_URL names it, or register a datastore with its endpoint_url"
        )

    return error


def _url_to_fs(url: str) -> tuple[AbstractFileSystem, str]:
    """fsspec's filesystem for ``url``; an unknown scheme or a filesystem package that is not installed
    is a clear error naming the URL (not fsspec's bare ValueError / ImportError). An s3:// URL gets a
    datastore's bounded timeouts (botocore's own retries would take minutes on a dead endpoint)."""
    from fsspec.core import url_to_fs

    options: dict[str, Any] = {}
    if url.split("://", 1)[0].lower() in ("s3", "s3a"):
        options = {
            "config_kwargs": {"connect_timeout": S3_TIMEOUT, "read_timeout": 30, "retries": {"total_max_attempts": 1}},
            "skip_instance_cache": True,
            "use_listings_cache": False,  # another writer may change the bucket
        }
    try:
        fs, path = url_to_fs(url, **options)
    except ImportError as exc:  # the protocol's package (s3fs, gcsfs, adlfs …) is not installed
        raise BackendUnavailableError(f"cannot read {url}: {exc}") from None
    except ValueError as exc:  # "Protocol not known: …"
        raise InvalidArgumentError(
            f"cannot read {url}: {exc}; use a local path, a (datastore, 'path') tuple or an s3:// or memory:// URL"
        ) from None
    return fs, path


def _root_ref(where: _Where, base: str) -> dict[str, Any]:
    """How a version remembers its root: relative to its datastore, else the local path or URL."""
    if where.datastore is not None:
        # Relative to the datastore's own root: ``where.root`` is a version's folder when ``where`` was
        # rebuilt from a stored root (a registered or derived version registered again).
        ds_root = where.datastore._root().rstrip("/")
        if where.fs is None:  # local: the listing's folders are normalised ("a/../b" is "b")
            ds_root, base = os.path.normpath(ds_root or "/").rstrip("/"), os.path.normpath(base)
        if base != ds_root and not base.startswith(ds_root + "/"):
            raise InvalidStateError(
                f"the files are at {base}, outside datastore {where.datastore.name!r} ({where.datastore.url}); "
                "make the dataset from a path on that datastore"
            )
        return {"datastore": where.datastore.name, "path": base[len(ds_root) :].strip("/")}
    if where.fs is not None:
        if "://" in base:  # filesystems that keep whole URLs as paths (http/https): the scheme is the URL's own
            return {"datastore": None, "path": base}
        protocol = where.fs.protocol if isinstance(where.fs.protocol, str) else where.fs.protocol[0]
        return {"datastore": None, "path": f"{protocol}://{base.lstrip('/')}"}
    return {"datastore": None, "path": base}


def _where_of_root(workspace: Workspace | None, root: Mapping[str, Any]) -> _Where:
    name = root.get("datastore")
    if name is not None:
        if workspace is None:
            raise InvalidStateError(f"the dataset is on datastore {name!r} but knows no workspace")
        obj = Datastore.get(workspace, name)
        fs = obj.filesystem
        full = obj._full(root["path"])
        return _Where(None if is_local_fs(fs) else fs, full, obj)
    path = str(root["path"])
    if "://" in path:
        fs, stripped = _url_to_fs(path)
        if _is_s3(fs):
            fs.retries = 1
        return _Where(fs, stripped, None)
    return _Where(None, path, None)


# -- copying with a check ----------------------------------------------------------------------------------
def _copy_checked(src: BinaryIO, dest: Path, expected: FileEntry | None, where: str) -> FileEntry:
    """Copy ``src`` to ``dest`` (through a temporary name), hashing as it goes; with ``expected``, a
    different digest removes the copy and raises DatasetChangedError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := src.read(BUFFER_SIZE):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        found = digest.hexdigest()
        if expected is not None and found != expected.sha256:
            raise DatasetChangedError(
                f"dataset file {expected.path!r} in {where} changed since the version was registered: expected "
                f"sha256 {expected.sha256}, found {found}. Register the data again for a new version, or read with "
                "validate=False to accept the files as they are",
                path=expected.path,
                expected=expected.sha256,
                found=found,
            )
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return FileEntry(expected.path if expected else dest.name, size, found)


def _progress_line(show: bool, message: str) -> None:
    if show:
        print(message, file=sys.stdout, flush=True)


# -- the datasets ------------------------------------------------------------------------------------------
class Dataset:
    """A dataset: files (``FileDataset``) or a table read from files (``TabularDataset``).

    Make one with ``Dataset.File.from_files(...)`` or ``Dataset.Tabular.from_*_files(...)``; find
    registered ones with :meth:`get_by_name`, :meth:`get_by_id`, :meth:`list`.
    """

    kind: ClassVar[str] = ""
    File: ClassVar[type[FileDatasetFactory]]
    Tabular: ClassVar[type[TabularDatasetFactory]]

    def __init__(self) -> None:
        raise InvalidArgumentError(
            "make a dataset with Dataset.File.from_files(path) or Dataset.Tabular.from_delimited_files(path) "
            "(or from_parquet_files / from_json_lines_files); get a registered one with Dataset.get_by_name(ws, name)"
        )

    @classmethod
    def _new(
        cls: type[Self],
        workspace: Workspace | None,
        source: Mapping[str, Any],
        spec: Mapping[str, Any] | None,
        *,
        record: DatasetVersionRecord | None = None,
        root: Mapping[str, Any] | None = None,
        manifest: DataManifest | None = None,
        staged: str | None = None,
    ) -> Self:
        ds = cls.__new__(cls)
        ds._workspace = workspace
        ds._source = dict(source)
        ds._spec = dict(spec) if spec is not None else None
        ds._record = record
        ds._root = dict(root) if root is not None else None
        ds._manifest = manifest
        ds._staged = staged
        ds._staged_info = {}
        return ds

    _workspace: Workspace | None
    _source: dict[str, Any]
    _spec: dict[str, Any] | None
    _record: DatasetVersionRecord | None
    _root: dict[str, Any] | None
    _manifest: DataManifest | None
    _staged: str | None
    _staged_info: dict[str, Any]

    # -- registered versions ----------------------------------------------------------------------------
    @staticmethod
    def _of(workspace: Workspace, record: DatasetVersionRecord) -> Dataset:
        cls: type[Dataset] = TabularDataset if record.kind == "tabular" else FileDataset
        ds = cls._new(workspace, {}, None, record=record)
        if record.definition:
            ds._load_definition(record.definition)
        return ds

    def _load_definition(self, definition: Mapping[str, Any]) -> None:
        self._source = dict(definition.get("source") or {})
        self._spec = dict(definition["spec"]) if definition.get("spec") else None
        self._root = dict(definition["root"])
        self._manifest = DataManifest.from_dict(definition["manifest"])

    def _ensure_definition(self) -> None:
        if self._record is not None and self._manifest is None and self._workspace is not None:
            full = _store(self._workspace).get_dataset_by_id(self._record.id)
            self._record = full
            self._load_definition(full.definition)

    @staticmethod
    def get_by_name(workspace: Workspace, name: str, version: int | str = "latest") -> Dataset:
        """The registered dataset ``name`` at ``version`` (an int, or ``"latest"``)."""
        number = _version_number(version)
        return Dataset._of(workspace, _store(workspace).get_dataset_version(name, number))

    @staticmethod
    def get_by_id(workspace: Workspace, id: str) -> Dataset:
        """The registered dataset version with this ``id``."""
        return Dataset._of(workspace, _store(workspace).get_dataset_by_id(str(id)))

    @staticmethod
    def list(workspace: Workspace) -> builtins.list[Dataset]:
        """The latest version of every registered dataset, by name."""
        return [Dataset._of(workspace, r) for r in _store(workspace).list_datasets()]

    @staticmethod
    def get_all(workspace: Workspace) -> dict[str, Dataset]:
        """Every registered dataset's latest version by name (as ``ws.datasets``)."""
        return {d.name or "": d for d in Dataset.list(workspace)}

    @staticmethod
    def list_versions(workspace: Workspace, name: str) -> builtins.list[Dataset]:
        """Every version of ``name``, oldest first."""
        return [Dataset._of(workspace, r) for r in _store(workspace).list_dataset_versions(name)]

    # -- attributes -------------------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return self._record.name if self._record else self._staged_info.get("name")

    @property
    def version(self) -> int | None:
        return self._record.version if self._record else self._staged_info.get("version")

    @property
    def id(self) -> str | None:
        return self._record.id if self._record else self._staged_info.get("id")

    @property
    def digest(self) -> str | None:
        """The sha256 of the version's manifest (None until registered)."""
        if self._record is not None:
            return self._record.digest
        return self._manifest.digest if self._manifest is not None else None

    @property
    def is_registered(self) -> bool:
        return self._record is not None

    @property
    def description(self) -> str | None:
        return self._record.description if self._record else None

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags) if self._record else {}

    @property
    def created_time(self) -> float | None:
        return self._record.created_time if self._record else None

    @property
    def file_count(self) -> int | None:
        if self._record is not None:
            return self._record.file_count
        return self._manifest.file_count if self._manifest is not None else None

    @property
    def total_size(self) -> int | None:
        if self._record is not None:
            return self._record.total_size
        return self._manifest.total_size if self._manifest is not None else None

    @property
    def rows(self) -> int | None:
        return self._record.rows if self._record else None

    @property
    def schema(self) -> builtins.list[dict[str, str]] | None:
        return [dict(c) for c in self._record.schema] if self._record and self._record.schema is not None else None

    @property
    def manifest(self) -> DataManifest:
        """The version's files (path, size, sha256); for an unregistered dataset, fingerprinted now."""
        self._ensure_definition()
        if self._manifest is None:
            self._manifest = self._fingerprint(None).manifest
        return self._manifest

    @property
    def source(self) -> str:
        """Where the files are, for people: ``datastore:pattern`` or local paths / URLs."""
        self._ensure_definition()
        if self._staged is not None:
            return str(self._staged_info.get("source") or self._staged)
        store = self._source.get("datastore")
        patterns = self._source.get("patterns") or []
        if self._root is not None and (len(patterns) > 5 or not patterns):
            where = self._root.get("path", "")
            return f"{self._root['datastore']}:{where or '/'}" if self._root.get("datastore") else str(where)
        shown = ", ".join(patterns[:5]) + (f", … ({len(patterns)} in all)" if len(patterns) > 5 else "")
        return f"{store}:{shown}" if store else shown

    @property
    def lineage_ref(self) -> str:
        """``name:version:digest`` of a registered version (what models and runs record)."""
        if self.name is None or self.version is None or self.digest is None:
            return f"unregistered:{self.manifest.digest}"
        return f"{self.name}:{self.version}:{self.digest}"

    def summary(self) -> dict[str, Any]:
        """What the REST API and the CLI show for a version."""
        return {
            "name": self.name,
            "version": self.version,
            "id": self.id,
            "kind": self.kind,
            "digest": self.digest,
            "description": self.description,
            "tags": self.tags,
            "created_time": self.created_time,
            "file_count": self.file_count,
            "total_size": self.total_size,
            "rows": self.rows,
            "source": self.source,
        }

    def __repr__(self) -> str:
        if self._record is not None:
            return (
                f"{type(self).__name__}(name={self.name!r}, version={self.version}, id={self.id!r}, "
                f"digest={self.digest!r})"
            )
        return f"{type(self).__name__}(source={self.source!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        if self._record is not None and other._record is not None:
            return self._record.id == other._record.id
        return self is other

    def __hash__(self) -> int:
        return hash(self._record.id) if self._record is not None else id(self)

    # -- files ------------------------------------------------------------------------------------------
    def _cache_file(self, workspace: Workspace | None) -> Path | None:
        ws = workspace or self._workspace
        return stat_cache_path(ws.path) if ws is not None else None

    def _pinned_where(self) -> _Where | None:
        """The root of a registered, derived or staged version (its files are its manifest's)."""
        self._ensure_definition()
        if self._staged is not None:
            return _Where(None, self._staged, None)
        if self._root is None or self._manifest is None:
            return None
        return _where_of_root(self._workspace, self._root)

    def _verify(self, where: _Where, validate: bool) -> None:
        if not validate or self._staged is not None or self._manifest is None:
            return
        if where.fs is None:
            verify(self._manifest, where.root, cache_file=self._cache_file(None))
        else:
            where.call(verify, self._manifest, (where.fs, where.root))

    def _files(self, validate: bool = True) -> tuple[_Where, builtins.list[str]]:
        """The location and relative paths of the files a read sees: a version's manifest (checked
        unless ``validate=False``), or what the source names now."""
        pinned = self._pinned_where()
        if pinned is not None:
            assert self._manifest is not None
            self._verify(pinned, validate)
            return pinned, [e.path for e in self._manifest.entries]
        patterns, where = _resolve(self._workspace, self._source)
        base, files, _ = where.call(list_files, patterns, fs=where.fs)
        return _Where(where.fs, base, where.datastore), [rel for rel, _ in files]

    def _fingerprint(self, workspace: Workspace | None, progress: Callable[[int, int], None] | None = None) -> Any:
        """Fingerprint the files now; answers the Fingerprint and sets ``_root`` for registration."""
        pinned = self._pinned_where()
        if pinned is not None and self._manifest is not None:
            # A derived or registered version: the same files, read again (their bytes may have moved on).
            patterns = [pinned.join(e.path) for e in self._manifest.entries]
            where = pinned
            root: str | None = pinned.root
        else:
            patterns, where = _resolve(workspace or self._workspace, self._source)
            root = None
        found = where.call(
            fingerprint,
            patterns,
            fs=where.fs,
            root=root,
            cache_file=self._cache_file(workspace) if where.fs is None else None,
            progress=progress,
        )
        if self._staged is None:
            self._fingerprint_root = _root_ref(where, found.root)
        return found

    _fingerprint_root: dict[str, Any] | None = None
    _staged_of: dict[str, Any] | None = None  # a job's staged copy: name, version, id of what was staged

    def download_files(
        self,
        target_path: str | os.PathLike[str],
        overwrite: bool = False,
        show_progress: bool = False,
        *,
        validate: bool = True,
    ) -> builtins.list[str]:
        """Copy the files into ``target_path`` (their relative paths kept); each is checked against the
        version's manifest as it is copied. A file already there is an AlreadyExistsError naming it
        unless ``overwrite`` (and then nothing is copied). Returns the local paths."""
        where, rels = self._files(validate=False)  # each file is checked while it is copied
        target = Path(target_path).absolute()
        _check_target_folder(target, rels)
        planned = [(rel, target.joinpath(*PurePosixPath(rel).parts)) for rel in rels]
        if not overwrite:
            existing = [str(p) for _, p in planned if p.exists()]
            if existing:
                more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
                raise AlreadyExistsError(
                    f"download: {existing[0]} exists already{more}; pass overwrite=True to replace, or choose another "
                    "target_path"
                )
        entries = {e.path: e for e in self._manifest.entries} if self._manifest is not None and validate else {}
        shown_where = self.source
        out: builtins.list[str] = []
        for i, (rel, local) in enumerate(planned, 1):
            try:
                with where.open(rel) as src:
                    _copy_checked(src, local, entries.get(rel), shown_where)
            except FileNotFoundError:
                expected = entries.get(rel)
                raise DatasetChangedError(
                    f"dataset file {rel!r} in {shown_where} is missing"
                    + (f" (expected sha256 {expected.sha256}, found no file)" if expected else "")
                    + ". Register the data again for a new version",
                    path=rel,
                    expected=expected.sha256 if expected else None,
                    found=None,
                ) from None
            out.append(str(local))
            _progress_line(show_progress, f"Downloaded {rel} -> {local} ({i}/{len(planned)})")
        return out

    # -- registration -----------------------------------------------------------------------------------
    def register(
        self,
        workspace: Workspace,
        name: str,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        create_new_version: bool = False,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> Dataset:
        """Register this dataset as ``name``: fingerprint its files and store a new version.

        The same content (kind, reading spec, files' bytes and place) as the latest version keeps that version
        (it is answered and a line says so), as in v1. Other content needs ``create_new_version=True``
        when ``name`` exists. A name registered as the other kind (file / tabular) is refused.
        """
        name = validate_entity_name("dataset", name)
        if self._staged is not None:
            # A job's copy lives in a folder that goes away with the job: a version rooted there could never
            # be read again. Register from where the data is.
            of = self._staged_of or {}
            which = "an unregistered dataset"
            if of.get("name"):
                which = f"dataset {of.get('name')!r} version {of.get('version')}"
            raise InvalidStateError(
                f"this is a job's copy of {which} (in {self._staged}), which is removed with the job: register the "
                f"original instead — Dataset.get_by_name(ws, {of.get('name') or 'NAME'!r}, "
                f"{of.get('version') or 'VERSION'}), with the same steps — as {name!r}"
            )
        tag_values = _tags(tags)
        if description is not None and not isinstance(description, str):
            raise InvalidArgumentError(f"description is a string, got {type(description).__name__}")
        store = _store(workspace)
        pinned = self._manifest if self._pinned_where() is not None else None
        found = self._fingerprint(workspace, progress)
        manifest: DataManifest = found.manifest
        if pinned is not None and manifest.digest != pinned.digest:
            # A registered (or derived) version registered again: its own bytes, or a clear refusal — never
            # other bytes under the name of a copy of this version.
            raise _changed_since(pinned, manifest, self.source)
        rows, schema = self._profile(workspace, found)
        # Same content means the same bytes read the same way *from the same place* (v1 compares definitions):
        # the same bytes copied elsewhere make a new version that reads them there, so a version whose
        # folder was moved or removed never shadows a registration of the data where it is now.
        content_key = hashlib.sha256(
            json.dumps([self.kind, self._spec, manifest.digest, self._fingerprint_root], sort_keys=True).encode()
        ).hexdigest()
        definition = {
            "source": _stored(self._source),
            "root": self._fingerprint_root,
            "manifest": manifest.to_dict(),
            "spec": self._spec,
        }
        record = DatasetVersionRecord(
            id=uuid.uuid4().hex,
            name=name,
            version=0,
            kind=self.kind,
            digest=manifest.digest,
            content_key=content_key,
            description=description,
            tags=tag_values,
            created_time=time.time(),
            file_count=manifest.file_count,
            total_size=manifest.total_size,
            rows=rows,
            schema=schema,
            definition=definition,
        )
        stored, created = store.add_dataset_version(record, create_new_version)
        if not created:
            print(
                f"Dataset {name!r} version {stored.version} already holds this content (digest {stored.digest[:12]}…): "
                "kept that version",
                flush=True,
            )
            stored = store.get_dataset_by_id(stored.id)
        else:
            stored = DatasetVersionRecord(**{**stored.__dict__, "definition": definition})
        return Dataset._of(workspace, stored)

    def _profile(self, workspace: Workspace, found: Any) -> tuple[int | None, builtins.list[dict[str, str]] | None]:
        return None, None

    # -- lineage ----------------------------------------------------------------------------------------
    def get_lineage(self) -> dict[str, builtins.list[str]]:
        """The runs that read this version and the models registered with it:
        ``{"runs": [run ids], "models": ["name:version"]}``."""
        if self._record is None or self._workspace is None:
            raise InvalidStateError("get_lineage(): the dataset is not registered; register it first")
        runs = _store(self._workspace).list_dataset_runs(self._record.id)
        prefix = f"{self._record.name}:{self._record.version}:"
        models = [
            f"{r.name}:{r.version}"
            for r in self._workspace.services.registry.models()
            if any(d.startswith(prefix) or d == self._record.id for _purpose, d in r.datasets)
        ]
        return {"runs": runs, "models": sorted(set(models), key=_model_order)}

    def as_named_input(self, name: str) -> DatasetConsumptionConfig:
        """This dataset as the job input ``name`` (``Run.get_context().input_datasets[name]``)."""
        from .consumption import DatasetConsumptionConfig

        return DatasetConsumptionConfig(_input_name(name), self, "direct" if self.kind == "tabular" else "download")

    # -- staging for jobs -------------------------------------------------------------------------------
    def _stage(self, folder: Path, *, validate: bool = True) -> dict[str, Any]:
        """Copy this version's files into ``folder`` (each checked as it is copied) and answer what
        :meth:`_from_staged` needs to rebuild the dataset there, with no workspace."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        where, rels = self._files(validate=False)
        _check_target_folder(folder, rels)
        entries = {e.path: e for e in self._manifest.entries} if self._manifest is not None and validate else {}
        copied: builtins.list[FileEntry] = []
        for rel in rels:
            with where.open(rel) as src:
                found = _copy_checked(src, folder.joinpath(*PurePosixPath(rel).parts), entries.get(rel), self.source)
            copied.append(FileEntry(rel, found.size, found.sha256))
        manifest = self._manifest if self._manifest is not None else DataManifest(tuple(copied))
        return {
            "format": STAGED_FORMAT,
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "id": self.id,
            "digest": manifest.digest,
            "spec": self._spec,
            "source": self.source,
            "manifest": manifest.to_dict(),
        }

    @staticmethod
    def _from_staged(folder: str | os.PathLike[str], data: Mapping[str, Any]) -> Dataset:
        """The dataset :meth:`_stage` copied into ``folder``."""
        if data.get("format") != STAGED_FORMAT:
            raise InvalidArgumentError(f"not a staged dataset description (format {data.get('format')!r})")
        cls: type[Dataset] = TabularDataset if data["kind"] == "tabular" else FileDataset
        manifest = DataManifest.from_dict(data["manifest"])
        ds = cls._new(None, {}, data.get("spec"), manifest=manifest, staged=str(Path(folder).absolute()))
        ds._staged_info = {k: data.get(k) for k in ("name", "version", "id", "source")}
        ds._staged_of = dict(ds._staged_info)
        return ds


def _changed_since(expected: DataManifest, found: DataManifest, where: str) -> DatasetChangedError:
    """The error for a version whose files, fingerprinted again, are not its manifest's."""
    now = {e.path: e.sha256 for e in found.entries}
    changed = [(e.path, e.sha256, now.get(e.path)) for e in expected.entries if now.get(e.path) != e.sha256]
    path, sha, got = changed[0] if changed else (expected.entries[0].path, expected.entries[0].sha256, None)
    others = f" ({len(changed) - 1} more file(s) differ too)" if len(changed) > 1 else ""
    what = (
        "is missing" if got is None else f"changed since the version was registered: expected sha256 {sha}, found {got}"
    )
    return DatasetChangedError(
        f"dataset file {path!r} in {where} {what}{others}. Registering this version again would store other "
        "bytes than it holds: register the data itself (Dataset.File.from_files / Dataset.Tabular.from_*) for a "
        "new version",
        path=path,
        expected=sha,
        found=got,
    )


def _check_target_folder(target: Path, rels: Sequence[str]) -> None:
    """Clear errors, before anything is copied, for a target that cannot hold the files: a file where
    the folder (or one of its subfolders) goes, or two files of which one would be the other's folder
    (an object store can hold keys 'a' and 'a/b'; a folder cannot)."""
    if target.exists() and not target.is_dir():
        raise InvalidArgumentError(
            f"{target} is a file, not a folder: choose a folder to copy the dataset's files into"
        )
    files = set(rels)
    for rel in rels:
        parts = PurePosixPath(rel).parts
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder in files:
                raise InvalidArgumentError(
                    f"the dataset holds both {folder!r} and {rel!r}: one local folder cannot hold a file and a "
                    f"folder of the same name; download a subset (ds.skip / ds.take) or rename one on its store"
                )
            local = target.joinpath(*parts[:i])
            if local.exists() and not local.is_dir():
                raise AlreadyExistsError(
                    f"{local} is a file where the dataset's folder {folder!r} goes: move it, or choose another folder"
                )


def _model_order(ref: str) -> tuple[str, int]:
    name, _, version = ref.rpartition(":")
    return name, int(version) if version.isdigit() else 0


def _store(workspace: Workspace) -> DatasetStore:
    return workspace.metadata


def _version_number(version: int | str | None) -> int | None:
    if version is None or version == "latest":
        return None
    if isinstance(version, bool):
        raise InvalidArgumentError(f"version is an integer or 'latest', got {version!r}")
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isdigit():
        number = int(version.strip())
    else:
        raise InvalidArgumentError(f"version is a positive integer or 'latest', got {version!r}")
    if number < 1:
        raise InvalidArgumentError(f"version is a positive integer or 'latest', got {version!r}")
    return number


def _tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidArgumentError(f"tags is a dict of strings, got {type(tags).__name__}")
    out: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(f"tag names are non-empty strings, got {key!r}")
        out[key] = "" if value is None else str(value)
    return out


def _input_name(name: str) -> str:
    if not isinstance(name, str) or not _INPUT_NAME.match(name):
        raise InvalidArgumentError(
            f"an input name starts with a letter or '_' and holds only letters, digits and '_' (it becomes a key of "
            f"input_datasets and an environment variable), got {name!r}"
        )
    return name


# -- file datasets -----------------------------------------------------------------------------------------
class FileDataset(Dataset):
    """Files on a datastore, a local folder or a URL. ``download``, ``mount``, ``to_path``."""

    kind = "file"

    def to_path(self) -> builtins.list[str]:
        """The relative paths of the files, each starting with '/' (as in v1)."""
        _, rels = self._files(validate=False)
        return ["/" + rel for rel in rels]

    def preview(self, rows: int = 100, *, validate: bool = True) -> dict[str, Any]:
        """The first ``rows`` files as a table: path, size, sha256 (a registered version's manifest;
        an unregistered dataset's files as listed now, without digests)."""
        columns = [{"name": "path", "type": "string"}, {"name": "size", "type": "int64"}]
        columns.append({"name": "sha256", "type": "string"})
        self._ensure_definition()
        count = max(0, int(rows))
        if self._manifest is not None:
            entries = self._manifest.entries
            return {
                "columns": columns,
                "rows": [[e.path, e.size, e.sha256] for e in entries[:count]],
                "total_rows": len(entries),
            }
        where, rels = self._files(validate=False)
        sizes = [
            int(where.call(where.fs.size, where.join(r))) if where.fs else os.path.getsize(where.join(r))
            for r in rels[:count]
        ]
        return {
            "columns": columns,
            "rows": [[rel, size, None] for rel, size in zip(rels, sizes, strict=False)],
            "total_rows": len(rels),
        }

    def download(
        self,
        target_path: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        ignore_not_found: bool = False,
        *,
        validate: bool = True,
    ) -> builtins.list[str]:
        """Copy the files into ``target_path`` (default: a new temporary folder); returns their local
        paths. An existing file is an AlreadyExistsError naming it unless ``overwrite``."""
        target = Path(tempfile.mkdtemp(prefix="mlws-dataset-")) if target_path is None else Path(target_path)
        return self.download_files(target, overwrite=overwrite, validate=validate)

    def mount(self, mount_point: str | os.PathLike[str] | None = None, **kwargs: Any) -> MountContext:
        """A read-only local view of the files, as a context manager: ``with ds.mount() as path:``
        (``path.mount_point`` is the same folder, as v1's ``MountContext``). On one machine this is a
        write-protected copy, removed when the context ends."""
        return MountContext(self, mount_point)

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """This dataset as a read-only folder in the job (named after the dataset)."""
        return self.as_named_input(_default_input_name(self)).as_mount(path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """This dataset downloaded into the job (named after the dataset)."""
        return self.as_named_input(_default_input_name(self)).as_download(path_on_compute)

    def skip(self, count: int) -> FileDataset:
        """The files after the first ``count`` (by path)."""
        return self._subset(lambda rels: rels[_count(count, "skip") :])

    def take(self, count: int) -> FileDataset:
        """The first ``count`` files (by path)."""
        return self._subset(lambda rels: rels[: _count(count, "take")])

    def _subset(self, choose: Callable[[builtins.list[str]], builtins.list[str]]) -> FileDataset:
        where, rels = self._files(validate=False)
        chosen = choose(rels)
        if self._manifest is not None and (self._root is not None or self._staged is not None):
            keep = set(chosen)
            manifest = DataManifest(tuple(e for e in self._manifest.entries if e.path in keep))
            derived = FileDataset._new(
                self._workspace, self._source, None, root=self._root, manifest=manifest, staged=self._staged
            )
            derived._staged_of = self._staged_of
            return derived
        patterns = [where.join(rel) for rel in chosen]
        source = dict(self._source)
        if source.get("datastore") and where.datastore is not None:
            ds_root = where.datastore._root().rstrip("/")
            patterns = [p[len(ds_root) :].lstrip("/") if p.startswith(ds_root) else p for p in patterns]
        source["patterns"] = patterns
        return FileDataset._new(self._workspace, source, None)


def _default_input_name(ds: Dataset) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", ds.name or "input")
    return base if _INPUT_NAME.match(base) else f"input_{base}"[:255]


def _count(count: int, what: str) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidArgumentError(f"{what}(count): count is a whole number >= 0, got {count!r}")
    return count


class MountPath(str):
    """The mounted folder's path; ``.mount_point`` is the same (v1's ``MountContext`` spelling)."""

    @property
    def mount_point(self) -> str:
        return str(self)


class MountContext:
    """v1's ``MountContext``: ``start()`` / ``stop()`` or a ``with`` block; ``mount_point`` is the
    folder. Here the files are copied (each checked) and write-protected; ``stop`` removes them."""

    def __init__(self, dataset: FileDataset, mount_point: str | os.PathLike[str] | None = None) -> None:
        self._dataset = dataset
        self._requested = None if mount_point is None else Path(mount_point).absolute()
        self._folder: Path | None = None
        self._made = False

    @property
    def mount_point(self) -> str | None:
        return str(self._folder) if self._folder is not None else (str(self._requested) if self._requested else None)

    def start(self) -> None:
        if self._folder is not None:
            return
        if self._requested is None:
            folder = Path(tempfile.mkdtemp(prefix="mlws-mount-"))
            self._made = True
        else:
            folder = self._requested
            if folder.exists() and not folder.is_dir():
                raise InvalidArgumentError(f"mount point {folder} is a file: choose an empty or new folder")
            if folder.exists() and any(folder.iterdir()):
                raise InvalidArgumentError(f"mount point {folder} is not empty: choose an empty or new folder")
            self._made = not folder.exists()
            folder.mkdir(parents=True, exist_ok=True)
        try:
            self._dataset.download_files(folder)
        except BaseException:
            _remove_tree(folder, self._made)
            raise
        _write_protect(folder)
        self._folder = folder

    def stop(self) -> None:
        if self._folder is None:
            return
        _remove_tree(self._folder, self._made)
        self._folder = None

    def __enter__(self) -> MountPath:
        self.start()
        assert self._folder is not None
        return MountPath(self._folder)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _write_protect(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        mode = stat.S_IMODE(path.lstat().st_mode)
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    folder.chmod(stat.S_IMODE(folder.stat().st_mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _remove_tree(folder: Path, whole: bool) -> None:
    if not folder.exists():
        return
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
    if whole:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


# -- tabular datasets --------------------------------------------------------------------------------------
class TabularDataset(Dataset):
    """A table read from delimited, Parquet or JSON Lines files (pyarrow underneath)."""

    kind = "tabular"

    @property
    def spec(self) -> dict[str, Any]:
        self._ensure_definition()
        assert self._spec is not None
        return dict(self._spec)

    def _table_files(self, validate: bool) -> builtins.list[tabular.TableFile]:
        where, rels = self._files(validate)
        return [tabular.TableFile(rel, where.join(rel), where.fs) for rel in rels]

    def _read(self, validate: bool = True) -> pa.Table:
        pinned = self._pinned_where()
        checked = validate and pinned is not None and self._staged is None and self._manifest is not None
        remote = pinned.fs if checked and pinned is not None else None
        before = pinned.call(_object_versions, remote, pinned, self._manifest) if remote and pinned else None
        files = self._table_files(validate)
        where = pinned or _resolve(self._workspace, self._source)[1]
        table = where.call(tabular.read_table, files, self.spec)
        # The check ran before the read: a write in between would be returned as this version's data.
        if checked and pinned is not None:
            if remote is None:
                # Checked again after the read (a stat walk through the stat cache for files the first check
                # proved), so a file changed at any time up to the end of the read is reported, never returned.
                self._verify(pinned, True)
            elif pinned.call(_object_versions, remote, pinned, self._manifest) != before:
                self._verify(pinned, True)  # an object was written meanwhile: its bytes decide
        return table

    def to_arrow(self, *, validate: bool = True) -> pa.Table:
        """The table as a ``pyarrow.Table``."""
        return self._read(validate)

    def to_pandas_dataframe(
        self, on_error: str = "null", out_of_range_datetime: str = "null", *, validate: bool = True
    ) -> pd.DataFrame:
        """The table as a pandas DataFrame (column types kept). A registered version first checks that
        its files still hold the registered bytes (``validate=False`` skips that)."""
        if on_error not in ("null", "fail") or out_of_range_datetime not in ("null", "fail"):
            raise InvalidArgumentError("on_error and out_of_range_datetime are 'null' or 'fail'")
        return self._read(validate).to_pandas()

    def preview(self, rows: int = 100, *, validate: bool = True) -> dict[str, Any]:
        """The first ``rows`` rows as JSON values, with the column types (reads only as much of the
        files as those rows need, where the dataset's steps allow)."""
        files = self._table_files(validate)
        where = self._pinned_where() or _resolve(self._workspace, self._source)[1]
        table = where.call(tabular.read_head, files, self.spec, max(0, int(rows)))
        return {
            "columns": tabular.schema_of(table),
            "rows": tabular.jsonable_rows(table),
            "total_rows": self.rows if self.rows is not None else None,
        }

    _known_profile: tuple[int, builtins.list[dict[str, str]]] | None = None

    def _profile(self, workspace: Workspace, found: Any) -> tuple[int | None, builtins.list[dict[str, str]] | None]:
        """Rows and schema of what is being registered (reads the fingerprinted files, unless this
        dataset was just written from a table whose rows and schema are known)."""
        if self._known_profile is not None:
            return self._known_profile
        ref = _where_of_root(workspace, self._fingerprint_root or {"datastore": None, "path": found.root})
        files = [tabular.TableFile(e.path, ref.join(e.path), ref.fs) for e in found.manifest.entries]
        table = ref.call(tabular.read_table, files, self.spec)
        return table.num_rows, tabular.schema_of(table)

    def _derive(self, op: str, **args: Any) -> TabularDataset:
        return self._derived(tabular.with_step(self.spec, op, **args))

    def _derived(self, spec: Mapping[str, Any]) -> TabularDataset:
        """A new (unregistered) dataset of the same files read with ``spec``."""
        self._ensure_definition()
        derived = TabularDataset._new(
            self._workspace,
            self._source,
            spec,
            root=self._root,
            # A version's (or a job's staged copy's) files are its manifest's: the derived one reads those.
            manifest=self._manifest if self._root is not None or self._staged is not None else None,
            staged=self._staged,
        )
        derived._staged_info = {"source": self._staged_info["source"]} if self._staged_info.get("source") else {}
        derived._staged_of = self._staged_of
        return derived

    def take(self, count: int) -> TabularDataset:
        return self._derive("take", count=_count(count, "take"))

    def skip(self, count: int) -> TabularDataset:
        return self._derive("skip", count=_count(count, "skip"))

    def take_sample(self, probability: float, seed: int | None = None) -> TabularDataset:
        share = _share(probability, "take_sample(probability)")
        return self._derive("take_sample", probability=share, seed=_seed(seed))

    def random_split(self, percentage: float, seed: int | None = None) -> tuple[TabularDataset, TabularDataset]:
        """Two datasets: about ``percentage`` of the rows, and the rest (disjoint, together all rows)."""
        share = _share(percentage, "random_split(percentage)")
        chosen = _seed(seed)
        return (
            self._derive("random_split", fraction=share, seed=chosen, part=0),
            self._derive("random_split", fraction=share, seed=chosen, part=1),
        )

    def keep_columns(self, columns: str | Sequence[str], validate: bool = False) -> TabularDataset:
        """Only these columns (a timestamp column left out is no longer the timestamp, as in v1)."""
        names = _columns(columns, "keep_columns")
        spec = timeseries.after_column_step(self.spec, kept=names, dropped=None)
        derived = self._derived(tabular.with_step(spec, "keep_columns", columns=names))
        if validate:
            derived.take(1).to_arrow()
        return derived

    def drop_columns(self, columns: str | Sequence[str]) -> TabularDataset:
        """Without these columns (a dropped timestamp column is no longer the timestamp, as in v1)."""
        names = _columns(columns, "drop_columns")
        spec = timeseries.after_column_step(self.spec, kept=None, dropped=names)
        return self._derived(tabular.with_step(spec, "drop_columns", columns=names))

    # -- time series (v1's names) -----------------------------------------------------------------------
    @property
    def timestamp_columns(self) -> tuple[str | None, str | None]:
        """``(timestamp, partition_timestamp)``: the columns set by :meth:`with_timestamp_columns`."""
        return timeseries.timestamp_columns(self.spec)

    def with_timestamp_columns(
        self, timestamp: str | None = None, partition_timestamp: str | None = None, validate: bool = False
    ) -> TabularDataset:
        """A new dataset whose rows are timed by column ``timestamp`` (and ``partition_timestamp``, the
        coarse time of a row's partition, never after the row's own), for the ``time_*`` filters.
        ``None`` clears them. The columns are part of the dataset's reading spec: they are registered
        with it (a registered version with other columns is other content) and come back with
        ``get_by_name``. ``validate=True`` reads the first rows to check that the columns exist and hold
        times (timestamps, dates, ISO 8601 text or epoch seconds)."""
        timestamp, partition = timeseries.names_checked(timestamp, partition_timestamp)
        derived = self._derived(timeseries.with_timestamp_columns(self.spec, timestamp, partition))
        if _flag(validate, "with_timestamp_columns(validate)") and timestamp is not None:
            derived._check_time_columns([timestamp, *([partition] if partition else [])], "with_timestamp_columns")
        return derived

    def time_before(
        self, end_time: datetime.datetime, include_boundary: bool = True, validate: bool = True
    ) -> TabularDataset:
        """The rows timed at or before ``end_time`` (before it without ``include_boundary``)."""
        return self._time_filter("time_before", None, ("end_time", end_time), include_boundary, None, validate)

    def time_after(
        self, start_time: datetime.datetime, include_boundary: bool = True, validate: bool = True
    ) -> TabularDataset:
        """The rows timed at or after ``start_time`` (after it without ``include_boundary``)."""
        return self._time_filter("time_after", ("start_time", start_time), None, include_boundary, None, validate)

    def time_between(
        self,
        start_time: datetime.datetime,
        end_time: datetime.datetime,
        include_boundary: bool = True,
        validate: bool = True,
        *,
        include_end: bool | None = None,
    ) -> TabularDataset:
        """The rows timed from ``start_time`` to ``end_time``, both included (neither without
        ``include_boundary``). Naive datetimes are UTC. ``include_end`` (not in v1) decides the end
        alone: ``include_end=False`` is the half-open ``[start_time, end_time)`` of adjoining intervals,
        which share no row."""
        return self._time_filter(
            "time_between", ("start_time", start_time), ("end_time", end_time), include_boundary, include_end, validate
        )

    def time_recent(
        self, time_delta: datetime.timedelta, include_boundary: bool = True, validate: bool = True
    ) -> TabularDataset:
        """The rows timed within ``time_delta`` before now (UTC): as v1, ``time_after(now - time_delta)``
        with now taken at this call (a registered filtered dataset keeps that start)."""
        if not isinstance(time_delta, datetime.timedelta):
            raise InvalidArgumentError(
                f"time_recent(time_delta) is a datetime.timedelta, got {type(time_delta).__name__} {time_delta!r}; "
                "e.g. timedelta(days=7)"
            )
        if time_delta < datetime.timedelta(0):
            raise InvalidArgumentError(
                f"time_recent(time_delta) is a duration back from now, got the negative {time_delta!r}"
            )
        start = datetime.datetime.now(datetime.UTC) - time_delta
        return self._time_filter("time_recent", ("time_delta", start), None, include_boundary, None, validate)

    def _time_filter(
        self,
        method: str,
        start: tuple[str, object] | None,
        end: tuple[str, object] | None,
        include_boundary: bool,
        include_end: bool | None,
        validate: bool,
    ) -> TabularDataset:
        timestamp, partition = self.timestamp_columns
        if timestamp is None:
            raise InvalidArgumentError(
                f"{method}(): the dataset has no timestamp column; set it first with "
                "ds.with_timestamp_columns(timestamp='<column>')"
            )
        lower = timeseries.utc_instant(start[1], f"{method}({start[0]})") if start else None
        upper = timeseries.utc_instant(end[1], f"{method}({end[0]})") if end else None
        if lower is not None and upper is not None and lower > upper:
            raise InvalidArgumentError(
                f"{method}(): start_time {timeseries.iso(lower)} is after end_time {timeseries.iso(upper)} (UTC); "
                "swap them"
            )
        inclusive = _flag(include_boundary, f"{method}(include_boundary)")
        end_inclusive = inclusive if include_end is None else _flag(include_end, f"{method}(include_end)")
        if _flag(validate, f"{method}(validate)"):
            self._check_time_columns([timestamp, *([partition] if partition else [])], f"{method}()")
        return self._derive(
            "time_filter",
            column=timestamp,
            partition_column=partition,
            start=timeseries.iso(lower) if lower is not None else None,
            end=timeseries.iso(upper) if upper is not None else None,
            include_start=inclusive,
            include_end=end_inclusive,
        )

    def _check_time_columns(self, names: builtins.list[str], what: str) -> None:
        """The columns exist and hold times, by the first rows (read with the column steps only: the row
        steps change no column, and skipping them keeps this to the start of the first file)."""
        spec = self.spec
        spec["steps"] = [s for s in spec.get("steps", []) if s["op"] in ("keep_columns", "drop_columns")]
        files = self._table_files(validate=False)  # only the columns are looked at; a read checks the bytes
        where = self._pinned_where() or _resolve(self._workspace, self._source)[1]
        head = where.call(tabular.read_head, files, spec, 100)
        timeseries.check_columns(head, names, what)

    def to_parquet_files(self) -> TabularDataset:
        """The table written as one Parquet file on the workspace's default datastore, as a new
        (unregistered) tabular dataset of that file."""
        if self._workspace is None:
            raise InvalidStateError(
                "to_parquet_files(): the dataset knows no workspace to write to; register it first, or make it from "
                "a datastore path"
            )
        table = self._read(True)
        datastore = Datastore.get_default(self._workspace)
        rel = _write_parquet(table, datastore, "converted", "part-00000.parquet")
        return Dataset.Tabular.from_parquet_files(datastore.path(rel))

    def to_csv_files(self, separator: str = ",") -> TabularDataset:
        """The table written as one delimited file on the workspace's default datastore, as a new
        (unregistered) tabular dataset of that file."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        tabular.new_spec("delimited", separator=separator)  # checks the separator
        if self._workspace is None:
            raise InvalidStateError(
                "to_csv_files(): the dataset knows no workspace to write to; register it first, or make it from a "
                "datastore path"
            )
        sink = pa.BufferOutputStream()
        pacsv.write_csv(self._read(True), sink, write_options=pacsv.WriteOptions(delimiter=separator))
        datastore = Datastore.get_default(self._workspace)
        rel = _put_bytes(sink.getvalue().to_pybytes(), datastore, "converted", "part-00000.csv")
        return Dataset.Tabular.from_delimited_files(datastore.path(rel), separator=separator)

    def get_profile(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.schema}


def _object_versions(fs: AbstractFileSystem, where: _Where, manifest: DataManifest | None) -> builtins.list[Any]:
    """What an object store says of each file's version (size, ETag, modification time), to see
    whether any was written between the check of a version and the end of a read (one HEAD each)."""
    out: builtins.list[Any] = []
    for entry in manifest.entries if manifest is not None else ():
        try:
            info = fs.info(where.join(entry.path))
        except FileNotFoundError:
            out.append(None)
            continue
        out.append(
            [str(info.get(k)) for k in ("size", "ETag", "etag", "LastModified", "last_modified", "mtime", "created")]
        )
    return out


def _flag(value: bool, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} is True or False, got {type(value).__name__} {value!r}")
    return value


def _share(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise InvalidArgumentError(f"{what} is a number between 0 and 1, got {value!r}")
    return float(value)


def _seed(seed: int | None) -> int:
    if seed is None:
        return int.from_bytes(os.urandom(4), "big")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgumentError(f"seed is a whole number >= 0, got {seed!r}")
    return seed


def _columns(columns: str | Sequence[str], what: str) -> builtins.list[str]:
    names = [columns] if isinstance(columns, str) else list(columns)
    if not names or not all(isinstance(c, str) and c for c in names):
        raise InvalidArgumentError(f"{what}: columns is a column name or a list of them, got {columns!r}")
    return names


def _write_parquet(table: pa.Table, datastore: Datastore, folder: str, leaf: str) -> str:
    """Write ``table`` as Parquet under ``folder/<content hash>/leaf`` on ``datastore`` (the same table
    lands at the same path, so registering it again finds the same version); answers the path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return _put_bytes(sink.getvalue().to_pybytes(), datastore, folder, leaf)


def _put_bytes(data: bytes, datastore: Datastore, folder: str, leaf: str) -> str:
    """Store ``data`` as ``folder/<content hash>/leaf`` on ``datastore``; answers the path."""
    folder = "/".join(filter(None, [folder.strip("/"), hashlib.sha256(data).hexdigest()[:16]]))
    with tempfile.TemporaryDirectory(prefix="mlws-table-") as tmp:
        local = Path(tmp) / leaf
        local.write_bytes(data)
        datastore.upload_files([local], relative_root=tmp, target_path=folder, show_progress=False)
    return f"{folder}/{leaf}"


# -- factories (v1's Dataset.File / Dataset.Tabular) --------------------------------------------------------
def _workspace_of(source: Mapping[str, Any]) -> Workspace | None:
    obj = source.get("_datastore_obj")
    return obj.workspace if obj is not None else None


_D = TypeVar("_D", bound="Dataset")


def _checked(cls: type[_D], path: object, spec: dict[str, Any] | None, validate: bool) -> _D:
    source = _source_of(path)
    ds = cls._new(_workspace_of(source), source, spec)
    if validate:
        ds._files(validate=False)  # the paths exist and match files now (a clear error otherwise)
    return ds


class FileDatasetFactory:
    """``Dataset.File``: file datasets."""

    @staticmethod
    def from_files(
        path: Any, validate: bool = True, partition_format: str | None = None, is_file: bool = False
    ) -> FileDataset:
        """Files named by ``path``: a ``(datastore, 'glob')`` tuple, ``datastore.path(...)``, a list of
        them, a local path or glob, or a URL."""
        _no_partition_format(partition_format)
        return _checked(FileDataset, path, None, validate)

    @staticmethod
    def upload_directory(
        src_dir: str | os.PathLike[str],
        target: DataPath | tuple[Datastore, str],
        pattern: str | None = None,
        overwrite: bool = False,
        show_progress: bool = True,
    ) -> FileDataset:
        """Upload ``src_dir`` to ``target`` and answer a file dataset of what landed there."""
        ref = resolve_data_path(target)
        ref.datastore.upload(src_dir, target_path=ref.path, overwrite=overwrite, show_progress=show_progress)
        return FileDatasetFactory.from_files(ref.datastore.path(f"{ref.path}/{pattern}" if pattern else ref.path))


class TabularDatasetFactory:
    """``Dataset.Tabular``: tabular datasets."""

    @staticmethod
    def from_delimited_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        infer_column_types: bool = True,
        set_column_types: Mapping[str, tabular.DataType] | None = None,
        separator: str = ",",
        header: bool | str = True,
        partition_format: str | None = None,
        support_multi_line: bool = False,
        empty_as_string: bool = False,
        encoding: str = "utf8",
    ) -> TabularDataset:
        """A table from delimited (CSV) files. ``set_column_types`` maps columns to ``DataType``s."""
        _no_partition_format(partition_format)
        spec = tabular.new_spec(
            "delimited",
            separator=separator,
            header=_header(header) is not False,
            header_from_first_file=_header(header) == "first_file",
            encoding=encoding,
            infer_column_types=infer_column_types,
            include_path=include_path,
            set_column_types=set_column_types,
            empty_as_string=empty_as_string,
        )
        return _checked_tabular(path, spec, validate)

    @staticmethod
    def from_parquet_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        set_column_types: Mapping[str, tabular.DataType] | None = None,
        partition_format: str | None = None,
    ) -> TabularDataset:
        """A table from Parquet files."""
        _no_partition_format(partition_format)
        spec = tabular.new_spec("parquet", include_path=include_path, set_column_types=set_column_types)
        return _checked_tabular(path, spec, validate)

    @staticmethod
    def from_json_lines_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        set_column_types: Mapping[str, tabular.DataType] | None = None,
        partition_format: str | None = None,
        invalid_lines: str = "error",
        encoding: str = "utf8",
    ) -> TabularDataset:
        """A table from JSON Lines files (one JSON object per line)."""
        _no_partition_format(partition_format)
        if invalid_lines != "error":
            raise InvalidArgumentError("invalid_lines='error' is the only choice here: fix or remove the bad lines")
        spec = tabular.new_spec(
            "json_lines", include_path=include_path, set_column_types=set_column_types, encoding=encoding
        )
        return _checked_tabular(path, spec, validate)

    @staticmethod
    def register_pandas_dataframe(
        dataframe: pd.DataFrame,
        target: DataPath | tuple[Datastore, str] | Datastore,
        name: str,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        show_progress: bool = True,
    ) -> TabularDataset:
        """Write ``dataframe`` as Parquet to ``target`` (a datastore path) and register it as ``name``
        (the same frame again keeps its version)."""
        import pandas as pd
        import pyarrow as pa

        if not isinstance(dataframe, pd.DataFrame):
            raise InvalidArgumentError(f"dataframe is a pandas DataFrame, got {type(dataframe).__name__}")
        ref = target.path("") if isinstance(target, Datastore) else resolve_data_path(target)
        name = validate_entity_name("dataset", name)
        try:
            table = pa.Table.from_pandas(dataframe, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InvalidArgumentError(f"the DataFrame cannot be stored as a table: {exc}") from None
        rel = _write_parquet(table, ref.datastore, "/".join(filter(None, [ref.path, name])), "data.parquet")
        _progress_line(show_progress, f"Wrote {table.num_rows} rows to {ref.datastore.name}:{rel}")
        ds = TabularDatasetFactory.from_parquet_files(ref.datastore.path(rel), validate=False)  # just written
        ds._known_profile = (table.num_rows, tabular.schema_of(table))
        return ds.register(ref.datastore.workspace, name, description, tags, create_new_version=True)  # type: ignore[return-value]


def _no_partition_format(partition_format: str | None) -> None:
    if partition_format is not None:
        raise InvalidArgumentError(
            f"partition_format is not supported here (got {partition_format!r}): include the folder in the glob "
            "instead, and include_path=True to keep each row's file path"
        )


def _header(header: bool | str) -> bool | str:
    """True (every file has a header line), False (none has), or "first_file" (v1's
    ``PromoteHeadersBehavior.FROM_FIRST_FILE``: only the first file has one)."""
    if isinstance(header, bool):
        return header
    # v1's PromoteHeadersBehavior names: NO_HEADERS, FROM_FIRST_FILE, ALL_FILES_DIFFERENT_HEADERS,
    # ALL_FILES_SAME_HEADERS (the enum or its name).
    text = str(getattr(header, "name", header)).upper()
    if text in ("FROM_FIRST_FILE", "ONLY_FIRST_FILE_HAS_HEADERS"):  # the Python and the R SDK's names
        return "first_file"
    return text not in ("NO_HEADERS", "FALSE", "0")


def _checked_tabular(path: Any, spec: dict[str, Any], validate: bool) -> TabularDataset:
    ds = _checked(TabularDataset, path, spec, validate)
    if validate:  # the first rows parse and the types apply (a clear error now rather than at the first read)
        where, rels = ds._files(validate=False)
        first = [tabular.TableFile(rels[0], where.join(rels[0]), where.fs)]
        where.call(tabular.read_head, first, spec, 100)
    return ds


Dataset.File = FileDatasetFactory
Dataset.Tabular = TabularDatasetFactory
