"""The ``mlws.datadrift`` run driver (``core.registry.run_drivers``): the dispatcher agent forks it for
a queued check; it checks each interval of the check's spec in turn (one child run each, an interval
that cannot be judged failing alone) and ends the check."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..core.experiment import Experiment
from ..core.runs import Run
from ..core.status import TERMINAL_STATUSES, RunStatus
from .check import DatasetCache, check_interval
from .intervals import to_utc
from .results import experiment_name

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["DriftDriver"]


class DriftDriver:
    """Drives one check (``run``, ``backfill`` or a scheduled fire) to its end."""

    def drive(self, workspace: Workspace, run_id: str) -> None:
        queries = workspace.services.queries
        tracking = workspace.services.tracking
        spec = queries.job_spec(run_id)
        parent = Run(Experiment(workspace, experiment_name(spec["detector"])), run_id)
        cache = DatasetCache(workspace, spec["definition"])
        judged = failed = 0
        for start, end in spec["intervals"]:
            if queries.run(run_id).status == RunStatus.CANCEL_REQUESTED:
                tracking.try_transition(run_id, RunStatus.CANCEL_REQUESTED, RunStatus.CANCELED, end_time=time.time())
                return
            child = check_interval(
                cache, parent, spec["detector"], (to_utc(start, "start"), to_utc(end, "end")), spec["definition"]
            )
            if child.get_status() == "Completed":
                judged += 1
            else:
                failed += 1
        status = queries.run(run_id).status
        if status in TERMINAL_STATUSES:
            return
        if status == RunStatus.CANCEL_REQUESTED:
            tracking.try_transition(run_id, status, RunStatus.CANCELED, end_time=time.time())
        elif judged:
            tracking.try_transition(run_id, status, RunStatus.COMPLETED, end_time=time.time())
        else:
            error = {"message": f"no interval could be checked ({failed} failed; see each interval's run for why)"}
            tracking.try_transition(run_id, status, RunStatus.FAILED, end_time=time.time(), error=error)

    def abandon(self, workspace: Workspace, run_id: str, reason: str) -> None:
        """The check's driver died: the interval it was checking ends Failed with the reason."""
        tracking = workspace.services.tracking
        for record in workspace.services.queries.children(run_id):
            if record.status not in TERMINAL_STATUSES:
                tracking.try_transition(
                    record.run_id, record.status, RunStatus.FAILED, end_time=time.time(), error={"message": reason}
                )
