"""A real Dask cluster on this machine for trying the ``dask`` target out (``mlws dask local``) and for
the tests: one ``dask scheduler`` process and ``workers`` ``dask worker`` processes (each with its
nanny, which restarts a worker that dies), on loopback. Each is its own process group, stopped by
process id. This is Dask's own command line, not a home-made scheduler.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import BackendUnavailableError

__all__ = ["LocalDaskCluster"]

START_TIMEOUT_S = 60.0


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _has_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401 - the dashboard needs it
    except ImportError:
        return False
    return True


class LocalDaskCluster:
    """``dask scheduler`` + ``workers`` times ``dask worker`` on ``host``; ``address`` and
    ``dashboard_url`` once started. ``env`` adds to the processes' environment (e.g. Dask's
    ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES``)."""

    def __init__(
        self,
        workers: int = 2,
        threads_per_worker: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        env: Mapping[str, str] | None = None,
        dashboard: bool = True,
        worker_wrapper: Sequence[str] = (),
        memory_limit: str | None = None,
    ) -> None:
        if workers < 1 or threads_per_worker < 1:
            raise ValueError("a local Dask cluster needs at least one worker with one thread")
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self.host = host
        self.port = port or _free_port(host)
        self.env = {**os.environ, **(env or {})}
        self.dashboard = dashboard and _has_dashboard()
        self.memory_limit = memory_limit  # per worker, as `dask worker --memory-limit` takes it ("1GiB")
        self.worker_wrapper = list(worker_wrapper)  # an argv prefix for the workers (e.g. another namespace)
        self.address = f"tcp://{host}:{self.port}"
        self.dashboard_url: str | None = None
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.worker_processes: list[subprocess.Popen[bytes]] = []
        self._folder = Path(tempfile.mkdtemp(prefix="mlws-dask-"))

    def __enter__(self) -> LocalDaskCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        with open(self._folder / log, "ab") as out:
            return subprocess.Popen(
                argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self) -> LocalDaskCluster:
        scheduler_file = self._folder / "scheduler.json"
        argv = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", self.host, "--port", str(self.port)]
        argv += ["--scheduler-file", str(scheduler_file)]
        if self.dashboard:
            argv += ["--dashboard-address", f"{self.host}:{_free_port(self.host)}"]
        else:
            argv += ["--no-dashboard"]
        self.scheduler = self._spawn(argv, "scheduler.log")
        try:
            self._wait_for(lambda: scheduler_file.is_file() and scheduler_file.stat().st_size > 0, "the scheduler")
            info = json.loads(scheduler_file.read_text(encoding="utf-8"))
            self.address = str(info["address"])
            port = (info.get("services") or {}).get("dashboard")
            if self.dashboard and port:
                self.dashboard_url = f"http://{self.host}:{port}/status"
            for i in range(self.workers):
                worker = [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--host", self.host]
                worker += ["--nthreads", str(self.threads_per_worker), "--name", f"worker-{i}", "--no-dashboard"]
                if self.memory_limit is not None:
                    worker += ["--memory-limit", self.memory_limit]
                self.worker_processes.append(self._spawn([*self.worker_wrapper, *worker], f"worker-{i}.log"))
            self._wait_for(lambda: self._worker_count() >= self.workers, f"{self.workers} worker(s)")
        except BaseException:
            self.stop()
            raise
        return self

    def _worker_count(self) -> int:
        import distributed

        client: Any = distributed.Client
        with client(self.address, timeout=5, set_as_default=False) as connected:
            return len(connected.scheduler_info(n_workers=-1)["workers"])

    def _wait_for(self, ready: object, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for proc in (self.scheduler, *self.worker_processes):
                if proc is not None and proc.poll() is not None:
                    raise BackendUnavailableError(f"{what} of the local Dask cluster exited: {self.log_tail()}")
            with contextlib.suppress(Exception):
                if callable(ready) and ready():
                    return
            time.sleep(0.2)
        raise BackendUnavailableError(f"{what} of the local Dask cluster did not start within {START_TIMEOUT_S:.0f} s")

    def log_tail(self, lines: int = 20) -> str:
        out = []
        for log in sorted(self._folder.glob("*.log")):
            text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self) -> None:
        from .dask import close_clients

        close_clients(self.address)  # this process's clients of the cluster: not left reconnecting
        for proc in (*self.worker_processes, self.scheduler):
            if proc is None or proc.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in (*self.worker_processes, self.scheduler):
            if proc is None:
                continue
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.worker_processes = []
        self.scheduler = None
        shutil.rmtree(self._folder, ignore_errors=True)  # the scheduler file and the processes' logs
