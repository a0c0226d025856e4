"""A local job's environment: a virtual environment in the cache, keyed by what it holds.

The running ``jupyter_mlws`` package itself is linked into the environment rather than copied, so a
job always speaks the workspace's schema version.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...core.activities import ActivityRecorder
from ...core.environment import install_requirements
from ...core.interfaces.compute import BuildResult
from ...errors import EnvironmentBuildError, InvalidArgumentError
from .keys import build_key, cache_root, package_dir, runtime_requirements
from .locks import build_lock
from .pip import host_pip_settings
from .steps import failure_summary, run_logged
from .usage import USED_MARKER, mark_used

__all__ = ["BUILT_MARKER", "build_venv", "built_venv_python", "venv_folder"]

BUILT_MARKER = ".mlws-built"
# What a finished environment must import: the package (through its link) and the job runtime.
CHECK_IMPORTS = "import jupyter_mlws, sqlalchemy, papermill, ipykernel"


def _venv_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def _site_packages(folder: Path) -> Path:
    return folder / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def _venv_key(definition: Mapping[str, Any]) -> str:
    # The running package is linked in: a venv is for one installation of it.
    base = getattr(sys, "_base_executable", sys.executable)
    return build_key("venv", definition, python=sys.version, base=base, package=str(package_dir()))


def venv_folder(definition: Mapping[str, Any]) -> Path:
    """Where the cache holds (or will hold) the virtual environment of ``definition``."""
    return cache_root() / "venvs" / _venv_key(definition)[:16]


def built_venv_python(definition: Mapping[str, Any]) -> str | None:
    """The interpreter of ``definition``'s virtual environment if the cache holds it built, else None
    (not built yet, or a user-managed interpreter, which is no venv of ours). Never builds and takes no
    lock: the marker is written only once a build is complete, so it is safe to look without one."""
    python = definition.get("python", {})
    if not isinstance(python, Mapping) or python.get("user_managed_dependencies"):
        return None
    folder = venv_folder(definition)
    return str(_venv_python(folder)) if (folder / BUILT_MARKER).is_file() else None


def build_venv(name: str, definition: Mapping[str, Any], recorder: ActivityRecorder) -> BuildResult:
    """The environment's virtual environment, built unless the cache has it."""
    started = time.monotonic()
    python = definition.get("python", {})
    if python.get("user_managed_dependencies"):
        interpreter = python.get("interpreter_path") or sys.executable
        if not os.access(interpreter, os.X_OK):
            raise InvalidArgumentError(
                f"environment {name!r}: python.interpreter_path {interpreter!r} is not an executable file"
            )
        return BuildResult("user-managed", interpreter, True, 0.0)
    key = _venv_key(definition)
    root = cache_root() / "venvs"
    folder = root / key[:16]
    with build_lock(root, key, recorder):
        if (folder / BUILT_MARKER).is_file():
            recorder.log(f"cache hit: {folder}")
            mark_used(folder / USED_MARKER)  # under the lock: `mlws gc` keeps what was just used
            return BuildResult(key, str(_venv_python(folder)), True, time.monotonic() - started, recorder.activity_id)
        _build(name, definition, folder, recorder)
        mark_used(folder / USED_MARKER)
        (folder / BUILT_MARKER).write_text(json.dumps({"key": key, "built": time.time(), "definition": definition}))
    return BuildResult(key, str(_venv_python(folder)), False, time.monotonic() - started, recorder.activity_id)


def _build(name: str, definition: Mapping[str, Any], folder: Path, recorder: ActivityRecorder) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # what an interrupted build left
    env = dict(os.environ)
    env.update(host_pip_settings())
    # Conda dependencies become pip requirements; the runtime's names (jupyter-mlws, azureml-defaults)
    # are dropped: the running package is linked in below, never fetched from an index.
    packages, notes = install_requirements(dict(definition))
    for note in notes:
        recorder.log(f"note: {note}")

    recorder.progress("creating the virtual environment")
    base = getattr(sys, "_base_executable", sys.executable)
    code = run_logged([base, "-m", "venv", "--without-pip", str(folder)], recorder, env)
    if code == 0:
        # The running package, linked: jobs use the same code (and schema) as the workspace.
        link_dir = folder / "mlws-lib"
        link_dir.mkdir()
        os.symlink(package_dir(), link_dir / "jupyter_mlws")
        _site_packages(folder).joinpath("jupyter_mlws_link.pth").write_text(f"{link_dir}\n")
        recorder.progress(f"installing {len(packages)} package(s) and the job runtime")
        pip = [sys.executable, "-m", "pip", "--python", str(_venv_python(folder)), "install"]
        pip += ["--no-input", "--progress-bar", "off", "--disable-pip-version-check"]
        code = run_logged([*pip, *runtime_requirements(), *packages], recorder, env)
    if code == 0:
        recorder.progress("checking the environment")
        code = run_logged([str(_venv_python(folder)), "-c", CHECK_IMPORTS], recorder, env)
    if code != 0:
        shutil.rmtree(folder, ignore_errors=True)
        if recorder.canceled.is_set():
            raise EnvironmentBuildError("the build was canceled", recorder.log_text, recorder.activity_id)
        recorder.flush()
        raise EnvironmentBuildError(
            f"environment {name!r} failed to build: {failure_summary(recorder.log_text)}",
            recorder.log_text,
            recorder.activity_id,
        )
