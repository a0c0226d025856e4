"""Submitting jobs, where a running job's logs are, and the explicit health check of jobs.

``submit`` captures the snapshot, creates the run (Queued) and hands it to the compute target.
Supervising jobs (the reporter, work folders, finding dead supervisors) is the compute targets'
business (``jupyter_mlws.compute``), which core never imports: ``reconcile_jobs`` reaches it through
each target's :meth:`ComputeBackend.reconcile`. Reading a status never reconciles (DESIGN §1).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, MlwsError
from .compute import DEFAULT_TARGET, ComputeTarget
from .entities import SUBMITTED_FROM, RunRecord
from .job_inputs import discard_inputs, record_inputs
from .services.liveness import HOSTNAME
from .status import TERMINAL_STATUSES, RunStatus

if TYPE_CHECKING:
    from .experiment import Experiment
    from .interfaces.compute import ComputeBackend
    from .runs import Run
    from .workspace import Workspace

__all__ = [
    "create_job_run",
    "drive_until_ended",
    "end_driven_run",
    "queue_job",
    "reconcile_jobs",
    "submit",
    "target_backend",
]

DRIVE_TICK_S = 0.01  # how often a driver looks at the change feed
DRIVE_FULL_PASS_S = 0.5  # a pass at least this often, whatever the feed says
DRIVE_MAX_FAILED_PASSES = 5  # passes failing in a row before the driver gives up


def submit(
    experiment: Experiment, config: Any, tags: Mapping[str, Any] | None = None, parent: Run | None = None
) -> Run:
    job_spec = getattr(config, "job_spec", None)
    if not callable(job_spec):
        raise InvalidArgumentError(
            f"submit() takes a ScriptRunConfig (or NotebookRunConfig), got {type(config).__name__}"
        )
    spec: dict[str, Any] = job_spec()
    try:
        run, backend = create_job_run(
            experiment,
            spec,
            tags=tags,
            extra_files=getattr(config, "extra_files", None),
            parent=parent,
            display_name=getattr(config, "display_name", None),  # %%submit names its runs (issue 22)
        )
    except BaseException:
        discard_inputs(spec)  # what the inputs' types kept for a job that will never run
        raise
    queue_job(run, spec, backend)
    return run


def queue_job(run: Run, spec: Mapping[str, Any], backend: ComputeBackend) -> None:
    """Hand a created job run to its target: its inputs' lineage and its params are written first
    (before the job can start), a NotStarted run (a pipeline step) moves to Queued, then the target
    is told. A failure here fails the run with the reason and is raised."""
    ws = run.experiment.workspace
    status = run._record.status
    if spec.get("inputs"):
        # The lineage (which dataset versions, which digests) is written before the job can start.
        try:
            record_inputs(ws, run.id, spec)
        except BaseException as exc:
            with contextlib.suppress(Exception):  # the first error is the one to report
                error = {"message": f"the run's inputs could not be recorded: {exc}"}
                if ws.services.tracking.try_transition(
                    run.id, status, RunStatus.FAILED, error=error, end_time=time.time()
                ):
                    discard_inputs(spec)
            raise
    if spec.get("params"):
        run.log_params(spec["params"])  # before the job starts: a job may log the same values itself
    if status == RunStatus.NOT_STARTED and not ws.services.tracking.try_transition(
        run.id, RunStatus.NOT_STARTED, RunStatus.QUEUED
    ):
        discard_inputs(spec)  # canceled meanwhile (its pipeline stopped): it will never run
        return
    backend.submit(run.id)


def target_backend(workspace: Workspace, target: str) -> ComputeBackend:
    """The back end of the compute target ``target`` (to queue a run created earlier on it)."""
    return ComputeTarget(workspace, target).backend()


def create_job_run(
    experiment: Experiment,
    spec: dict[str, Any],
    *,
    tags: Mapping[str, Any] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
    parent: Run | None = None,
    status: RunStatus = RunStatus.QUEUED,
    run_id: str | None = None,
    display_name: str | None = None,
    properties: Mapping[str, Any] | None = None,
    snapshot_id: str | None = None,
    git: Mapping[str, str] | None = None,
) -> tuple[Run, ComputeBackend]:
    """Check the target, resolve the environment, capture the snapshot (unless ``snapshot_id`` names
    one already taken of ``spec["source_directory"]``, whose git state is ``git``) and create the
    job's run, Queued — or NotStarted for a pipeline step, which :func:`queue_job` queues once its
    inputs exist."""
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
    if snapshot_id is None:
        snapshot_id = ws.services.snapshots.capture(spec["source_directory"], extra_files).id
    all_properties = {
        **(git if git is not None and snapshot_id is not None else git_properties(spec["source_directory"])),
        "mlws.snapshot_id": snapshot_id,
        "mlws.compute_target": target.name,
        SUBMITTED_FROM: HOSTNAME,  # a team workspace's job of a machine's target runs on that machine
        **(properties or {}),
    }
    run = Run.create(
        experiment,
        status=status,
        run_type=spec["kind"],
        tags=tags,
        properties=all_properties,
        compute_target=target.name,
        snapshot_id=snapshot_id,
        job_spec=spec,
        parent=parent,
        run_id=run_id,
        display_name=display_name,
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


def drive_until_ended(
    workspace: Workspace, run_id: str, advance: Callable[[], bool], give_up: Callable[[BaseException], None]
) -> None:
    """The loop of a run driver (a pipeline run, a sweep): call ``advance`` (True once the run
    ended) whenever the workspace's change feed names the run or one of its children (one cheap
    query every ``DRIVE_TICK_S``) and every ``DRIVE_FULL_PASS_S`` anyway, sending the run's heartbeat
    meanwhile. Passes that keep failing end with ``give_up(the last error)``.

    Only the run's own family counts: a ParallelRunStep's mini-batches (grandchildren) or other
    runs of the workspace change the feed hundreds of times a second, and a pass each time kept a
    core busy reading the pipeline's records (issue 19)."""
    from .services.liveness import HEARTBEAT_INTERVAL_S

    events = workspace.services.events
    next_beat = time.monotonic() + HEARTBEAT_INTERVAL_S
    seen = events.latest_id()
    next_pass = 0.0  # the first pass at once
    failures = 0
    while True:
        now = time.monotonic()
        seen, touched = events.family_changed(run_id, seen)
        if touched or now >= next_pass:
            next_pass = now + DRIVE_FULL_PASS_S
            try:
                if advance():
                    return
                failures = 0
            except Exception as exc:
                failures += 1
                if failures >= DRIVE_MAX_FAILED_PASSES:
                    give_up(exc)
                    return
                time.sleep(min(2.0, 0.1 * 2**failures))
        if now >= next_beat:
            workspace.services.tracking.heartbeat([run_id])
            next_beat = now + HEARTBEAT_INTERVAL_S
        time.sleep(DRIVE_TICK_S)


def end_driven_run(workspace: Workspace, run_id: str, reason: str) -> None:
    """A driver gives up its run: Failed with ``reason`` (Canceled if a cancel was asked for), unless
    it ended already."""
    record = workspace.services.queries.run(run_id)
    if record.status not in TERMINAL_STATUSES:
        new = RunStatus.CANCELED if record.status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
        workspace.services.tracking.try_transition(
            run_id, record.status, new, end_time=time.time(), error={"message": reason}
        )
