"""The dispatcher agent's ``serving`` task (``core.registry.agent_tasks``): about once a second it

- restarts the supervisor of a deployed service that died (killed, or the machine rebooted), with
  back-off; a service whose deployment failed, or that is being deleted, is left alone;
- mirrors each supervisor's state into the store (``webservice.state`` events reach the sidebar);
- publishes captured inputs: the workers' finished part files move into the default datastore under
  ``serving/<service>/inputs/`` and the tabular dataset ``<service>-inputs`` gets a new version that
  holds every captured row (at most every ``MLWS_CAPTURE_PUBLISH_SECONDS``, default 5).

It answers True while a service is deployed: the agent then stays up to watch it.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

from . import deploy as deployer
from .inputs import publish_capture
from .layout import ServiceFolder

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["agent_task"]

log = logging.getLogger(__name__)

RESTART_BACKOFF_MAX_S = 60.0
_restarts: dict[str, tuple[float, float]] = {}  # service folder -> (next attempt, back-off)
_published: dict[str, float] = {}  # service folder -> when its capture was last published


def _publish_interval() -> float:
    try:
        return max(0.0, float(os.environ.get("MLWS_CAPTURE_PUBLISH_SECONDS", "5")))
    except ValueError:
        return 5.0


def _watch(workspace: Workspace, folder: ServiceFolder) -> None:
    service = folder.service()
    if not service:
        return  # being deleted (or not yet deployed)
    state = folder.state()
    key = str(folder.root)
    if folder.supervisor_alive():
        _restarts.pop(key, None)
    elif state and state.get("state") != "Failed":
        # Killed, or stopped by a shutdown (SIGTERM: "Stopped"); a deleted service has no service
        # file any more, and a failed deployment stays failed until it is deployed again.
        now = time.monotonic()
        due, backoff = _restarts.get(key, (0.0, 1.0))
        if now >= due:
            _restarts[key] = (now + backoff, min(backoff * 2, RESTART_BACKOFF_MAX_S))  # even if this fails
            log.warning("restarting the supervisor of web service %s", folder.name)
            deployer.start_supervisor(workspace, folder)
    value = state.get("state")
    if isinstance(value, str):
        workspace.metadata.set_webservice_state(folder.name, value, state.get("error"))


def agent_task(workspace: Workspace) -> bool:
    records = workspace.metadata.list_webservices()
    interval = _publish_interval()
    for record in records:
        folder = deployer.service_folder(workspace, record.name)
        try:
            _watch(workspace, folder)
            if record.config.get("enable_data_collection"):
                key = str(folder.root)
                now = time.monotonic()
                if now - _published.get(key, 0.0) >= interval:
                    _published[key] = now
                    publish_capture(workspace, folder)
        except Exception as exc:  # one broken service must not keep the others unwatched
            log.warning("web service %s: %s: %s", record.name, type(exc).__name__, exc)
    return bool(records)
