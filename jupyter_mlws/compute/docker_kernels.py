"""Pre-started kernels in containers, for the ``docker`` target's notebook jobs (issue 22).

A fresh Docker notebook job pays for a container, its runner's imports and a kernel (about a second
and a half here). The agent's kernel pool (:mod:`.kernel_pool`) keeps such containers ready too, keyed
by the image (by its id), the engine, and the container settings a job's container gets (network,
limits, devices). A pooled container is a *slot*, made ahead of its job with the job's folders
already mounted (a container's mounts are fixed when it is created):

- a private folder ``<tmp>/mlws-kernel-slot-…`` (0700) with ``work/`` (becomes the job's working
  folder, mounted at the same path), ``logs/`` (the job's ``./logs``, same path) and ``api/`` (mounted at
  ``/run/mlws``, as a fresh job's API folder is: the job API's socket and the log FIFO go there when a
  job takes the slot);
- the running ``jupyter_mlws`` package read-only, the submitting user, no capabilities, an init
  process, the target's network and limits, as for a fresh job's container;
- its command, :mod:`.slot_runner`: it starts the kernel and imports papermill in the container, then
  waits for the job's description, runs the notebook and exits with the job's code.

Everything of the job runs in the container, as in a fresh one; the job's supervisor writes the
job's description into the slot and from then on follows the container as a fresh job's (its exit,
signals, out-of-memory, removal). The container is used for that one job only.

Pooled only where that holds: a built image with its runtime (not a user-managed environment),
``python3`` (the image's own ipykernel), an engine on this machine (the slot's processes are watched
through a pidfd of its init process, checked to be the container's), no read-only dataset inputs
(those are mounts of their own). Other jobs start a fresh container as before.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.environment import Environment
from .docker_engine import (
    API_MOUNT,
    CONTAINER_VARIABLES,
    DEFAULT_DOCKER_HOST,
    IMAGE_PYTHON,
    PACKAGE_MOUNT,
    container_options,
    engine,
)
from .environments.image import built_image
from .environments.keys import package_dir
from .kernel_pool import Key, PooledKernel
from .slot_runner import LAUNCH_ENV
from .supervision import KERNEL_SLOT_PREFIX, make_channel_folder

__all__ = [
    "POOL_LABEL",
    "ContainerKernel",
    "is_container_key",
    "pool_key",
    "remove_leftover",
    "start_container_kernel",
]

KEY_PREFIX = "docker:"
POOL_LABEL = "mlws.kernel_pool"  # on a pooled kernel's container: the pool's folder
SLOT_PREFIX = KERNEL_SLOT_PREFIX
NEUTRAL_CWD = "/tmp"  # noqa: S108 - where the slot's runner starts, inside the container (the job moves it)
MAX_LAUNCH_ENV = 1 << 20
_SETTINGS_IN_KEY = ("cpus", "memory", "gpus", "shm_size", "network_mode")
KEY_ENGINE_TIMEOUT_S = 10  # the agent's loop asks the engine whether an image is built: never for long


def pool_key(spec: Mapping[str, Any], config: Mapping[str, Any]) -> Key | None:
    """Which pool a Docker notebook job's kernel can come from, or None (it starts a fresh container).
    Asks the engine whether the image is built (never builds: the job does, and its environment's next
    jobs find it built)."""
    if spec.get("kind") != "notebook" or str(spec.get("kernel_name") or "python3") != "python3":
        return None
    if any(d.get("read_only") for d in spec.get("inputs") or []):
        return None  # its read-only inputs are mounts of their own
    host = str(config.get("docker_host") or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST)
    if not host.startswith("unix://"):
        return None
    environment = spec.get("environment")
    definition = environment.get("definition") if environment else Environment("mlws-runtime").definition()
    if not isinstance(definition, Mapping):
        return None
    client = engine(config, timeout=KEY_ENGINE_TIMEOUT_S)
    try:
        image = built_image(definition, config, client)
    finally:
        client.close()
    if image is None:
        return None
    settings = {k: config.get(k) for k in _SETTINGS_IN_KEY if config.get(k) is not None}
    described = {"image": image, "docker_host": host, "settings": {"network_mode": "bridge", **settings}}
    return (KEY_PREFIX + json.dumps(described, sort_keys=True), "python3")


def is_container_key(key: Key) -> bool:
    return key[0].startswith(KEY_PREFIX)


def key_settings(key: Key) -> dict[str, Any]:
    """What :func:`pool_key` put in the key: the image id, the engine, the container settings."""
    return dict(json.loads(key[0][len(KEY_PREFIX) :]))


@dataclass
class ContainerKernel(PooledKernel):
    """A pooled kernel in a container of its own (a slot): ``pid``/``pidfd`` are its init process's
    (0 and -1 where the engine's processes cannot be seen from here: then it is judged alive, and the
    job's supervisor asks the engine)."""

    container_id: str = ""
    docker_host: str = ""
    slot: str = ""

    @property
    def work(self) -> Path:
        return Path(self.slot) / "work"

    @property
    def logs(self) -> Path:
        return Path(self.slot) / "logs"

    @property
    def api(self) -> Path:
        return Path(self.slot) / "api"

    def image_id(self) -> str:
        return str(key_settings(self.key)["image"])

    def alive(self) -> bool:
        return True if self.pid <= 0 else super().alive()

    def kill(self) -> None:
        """SIGKILL to the container's init (the whole container stops); through the pidfd only."""
        if self.pidfd >= 0:
            self.signal(signal.SIGKILL)

    def launch_environment(self) -> dict[str, str] | None:
        """What the slot's runner started with (it writes it first), or None (not there, not a regular
        file of a sane size, not JSON: the container's code wrote that folder, so it is read warily)."""
        try:
            fd = os.open(self.api / LAUNCH_ENV, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_LAUNCH_ENV:
                return None
            data = json.loads(os.read(fd, MAX_LAUNCH_ENV + 1))
        except (OSError, ValueError):
            return None
        finally:
            os.close(fd)
        if not isinstance(data, dict):
            return None
        return {str(k): str(v) for k, v in data.items()}

    def release(self) -> None:
        """In the agent: the container goes (and with it the kernel), then the slot's folders."""
        super().release()
        remove_leftover({"container": self.container_id, "docker_host": self.docker_host, "slot": self.slot})

    def state(self) -> dict[str, Any]:
        return {**super().state(), "container": self.container_id, "docker_host": self.docker_host, "slot": self.slot}


def remove_leftover(entry: Mapping[str, Any]) -> None:
    """Remove a pooled kernel's container and slot folder (as :meth:`ContainerKernel.state` names them);
    best effort: gone already is fine. The folder stays while the container may still use it."""
    container = entry.get("container")
    if isinstance(container, str) and container:
        import docker

        try:
            client = engine({"docker_host": entry.get("docker_host") or None})
            try:
                client.api.remove_container(container, force=True)
            finally:
                client.close()
        except docker.errors.NotFound:
            pass  # removed already (by the job's supervisor)
        except Exception:
            return  # the engine is away: `mlws gc` sweeps the folder once its owner is gone
    slot = entry.get("slot")
    if isinstance(slot, str) and Path(slot).name.startswith(SLOT_PREFIX):
        shutil.rmtree(slot, ignore_errors=True)


def _verified_pidfd(pid: int, container_id: str) -> int:
    """A pidfd of ``pid`` if it is this container's process (its cgroup names the container), else -1."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1
    try:
        ours = container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        ours = False
    if not ours:  # another pid namespace (a VM's engine, a rootless one): not a process of ours to signal
        os.close(pidfd)
        return -1
    return pidfd


def start_container_kernel(key: Key, pool_folder: Path) -> ContainerKernel:
    """Create and start one slot's container for ``key`` (see the module's docstring)."""
    import docker

    settings = key_settings(key)
    options = dict(settings["settings"])
    slot = make_channel_folder(SLOT_PREFIX)
    try:
        for name in ("work", "logs", "api"):
            (slot / name).mkdir(mode=0o700)
        mounts = [
            docker.types.Mount(str(slot / "work"), str(slot / "work"), type="bind"),
            docker.types.Mount(str(slot / "logs"), str(slot / "logs"), type="bind"),
            docker.types.Mount(API_MOUNT, str(slot / "api"), type="bind"),
            docker.types.Mount(f"{PACKAGE_MOUNT}/jupyter_mlws", str(package_dir()), type="bind", read_only=True),
        ]
        client = engine({"docker_host": settings["docker_host"]})
        try:
            container = client.containers.create(
                str(settings["image"]),
                [IMAGE_PYTHON, "-m", "jupyter_mlws.compute.slot_runner", API_MOUNT],
                working_dir=NEUTRAL_CWD,
                environment={**CONTAINER_VARIABLES, "PYTHONUNBUFFERED": "1"},
                labels={POOL_LABEL: str(pool_folder)},
                mounts=mounts,
                user=f"{os.getuid()}:{os.getgid()}",
                init=True,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                network_mode=str(options.pop("network_mode", "bridge")),
                **container_options(options),
            )
            try:
                container.start()
                container.reload()
                pid = int(container.attrs.get("State", {}).get("Pid") or 0)
                if not pid:
                    raise RuntimeError("the kernel's container stopped as it started")
            except BaseException:
                container.remove(force=True)
                raise
        finally:
            client.close()
    except BaseException:
        shutil.rmtree(slot, ignore_errors=True)
        raise
    pidfd = _verified_pidfd(pid, str(container.id))
    return ContainerKernel(
        key=key,
        pid=pid if pidfd >= 0 else 0,
        pidfd=pidfd,
        connection={},  # the kernel is reached by its runner, in the container
        connection_file="",
        log_file="",
        neutral_cwd=NEUTRAL_CWD,
        launch_env={},  # read when a job takes it: see launch_environment
        spec_env={},
        container_id=str(container.id),
        docker_host=str(settings["docker_host"]),
        slot=str(slot),
    )
