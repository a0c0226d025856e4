"""Materialising environments for compute targets: a virtual environment for local jobs
(:mod:`.venv`), an image for Docker jobs (:mod:`.image`).

Both are cached by a key (:mod:`.keys`): a hash of the environment's definition, the interpreter or
base image, and the pins of what a job needs to talk to the workspace (the job runtime: SQLAlchemy,
papermill, ipykernel... at the versions this machine runs). A finished build leaves a marker (a
file, or the tagged image); a build interrupted half-way has none and is redone. Two jobs needing the
same environment build it once (a file lock, :mod:`.locks`), the second waits.

Builds use this machine's pip settings (:mod:`.pip`: its config files and ``PIP_*`` variables: index
URL, CA bundle, constraints), so they work behind a proxy with a private CA. Every build step's
output goes to the build's activity log (:mod:`.steps`).

The core never imports this package: ``Environment.build()`` reaches it through the compute-target
registry (``ComputeBackend.build_environment`` of the target's type).
"""

from __future__ import annotations

from .keys import build_key, cache_root, package_dir, runtime_requirements
from .locks import build_lock
from .pip import host_pip_settings, local_paths
from .steps import failure_summary, run_logged
from .venv import build_venv

__all__ = [
    "build_key",
    "build_lock",
    "build_venv",
    "cache_root",
    "failure_summary",
    "host_pip_settings",
    "local_paths",
    "package_dir",
    "run_logged",
    "runtime_requirements",
]
