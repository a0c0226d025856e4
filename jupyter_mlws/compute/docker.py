"""The ``docker`` compute target: each job in a container of a real Docker engine.

Jobs are dispatched by the workspace's agent like local jobs (queue order, ``max_concurrent_runs``)
and supervised by the same lifecycle; only starting, waiting and stopping happen in a container.

- The image: built by :mod:`.environments.image` (the environment's or the target's base image plus
  a virtual environment with the job runtime and the environment's pip packages), cached by content.
- The job: only its own folders are bind-mounted, at the same paths: the job folder (the snapshot,
  ``outputs/``) and the run's live folder (its driver log, ``logs/``), plus the running
  ``jupyter_mlws`` package read-only. The workspace's ``.mlws`` (database, blobs, snapshot stat
  cache) and the agent's socket stay out of reach: code in the container — a malicious dependency
  included — can neither queue a job that the host runs nor poison what the next snapshot captures.
  The job reaches its run through the supervisor's narrow job API (:mod:`.job_api`, a Unix socket
  in a private folder mounted at ``/run/mlws``): ``Run.get_context()`` there logs metrics, params,
  tags, files, child runs, and nothing beyond its own runs. The container runs as the submitting
  user, on ``bridge`` networking by default, with an init process forwarding signals, labelled with
  the run id, and is removed afterwards.

The container separates the job's environment from the host's; it is not a security boundary
beyond that (it runs as the submitting user, with the engine's default isolation).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.activities import ActivityRecorder
from ..core.environment import DEFAULT_BASE_IMAGE, Environment
from ..core.interfaces.compute import BuildResult, default_concurrency
from ..core.status import RunStatus
from ..core.values import is_finite_number
from ..errors import BackendUnavailableError, InvalidArgumentError
from .docker_engine import (
    API_MOUNT,
    CONTAINER_VARIABLES,
    DEFAULT_DOCKER_HOST,
    IMAGE_PYTHON,
    PACKAGE_MOUNT,
    RUN_LABEL,
    container_options,
    engine,
)
from .docker_kernels import ContainerKernel
from .environments.image import build_image
from .environments.keys import package_dir
from .inputs import input_folder
from .job_api import ENV_JOB_API, JobApi
from .kernel_pool import (
    DEFAULT_POOL_SIZE,
    POOL_SETTING,
    PooledKernel,
    pool_size,
    startup_variables,
)
from .lifecycle import DEFAULT_CANCEL_GRACE_S, JobExecution, Outcome
from .local import job_argv, job_variables
from .log_pump import LogPump
from .slot_runner import JOB_FILE, LAUNCH_ENV
from .supervision import JOB_API_CHANNEL_PREFIX, AgentCompute, make_channel_folder, own_channel_folder

if TYPE_CHECKING:
    import docker

__all__ = ["DEFAULT_DOCKER_HOST", "RUN_LABEL", "DockerCompute", "DockerJob", "engine"]

LOG_FIFO = "log.fifo"  # the job's stdout and stderr, read by its supervisor (beside the job API's socket)
MAX_ERROR_FILE = 1 << 20  # the error details a job may leave (MLWS_ERROR_FILE)
SLOT_READY_WAIT_S = 30.0  # how long a job waits for a slot started just before it to be ready
MIRROR_PASS_BYTES = 8 << 20  # what one live pass copies of a file at most (the final one copies all)
_SETTINGS = {
    "base_image",
    "docker_host",
    "cpus",
    "memory",
    "gpus",
    "shm_size",
    "network_mode",
    "max_concurrent_runs",
    "cancel_grace_seconds",
    POOL_SETTING,
}
_MEMORY = re.compile(r"^\d+(\.\d+)?[bkmgBKMG]?$")


class DockerCompute(AgentCompute):
    """Settings: ``base_image`` (default ``python:3.11-slim``; any image with Python 3.11+),
    ``docker_host`` (default: ``DOCKER_HOST`` or the local socket), ``cpus`` (e.g. 1.5), ``memory``
    (e.g. ``"2g"``), ``gpus`` (a count or ``"all"``: a GPU device request), ``shm_size``,
    ``network_mode`` (default ``bridge``: a job reaches its run through the job API, not the network;
    ``host`` or another network when the job needs it),
    ``max_concurrent_runs``, ``cancel_grace_seconds``, ``kernel_pool_size`` (notebook kernels the agent
    keeps started ahead of need, each in a container of its own, per built image and kernel name, each
    used by one job; default 1, 0 turns it off: see :mod:`.docker_kernels`)."""

    type = "docker"

    @staticmethod
    def attach_configuration(
        base_image: str = DEFAULT_BASE_IMAGE,
        cpus: float | None = None,
        memory: str | None = None,
        gpus: int | str | None = None,
        **settings: Any,
    ) -> dict[str, Any]:
        config: dict[str, Any] = {"type": "docker", "base_image": base_image, **settings}
        for key, value in (("cpus", cpus), ("memory", memory), ("gpus", gpus)):
            if value is not None:
                config[key] = value
        return config

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return {
            "base_image": DEFAULT_BASE_IMAGE,
            "network_mode": "bridge",
            "max_concurrent_runs": default_concurrency(),
            "cancel_grace_seconds": DEFAULT_CANCEL_GRACE_S,
            POOL_SETTING: DEFAULT_POOL_SIZE,
        }

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        result = cls.merged_config(config, _SETTINGS)
        checks: dict[str, Callable[[Any], bool]] = {
            "base_image": lambda v: isinstance(v, str) and v.strip() != "",
            "docker_host": lambda v: v is None or (isinstance(v, str) and "://" in v),
            # finite: inf would pass "> 0" and fail only when the container starts.
            "cpus": lambda v: v is None or (is_finite_number(v) and v > 0),
            "memory": lambda v: v is None or (isinstance(v, str) and bool(_MEMORY.match(v))) or _positive_int(v),
            "shm_size": lambda v: v is None or (isinstance(v, str) and bool(_MEMORY.match(v))) or _positive_int(v),
            "gpus": lambda v: v is None or v == "all" or _positive_int(v),
            "network_mode": lambda v: isinstance(v, str) and v.strip() != "",
            "max_concurrent_runs": _positive_int,
            "cancel_grace_seconds": lambda v: is_finite_number(v) and v >= 0,
        }
        expected = {
            "base_image": "an image name like 'python:3.11-slim'",
            "docker_host": "a URL like 'unix:///var/run/docker.sock' or 'tcp://host:2375'",
            "cpus": "a finite positive number (cores)",
            "memory": "bytes or a size like '512m' or '2g'",
            "shm_size": "bytes or a size like '512m' or '2g'",
            "gpus": "a positive number of GPUs or 'all'",
            "network_mode": "a Docker network mode like 'host' or 'bridge'",
            "max_concurrent_runs": "an integer >= 1",
            "cancel_grace_seconds": "a finite number >= 0",
        }
        for key, check in checks.items():
            if key in result and not check(result[key]):
                raise InvalidArgumentError(f"docker setting {key} must be {expected[key]}, got {result[key]!r}")
        pool_size(result)
        return result

    def check(self) -> None:
        engine(self.config).close()

    def abandon(self, run_id: str) -> None:
        """Remove the containers of a run whose supervisor died (they must not run on unsupervised)."""
        client = engine(self.config)
        try:
            found = client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})
            # A pooled container is named after the run it was handed to (it was made before the run).
            found += client.containers.list(all=True, filters={"name": f"^/?{_container_name(run_id)}$"})
            for container in {c.id: c for c in found}.values():
                container.remove(force=True)
        finally:
            client.close()

    @classmethod
    def execution(cls) -> builtins.type[JobExecution]:
        return DockerJob

    @classmethod
    def build_environment(
        cls, name: str, definition: Mapping[str, Any], config: Mapping[str, Any], recorder: ActivityRecorder
    ) -> BuildResult:
        return build_image(name, definition, config, recorder)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _regular_or_gone(path: Path, max_bytes: int | None = None) -> None:
    """Remove what the job left at ``path`` unless it is a regular file (of at most ``max_bytes``)."""
    try:
        found = path.lstat()
    except OSError:
        return
    if stat.S_ISDIR(found.st_mode):
        return  # reading it fails, harmlessly
    if not stat.S_ISREG(found.st_mode) or (max_bytes is not None and found.st_size > max_bytes):
        with contextlib.suppress(OSError):
            path.unlink()


def _container_name(run_id: str) -> str:
    return "mlws-" + re.sub(r"[^a-zA-Z0-9_.-]", "-", run_id)[:200]


class DockerJob(JobExecution):
    """The job's process as a container: start, wait, SIGTERM, SIGKILL, remove.

    A notebook job handed a pooled kernel (a container made ahead, see :mod:`.docker_kernels`) runs in
    that container: its working folder is the slot's ``work/``, its ``./logs`` the slot's ``logs/``
    (copied into the run's live folder as it grows), its job API in the slot's ``api/``; the container
    is held (paused) while this side writes those, then handed the job and followed as a fresh one."""

    target_type = "docker"
    #: A pre-started kernel's container the agent handed to this job (issue 22); used once, then removed.
    pooled_kernel: PooledKernel | None = None
    MIRROR_EVERY_S = 0.5  # how often a pooled job's ./logs reach the live folder while it runs

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client: docker.DockerClient | None = None
        self.container: Any = None
        self._exit: int | None = None
        self._done = threading.Event()
        self.api: JobApi | None = None
        self._api_folder: Path | None = None
        # What the supervisor learns of the job's end (out of memory, the engine lost): kept here, never
        # written into the live folder, where the job may have left a link to a host file in its place.
        self._end_error: dict[str, Any] | None = None
        self._slot_folders: ContainerKernel | None = None  # the slot whose folders the job's are
        self._held: Any = None  # that slot's container, paused until the job is handed over
        self._mirrored: dict[str, tuple[int, int, bool]] = {}  # a pooled job's ./logs copied so far
        self._next_mirror = 0.0

    def default_environment(self) -> dict[str, Any]:
        # Without an environment the job still needs its runtime in the image: the target's base image.
        return Environment("mlws-runtime").definition()

    def job_folder(self) -> Path:
        kernel = self.pooled_kernel
        if isinstance(kernel, ContainerKernel):
            if self._hold(kernel):
                # The slot's work/ (private, made empty with the slot) is mounted in its container already.
                own_channel_folder(Path(kernel.slot))  # `mlws gc` leaves it alone while this job runs
                self._slot_folders = kernel
                return kernel.work
            self._discard(kernel)
        return super().job_folder()

    def _hold(self, slot: ContainerKernel) -> bool:
        """Freeze the slot's container, then check its folders are as they were made. The image's code
        has run in it since it started (its packages' start-up hooks, the kernel's): from here until the
        job is handed over (:meth:`_start_on_slot`), this side writes in those folders (the snapshot,
        inputs, the job API's socket, the log FIFO), and nothing in the container may change them
        meanwhile, as nothing can before a fresh job's container is created."""
        deadline = time.monotonic() + SLOT_READY_WAIT_S
        while not (slot.api / LAUNCH_ENV).exists() and slot.alive() and time.monotonic() < deadline:
            time.sleep(0.02)  # a slot just started: its runner writes this first
        try:
            self.client = self.client or engine(self.config)
            container = self.client.containers.get(slot.container_id)
            container.pause()
        except Exception:  # gone, the engine away: a fresh container
            return False
        self._held = container
        return _entries(slot.work) == _entries(slot.logs) == set() and _entries(slot.api) == {LAUNCH_ENV}

    def _discard(self, slot: ContainerKernel) -> None:
        """A slot this job does not use: stopped and removed now (the agent removes its folders)."""
        slot.kill()
        with contextlib.suppress(Exception):
            self.client = self.client or engine(self.config)
            self.client.api.remove_container(slot.container_id, force=True)
        self._held = None

    def prepare(self) -> Path:
        workdir = super().prepare()
        slot = self._slot_folders
        if slot is not None:
            # ./logs is the slot's logs/ (what the container has mounted), holding what the snapshot had.
            shutil.copytree(self.live / "logs", slot.logs, dirs_exist_ok=True, symlinks=True)
            (workdir / "logs").unlink()
            os.symlink(slot.logs, workdir / "logs")
        return workdir

    def _usable_slot(self, variables: Mapping[str, str]) -> ContainerKernel | None:
        """The pooled kernel's container, if this job can use it: it runs this job's image, it lives,
        its folders are the job's, and what it started with is what this job's container would have
        (the variables a start-up reads). Otherwise it is stopped and the job gets a fresh container."""
        slot = self._slot_folders
        if slot is None:
            return None
        assert self.built is not None and self.client is not None
        launched = slot.launch_environment()
        container = self._held
        try:
            container.reload()
            usable = (
                launched is not None
                and slot.alive()
                and container.status == "paused"
                and self.built.key != "user-managed"
                and str(self.client.images.get(self.built.location).id) == slot.image_id()
                and not any(d.get("read_only") for d in self.spec.get("inputs") or [])
                and startup_variables({**launched, **variables}) == startup_variables(launched)
            )
        except Exception:  # the image removed meanwhile, the engine gone: a fresh container says why
            usable = False
        if not usable or launched is None:
            self._discard(slot)
            return None
        self.container = container
        slot.launch_env = launched
        return slot

    def _start_on_slot(self, workdir: Path, slot: ContainerKernel, variables: Mapping[str, str]) -> None:
        """Hand the job to the slot's runner (see :mod:`.slot_runner`): its job API and log FIFO in the
        slot's api/ (``/run/mlws``), then its description; from here on the container is followed as a
        fresh job's is."""
        ws = self.reporter.workspace
        self.api = JobApi(ws, self.reporter.run_id, slot.api, redactor=self.redactor)
        self.api.start()
        self.pump = LogPump(self.driver_log, self.redactor, fifo=slot.api / LOG_FIFO)
        # PWD: as a fresh container's runner has it (set by the shell that starts it, where it starts).
        env = {**slot.launch_env, **variables, "PWD": str(workdir)}
        argv = job_argv(self.spec, IMAGE_PYTHON)[3:]  # after `python -m jupyter_mlws.compute.notebook_runner`
        _write_new(slot.api / JOB_FILE, json.dumps({"argv": argv, "env": env, "cwd": str(workdir)}))
        with contextlib.suppress(Exception):  # a name taken (an earlier attempt's): found by its label then
            # Named as a fresh job's container is: abandon() finds it if this supervisor dies.
            self.container.rename(_container_name(self.reporter.run_id))
        self._follow(self.container.unpause)

    def _follow(self, begin: Callable[[], None]) -> None:
        """Let the job's container run (``begin``: start it, or let a held one go), then wait for its end
        in a thread."""
        import docker

        try:
            begin()
        except docker.errors.APIError as exc:
            raise BackendUnavailableError(
                f"the Docker engine refused to start the job's container: {exc.explanation or exc}"
            ) from None
        threading.Thread(target=self._wait_for_exit, name="mlws-docker-wait", daemon=True).start()

    def start(self, workdir: Path) -> None:
        import docker

        assert self.built is not None
        self.client = self.client or engine(self.config)
        ws = self.reporter.workspace
        run_id = self.reporter.run_id
        user_managed = self.built.key == "user-managed"
        argv = job_argv(self.spec, "python3" if user_managed else IMAGE_PYTHON)
        variables = job_variables(self.spec, run_id, str(ws.root), workdir, self.error_file, self.task_pool)
        variables.pop("MLWS_WORKSPACE", None)  # not in the container: the job API is its way to its run
        variables.update(
            {
                # The job's output goes through its supervisor, which masks its secrets (issue 21).
                "MLWS_DRIVER_LOG": f"{API_MOUNT}/{LOG_FIFO}",
                ENV_JOB_API: f"{API_MOUNT}/api.sock",
                **CONTAINER_VARIABLES,
            }
        )
        slot = self._usable_slot(variables)
        if slot is not None:
            self._start_on_slot(workdir, slot, variables)
            return
        # The job API's socket lives in a private folder of its own (0700, a fresh name): a short
        # path whatever the job folder's, and nothing else of the host beside it (but the file naming
        # this supervisor, for `mlws gc`).
        self._api_folder = make_channel_folder(JOB_API_CHANNEL_PREFIX)
        self.api = JobApi(ws, run_id, self._api_folder, redactor=self.redactor)
        self.api.start()
        self.pump = LogPump(self.driver_log, self.redactor, fifo=self._api_folder / LOG_FIFO)
        # A job handed a container it could not use has its ./logs in that slot's logs/.
        logs = self._slot_folders.logs if self._slot_folders is not None else self.live / "logs"
        mounts = [
            docker.types.Mount(str(workdir), str(workdir), type="bind"),
            # Only the run's live logs/, never the rest of .mlws: its driver log is written by this
            # supervisor alone (masked), from the job's output through the FIFO below.
            docker.types.Mount(str(logs), str(logs), type="bind"),
            docker.types.Mount(API_MOUNT, str(self._api_folder), type="bind"),
            docker.types.Mount(f"{PACKAGE_MOUNT}/jupyter_mlws", str(package_dir()), type="bind", read_only=True),
        ]
        # A mounted dataset input is read-only in the container for real (its staged copy is also
        # write-protected, which its owner could undo).
        mounts += [
            docker.types.Mount(str(folder), str(folder), type="bind", read_only=True)
            for folder in (input_folder(workdir, d) for d in self.spec.get("inputs") or [] if d.get("read_only"))
        ]
        config = self.config
        options = container_options(config)

        def create_and_start() -> None:
            assert self.client is not None and self.built is not None
            # Created, then started: a container the engine refuses to start is still ours to remove.
            self.container = self.client.containers.create(
                self.built.location,
                ["/bin/sh", "-c", 'exec "$@" >>"$MLWS_DRIVER_LOG" 2>&1', "sh", *argv],
                name=_container_name(run_id),
                working_dir=str(workdir),
                environment=variables,
                labels={RUN_LABEL: run_id, "mlws.workspace": str(ws.root)},
                mounts=mounts,
                user=f"{os.getuid()}:{os.getgid()}",
                init=True,  # an init process as PID 1 passes SIGTERM on to the job
                # A job needs no privilege of its own; as root (CI runners) it must not keep root's.
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                network_mode=str(config.get("network_mode") or "bridge"),
                **options,
            )
            self.container.start()

        self._follow(create_and_start)

    def _wait_for_exit(self) -> None:
        code = 1
        try:
            try:
                code = int(self.container.wait().get("StatusCode", 1))
            except Exception as exc:  # the engine went away: the job cannot be followed any more
                self._end_error = {"message": f"lost the Docker engine: {exc}"}
                return
            if 128 < code < 128 + 65:
                code = 128 - code  # killed by a signal: report it as a process would (-signal)
            with contextlib.suppress(Exception):
                self.container.reload()
                if self.container.attrs.get("State", {}).get("OOMKilled"):
                    limit = self.config.get("memory")
                    message = f"the container ran out of memory (memory setting: {limit})"
                    self._end_error = {"message": message, "reason": "oom"}
        finally:
            self._exit = code
            self._done.set()  # whatever happened, the lifecycle must learn the job is over

    def wait(self, timeout: float) -> int | None:
        if self._slot_folders is not None and time.monotonic() >= self._next_mirror:
            self._next_mirror = time.monotonic() + self.MIRROR_EVERY_S
            mirror_files(self._slot_folders.logs, self.live / "logs", self._mirrored)
        return self._exit if self._done.wait(timeout) else None

    def _signal(self, sig: str) -> None:
        if self.container is None:
            return
        try:
            self.container.kill(signal=sig)
        except Exception:  # noqa: S110 - it ended meanwhile
            pass

    def terminate(self) -> None:
        self._signal("SIGTERM")

    def kill(self) -> None:
        self._signal("SIGKILL")

    def _exited(self, code: int) -> Outcome:
        # The job wrote the live folder: what it left as its error file or its log is read only if it
        # is a regular file (a link would be followed to a host file, a FIFO would block for ever).
        _regular_or_gone(self.error_file, MAX_ERROR_FILE)
        _regular_or_gone(self.driver_log)
        outcome = super()._exited(code)
        if self._end_error is not None and outcome.status == RunStatus.FAILED:
            outcome = Outcome(outcome.status, {**(outcome.error or {}), **self._end_error})
        return outcome

    def collect(self, workdir: Path | None) -> None:
        # The container could have replaced a collected folder by a link to elsewhere on the host:
        # such folders are dropped, not followed (files that are links are skipped by the upload).
        if self._slot_folders is not None:
            # The container has stopped (or was never started): ./logs reaches the live folder whole.
            mirror_files(self._slot_folders.logs, self.live / "logs", self._mirrored, whole=True)
        folders = [self.live / "logs", self.driver_log.parent]
        if workdir is not None:
            folders.append(workdir / "outputs")
        for folder in folders:
            if folder.is_symlink():
                folder.unlink()
        super().collect(workdir)

    def cleanup(self, workdir: Path | None) -> None:
        if self._slot_folders is not None and self.container is None:
            self._discard(self._slot_folders)  # held, but the job ended before it was handed over
        if self.pooled_kernel is not None:
            self.pooled_kernel.kill()  # used once (or not at all): the agent removes its folders
        if self.container is not None:
            try:
                self.container.remove(force=True)
            except Exception:  # noqa: S110 - removed already, or the engine is gone (it keeps the run-id label)
                pass
        if self.client is not None:
            self.client.close()
        if self.api is not None:
            self.api.close()
            # What the job sent is committed before its run ends (the writer would within 50 ms; a
            # reader that sees the run ended must see all of its metrics).
            with contextlib.suppress(Exception):
                self.reporter.workspace.flush()
        if self._api_folder is not None:
            shutil.rmtree(self._api_folder, ignore_errors=True)
        super().cleanup(workdir)


def _entries(folder: Path) -> set[str] | None:
    """The names in ``folder``, or None if it is not a folder (a link in its place, or gone)."""
    try:
        return {p.name for p in folder.iterdir()} if stat.S_ISDIR(folder.lstat().st_mode) else None
    except OSError:
        return None


def _write_new(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` in a folder the container writes: a new file, never through a link,
    put in place whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def mirror_files(source: Path, dest: Path, seen: dict[str, tuple[int, int, bool]], whole: bool = False) -> None:
    """Copy the regular files under ``source`` (a folder a container writes) to the same names under
    ``dest`` (a folder only this side writes); ``seen`` holds what was copied of each (its size, its time,
    whether that copy was of the whole file). While the job
    runs only what was appended is copied (a live view); ``whole`` (once the container has stopped)
    copies every file that changed whole and removes the copies of files that are gone. Walked by
    descriptors (``os.fwalk``), each file opened relative to its folder's: links, to files or folders,
    are never followed, even if the container swaps one in meanwhile; FIFOs and devices are skipped."""
    found: set[str] = set()
    for folder, _dirs, files, dir_fd in os.fwalk(source, follow_symlinks=False):
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), source)
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
            except OSError:  # a link (ELOOP), or gone
                continue
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    continue
                found.add(relative)
                last = seen.get(relative)
                if last is not None and last[:2] == (info.st_size, info.st_mtime_ns) and (last[2] or not whole):
                    continue
                target = dest / relative
                if any(p.is_symlink() for p in [target, *target.parents] if p.is_relative_to(dest)):
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                before = 0 if whole or last is None else last[0]
                offset = before if 0 < before <= info.st_size and target.is_file() else 0
                from_start = offset == 0
                # At most what the file held when looked at, and a pass's budget while the job runs:
                # a job writing faster than this copies must not hold up its supervisor's watch.
                end = info.st_size if whole else min(info.st_size, offset + MIRROR_PASS_BYTES)
                with open(target, "r+b" if offset else "wb") as out:
                    out.seek(offset)
                    out.truncate()
                    while offset < end and (chunk := os.pread(fd, min(1 << 20, end - offset), offset)):
                        out.write(chunk)
                        offset += len(chunk)
                seen[relative] = (offset, info.st_mtime_ns if offset == info.st_size else -1, from_start)
            except OSError:
                continue
            finally:
                os.close(fd)
    if whole:
        for relative in set(seen) - found:  # the job removed it: so is its copy
            with contextlib.suppress(OSError):
                (dest / relative).unlink()
            seen.pop(relative, None)
