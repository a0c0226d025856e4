"""Data-drift monitors (issue 20): the sidebar's Monitors section, a detector's page, its Backfill
button, a check of one interval, and the drift panels of a drift run's page.

The views are ``monitoring/views.py``'s (``monitors_view``, ``monitor_view``, ``drift_run_view``, one
call each); the checks go through the public facade (``DataDriftDetector.get_by_name(...).backfill`` /
``.run``), which submits a run and returns at once: the answer is 202 with the run's id, and the run's
progress is read from ``runs/{run_id}/drift`` (or the events feed). This module only turns the views'
times into the API's ISO 8601 UTC strings ending in ``Z``. An unknown detector, or a run that is no
drift run, is a 404 raised by the core; a bad date in a body is a 400 naming the field
(``requests.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...core.values import iso_utc
from ...monitoring.detector import DataDriftDetector
from ...monitoring.views import drift_run_view, monitor_view, monitors_view
from ..base import MlwsHandler
from ..requests import BackfillMonitor, CheckMonitor

__all__ = [
    "DriftRunHandler",
    "MonitorBackfillHandler",
    "MonitorHandler",
    "MonitorRunHandler",
    "MonitorsHandler",
    "drift_run_json",
    "monitor_json",
]


def _time(value: Any) -> str | None:
    """A view's time (epoch seconds, or an ISO string with any UTC spelling) as ``...Z``."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:  # the views' times are UTC, whatever their spelling
            parsed = parsed.replace(tzinfo=dt.UTC)
        return iso_utc(parsed.timestamp())
    return iso_utc(float(value))


def _interval(interval: Mapping[str, Any]) -> dict[str, Any]:
    return {**interval, "start_date": _time(interval["start_date"]), "end_date": _time(interval["end_date"])}


def _summary(view: Mapping[str, Any]) -> dict[str, Any]:
    last = view.get("last")
    return {**view, "created_time": _time(view["created_time"]), "last": None if last is None else _interval(last)}


def monitor_json(view: Mapping[str, Any]) -> dict[str, Any]:
    """A ``MonitorSummary`` or ``MonitorDetail`` as the API shows it (times as ISO UTC strings)."""
    data = _summary(view)
    if "intervals" in view:
        data["intervals"] = [_interval(i) for i in view["intervals"]]
    if "runs" in view:
        data["runs"] = [{**run, "created_time": _time(run["created_time"])} for run in view["runs"]]
    return data


def drift_run_json(view: Mapping[str, Any]) -> dict[str, Any]:
    """A ``DriftRunView`` as the API shows it."""
    return {**view, "intervals": [_interval(i) for i in view["intervals"]]}


class MonitorsHandler(MlwsHandler):
    async def get(self) -> None:
        ws = self.workspace()
        if ws is None:
            return self.send({"monitors": []})
        await self.reply(lambda: {"monitors": [monitor_json(view) for view in monitors_view(ws)]})


class MonitorHandler(MlwsHandler):
    async def get(self, name: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: monitor_json(monitor_view(ws, name)))


class MonitorBackfillHandler(MlwsHandler):
    async def post(self, name: str) -> None:
        body = self.parse(BackfillMonitor)
        ws = self.require_workspace()

        def backfill() -> dict[str, str]:
            run = DataDriftDetector.get_by_name(ws, name).backfill(body.start, body.end)
            return {"run_id": run.id}

        await self.reply(backfill, status=202)


class MonitorRunHandler(MlwsHandler):
    async def post(self, name: str) -> None:
        body = self.parse(CheckMonitor)
        ws = self.require_workspace()

        def check() -> dict[str, str]:
            run = DataDriftDetector.get_by_name(ws, name).run(body.target)
            return {"run_id": run.id}

        await self.reply(check, status=202)


class DriftRunHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: drift_run_json(drift_run_view(ws, run_id)))
