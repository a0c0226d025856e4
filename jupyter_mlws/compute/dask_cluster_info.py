"""What a Dask cluster looks like from its scheduler (issue 19, "Surfaces"): its address, its
dashboard and its workers, for the sidebar's Compute section, ``mlws compute show`` and
``GET computes/{name}``. ``DaskCompute.describe()`` answers with :func:`describe_cluster`.

``distributed`` is imported inside the function, so that this module stays light and a missing
``jupyter-mlws[dask]`` is a clear error when a cluster is described.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import BackendUnavailableError, InvalidArgumentError

__all__ = ["describe_cluster"]


def _missing_dask() -> BackendUnavailableError:
    return BackendUnavailableError(
        "describing a Dask cluster needs the 'distributed' package: pip install 'jupyter-mlws[dask]'"
    )


def _worker(address: str, info: Mapping[str, Any]) -> dict[str, Any]:
    metrics = info.get("metrics") or {}
    # Recent ``distributed`` counts tasks by state under ``task_counts``; older ones said ``executing``.
    executing = (metrics.get("task_counts") or {}).get("executing", metrics.get("executing"))
    return {
        "address": address,
        "name": str(info.get("name", address)),
        "host": info.get("host"),
        "nthreads": int(info.get("nthreads") or 0),
        "memory_limit": int(info["memory_limit"]) if info.get("memory_limit") else None,
        "executing": int(executing or 0),
    }


def describe_cluster(config: Mapping[str, Any], timeout: float = 2.0) -> dict[str, Any]:
    """The cluster at ``config["scheduler_address"]``: ``{"scheduler", "dashboard", "workers"}``.

    ``dashboard`` is ``config["dashboard_url"]`` when set (a cluster behind a proxy knows its
    public URL best), else the scheduler's own dashboard link, else ``None``. Each worker is
    ``{"address", "name", "host", "nthreads", "memory_limit", "executing"}`` (``memory_limit`` in
    bytes or ``None``; ``executing``: tasks running on it now), sorted by name. A scheduler that
    does not answer within ``timeout`` seconds raises :class:`BackendUnavailableError` naming it.
    """
    address = config.get("scheduler_address")
    if not isinstance(address, str) or not address:
        raise InvalidArgumentError("a Dask target needs 'scheduler_address', e.g. 'tcp://127.0.0.1:8786'")
    try:
        from distributed import Client
    except ImportError:
        raise _missing_dask() from None

    try:
        client = Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise BackendUnavailableError(f"the Dask scheduler at {address} does not answer: {exc}") from None
    try:
        info = client.scheduler_info(n_workers=-1)
        dashboard = config.get("dashboard_url") or (client.dashboard_link if info.get("services") else None)
    finally:
        client.close(timeout=timeout)  # type: ignore[no-untyped-call]
    workers = [_worker(addr, worker) for addr, worker in (info.get("workers") or {}).items()]
    workers.sort(key=lambda w: (w["name"], w["address"]))
    return {"scheduler": address, "dashboard": dashboard or None, "workers": workers}
