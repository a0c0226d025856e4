"""Well-known names and places inside a workspace, defined once for core, compute and the adapters."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DEFAULT_EXPERIMENT",
    "DRIVER_LOG",
    "ENV_INPUTS",
    "ENV_JOB_API",
    "ENV_NEW_SECRET_KEY",
    "ENV_RUN_ID",
    "ENV_SECRETS_API",
    "ENV_SECRET_KEY",
    "ENV_TASK_POOL",
    "INPUTS_FILE",
    "INPUTS_FOLDER",
    "LOCAL_TASK_POOL",
    "OUTPUTS_FOLDER",
    "default_experiment_name",
    "live_dir",
    "snapshot_stat_cache",
]

#: The run file that holds a job's stdout and stderr (Azure ML v1's name).
DRIVER_LOG = "user_logs/std_log.txt"
#: The experiment of a submission that names none and whose folder gives no name.
DEFAULT_EXPERIMENT = "default"
#: Set in a job's environment: ``Run.get_context()`` returns that run.
ENV_RUN_ID = "MLWS_RUN_ID"
#: Set in a job's environment: where the tasks it fans out run (``ComputeBackend.task_executor``).
#: LOCAL_TASK_POOL: a pool of its own machine's processes, whose fork server the job may start as
#: early as it likes (a ParallelRunStep's runner does, before it opens the workspace); any other
#: value: elsewhere (a Dask job's tasks go to its cluster).
ENV_TASK_POOL = "MLWS_TASK_POOL"
LOCAL_TASK_POOL = "processes"
#: Set in a Docker job's environment: the socket of the job API its supervisor serves
#: (``compute/job_api.py``); ``Run.get_context()`` there talks to it (``core/runs/remote.py``).
ENV_JOB_API = "MLWS_JOB_API"
#: Set in a local or Dask job's environment: the socket its supervisor answers ``run.get_secret`` on
#: (the job API restricted to secrets). The job never gets the vault's key (issue 21).
ENV_SECRETS_API = "MLWS_SECRETS_API"
#: The vault's key (``core/secret_key.py``) and the new key of a rotation: never passed on to a job.
ENV_SECRET_KEY = "MLWS_SECRET_KEY"  # noqa: S105 - a variable's name, not a key
ENV_NEW_SECRET_KEY = "MLWS_NEW_SECRET_KEY"  # noqa: S105 - a variable's name
#: Set in the environment of a job with inputs (datasets): the JSON file, in the job's folder, that
#: says what its supervisor staged where (``core/job_inputs.py``, ``compute/inputs.py``).
ENV_INPUTS = "MLWS_INPUTS"
#: The folder of a job's working folder that holds its staged inputs and ``INPUTS_FILE``.
INPUTS_FOLDER = ".mlws-inputs"
INPUTS_FILE = "inputs.json"
#: The folder of a job's working folder that holds the folders of its outputs (a pipeline step's
#: ``PipelineData``, issue 16), one per output name.
OUTPUTS_FOLDER = ".mlws-outputs"


def default_experiment_name(folder: Path, fallback: str = DEFAULT_EXPERIMENT) -> str:
    """The experiment of a job submitted without one: its source folder's name, made a valid
    experiment name (other characters become ``-``), else ``fallback``."""
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in folder.resolve().name).strip("-._")
    return name or fallback


def live_dir(workspace_dir: Path, run_id: str) -> Path:
    """Where a running job's logs are written (``<workspace>/.mlws/jobs/<run_id>``), readable by
    every process on this machine; collected into the run's files when the job ends."""
    return workspace_dir / "jobs" / run_id


def snapshot_stat_cache(workspace_dir: Path) -> Path:
    """The stat cache that lets an unchanged snapshot skip re-hashing its files."""
    return workspace_dir / "cache" / "snapshot-stat-cache.json"
