"""The Jupyter Server extension: configuration (traitlets) and route registration."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Unicode

from .events import EventHub
from .handlers import handlers
from .state import ServerState

__all__ = ["MlwsApp"]

# Imported on the first request otherwise: SQLAlchemy and the SQL store take about half a second,
# which the sidebar's first rows would wait for when JupyterLab opens.
WARM_IMPORTS = ("jupyter_mlws.stores.metadata.sql",)


def _warm_up() -> None:
    for module in WARM_IMPORTS:
        importlib.import_module(module)


class MlwsApp(ExtensionApp):
    """Serves the workspace's REST API and live events under /mlws/api/v1/."""

    name = "jupyter_mlws"
    load_other_extensions = True

    workspace_path = Unicode(
        "",
        config=True,
        help="The workspace folder (holding .mlws/). Default: the nearest .mlws/ above the server's root "
        "directory, else <root>/.mlws, created on the first write.",
    )
    default_compute_target = Unicode("local", config=True, help="Compute target for submissions that name none.")
    events_poll_interval = Float(0.25, config=True, help="Seconds between reads of the change feed for /events.")

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        root = Path(self.serverapp.root_dir).expanduser()
        state = ServerState(root, self.workspace_path, self.default_compute_target)
        hub = EventHub(lambda: state.workspace(), self.events_poll_interval)
        self.settings.update({"mlws_state": state, "mlws_events": hub})
        # Off the server's thread: start-up does not wait, and a request arriving meanwhile waits
        # only for the rest of the import (Python's per-module import locks).
        threading.Thread(target=_warm_up, name="mlws-warm-up", daemon=True).start()

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def stop_extension(self) -> None:
        hub: Any = self.settings.get("mlws_events")
        if hub is not None:
            await hub.close()
