"""How a process elsewhere finds a workspace (issue 19): a worker of a Dask cluster, a mini-batch task.

A *locator* is a small JSON-able dict — the workspace's folder, the host it is on and its
``config.json`` (which never holds a password) — that travels with a task. :func:`open_located`
opens the same workspace from it: the folder itself on the same host (the host identity of
:mod:`.services.liveness`: a container is another host) when it has the same settings, else (a
team workspace: PostgreSQL + an object store) a private folder in this user's cache holding the
same config, so a worker reports to the database and writes to the object store
directly. A workspace whose database is a SQLite file (or whose artifacts are a local folder) is
refused on a machine that does not have that folder: nothing ever opens a SQLite file it does not own.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, InvalidStateError, MlwsError
from .storage_options import is_local_url
from .workspace import CONFIG_DIR, CONFIG_FILE, ENV_WORKSPACE, Workspace, _make_private_dir, _write_atomic

__all__ = ["is_team_workspace", "job_store_modules", "open_located", "private_cache_dir", "workspace_locator"]


def workspace_locator(ws: Workspace) -> dict[str, Any]:
    """What a process on another machine needs to open ``ws`` (no password: a PostgreSQL password
    stays in that machine's environment or ``~/.pgpass``)."""
    from .services.liveness import HOSTNAME

    config: dict[str, Any] = {"name": ws.name, "metadata_url": ws.metadata_url, "artifact_url": ws.artifact_url}
    options = ws.artifact_options
    if options:
        config["artifact_options"] = options
    return {"root": str(ws.root), "host": HOSTNAME, "config": config}


def job_store_modules() -> list[str] | None:
    """In a job: the modules of its workspace's stores, named by the registry from the workspace's
    config (nothing opened, nothing imported); None outside a job (or its workspace cannot be read).
    A job that starts worker processes has them imported before the workspace opens."""
    from .registry import store_modules

    root = os.environ.get(ENV_WORKSPACE)
    if not root:
        return None
    try:
        ws = Workspace(root)  # the config only: the stores open on first use
        return store_modules(ws.metadata_url, ws.artifact_url)
    except MlwsError:
        return None


def is_team_workspace(ws: Workspace) -> bool:
    """Whether ``ws`` can be opened from another machine (its database and artifacts are servers)."""
    return _shared(ws.metadata_url, ws.artifact_url)


def _shared(metadata_url: str, artifact_url: str) -> bool:
    return not metadata_url.startswith("sqlite") and not is_local_url(artifact_url)


def open_located(locator: Any) -> Workspace:
    """The workspace ``locator`` (from :func:`workspace_locator`) names, opened in this process."""
    try:
        root = Path(locator["root"])
        config = dict(locator["config"])
        metadata_url, artifact_url = str(config["metadata_url"]), str(config["artifact_url"])
        host = str(locator.get("host") or "")
    except (KeyError, TypeError) as exc:
        raise InvalidArgumentError(f"not a workspace locator: {locator!r} ({exc})") from None
    from .services.liveness import HOSTNAME

    here = root / CONFIG_DIR / CONFIG_FILE
    if host == HOSTNAME and here.is_file():
        ws = Workspace(root)
        same_options = ws.artifact_options == (config.get("artifact_options") or {})
        if ws.metadata_url == metadata_url and ws.artifact_url == artifact_url and same_options:
            return ws
    if not _shared(metadata_url, artifact_url):
        raise InvalidStateError(
            f"the workspace {root} on {host or 'another machine'} keeps its runs in a SQLite file or its files "
            "in a local folder, which a process on another machine cannot share: run the cluster's workers "
            "on that machine (`mlws dask local`), or use a team workspace (Workspace.create(path, "
            "metadata_url='postgresql+psycopg://…', artifact_url='s3://…'); `mlws workspace migrate` copies one)"
        )
    digest = hashlib.sha256(f"{metadata_url}\n{artifact_url}".encode()).hexdigest()[:16]
    folder = private_cache_dir("workspaces") / digest
    path = folder / CONFIG_DIR / CONFIG_FILE
    text = json.dumps({"format": 1, **config}, indent=2, sort_keys=True) + "\n"
    try:
        current = path.read_text(encoding="utf-8")
    except OSError:
        current = None
    if current != text:
        _make_private_dir(folder / CONFIG_DIR)
        _write_atomic(path, text)
    return Workspace(folder)


def private_cache_dir(name: str) -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/jupyter-mlws/<name>``, made private (0700) and ours: what a
    worker keeps between tasks (a team workspace's config, a step's restored code) is never in a
    folder another local user could have made first."""
    value = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / ".cache"
    folder = base / "jupyter-mlws" / name
    _make_private_dir(folder)
    if folder.is_symlink() or folder.stat().st_uid != os.geteuid():
        raise InvalidStateError(f"{folder} is not a private folder of yours: remove it (or set XDG_CACHE_HOME)")
    return folder
