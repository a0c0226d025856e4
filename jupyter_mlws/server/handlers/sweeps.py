"""Hyperparameter sweeps (issue 18): the sweep page's data for a run of type ``hyperdrive`` — its
configuration, its trials (sampled values, best primary metric, why the policy stopped one) and the
early-termination decisions. Read-only: sweeps are submitted from Python (``exp.submit(hd_config)``).

The view is ``sweeps/views.py``'s ``sweep_view`` (one call); this module only turns its epoch times
into the API's ISO 8601 UTC strings. An unknown run is a 404, a run that is not a sweep a 400 naming
its type (both raised by the core and translated by the handler base).
"""

from __future__ import annotations

from typing import Any

from ...core.values import iso_utc
from ...sweeps.views import sweep_view
from ..base import MlwsHandler

__all__ = ["SweepHandler", "sweep_json"]


def sweep_json(view: dict[str, Any]) -> dict[str, Any]:
    """``sweep_view``'s dict as the API shows it: times as ISO UTC strings (``Timestamp``)."""
    children = [
        {**child, "start_time": iso_utc(child["start_time"]), "end_time": iso_utc(child["end_time"])}
        for child in view["children"]
    ]
    decisions = [{**decision, "time": iso_utc(decision["time"])} for decision in view["decisions"]]
    return {**view, "children": children, "decisions": decisions}


class SweepHandler(MlwsHandler):
    async def get(self, run_id: str) -> None:
        ws = self.require_workspace()
        await self.reply(lambda: sweep_json(sweep_view(ws, run_id)))
