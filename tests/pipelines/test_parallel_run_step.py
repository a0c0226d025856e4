"""Many models with ParallelRunStep (issue 19), for real on the local target: the step is a job of
the workspace's agent; its runner fans the mini-batches out to a process pool; each partition is a
child run that trains and registers its own model.

200 stores of a small synthetic sales table (a scikit-learn LinearRegression each), 10 of them
failing on purpose: at error_threshold=10 the step completes (190 children Completed, 10 Failed with
their errors, 190 rows in the append_row file); at error_threshold=5 it fails with the reason. A file
dataset split by mini_batch_size; v1's argument checks; the context run scoping.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jupyter_mlws import (
    Dataset,
    Model,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PipelineData,
    Run,
)
from jupyter_mlws.core.runs import context_run
from jupyter_mlws.errors import InvalidArgumentError
from tests.pipelines.conftest import PipeKit

STORES = 200
FAILING = [1003, 1021, 1043, 1060, 1077, 1099, 1120, 1150, 1170, 1199]
assert len(FAILING) == 10 and 1042 not in FAILING

TRAIN = """
import pandas as pd
from sklearn.linear_model import LinearRegression
from jupyter_mlws import Run

FAILING = set()

def init():
    global FAILING
    FAILING = set(json.loads(os.environ["FAILING_STORES"]))

def run(mini_batch):
    store = int(mini_batch["store"].iloc[0])
    if store in FAILING:
        raise ValueError(f"store {store} has no usable history")
    model = LinearRegression().fit(mini_batch[["week"]], mini_batch["sales"])
    run = Run.get_context()
    run.log("slope", float(model.coef_[0]))
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"model-{os.getpid()}-{store}.json"
    path.write_text(json.dumps({"coef": float(model.coef_[0]), "intercept": float(model.intercept_)}))
    run.upload_file("outputs/model.json", str(path))
    path.unlink()  # stored: not left in the temporary folder
    run.register_model(f"sales-{store}", "outputs/model.json", tags={"store": str(store)})
    return pd.DataFrame({"store": [store], "slope": [round(float(model.coef_[0]), 3)]})
"""

COUNT_FILES = """
def init():
    pass

def run(mini_batch):
    return [[Path(p).name, Path(p).stat().st_size] for p in mini_batch]
