"""Where built environments are cached, and the key a build is cached under."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["CACHE_ENV_VAR", "RUNTIME_DISTRIBUTIONS", "build_key", "cache_root", "package_dir", "runtime_requirements"]

# What a job needs inside its environment: the store client, snapshots for child runs, the notebook
# runner and a kernel; a deployed web service's scoring server (its HTTP parser, event loop and JSON
# codec). Pinned to this machine's versions (and so mostly served from pip's cache).
RUNTIME_DISTRIBUTIONS = (
    "sqlalchemy",
    "alembic",
    "fsspec",
    "pathspec",
    "pyyaml",
    "papermill",
    "ipykernel",
    "httptools",
    "uvloop",
    "orjson",
)
CACHE_ENV_VAR = "MLWS_ENV_CACHE"


def package_dir() -> Path:
    """The running ``jupyter_mlws`` package folder (linked or mounted into job environments)."""
    return Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jupyter-mlws" / "environments"


@functools.lru_cache(maxsize=1)
def runtime_requirements() -> tuple[str, ...]:
    pins = [f"{name}=={version(name)}" for name in RUNTIME_DISTRIBUTIONS]
    with contextlib.suppress(PackageNotFoundError):  # a workspace on PostgreSQL needs its driver
        psycopg = version("psycopg")
        try:
            version("psycopg-binary")
            pins.append(f"psycopg[binary]=={psycopg}")
        except PackageNotFoundError:
            pins.append(f"psycopg=={psycopg}")
    return tuple(pins)


def build_key(kind: str, definition: Mapping[str, Any], **extra: Any) -> str:
    """The cache key: what is built (``kind``), from what, for which runtime. Environment variables
    are set when a job starts, not built in: changing them makes a new version, not a new build."""
    installed = {k: v for k, v in definition.items() if k != "environment_variables"}
    payload = {"kind": kind, "definition": installed, "runtime": list(runtime_requirements()), **extra}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
