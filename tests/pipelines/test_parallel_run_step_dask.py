"""A ParallelRunStep on the dask target (issue 19): the step's job is a Dask task on a real cluster
(``dask scheduler`` + 2 workers) and its mini-batches fan out through the cluster's executor, each
still a child run with its own metrics and model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_mlws import ComputeTarget, DaskCompute, Dataset, Model, ParallelRunConfig, ParallelRunStep, Pipeline
from jupyter_mlws.compute import dask as dask_target
from tests.pipelines.conftest import PipeKit
from tests.support.dask_cluster import dask_cluster  # noqa: F401 - the module's cluster

TRAIN = """
from jupyter_mlws import Run

def init():
    pass

def run(mini_batch):
    store = str(mini_batch["store"].iloc[0])
    run = Run.get_context()
    mean = float(mini_batch["sales"].mean())
    run.log("mean", mean)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"mean-{os.getpid()}-{store}.json"
    path.write_text(json.dumps({"mean": mean}))
    run.upload_file("outputs/model.json", str(path))
    path.unlink()  # stored: not left in the temporary folder
    run.register_model(f"dask-sales-{store}", "outputs/model.json", tags={"store": store})
    return [[store, mean, os.getpid()]]
"""


@pytest.fixture
def cluster(pk: PipeKit, dask_cluster: Any) -> Iterator[str]:  # noqa: F811 - the fixture
    ComputeTarget.attach(pk.ws, "cluster", DaskCompute.attach_configuration(dask_cluster.address))
    yield "cluster"
    dask_target.close_clients()


def test_many_models_on_the_cluster(pk: PipeKit, cluster: str) -> None:
    table = pk.root / "sales.csv"
    rows = [f"{store},{week},{store + week}" for store in range(1, 13) for week in range(3)]
    table.write_text("store,week,sales\n" + "\n".join(rows) + "\n")
    pk.script("train.py", TRAIN)
    config = ParallelRunConfig(
        source_directory=str(pk.src),
        entry_script="train.py",
        error_threshold=0,
        output_action="append_row",
        compute_target=cluster,
        partition_keys=["store"],
        node_count=2,
        process_count_per_node=1,
    )
    sales = Dataset.Tabular.from_delimited_files(str(table)).as_named_input("sales")
    run = pk.exp.submit(Pipeline(pk.ws, [ParallelRunStep("dask-models", config, inputs=[sales])]))
    assert run.wait_for_completion(show_output=False) == "Completed"
    (step,) = run.find_step_run("dask-models")
    assert step.get_details()["target"] == cluster
    assert step.get_properties()["mlws.parallel.succeeded"] == "12"
    children = {c.tags["store"]: c for c in step.get_children()}
    assert len(children) == 12 and {c.status for c in children.values()} == {"Completed"}
    assert children["7"].get_metrics()["mean"] == 8.0
    (model,) = Model.list(pk.ws, tags=[["store", "7"]])
    assert model.run_id == children["7"].id
    step.download_file("outputs/parallel_run_step.txt", str(pk.root / "rows.txt"))
    lines = (pk.root / "rows.txt").read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [[str(s), f"{s + 1}.0"] for s in range(1, 13)]