"""


def sales_table(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["store,week,sales"]
    for store in range(1000, 1000 + STORES):
        for week in range(5):
            lines.append(f"{store},{week},{100 + (store % 7) * week + week * week}")
    path = folder / "sales.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def many_models(pk: PipeKit, threshold: int, output: PipelineData | None) -> Pipeline:
    pk.script("train.py", TRAIN)
    sales = Dataset.Tabular.from_delimited_files(str(sales_table(pk.root / "data")))
    config = ParallelRunConfig(
        source_directory=str(pk.src),
        entry_script="train.py",
        error_threshold=threshold,
        output_action="append_row",
        compute_target="local",
        environment=None,
        node_count=1,
        process_count_per_node=2,
        partition_keys=["store"],
        environment_variables={"FAILING_STORES": json.dumps(FAILING)},
        run_max_try=1,
    )
    step = ParallelRunStep(
        name="many-models",
        parallel_run_config=config,
        inputs=[sales.as_named_input("sales")],
        output=output,
    )
    return Pipeline(pk.ws, steps=[step])


def test_many_models_complete_at_the_error_threshold(pk: PipeKit) -> None:
    scores = PipelineData("scores")
    run = pk.exp.submit(many_models(pk, threshold=10, output=scores))
    assert run.wait_for_completion(show_output=False) == "Completed"
    (step,) = run.find_step_run("many-models")
    assert step.status == "Completed"

    properties = step.get_properties()
    assert properties["mlws.parallel.partitions"] == str(STORES)
    assert properties["mlws.parallel.succeeded"] == str(STORES - 10)
    assert properties["mlws.parallel.failed"] == "10"
    assert properties["mlws.parallel.error_threshold"] == "10"
    assert json.loads(properties["mlws.parallel.partition_keys"]) == ["store"]
    assert float(properties["mlws.parallel.seconds"]) > 0
    metrics = step.get_metrics()
    assert (metrics["partitions"], metrics["succeeded"], metrics["failed"]) == (STORES, STORES - 10, 10)
    assert metrics["seconds"] > 0

    children = step.get_children()
    assert len(children) == STORES
    by_store = {c.tags["store"]: c for c in children}
    assert sorted(by_store) == [str(s) for s in range(1000, 1000 + STORES)]
    failed = {s for s, c in by_store.items() if c.status == "Failed"}
    assert failed == {str(s) for s in FAILING}
    assert all(c.status == "Completed" for s, c in by_store.items() if s not in failed)
    broken = by_store[str(FAILING[0])].get_details()["error"]
    assert "ValueError: store 1003 has no usable history" in broken["message"]
    assert "Traceback" in broken["traceback"] and "train.py" in broken["traceback"]

    store = by_store["1042"]
    assert store.display_name == "store=1042"
    assert store.properties["mlws.parallel.index"] == "42"
    assert store.get_metrics()["slope"] == pytest.approx(1042 % 7 + 4)  # sales = 100 + (s % 7)w + w², w in 0..4
    models = Model.list(pk.ws, tags=[["store", "1042"]])
    assert [(m.name, m.run_id) for m in models] == [("sales-1042", store.id)]
    assert json.loads(Path(models[0].download(str(pk.root / "m"))).read_text())["coef"] == pytest.approx(10.0)
    assert Model.list(pk.ws, tags=[["store", str(FAILING[0])]]) == []

    folder = Path(step.get_output_data("scores").download(str(pk.root / "scores")))
    rows = (folder / "parallel_run_step.txt").read_text().splitlines()
    assert len(rows) == STORES - 10
    assert "1042 10.0" in rows
    log = step.get_stdout_log()
    assert "mini-batch 42 (store=1042): Completed" in log
    assert re.search(r"mini-batch 3 \(store=1003\): Failed after 1 attempt\(s\): ValueError", log)


def test_many_models_fail_past_the_error_threshold(pk: PipeKit) -> None:
    run = pk.exp.submit(many_models(pk, threshold=5, output=None))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    (step,) = run.find_step_run("many-models")
    assert step.status == "Failed"
    message = step.get_details()["error"]["message"]
    found = re.fullmatch(r"(\d+) of 200 mini-batches failed, more than error_threshold=5", message)
    assert found is not None, message
    assert 5 < int(found.group(1)) <= 10
    assert "more than error_threshold=5" in run.get_details()["error"]["message"]
    statuses = [c.status for c in step.get_children()]
    assert statuses.count("Failed") == int(found.group(1))
    # Work not handed out once the threshold was passed is canceled, saying why.
    assert set(statuses) <= {"Completed", "Failed", "Canceled"}
    assert step.get_properties()["mlws.parallel.failed"] == found.group(1)


def test_a_file_dataset_by_mini_batch_size(pk: PipeKit) -> None:
    data = pk.root / "files"
    for i in range(25):
        (data / f"part{i // 10}").mkdir(parents=True, exist_ok=True)
        (data / f"part{i // 10}" / f"f{i:02d}.txt").write_text("x" * i)
    pk.script("count.py", COUNT_FILES)
    files = Dataset.File.from_files(str(data))
    out = OutputFileDatasetConfig("counted")
    config = ParallelRunConfig(
        source_directory=str(pk.src),
        entry_script="count.py",
        error_threshold=-1,
        output_action="append_row",
        compute_target="local",
        mini_batch_size="10",
        process_count_per_node=2,
        append_row_file_name="sizes.txt",
    )
    step = ParallelRunStep("count-files", config, inputs=[files.as_named_input("files").as_mount()], output=out)
    run = pk.exp.submit(Pipeline(pk.ws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Completed"
    (step_run,) = run.find_step_run("count-files")
    children = sorted(step_run.get_children(), key=lambda c: int(c.properties["mlws.parallel.index"]))
    assert [c.display_name for c in children] == ["mini-batch 0", "mini-batch 1", "mini-batch 2"]
    assert all(c.status == "Completed" and c.tags == {} for c in children)
    folder = Path(step_run.get_output_data("counted").download(str(pk.root / "out")))
    rows = (folder / "sizes.txt").read_text().splitlines()
    assert rows == [f"f{i:02d}.txt {i}" for i in range(25)]
    assert step_run.get_properties()["mlws.parallel.partition_keys"] == "[]"

    # Unchanged: the step is reused, as any step is.
    again = pk.exp.submit(Pipeline(pk.ws, steps=[step]))
    assert again.wait_for_completion(show_output=False) == "Completed"
    assert again.find_step_run("count-files")[0].get_details()["reuse"]["reused"] is True


LOOKUP = """
import argparse
from jupyter_mlws import Run

