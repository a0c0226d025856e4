"""The room for the ``dask`` compute target (issue 19): not a plug-in yet. Nothing here registers
one, and the registry lists no ``dask`` type until it exists.

What goes here: ``DaskCompute(ComputeBackend)``, registered under the name ``dask`` (built in next to
``local`` and ``docker`` in ``core.compute.compute_target_types``, or through the
``jupyter_mlws.compute_targets`` entry point), with settings such as the scheduler address. Its
``submit`` hands the run to a Dask cluster, whose worker runs a :class:`~.lifecycle.JobExecution`
reporting through :class:`~.supervision.StoreReporter`; its ``reconcile`` checks its jobs' health
(Dagster's ``check_run_worker_health`` shape) from the cluster's view of its futures, and its
``abandon`` cancels them. It imports ``dask``/``distributed`` only inside its methods, so that
``import jupyter_mlws`` stays light and a missing ``jupyter-mlws[dask]`` is a clear error when used.
Like the rest of ``compute/``, it uses core's interfaces and never the stores or the adapters.
"""

from __future__ import annotations

__all__: list[str] = []
