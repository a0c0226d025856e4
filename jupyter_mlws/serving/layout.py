"""Where a web service keeps its files, and the small JSON files the processes share.

Standard library only: the supervisor (``supervisor.py``) imports this and nothing heavier, so a
service's resident memory stays its worker's. Everything lives in ``<workspace>/.mlws/services/<name>/``:

- ``service.json``: what should run (the deployer writes it; the supervisor re-reads it on SIGHUP);
- ``keys.json`` (0600): the primary and secondary keys (workers re-read it when it changes);
- ``gen-<N>/``: one deployment, immutable once written (``models/``, ``source/``, ``config.json``);
- ``state.json``: what runs (the supervisor writes it: state, generation, port, pid, error, update);
- ``logs/service.log``: the build, supervisor and worker output;
- ``telemetry/``, ``capture/``: what the workers record (see ``telemetry.py``, ``capture.py``);
- ``run/control.sock``: where a starting worker receives the listening socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "ServiceFolder",
    "process_start",
    "read_json",
    "service_environments",
    "unix_address",
    "write_json",
]

SERVICES_FOLDER = "services"
MAX_LOG_BYTES = 10 << 20  # the service log is copied to service.log.1 and emptied beyond this


def write_json(path: Path, data: Any, mode: int = 0o644) -> None:
    """Write ``data`` atomically (a reader sees the old file or the new one, never half of one)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    """The file's object, or None when it is missing or (being replaced on a file system without
    atomic rename) not readable as JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


_SUN_PATH_MAX = 107  # sun_path holds 108 bytes with its terminating NUL


@contextlib.contextmanager
def unix_address(path: str | os.PathLike[str]) -> Iterator[str]:
    """An address for the Unix socket at ``path`` that fits in sun_path: the path itself, or when it
    is too long (a workspace deep in a home folder) ``/proc/self/fd/<fd>/<name>`` through a descriptor
    of its folder, which Linux resolves as the path (no ``chdir``: it would move every thread)."""
    path = os.fspath(path)
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield path
        return
    fd = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{os.path.basename(path)}"
    finally:
        os.close(fd)


def process_start(pid: int) -> int | None:
    """Process ``pid``'s start time in clock ticks after boot (``/proc/<pid>/stat`` field 22), None
    when there is no such process or it is a zombie. With ``pid`` it names one process for good."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _last_lines(path: Path, count: int) -> list[str]:
    """The last ``count`` lines of a file, reading from its end (a log of megabytes is not read whole
    for a page's tail)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            chunk = 64 << 10
            while True:
                start = max(0, size - chunk)
                f.seek(start)
                data = f.read(size - start)
                if start == 0 or data.count(b"\n") > count:
                    break
                chunk *= 4
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").splitlines(keepends=True)
    if start > 0:
        lines = lines[1:]  # the first may be cut
    return lines[-count:] if count > 0 else []


def service_environments(workspace_path: Path) -> set[str]:
    """The environments this workspace's web services run on: each service's interpreter (a venv's
    ``bin/python``) and image. ``mlws gc`` keeps them, running or not: a stopped service restarts on
    them without building again."""
    found: set[str] = set()
    services = workspace_path / SERVICES_FOLDER
    if not services.is_dir():
        return found
    for folder in services.iterdir():
        service = read_json(folder / "service.json") or {}
        docker = service.get("docker")
        for value in (service.get("python"), docker.get("image") if isinstance(docker, dict) else None):
            if isinstance(value, str) and value:
                found.add(value)
    return found


class ServiceFolder:
    """The files of one service."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, workspace_path: Path, name: str) -> ServiceFolder:
        return cls(workspace_path / SERVICES_FOLDER / name)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def service_file(self) -> Path:
        return self.root / "service.json"

    @property
    def keys_file(self) -> Path:
        return self.root / "keys.json"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / "service.log"

    @property
    def telemetry_dir(self) -> Path:
        return self.root / "telemetry"

    @property
    def capture_dir(self) -> Path:
        return self.root / "capture"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def control_socket(self) -> Path:
        return self.run_dir / "control.sock"

    @property
    def lock_file(self) -> Path:
        return self.run_dir / "supervisor.lock"

    def generation_dir(self, generation: int) -> Path:
        return self.root / f"gen-{generation}"

    def create(self) -> None:
        for folder in (self.root, self.log_file.parent, self.telemetry_dir, self.capture_dir, self.run_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o700)

    def service(self) -> dict[str, Any]:
        return read_json(self.service_file) or {}

    def state(self) -> dict[str, Any]:
        return read_json(self.state_file) or {}

    def supervisor_alive(self) -> bool:
        """Whether the supervisor named in ``state.json`` still runs (the same process, not a reuse
        of its pid)."""
        state = self.state()
        pid, started = state.get("pid"), state.get("pid_start")
        if not isinstance(pid, int):
            return False
        now = process_start(pid)
        return now is not None and (started is None or now == started)

    def log_tail(self, num_lines: int) -> str:
        """The last ``num_lines`` lines of the service log (the rotated part included when needed)."""
        lines: list[str] = []
        for path in (self.log_file, self.log_file.with_name("service.log.1")):
            if len(lines) >= num_lines:
                break
            lines = _last_lines(path, num_lines - len(lines)) + lines
        return "".join(lines[-num_lines:]) if num_lines > 0 else ""