def init():
    global FACTOR
    assert Run.get_context().display_name == "lookup"  # the step run
    parser = argparse.ArgumentParser()
    parser.add_argument("--factor", type=int)
    FACTOR = parser.parse_known_args()[0].factor

def run(mini_batch):
    regions = Path(Run.get_context().input_datasets["regions"]) / "regions.json"
    store = int(mini_batch["store"].iloc[0])
    return [[store, json.loads(regions.read_text())[str(store)], FACTOR * len(mini_batch)]]
"""


def test_side_inputs_and_the_entry_scripts_arguments(pk: PipeKit) -> None:
    table = pk.root / "small.csv"
    table.write_text("store,week,sales\n7,0,1\n7,1,2\n8,0,3\n9,0,4\n9,1,5\n9,2,6\n")
    (pk.root / "regions").mkdir()
    (pk.root / "regions" / "regions.json").write_text(json.dumps({"7": "north", "8": "south", "9": "east"}))
    pk.script("lookup.py", LOOKUP)
    config = ParallelRunConfig(
        source_directory=str(pk.src),
        entry_script="lookup.py",
        error_threshold=0,
        output_action="append_row",
        compute_target="local",
        partition_keys=["store"],
        process_count_per_node=1,
    )
    step = ParallelRunStep(
        "lookup",
        config,
        inputs=[Dataset.Tabular.from_delimited_files(str(table)).as_named_input("small")],
        side_inputs=[Dataset.File.from_files(str(pk.root / "regions")).as_named_input("regions").as_mount()],
        arguments=["--factor", 10],
    )
    run = pk.exp.submit(Pipeline(pk.ws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Completed"
    (step_run,) = run.find_step_run("lookup")
    # No output given: the append_row file is among the step run's outputs.
    step_run.download_file("outputs/parallel_run_step.txt", str(pk.root / "rows.txt"))
    assert (pk.root / "rows.txt").read_text().splitlines() == ["7 north 20", "8 south 10", "9 east 30"]


def test_a_partition_key_that_is_no_column_fails_the_step_with_the_reason(pk: PipeKit) -> None:
    pk.script("train.py", TRAIN)
    sales = Dataset.Tabular.from_delimited_files(str(sales_table(pk.root / "data")))
    config = _config(source_directory=str(pk.src), entry_script="train.py", partition_keys=["region"])
    step = ParallelRunStep("no-column", config, inputs=[sales.as_named_input("sales")])
    run = pk.exp.submit(Pipeline(pk.ws, steps=[step]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    (step_run,) = run.find_step_run("no-column")
    assert step_run.get_details()["error"]["message"] == (
        "partition_keys ['region'] are not columns of the input; its columns: ['store', 'week', 'sales']"
    )
    assert step_run.get_children() == []


BROKEN_INIT = """
def init():
    raise RuntimeError("no model registry today")

def run(mini_batch):
    return []
"""


def test_a_failing_init_fails_each_mini_batch_and_minus_one_ignores_failures(pk: PipeKit) -> None:
    table = pk.root / "small.csv"
    table.write_text("store,week,sales\n7,0,1\n8,0,3\n9,0,4\n")
    pk.script("broken.py", BROKEN_INIT)
    config = _config(source_directory=str(pk.src), entry_script="broken.py", partition_keys=["store"])
    config.error_threshold = -1
    small = Dataset.Tabular.from_delimited_files(str(table)).as_named_input("small")
    run = pk.exp.submit(Pipeline(pk.ws, steps=[ParallelRunStep("broken-init", config, inputs=[small])]))
    assert run.wait_for_completion(show_output=False) == "Completed"
    (step,) = run.find_step_run("broken-init")
    assert step.get_properties()["mlws.parallel.failed"] == "3"
    errors = [c.get_details()["error"] for c in step.get_children()]
    assert [c.status for c in step.get_children()] == ["Failed"] * 3
    expected = (
        "EntryScriptError: the entry script 'broken.py' failed to load or init(): RuntimeError: no model registry today"
    )
    assert [e["message"] for e in errors] == [expected] * 3
    assert all("raise RuntimeError" in e["traceback"] for e in errors)


HANG = """
def init():
    pass

def run(mini_batch):
    if int(mini_batch["store"].iloc[0]) == 1001:
        (FLAGS / "hanging").write_text("1")
        time.sleep(600)
    return []
