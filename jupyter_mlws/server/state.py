"""What the server extension keeps between requests: the workspace and the event hub."""

from __future__ import annotations

import threading
from pathlib import Path

from ..core.workspace import CONFIG_DIR, CONFIG_FILE, Workspace
from ..errors import NotFoundError

__all__ = ["ServerState"]


class ServerState:
    """Resolves the workspace once: the configured path, else the nearest ``.mlws/`` above the
    server's root, else ``<root>/.mlws`` created on the first write (``jupyter lab`` needs no set-up)."""

    def __init__(self, root_dir: Path, workspace_path: str, default_compute_target: str) -> None:
        self.root_dir = root_dir.resolve()
        self.workspace_path = workspace_path
        self.default_compute_target = default_compute_target
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()

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
