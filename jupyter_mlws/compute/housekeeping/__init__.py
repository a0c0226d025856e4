"""The machine's part of ``mlws gc`` (issue 21): what compute made on this machine for jobs.

Environment venvs (:mod:`.venvs`) and Docker images (:mod:`.images`) no one has used for
``keep_days``, and finished jobs' scratch folders and killed supervisors' channel folders
(:mod:`.jobs`). The workspace's own part (blobs,
the artifact store's temporary files, the change feed) is core's ``HousekeepingService``; the CLI
puts both into one report. Nothing here removes what a build, a starting job or a running process
uses: each module says how.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from ...core.services.reclaim import check_days
from .images import DockerImages, ImageEngine, ProjectImage, collect_images, docker_images
from .jobs import collect_job_channels, collect_job_folders
from .processes import ProcessUse, process_use
from .sweep import Sweep
from .venvs import collect_venvs, venv_last_used

if TYPE_CHECKING:
    from ...core.workspace import Workspace

__all__ = [
    "DockerImages",
    "ImageEngine",
    "ProcessUse",
    "ProjectImage",
    "Sweep",
    "collect_images",
    "collect_job_channels",
    "collect_job_folders",
    "collect_venvs",
    "docker_images",
    "process_use",
    "sweep_machine",
    "venv_last_used",
]


def sweep_machine(
    workspace: Workspace,
    keep_days: float,
    grace_seconds: float,
    dry_run: bool = False,
    images: Callable[[], ImageEngine | None] = docker_images,
    pinned: Collection[str] = (),
) -> Sweep:
    """Venvs, images and job folders this machine can do without. ``images`` opens the Docker
    engine to ask (default: the local one, if it answers); ``pinned`` are interpreters and image
    tags kept whatever their age (the workspace's web services')."""
    check_days(keep_days, "--keep-days")
    engine = images()
    sweep = Sweep()
    try:
        sweep.extend(collect_venvs(keep_days, grace_seconds, dry_run, pinned=pinned))
        sweep.extend(collect_images(engine, keep_days, grace_seconds, dry_run, pinned=pinned))
        queries = workspace.services.queries
        sweep.extend(
            collect_job_folders(
                lambda run_id: queries.run(run_id).status,
                grace_seconds,
                dry_run,
                labelled_runs=engine.labelled_runs if engine is not None else lambda: None,
            )
        )
        sweep.extend(collect_job_channels(dry_run))
    finally:
        if engine is not None:
            engine.close()
    return sweep
