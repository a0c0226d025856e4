"""A real Dask cluster on loopback for the surface tests (issue 19): a ``dask scheduler`` process and
``dask worker`` processes, each in its own process group, stopped by process id.

Interim: the lead's ``jupyter_mlws.compute.dask_cluster.LocalDaskCluster`` does the same for users
(``mlws dask local``); once it is on main these tests can use it and this module can go.

``DescribedDask`` is a test-only compute backend under the type name ``dask`` that only describes its
cluster (``describe_cluster``): it stands in for the lead's ``DaskCompute`` until that type is
registered, so that a target record of type ``dask`` can be attached and shown.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlws.core.interfaces.compute import ComputeBackend
from jupyter_mlws.errors import InvalidArgumentError

DASK = str(Path(sys.executable).with_name("dask"))
START_TIMEOUT_S = 60.0


@dataclass
class DaskProcs:
    address: str
    dashboard_url: str | None
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        """Workers first (a scheduler gone first leaves them retrying), then the scheduler."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for_workers(address: str, count: int, deadline: float) -> None:
    from distributed import Client

    with Client(address, timeout=max(1.0, deadline - time.monotonic())) as client:
        client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))


@contextlib.contextmanager
def dask_procs(folder: Path, workers: int = 2, dashboard: bool = True) -> Iterator[DaskProcs]:
    """A scheduler (with its dashboard on a free loopback port, or none) and ``workers`` one-thread
    workers named ``w0``, ``w1``, …, ready when the ``with`` block starts."""
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "scheduler.json"
    argv = [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info)]
    argv += ["--dashboard-address", "127.0.0.1:0"] if dashboard else ["--no-dashboard"]
    cluster = DaskProcs(address="", dashboard_url=None)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        scheduler = _spawn(argv, folder / "scheduler.log")
        cluster.procs.append(scheduler)
        while not info.exists() or not info.read_text().strip():
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start:\n{(folder / 'scheduler.log').read_text()[-2000:]}")
            time.sleep(0.1)
        while True:  # the file may be caught half-written
            with contextlib.suppress(json.JSONDecodeError):
                details = json.loads(info.read_text())
                break
            time.sleep(0.05)
        cluster.address = details["address"]
        port = details.get("services", {}).get("dashboard")
        cluster.dashboard_url = f"http://127.0.0.1:{port}/status" if dashboard and port else None
        for index in range(workers):
            worker = [DASK, "worker", cluster.address, "--name", f"w{index}", "--nthreads", "1"]
            worker += ["--no-dashboard", "--no-nanny", "--memory-limit", "1GiB", "--host", "127.0.0.1"]
            cluster.procs.append(_spawn(worker, folder / f"worker{index}.log"))
        if workers:
            _wait_for_workers(cluster.address, workers, deadline)
        yield cluster
    finally:
        cluster.stop()


class DescribedDask(ComputeBackend):
    """Test-only: a ``dask`` target that describes its cluster and runs nothing."""

    type = "dask"

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(config.get("scheduler_address"), str):
            raise InvalidArgumentError("a dask target needs 'scheduler_address', e.g. 'tcp://127.0.0.1:8786'")
        return cls.merged_config(config, ("scheduler_address", "dashboard_url"))

    def submit(self, run_id: str) -> None:
        raise InvalidArgumentError("the test-only dask target runs nothing")

    def describe(self) -> dict[str, Any]:
        from jupyter_mlws.compute.dask_cluster_info import describe_cluster

        return describe_cluster(self.config)


@contextlib.contextmanager
def described_dask_registered() -> Iterator[None]:
    """:class:`DescribedDask` as the ``dask`` type in this process for a ``with`` block, unless a real
    ``dask`` type exists (then that one is used); the registry is as before afterwards."""
    from jupyter_mlws.core.compute import compute_target_types

    if "dask" in compute_target_types.names():
        yield
        return
    compute_target_types.register("dask", DescribedDask)
    try:
        yield
    finally:
        # The registry has no way to forget a name: a test may reach into it.
        compute_target_types._specs.pop("dask", None)
        compute_target_types._loaded.pop("dask", None)
