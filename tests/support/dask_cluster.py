"""A real Dask cluster for the tests: ``dask scheduler`` + ``dask worker`` processes on loopback
(:class:`jupyter_mlws.compute.dask_cluster.LocalDaskCluster`), and a worker that stands for another
machine: in its own mount, UTS and pid namespaces (another host name, so another host identity) with
the given folders hidden under empty tmpfs mounts, so it shares nothing with the test but the network.

For the surfaces that show a cluster (``mlws compute show``, ``GET computes/{name}``, the sidebar):
``shown_cluster()``, with its dashboard and workers of a known size, and ``unreachable_address()``."""

from __future__ import annotations

import contextlib
import shlex
import shutil
import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from jupyter_mlws.compute.dask_cluster import LocalDaskCluster


def elsewhere_wrapper(hide: Sequence[Path], hostname: str = "elsewhere") -> list[str]:
    """An argv prefix that runs a command as if on another machine (root and util-linux's unshare)."""
    if shutil.which("unshare") is None:
        pytest.fail("util-linux's `unshare` is needed to stand a worker on another machine")
    mounts = "; ".join(f"mount -t tmpfs none {shlex.quote(str(p))}" for p in hide)
    script = f'{mounts}; hostname {shlex.quote(hostname)}; exec "$@"'
    return ["unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc", "sh", "-c", script, "sh"]


WORKER_MEMORY = "1GiB"
WORKER_MEMORY_BYTES = 2**30


@contextlib.contextmanager
def shown_cluster() -> Iterator[LocalDaskCluster]:
    """Two one-thread workers of 1 GiB each (``worker-0``, ``worker-1``) and the scheduler's dashboard,
    for a ``with`` block (a test module's fixture: one cluster per module)."""
    with LocalDaskCluster(workers=2, threads_per_worker=1, dashboard=True, memory_limit=WORKER_MEMORY) as cluster:
        if cluster.dashboard_url is None:
            pytest.fail("the Dask dashboard needs bokeh: pip install 'jupyter-mlws[dask]'")
        yield cluster


def unreachable_address() -> str:
    """A scheduler address on loopback where nothing listens (a port freed just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[LocalDaskCluster]:
    with LocalDaskCluster(workers=2, threads_per_worker=1, dashboard=False) as cluster:
        yield cluster


def start_cluster(
    workers: int = 1, env: Mapping[str, str] | None = None, worker_wrapper: Sequence[str] = ()
) -> LocalDaskCluster:
    return LocalDaskCluster(
        workers=workers, threads_per_worker=1, env=env, dashboard=False, worker_wrapper=worker_wrapper
    ).start()
