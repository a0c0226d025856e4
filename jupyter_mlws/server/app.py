"""The Jupyter Server extension: configuration (traitlets) and route registration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Unicode

from .events import EventHub
from .handlers import handlers
from .state import ServerState
from .sweeper import JobSweeper, ScheduleTicker

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
    schedules_tick_interval = Float(
        1.0,
        config=True,
        help="Seconds between looks at the workspace's pipeline schedules (0: this server fires none; the "
        "dispatcher agent still does).",
    )

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        root = Path(self.serverapp.root_dir).expanduser()
        state = ServerState(root, self.workspace_path, self.default_compute_target)
        hub = EventHub(lambda: state.workspace(), self.events_poll_interval)
        sweeper = JobSweeper(lambda: state.workspace(), self.jobs_sweep_interval, self.log)
        ticker = ScheduleTicker(lambda: state.workspace(), self.schedules_tick_interval, self.log)
        self.settings.update(
            {"mlws_state": state, "mlws_events": hub, "mlws_sweeper": sweeper, "mlws_schedules": ticker}
        )
        state.start_warm_up()
        sweeper.start()
        ticker.start()

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def stop_extension(self) -> None:
        for key in ("mlws_sweeper", "mlws_schedules"):
            sweeper: JobSweeper | None = self.settings.get(key)
            if sweeper is not None:
                sweeper.stop()
        hub: Any = self.settings.get("mlws_events")
        if hub is not None:
            await hub.close()
