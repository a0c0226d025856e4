"""Pre-started kernels in containers, for the ``docker`` target's notebook jobs (issue 22).

A fresh Docker notebook job pays for a container and a kernel in it (about a second and a half here).
The agent's kernel pool (:mod:`.kernel_pool`) keeps such kernels ready too, keyed by the image (by its
id), the engine, and the container settings a job's container gets (network, limits, devices). A
pooled container is a *slot*: made ahead of the job, with the job's folders already mounted, since a
container's mounts are fixed when it is created:

- a private folder ``<tmp>/mlws-kernel-slot-…`` (0700) with ``work/`` (becomes the job's working
  folder, mounted at the same path), ``logs/`` (the job's ``./logs``, same path) and ``api/`` (mounted at
  ``/run/mlws``, as a fresh job's API folder is: the job API's socket goes there when a job takes it);
- the running ``jupyter_mlws`` package read-only, the submitting user, no capabilities, an init process,
  as for a fresh job's container;
- a kernel started by ipykernel's launcher code, its start-up environment written to
  ``/run/mlws/launch-env.json`` first (what it started with, so that the job's set-up can tell what the
  kernel changed itself, see :mod:`.kernel_pool`), its ports published on 127.0.0.1 only (``bridge``
  networking) or bound on 127.0.0.1 (``host`` networking).

The job's notebook runner (papermill) runs on the host, in a fork of the job's supervisor, attached to
the kernel through those ports, as for a local pooled kernel; the kernel is set up for the job as a
fresh kernel in the job's container would have been (its folder, its variables: the job API at
``/run/mlws/api.sock``), and used for this one job: the container is removed after it.

Pooled only where that holds: a built image with its runtime (not a user-managed environment),
``python3`` (the image's own ipykernel), ``bridge`` or ``host`` networking, an engine on this machine
(the kernel's processes are signalled by their pid here), no read-only dataset inputs (those are
mounts of their own). Other jobs start a fresh container as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import time
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
from .kernel_pool import _LAUNCHER, Key, PooledKernel
from .supervision import make_channel_folder

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
SLOT_PREFIX = "mlws-kernel-slot-"
POOLED_NETWORKS = ("bridge", "host")
NEUTRAL_CWD = "/tmp"  # noqa: S108 - where the kernel starts, inside the container (the job's set-up moves it)
LAUNCH_ENV = "launch-env.json"
KERNEL_LOG = "kernel.log"
CONNECTION_FILE = "kernel.json"
# The kernel's ports inside its own network namespace (bridge): published on 127.0.0.1.
_CHANNELS = ("shell", "iopub", "stdin", "control", "hb")
_INNER_PORTS = dict(zip(_CHANNELS, range(50001, 50006), strict=True))
_SETTINGS_IN_KEY = ("cpus", "memory", "gpus", "shm_size")

# The launcher writes what the kernel's process started with before anything else runs in it.
_PRELUDE = f"""\
    import json
    import os

    with open("{API_MOUNT}/.{LAUNCH_ENV}", "w") as f:
        json.dump(dict(os.environ), f)
    os.replace("{API_MOUNT}/.{LAUNCH_ENV}", "{API_MOUNT}/{LAUNCH_ENV}")
    del json, os, f
"""


def container_launcher() -> str:
    code = _LAUNCHER.replace("def launch():\n", "def launch():\n" + _PRELUDE, 1)
    assert code != _LAUNCHER, "the launcher's code changed: its prelude has nowhere to go"
    return code


def pool_key(spec: Mapping[str, Any], config: Mapping[str, Any]) -> Key | None:
    """Which pool a Docker notebook job's kernel can come from, or None (it starts a fresh container).
    Asks the engine whether the image is built (never builds: the job does, and its environment's next
    jobs find it built)."""
    if spec.get("kind") != "notebook" or str(spec.get("kernel_name") or "python3") != "python3":
        return None
    if any(d.get("read_only") for d in spec.get("inputs") or []):
        return None  # its read-only inputs are mounts of their own
    network = str(config.get("network_mode") or "bridge")
    host = str(config.get("docker_host") or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST)
    if network not in POOLED_NETWORKS or not host.startswith("unix://"):
        return None
    environment = spec.get("environment")
    definition = environment.get("definition") if environment else Environment("mlws-runtime").definition()
    if not isinstance(definition, Mapping):
        return None
    client = engine(config)
    try:
        image = built_image(definition, config, client)
    finally:
        client.close()
    if image is None:
        return None
    described = {
        "image": image,
        "docker_host": host,
        "network_mode": network,
        "settings": {k: config.get(k) for k in _SETTINGS_IN_KEY if config.get(k) is not None},
    }
    return (KEY_PREFIX + json.dumps(described, sort_keys=True), "python3")


def is_container_key(key: Key) -> bool:
    return key[0].startswith(KEY_PREFIX)


def key_settings(key: Key) -> dict[str, Any]:
    """What :func:`pool_key` put in the key: the image id, the engine, the network, the limits."""
    return dict(json.loads(key[0][len(KEY_PREFIX) :]))


@dataclass
class ContainerKernel(PooledKernel):
    """A pooled kernel in a container of its own: ``pid`` is its init process's (on this machine)."""

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

    def launch_environment(self, timeout: float = 30.0) -> dict[str, str] | None:
        """What the kernel's process started with (written by its launcher), or None if it is not there
        within ``timeout`` (the kernel died, or never started)."""
        path = self.api / LAUNCH_ENV
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
                if path.is_symlink() or not isinstance(found, dict):
                    return None
                return {str(k): str(v) for k, v in found.items()}
            except (OSError, ValueError):
                if not self.alive() or time.monotonic() >= deadline:
                    return None
                time.sleep(0.02)

    def release(self) -> None:
        """In the agent: the container goes (and with it the kernel), then the slot's folders."""
        super().release()
        remove_leftover({"container": self.container_id, "docker_host": self.docker_host, "slot": self.slot})

    def state(self) -> dict[str, Any]:
        return {**super().state(), "container": self.container_id, "docker_host": self.docker_host, "slot": self.slot}


