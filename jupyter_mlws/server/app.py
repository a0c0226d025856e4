"""The Jupyter Server extension: configuration (traitlets) and route registration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Unicode

from .events import EventHub
from .handlers import handlers
from .state import ServerState
from .sweeper import JobSweeper

__all__ = ["MlwsApp"]


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
    jobs_sweep_interval = Float(10.0, config=True, help="Seconds between sweeps ending jobs whose supervisor died.")

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        root = Path(self.serverapp.root_dir).expanduser()
        state = ServerState(root, self.workspace_path, self.default_compute_target)
        hub = EventHub(lambda: state.workspace(), self.events_poll_interval)
        sweeper = JobSweeper(lambda: state.workspace(), self.jobs_sweep_interval, self.log)
        self.settings.update({"mlws_state": state, "mlws_events": hub, "mlws_sweeper": sweeper})
        state.start_warm_up()
        sweeper.start()

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def stop_extension(self) -> None:
        sweeper: JobSweeper | None = self.settings.get("mlws_sweeper")
        if sweeper is not None:
            sweeper.stop()
        hub: Any = self.settings.get("mlws_events")
        if hub is not None:
            await hub.close()
