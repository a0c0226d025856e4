"""Materialising an environment: a virtual environment in a cache keyed by a hash of what it holds.

The key covers the environment's definition, the interpreter, and the pins of what a job needs to
talk to the workspace (the job runtime: SQLAlchemy, papermill, ipykernel... at the versions this
machine runs). A finished build leaves a marker file; a build interrupted half-way has none and is
redone. Two jobs needing the same environment build it once (a file lock), the second waits.

The running ``jupyter_mlws`` package itself is linked into the environment rather than copied, so a
job always speaks the workspace's schema version. Builds use this machine's pip settings (its config
files and ``PIP_*`` variables: index URL, CA bundle, constraints), so they work behind a proxy with a
private CA; a CA bundle named only by ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE`` is handed to pip too.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import EnvironmentBuildError, InvalidArgumentError
from .activities import ActivityRecorder

__all__ = [
    "BuildResult",
    "build_key",
    "build_venv",
    "cache_root",
    "host_pip_settings",
    "package_dir",
    "run_logged",
    "runtime_requirements",
]

# What a job needs inside its environment: the store client, snapshots for child runs, the notebook
# runner and a kernel. Pinned to this machine's versions (and so mostly served from pip's cache).
RUNTIME_DISTRIBUTIONS = ("sqlalchemy", "alembic", "fsspec", "pathspec", "pyyaml", "papermill", "ipykernel")
BUILT_MARKER = ".mlws-built"
CACHE_ENV_VAR = "MLWS_ENV_CACHE"
# pip settings that describe where packages come from and how to trust it.
PIP_SETTING_KEYS = (
    "index-url",
    "extra-index-url",
    "find-links",
    "cert",
    "client-cert",
    "trusted-host",
    "constraint",
    "proxy",
    "default-timeout",
    "retries",
    "no-index",
)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


@dataclass(frozen=True)
class BuildResult:
    """``location`` is the environment's Python (a venv) or an image tag (Docker)."""

    key: str
    location: str
    cached: bool
    seconds: float
    activity_id: str | None = None


def package_dir() -> Path:
    """The running ``jupyter_mlws`` package folder (linked or mounted into job environments)."""
    return Path(__file__).resolve().parents[1]


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


@functools.lru_cache(maxsize=1)
def _pip_config() -> dict[str, str]:
    """``pip config list``: global/user/site files, later scopes winning (pip's own order)."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    settings: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, value = line.partition("=")
        if not sep or ":env:" in name:
            continue
        key = name.rsplit(".", 1)[-1]
        settings[key] = value.strip().strip("'\"")
    return settings


def host_pip_settings() -> dict[str, str]:
    """This machine's pip settings as ``PIP_*`` variables (for builds in containers), plus proxies."""
    settings = {f"PIP_{k.upper().replace('-', '_')}": v for k, v in _pip_config().items() if k in PIP_SETTING_KEYS}
    for key in PIP_SETTING_KEYS:
        variable = f"PIP_{key.upper().replace('-', '_')}"
        if os.environ.get(variable):
            settings[variable] = os.environ[variable]
    if "PIP_CERT" not in settings:
        for variable in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            if os.environ.get(variable) and os.path.isfile(os.environ[variable]):
                settings["PIP_CERT"] = os.environ[variable]
                break
    for variable in PROXY_VARIABLES:
        if os.environ.get(variable):
            settings[variable] = os.environ[variable]
    return settings


def local_paths(settings: Mapping[str, str]) -> list[str]:
    """Files and folders the pip settings point at (to mount into a build container read-only)."""
    found: set[str] = set()
    for variable in (
        "PIP_CERT",
        "PIP_CLIENT_CERT",
        "PIP_CONSTRAINT",
        "PIP_FIND_LINKS",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
    ):
        for item in settings.get(variable, "").split():
            path = item[len("file://") :] if item.startswith("file://") else item
            if not path.startswith("/") or not os.path.exists(path):
                continue
            if variable.endswith("INDEX_URL"):
                # A local "simple" index links to files beside it (../files/...): take its parent.
                path = os.path.dirname(path.rstrip("/"))
            found.add(path)
            if os.path.islink(path):
                found.add(os.path.realpath(path))
    return sorted(found)


def run_logged(argv: Sequence[str], recorder: ActivityRecorder, env: Mapping[str, str] | None = None) -> int:
    """Run a build step, every output line going to the activity's log; its exit code."""
    recorder.log("$ " + " ".join(argv))
    if recorder.canceled.is_set():
        return -15
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        text=True,
        errors="replace",
        start_new_session=True,  # a group: pip re-runs itself under the venv's interpreter
    )

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    remove = recorder.on_cancel(kill)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            recorder.log(line.rstrip("\n"))
        return proc.wait()
    finally:
        # However this ends (an error, an interrupt), the step does not run on unwatched.
        remove()
        kill()  # whatever the step started goes with it
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def failure_summary(log: str) -> str:
    """The lines that say what went wrong (pip's ``ERROR:`` lines), else the last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:") or "Error:" in line]
    return (errors[-1] if errors else lines[-1] if lines else "no output").removeprefix("ERROR: ")


@contextlib.contextmanager
def build_lock(root: Path, key: str, recorder: ActivityRecorder) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / f"{key[:16]}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if not waiting:
                    recorder.progress("waiting for another build of the same environment")
                    waiting = True
                if recorder.canceled.wait(0.5):
                    raise EnvironmentBuildError(
                        "the build was canceled", recorder.log_text, recorder.activity_id
                    ) from None
        yield
    finally:
        os.close(fd)


def _venv_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def _site_packages(folder: Path) -> Path:
    return folder / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


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
    # The running package is linked in: a venv is for one installation of it.
    base = getattr(sys, "_base_executable", sys.executable)
    key = build_key("venv", definition, python=sys.version, base=base, package=str(package_dir()))
    root = cache_root() / "venvs"
    folder = root / key[:16]
    with build_lock(root, key, recorder):
        if (folder / BUILT_MARKER).is_file():
            recorder.log(f"cache hit: {folder}")
            return BuildResult(key, str(_venv_python(folder)), True, time.monotonic() - started, recorder.activity_id)
        _build(name, definition, folder, recorder)
        (folder / BUILT_MARKER).write_text(json.dumps({"key": key, "built": time.time(), "definition": definition}))
    return BuildResult(key, str(_venv_python(folder)), False, time.monotonic() - started, recorder.activity_id)


def _build(name: str, definition: Mapping[str, Any], folder: Path, recorder: ActivityRecorder) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # what an interrupted build left
    env = dict(os.environ)
    env.update(host_pip_settings())
    packages = list(definition.get("python", {}).get("pip_packages", []))

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
        check = "import jupyter_mlws.core.run, sqlalchemy, papermill, ipykernel"
        code = run_logged([str(_venv_python(folder)), "-c", check], recorder, env)
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