"""


def test_a_canceled_step_cancels_its_unfinished_mini_batches(pk: PipeKit) -> None:
    pk.script("hang.py", HANG)
    sales = Dataset.Tabular.from_delimited_files(str(sales_table(pk.root / "data")))
    config = _config(source_directory=str(pk.src), entry_script="hang.py", partition_keys=["store"])
    config.process_count_per_node = 1
    run = pk.exp.submit(Pipeline(pk.ws, steps=[ParallelRunStep("hang", config, inputs=[sales.as_named_input("s")])]))
    pk.wait_until(lambda: pk.flag("hanging").exists(), what="the mini-batch of store 1001 to run")
    # The mini-batch before it ended Completed; its end is written with its worker's next group
    # commit, within half a second even while the worker hangs in the next one.
    pk.wait_until(
        lambda: any(
            c.tags.get("store") == "1000" and c.status == "Completed" for c in run.get_children(recursive=True)
        ),
        what="store 1000's mini-batch to be recorded Completed",
    )
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    (step,) = run.find_step_run("hang")
    assert step.status == "Canceled"
    children = {c.tags["store"]: c for c in step.get_children()}
    assert children["1000"].status == "Completed"
    assert children["1001"].status == "Canceled"
    assert children["1001"].get_details()["error"]["message"] == "stopped: the step was canceled"
    waiting = [c for s, c in children.items() if s not in ("1000", "1001")]
    assert {c.status for c in waiting} == {"Canceled"}
    assert waiting[-1].get_details()["error"]["message"] == "not run: the step was canceled"


def test_a_cancel_keeps_what_a_worker_holds_of_mini_batches_it_finished(pk: PipeKit) -> None:
    # The worker holds store 1000's end (its group commit is an hour away here) when the cancel comes:
    # SIGTERM reaches the job's whole process group, the pool's fork server with it, and the worker
    # writes what it holds before it exits; the pool, seeing its processes go, must not cut that short.
    pk.script(
        "hold.py",
        HANG.replace(
            "    pass\n",
            "    from jupyter_mlws.core.services import held_writes\n    held_writes.MAX_HOLD_S = 3600\n",
            1,
        ),
    )
    sales = Dataset.Tabular.from_delimited_files(str(sales_table(pk.root / "data")))
    config = _config(source_directory=str(pk.src), entry_script="hold.py", partition_keys=["store"])
    config.process_count_per_node = 1
    run = pk.exp.submit(Pipeline(pk.ws, steps=[ParallelRunStep("hold", config, inputs=[sales.as_named_input("s")])]))
    pk.wait_until(lambda: pk.flag("hanging").exists(), what="the mini-batch of store 1001 to run")
    (step,) = run.find_step_run("hold")
    assert {c.tags["store"]: c.status for c in step.get_children()}["1000"] == "Running"  # ended, held
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    children = {c.tags["store"]: c for c in step.get_children()}
    assert children["1000"].status == "Completed"
    assert children["1001"].status == "Canceled"


def _config(**changes: object) -> ParallelRunConfig:
    arguments: dict[str, object] = {
        "entry_script": "score.py",
        "error_threshold": 0,
        "output_action": "append_row",
        "compute_target": "local",
    }
    arguments.update(changes)
    return ParallelRunConfig(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"entry_script": None}, "needs entry_script"),
        ({"entry_script": "score.txt"}, "needs entry_script"),
        ({"error_threshold": None}, "needs error_threshold"),
        ({"error_threshold": -2}, "error_threshold must be a whole number >= -1"),
        ({"error_threshold": True}, "error_threshold must be a whole number >= -1"),
        ({"output_action": "append_rows"}, "output_action is 'append_row' or 'summary_only'"),
        ({"compute_target": None}, "needs compute_target"),
        ({"node_count": 0}, "node_count must be a whole number >= 1"),
        ({"process_count_per_node": 0}, "process_count_per_node must be a whole number >= 1"),
        ({"mini_batch_size": "1XB"}, "mini_batch_size '1XB' is not a size"),
        ({"mini_batch_size": 0}, "mini_batch_size 0 is not a size"),
        ({"partition_keys": "store"}, "partition_keys is a non-empty list"),
        ({"partition_keys": []}, "partition_keys is a non-empty list"),
        ({"partition_keys": ["store", "store"]}, "repeats a column"),
        ({"partition_keys": ["store"], "mini_batch_size": "10"}, "partition_keys or mini_batch_size, not both"),
        ({"logging_level": "LOUD"}, "logging_level is one of"),
        ({"run_invocation_timeout": 0}, "run_invocation_timeout must be a whole number >= 1"),
        ({"run_max_try": 0}, "run_max_try must be a whole number >= 1"),
        ({"output_action": "summary_only", "append_row_file_name": "x.txt"}, "append_row_file_name is for"),
        ({"append_row_file_name": "out/x.txt"}, "append_row_file_name is a file name"),
        ({"allowed_failed_percent": 101}, "allowed_failed_percent is a number from 0 to 100"),
        ({"environment_variables": {"A": 1}}, "environment_variables is a dict of strings"),
    ],
)
def test_parallel_run_config_checks_its_arguments(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        _config(**changes)


def test_parallel_run_step_checks_its_arguments(tmp_path: Path) -> None:
    config = _config(source_directory=str(tmp_path))
    ds = Dataset.Tabular.from_delimited_files(str(sales_table(tmp_path / "data")))
    with pytest.raises(InvalidArgumentError, match="3 to 32 lowercase letters"):
        ParallelRunStep("Many_Models", config, inputs=[ds.as_named_input("sales")])
    with pytest.raises(InvalidArgumentError, match="must be a ParallelRunConfig"):
        ParallelRunStep("many-models", {"entry_script": "score.py"}, inputs=[ds.as_named_input("sales")])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="inputs is a non-empty list"):
        ParallelRunStep("many-models", config, inputs=[])
    with pytest.raises(InvalidArgumentError, match=r"inputs\[0\].*is not a named input"):
        ParallelRunStep("many-models", config, inputs=["sales.csv"])
    with pytest.raises(InvalidArgumentError, match="output is a PipelineData"):
        ParallelRunStep("many-models", config, inputs=[ds.as_named_input("sales")], output="out")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="two inputs share a name"):
        ParallelRunStep(
            "many-models", config, inputs=[ds.as_named_input("sales")], side_inputs=[ds.as_named_input("sales")]
        )
    step = ParallelRunStep("many-models", config, inputs=[ds.as_named_input("sales")])
    assert step._problems() == [
        f"step 'many-models': entry_script 'score.py' is not in source_directory {str(tmp_path)!r}"
    ]


def test_context_run_scopes_what_get_context_returns(pk: PipeKit) -> None:
    outer = pk.exp.start_logging()
    child = outer.child_run("scoped")
    with context_run(child):
        assert Run.get_context() is child
    assert Run.get_context() is not child  # outside the block: this process's own context again
    child.complete()
    outer.complete()


CRASH = """
import os

