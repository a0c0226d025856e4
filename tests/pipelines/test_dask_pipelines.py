"""Pipelines on the dask target: steps are Dask tasks on a real cluster (``dask scheduler`` + 2 workers),
their data handed from step to step through the artifact store as on any target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import ComputeTarget, DaskCompute, Pipeline, PipelineData, PythonScriptStep
from jupyter_mlws.compute import dask as dask_target
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from tests.pipelines.conftest import PipeKit
from tests.support.dask_cluster import dask_cluster  # noqa: F401 - the module's cluster


@pytest.fixture
def cluster(pk: PipeKit, dask_cluster: LocalDaskCluster) -> Iterator[str]:  # noqa: F811 - the fixture
    ComputeTarget.attach(pk.ws, "cluster", DaskCompute.attach_configuration(dask_cluster.address))
    yield "cluster"
    dask_target.close_clients()


def test_a_pipelines_steps_run_on_the_cluster_and_pass_data(pk: PipeKit, cluster: str) -> None:
    pk.script("make.py", "Path(sys.argv[1], 'numbers.txt').write_text('1 2 3 4')\n", folder=pk.src / "make")
    pk.script(
        "total.py",
        """
        from jupyter_mlws import Run
        total = sum(int(n) for n in Path(sys.argv[1], 'numbers.txt').read_text().split())
        Run.get_context().log("total", total)
        print("total", total, "on", os.getpid())
        """,
        folder=pk.src / "total",
    )
    numbers = PipelineData("numbers")
    make = PythonScriptStep(
        "make.py",
        name="make",
        arguments=[numbers],
        outputs=[numbers],
        compute_target=cluster,
        source_directory=pk.src / "make",
    )
    total = PythonScriptStep(
        "total.py", name="total", arguments=[numbers], compute_target=cluster, source_directory=pk.src / "total"
    )
    run = pk.exp.submit(Pipeline(pk.ws, [make, total]))
    assert run.wait_for_completion(show_output=False) == "Completed"
    step = run.find_step_run("total")[0]
    assert step.get_metrics() == {"total": 10}
    assert step.get_details()["target"] == cluster
    record = pk.ws.metadata.get_run(step.id)
    assert record.supervisor_pid is not None and Path(f"/proc/{record.supervisor_pid}").exists()  # a live worker
