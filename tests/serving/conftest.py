"""Fixtures for the scoring worker's tests: a stand-in for the supervisor's side of the contract
(notes/serving.md) — a listening socket, a control socket that hands it to workers by SCM_RIGHTS and
hears their events — and a small HTTP client.

Workers are real processes (``python -m jupyter_mlws.serving.worker``) serving real sockets.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.docker import engine  # noqa: F401 - the Docker engine's session fixture

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0  # generous upper bound on a loaded 2-core machine


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    conn: http.client.HTTPConnection | None = None,
) -> Reply:
    """One request; ``body`` bytes/str go as they are, anything else as JSON."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        if body is not None and not isinstance(body, bytes | str):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        if own:
            conn.close()


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    control: socket.socket | None
    event: dict[str, Any]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.control is not None:
            self.control.close()


@dataclass
class Supervisor:
    """The supervisor's half of the contract: one listening socket, one control socket."""

    root: Path
    listener: socket.socket = field(init=False)
    control_path: Path = field(init=False)
    _control: socket.socket = field(init=False)
    workers: list[Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port: int = self.listener.getsockname()[1]
        self.control_path = self.root / "control.sock"
        self._control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._control.bind(str(self.control_path))
        self._control.listen(8)
        self._control.settimeout(TIMEOUT)

    def start(self, config: dict[str, Any], name: str = "worker") -> Worker:
        """Start a worker on ``config``, hand it the listening socket, wait for its first event."""
        config_path = self.root / f"{name}-config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        log = self.root / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jupyter_mlws.serving.worker",
                    "--config",
                    str(config_path),
                    "--control",
                    str(self.control_path),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
            )
        try:
            conn, _ = self._control.accept()
        except TimeoutError:
            proc.kill()
            raise AssertionError(f"the worker never connected:\n{log.read_text()}") from None
        conn.settimeout(TIMEOUT)
        with contextlib.suppress(OSError):  # a worker that failed may have gone already
            socket.send_fds(conn, [b"L"], [self.listener.fileno()])
        line = b""
        while not line.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            line += chunk
        event = json.loads(line) if line.strip() else {"event": "eof"}
        worker = Worker(proc, conn, event, log)
        self.workers.append(worker)
        if event.get("event") != "ready":
            conn.close()
            worker.control = None
        return worker

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.listener.close()
        self._control.close()


@pytest.fixture(scope="module")
def make_supervisor() -> Iterator[Callable[[str], Supervisor]]:
    """Supervisors (one listening socket each) for the module's services, closed at its end."""
    # A short folder of its own: Unix socket paths are limited to ~100 characters.
    root = Path(tempfile.mkdtemp(prefix="mlws-serving-"))
    made: list[Supervisor] = []

    def make(name: str) -> Supervisor:
        folder = root / name
        folder.mkdir()
        made.append(Supervisor(folder))
        return made[-1]

    try:
        yield make
    finally:
        for sup in made:
            sup.close()
        shutil.rmtree(root, ignore_errors=True)


def worker_config(root: Path, name: str, **overrides: Any) -> dict[str, Any]:
    """A config.json as the deployer writes it (notes/serving.md), in ``root/name``."""
    base = root / name
    (base / "source").mkdir(parents=True, exist_ok=True)
    (base / "models").mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "service": name,
        "generation": 1,
        "entry_script": "score.py",
        "source_dir": str(base / "source"),
        "model_dir": str(base / "models"),
        "models": ["m:1"],
        "auth": False,
        "keys_file": str(base / "keys.json"),
        "max_request_bytes": 33554432,
        "request_timeout_s": 60.0,
        "telemetry_dir": str(base / "telemetry"),
        "capture_dir": None,
        "capture_sample_rate": 1.0,
        "environment_variables": {},
    }
    config.update(overrides)
    return config