def remove_leftover(entry: Mapping[str, Any]) -> None:
    """Remove a pooled kernel's container and slot folder (as :meth:`ContainerKernel.state` names them);
    best effort: gone already is fine."""
    container = entry.get("container")
    if isinstance(container, str) and container:
        with contextlib.suppress(Exception):
            client = engine({"docker_host": entry.get("docker_host") or None})
            try:
                client.api.remove_container(container, force=True)
            finally:
                client.close()
    slot = entry.get("slot")
    if isinstance(slot, str) and Path(slot).name.startswith(SLOT_PREFIX):
        shutil.rmtree(slot, ignore_errors=True)


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start_container_kernel(key: Key, pool_folder: Path) -> ContainerKernel:
    """Create and start one slot's container for ``key`` (see the module's docstring)."""
    import docker

    settings = key_settings(key)
    network = str(settings["network_mode"])
    slot = make_channel_folder(SLOT_PREFIX)
    try:
        for name in ("work", "logs", "api"):
            (slot / name).mkdir(mode=0o700)
        connection: dict[str, Any] = {
            "transport": "tcp",
            "key": secrets.token_hex(32),
            "signature_scheme": "hmac-sha256",
        }
        if network == "host":
            ports = dict(zip(_CHANNELS, _free_ports(len(_CHANNELS)), strict=True))
            inner = {**connection, "ip": "127.0.0.1", **{f"{c}_port": p for c, p in ports.items()}}
            published: dict[str, Any] = {}
        else:
            inner = {**connection, "ip": "0.0.0.0", **{f"{c}_port": p for c, p in _INNER_PORTS.items()}}  # noqa: S104 - its own namespace
            published = {f"{p}/tcp": ("127.0.0.1", None) for p in _INNER_PORTS.values()}
        fd = os.open(slot / "api" / CONNECTION_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(inner, f)
        mounts = [
            docker.types.Mount(str(slot / "work"), str(slot / "work"), type="bind"),
            docker.types.Mount(str(slot / "logs"), str(slot / "logs"), type="bind"),
            docker.types.Mount(API_MOUNT, str(slot / "api"), type="bind"),
            docker.types.Mount(f"{PACKAGE_MOUNT}/jupyter_mlws", str(package_dir()), type="bind", read_only=True),
        ]
        # `$0` of the shell names the pool: the init process's command line tells an agent's kernels.
        command = [
            "/bin/sh",
            "-c",
            f'exec "$@" >>{API_MOUNT}/{KERNEL_LOG} 2>&1',
            str(pool_folder),
            IMAGE_PYTHON,
            "-c",
            container_launcher(),
            "-f",
            f"{API_MOUNT}/{CONNECTION_FILE}",
        ]
        client = engine({"docker_host": settings["docker_host"]})
        try:
            container = client.containers.create(
                str(settings["image"]),
                command,
                working_dir=NEUTRAL_CWD,
                environment={**CONTAINER_VARIABLES, "PYTHONUNBUFFERED": "1"},
                labels={POOL_LABEL: str(pool_folder)},
                mounts=mounts,
                user=f"{os.getuid()}:{os.getgid()}",
                init=True,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                network_mode=network,
                ports=published or None,
                **container_options(settings["settings"]),
            )
            try:
                container.start()
                container.reload()
                pid = int(container.attrs.get("State", {}).get("Pid") or 0)
                if not pid:
                    raise RuntimeError("the kernel's container stopped as it started")
                if published:
                    bound = container.attrs["NetworkSettings"]["Ports"]
                    ports = {c: int(bound[f"{p}/tcp"][0]["HostPort"]) for c, p in _INNER_PORTS.items()}
            except BaseException:
                container.remove(force=True)
                raise
        finally:
            client.close()
    except BaseException:
        shutil.rmtree(slot, ignore_errors=True)
        raise
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    outer = {**connection, "ip": "127.0.0.1", **{f"{c}_port": p for c, p in ports.items()}}
    return ContainerKernel(
        key=key,
        pid=pid,
        pidfd=pidfd,
        connection=outer,
        connection_file=str(slot / "api" / CONNECTION_FILE),
        log_file=str(slot / "api" / KERNEL_LOG),
        neutral_cwd=NEUTRAL_CWD,
        launch_env={},  # read when a job takes it: see launch_environment
        spec_env={},
        container_id=str(container.id),
        docker_host=str(settings["docker_host"]),
        slot=str(slot),
    )
