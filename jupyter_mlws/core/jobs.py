"""Submitting jobs, where a running job's logs are, and the explicit health check of jobs.

``submit`` captures the snapshot, creates the run (Queued) and hands it to the compute target.
Supervising jobs (the reporter, work folders, finding dead supervisors) is the compute targets'
business (``jupyter_mlws.compute``), which core never imports: ``reconcile_jobs`` reaches it through
each target's :meth:`ComputeBackend.reconcile`. Reading a status never reconciles (DESIGN §1).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, MlwsError
from .compute import DEFAULT_TARGET, ComputeTarget
from .entities import RunRecord
from .job_inputs import discard_inputs, record_inputs
from .status import RunStatus

if TYPE_CHECKING:
    from .experiment import Experiment
    from .interfaces.compute import ComputeBackend
    from .runs import Run
    from .workspace import Workspace

__all__ = ["reconcile_jobs", "submit"]


def submit(experiment: Experiment, config: Any, tags: Mapping[str, Any] | None = None) -> Run:
    job_spec = getattr(config, "job_spec", None)
    if not callable(job_spec):
        raise InvalidArgumentError(
            f"submit() takes a ScriptRunConfig (or NotebookRunConfig), got {type(config).__name__}"
        )
    spec: dict[str, Any] = job_spec()
    ws = experiment.workspace
    try:
        run, backend = _create_run(experiment, config, spec, tags)
    except BaseException:
        discard_inputs(spec)  # what the inputs' types kept for a job that will never run
        raise
    if spec.get("inputs"):
        # The lineage (which dataset versions, which digests) is written before the job can start.
        try:
            record_inputs(ws, run.id, spec)
        except BaseException as exc:
            with contextlib.suppress(Exception):  # the first error is the one to report
                error = {"message": f"the run's inputs could not be recorded: {exc}"}
                if ws.services.tracking.try_transition(
                    run.id, RunStatus.QUEUED, RunStatus.FAILED, error=error, end_time=time.time()
                ):
                    discard_inputs(spec)
            raise
    if spec.get("params"):
        run.log_params(spec["params"])  # before the job starts: a job may log the same values itself
    backend.submit(run.id)
    return run


def _create_run(
    experiment: Experiment, config: Any, spec: dict[str, Any], tags: Mapping[str, Any] | None
) -> tuple[Run, ComputeBackend]:
    """Check the target, resolve the environment, capture the snapshot and create the Queued run."""
    from ..snapshots import git_properties
    from .runs import Run

    ws = experiment.workspace
    target = ComputeTarget(ws, spec["compute_target"])
    backend = target.backend()
    backend.check()
    if spec.get("environment"):
        from .environment import Environment

        env = Environment.resolve(ws, spec["environment"])
        spec["environment"] = {"name": env.name, "version": env.version, "definition": env.definition()}
    snapshot = ws.services.snapshots.capture(spec["source_directory"], getattr(config, "extra_files", None))
    properties = {
        **git_properties(spec["source_directory"]),
        "mlws.snapshot_id": snapshot.id,
        "mlws.compute_target": target.name,
    }
    run = Run.create(
        experiment,
        status=RunStatus.QUEUED,
        run_type=spec["kind"],
        tags=tags,
        properties=properties,
        compute_target=target.name,
        snapshot_id=snapshot.id,
        job_spec=spec,
    )
    return run, backend


def reconcile_jobs(workspace: Workspace, run_ids: Iterable[str] | None = None) -> list[str]:
    """Check the health of the workspace's active jobs (all, or those of ``run_ids``) through their
    compute targets: a job whose supervisor is gone ends Failed (Canceled if a cancel was asked for)
    with the reason, and queued jobs get a dispatcher. Returns the ids of the runs it ended.

    The agent does this all the time, the Jupyter server every few seconds and
    ``Run.wait_for_completion`` while it waits; a status read never does.
    """
    by_target: dict[str, list[RunRecord]] = {}
    for record in workspace.services.queries.active_jobs(None if run_ids is None else list(run_ids)):
        by_target.setdefault(record.compute_target or DEFAULT_TARGET, []).append(record)
    ended: list[str] = []
    for name, group in by_target.items():
        try:
            backend = ComputeTarget(workspace, name).backend()
        except MlwsError:  # a detached target, or its plug-in is gone: nothing here can check its jobs
            continue
        ended += backend.reconcile(group)
    return ended
