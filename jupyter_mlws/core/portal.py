"""Where a run's page is: the URL of the JupyterLab that serves the workspace (``run.get_portal_url()``).

Azure ML v1's ``get_portal_url()`` answers the run's page in the studio; here the studio is
JupyterLab, and its page for a run is ``<lab>/lab?mlws-run=<run id>`` (the labextension's route
opens the run page for it). The Lab is found, in this order:

1. ``MLWS_LAB_URL`` (e.g. ``http://localhost:8888/``, a base URL included; a query such as
   ``?token=...`` is dropped) when it is set;
2. a running Jupyter server of this user (its runtime file ``jpserver-<pid>.json``) that serves the
   workspace over http(s): its root is the workspace folder, or a folder inside it, or a folder that
   holds it (a runtime file that cannot be read is passed over);
3. the default ``http://localhost:8888/`` — an honest guess, never an error.

The server's token never goes into the URL: a browser that is not logged in is asked for it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["DEFAULT_LAB_URL", "ENV_LAB_URL", "RUN_QUERY", "lab_url", "run_page_url", "serving_lab_url"]

ENV_LAB_URL = "MLWS_LAB_URL"
DEFAULT_LAB_URL = "http://localhost:8888/"
RUN_QUERY = "mlws-run"  # the query parameter the labextension's route reads


def run_page_url(workspace_root: str | os.PathLike[str], run_id: str) -> str:
    """The URL that opens run ``run_id``'s page in the JupyterLab serving ``workspace_root``."""
    return f"{lab_url(workspace_root)}lab?{RUN_QUERY}={quote(run_id, safe='')}"


def lab_url(workspace_root: str | os.PathLike[str]) -> str:
    """The base URL (ending in ``/``) of the JupyterLab that serves the workspace (see module docs)."""
    found = serving_lab_url(workspace_root)
    return found if found is not None else DEFAULT_LAB_URL


def serving_lab_url(workspace_root: str | os.PathLike[str]) -> str | None:
    """Steps 1 and 2 of the module docs without the guess: ``MLWS_LAB_URL``, else a running Jupyter
    server of this user that serves the workspace, else None (a published pipeline's endpoint is then
    the bare route, issue 16)."""
    configured = os.environ.get(ENV_LAB_URL, "").strip()
    if configured:
        # A query or fragment (``?token=...`` copied from the server's log) is dropped: never a token.
        parts = urlsplit(configured)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    try:
        return _running_server(Path(workspace_root))
    except (OSError, ValueError):  # e.g. an unreadable runtime folder: as if no server were known
        return None


def _runtime_dir() -> Path | None:
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:  # jupyter_core comes with Jupyter; without it no server can be found
        return None
    return Path(jupyter_runtime_dir())


def _running_server(workspace: Path) -> str | None:
    runtime = _runtime_dir()
    if runtime is None or not runtime.is_dir():
        return None
    workspace = workspace.resolve()
    best: tuple[int, float, str] | None = None
    for path in runtime.glob("jpserver-*.json"):
        info = _read(path)
        if info is None or not _alive(info.get("pid")):
            continue
        url, root = info.get("url"), info.get("root_dir")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or not isinstance(root, str):
            continue  # a server on a Unix socket (``http+unix://``) is no page a browser opens
        try:
            rank = _rank(workspace, Path(root).expanduser().resolve())
            written = path.stat().st_mtime
        except (OSError, ValueError):  # a garbled root, or the file removed by its server meanwhile
            continue
        if rank is None:
            continue
        # The closest root wins; among equals, the newest server.
        candidate = (rank, -written, url if url.endswith("/") else url + "/")
        if best is None or candidate < best:
            best = candidate
    return None if best is None else best[2]


def _rank(workspace: Path, root: Path) -> int | None:
    if root == workspace:
        return 0
    if root.is_relative_to(workspace):  # the server finds the nearest .mlws above its root
        return 1
    if workspace.is_relative_to(root):  # the workspace is a folder the server shows
        return 2 + len(workspace.relative_to(root).parts)
    return None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a server writing or removing its file right now
        return None
    return info if isinstance(info, dict) else None


def _alive(pid: object) -> bool:
    """Whether process ``pid`` runs (a crashed server leaves its runtime file behind)."""
    from .services.liveness import process_alive

    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < 2**31:
        return False  # a garbled file: os.kill would refuse (or overflow on) such a pid
    try:
        return process_alive(pid)
    except OSError:
        return False
