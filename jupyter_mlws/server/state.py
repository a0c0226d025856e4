"""What the server extension keeps between requests: the workspace and the event hub."""

from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path

from ..core.workspace import CONFIG_DIR, CONFIG_FILE, Workspace
from ..errors import NotFoundError

__all__ = ["ServerState"]

# Imported by the first request otherwise: SQLAlchemy and the SQL store take about half a second,
# which the sidebar's first rows would wait for when JupyterLab opens.
WARM_IMPORTS = ("jupyter_mlws.stores.metadata.sql",)
WARM_UP_WAIT_S = 60.0


class ServerState:
    """Resolves the workspace once: the configured path, else the nearest ``.mlws/`` above the
    server's root, else ``<root>/.mlws`` created on the first write (``jupyter lab`` needs no set-up)."""

    def __init__(self, root_dir: Path, workspace_path: str, default_compute_target: str) -> None:
        self.root_dir = root_dir.resolve()
        self.workspace_path = workspace_path
        self.default_compute_target = default_compute_target
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()
        self._warm = threading.Event()
        self._warm.set()

    def start_warm_up(self) -> None:
        """Import the stores in the background while the server starts. Requests wait for it
        rather than import alongside it: two threads importing overlapping module trees in
        different orders can deadlock on Python's module locks."""
        self._warm.clear()
        threading.Thread(target=self._warm_up, name="mlws-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            for module in WARM_IMPORTS:
                importlib.import_module(module)
        except Exception:  # the first request imports it again and reports the error properly
            logging.getLogger(__name__).warning("jupyter_mlws: could not preload the stores", exc_info=True)
        finally:
            self._warm.set()

    def _locate(self) -> Path:
        if self.workspace_path:
            path = Path(self.workspace_path).expanduser()
            return (path if path.is_absolute() else self.root_dir / path).resolve()
        for folder in (self.root_dir, *self.root_dir.parents):
            if (folder / CONFIG_DIR / CONFIG_FILE).is_file():
                return folder
        return self.root_dir

    def workspace(self, create: bool = False) -> Workspace | None:
        """The workspace, or None when there is none yet and ``create`` is False."""
        if self._workspace is not None:
            return self._workspace
        self._warm.wait(WARM_UP_WAIT_S)
        with self._lock:
            if self._workspace is None:
                root = self._locate()
                try:
                    self._workspace = Workspace(root)
                except NotFoundError:
                    if not create:
                        return None
                    self._workspace = Workspace.create(root)
        return self._workspace

    def require(self) -> Workspace:
        ws = self.workspace(create=True)
        assert ws is not None
        return ws
