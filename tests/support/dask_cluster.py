"""A real Dask cluster for the tests: ``dask scheduler`` + ``dask worker`` processes on loopback
(:class:`jupyter_mlws.compute.dask_cluster.LocalDaskCluster`), and a worker that stands for another
machine: in its own mount, UTS and pid namespaces (another host name, so another host identity) with
the given folders hidden under empty tmpfs mounts, so it shares nothing with the test but the network."""

from __future__ import annotations

import shlex
import shutil
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
