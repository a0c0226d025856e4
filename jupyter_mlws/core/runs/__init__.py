"""Runs: the ``Run`` facade split by concern, the page of a search, and the offline run."""

from __future__ import annotations

from ..layout import DRIVER_LOG, ENV_RUN_ID
from ..services.tracking import new_run_id
from .base import context_run
from .offline import OfflineRun
from .run import Run, RunPage, search_runs

__all__ = [
    "DRIVER_LOG",
    "ENV_RUN_ID",
    "OfflineRun",
    "Run",
    "RunPage",
    "context_run",
    "new_run_id",
    "search_runs",
]