def init():
    pass

def run(mini_batch):
    store = int(mini_batch["store"].iloc[0])
    if store == 1005:
        os._exit(1)  # as a segfault or the OOM killer would end the process
    return [[store]]
"""


def test_a_mini_batch_that_kills_its_process_fails_alone_and_the_rest_run_in_a_new_pool(pk: PipeKit) -> None:
    pk.script("crash.py", CRASH)
    folder = pk.root / "data"
    folder.mkdir()
    rows = ["store,week,sales"] + [f"{store},{week},1" for store in range(1000, 1020) for week in range(2)]
    (folder / "sales.csv").write_text("\n".join(rows) + "\n")
    config = ParallelRunConfig(
        source_directory=str(pk.src),
        entry_script="crash.py",
        error_threshold=5,
        output_action="append_row",
        compute_target="local",
        process_count_per_node=2,
        partition_keys=["store"],
    )
    sales = Dataset.Tabular.from_delimited_files(str(folder / "sales.csv"))
    step = ParallelRunStep("crashing", config, inputs=[sales.as_named_input("sales")])
    run = pk.exp.submit(Pipeline(pk.ws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Completed"
    (step_run,) = run.find_step_run("crashing")
    by_store = {c.tags["store"]: c for c in step_run.get_children()}
    assert len(by_store) == 20
    crashed = by_store["1005"]
    assert crashed.status == "Failed"
    assert "worker process died" in crashed.get_details()["error"]["message"]
    failed = [s for s, c in by_store.items() if c.status == "Failed"]
    # The crash takes down at most the one mini-batch running beside it in the other process.
    assert "1005" in failed and len(failed) <= 2
    assert all(c.status == "Completed" for s, c in by_store.items() if s not in failed)
    assert step_run.get_properties()["mlws.parallel.failed"] == str(len(failed))
