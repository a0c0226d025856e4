"""Pipelines run for real (issue 16): steps are jobs dispatched by the workspace's agent, the
pipeline's driver is forked by it. Reuse and each part of the key, deleted outputs, a changed
registered dataset, failure propagation with and without continue_on_step_failure, a target's
concurrency bound, cancel mid-pipeline, and a driver that dies.

One workspace per module (``pws``); each test writes scripts with its own header, so no two tests
share a step's content.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from jupyter_mlws import (
    ComputeTarget,
    Dataset,
    LocalCompute,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PipelineRun,
    PythonScriptStep,
    Run,
)
from jupyter_mlws.errors import ActivityFailedException, DatasetChangedError
from tests.pipelines.conftest import PipeKit, wait_until

COPY = """
import argparse, shutil
p = argparse.ArgumentParser()
p.add_argument("--src"); p.add_argument("--out"); p.add_argument("--scale", default="1")
a = p.parse_args()
for f in sorted(os.listdir(a.src)):
    shutil.copy(os.path.join(a.src, f), os.path.join(a.out, f))
print("copied", sorted(os.listdir(a.out)), "scale", a.scale)
"""

COUNT = """
import argparse
p = argparse.ArgumentParser(); p.add_argument("--src"); p.add_argument("--out")
a = p.parse_args()
total = sum(len(open(os.path.join(a.src, f)).read()) for f in sorted(os.listdir(a.src)))
(Path(a.out) / "count.txt").write_text(str(total // 1000))  # coarse: small edits keep the same bytes
"""

REPORT = """
import argparse
from jupyter_mlws import Run
p = argparse.ArgumentParser(); p.add_argument("--count")
a = p.parse_args()
Run.get_context().log("count", int((Path(a.count) / "count.txt").read_text()))
"""


def edit_in_place(path: Path, text: str) -> None:
    """Rewrite a file with content of the same size and put its mtime back."""
    st = path.stat()
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def reuse_of(run: PipelineRun) -> dict[str, dict[str, object]]:
    return {s.name: s.get_details()["reuse"] for s in run.get_steps()}


def three_steps(pk: PipeKit, raw_input: object, scale: PipelineParameter) -> Pipeline:
    # One source folder per step: a step's code is its whole source folder (as in v1).
    for name, body in (("prep", COPY), ("count", COUNT), ("report", REPORT)):
        pk.script(f"{name}.py", body, folder=pk.src / name)
    prepared, counted = PipelineData("prepared"), PipelineData("counted")
    prep = PythonScriptStep(
        "prep.py",
        name="prep",
        arguments=["--src", raw_input, "--out", prepared, "--scale", scale],
        outputs=[prepared],
        source_directory=pk.src / "prep",
    )
    count = PythonScriptStep(
        "count.py",
        name="count",
        arguments=["--src", prepared, "--out", counted],
        outputs=[counted],
        source_directory=pk.src / "count",
    )
    report = PythonScriptStep(
        "report.py", name="report", arguments=["--count", counted], source_directory=pk.src / "report"
    )
    pipeline = Pipeline(pk.ws, [report])  # prep and count come in through the closure (v1)
    assert pipeline.steps == [prep, count, report]
    return pipeline


def test_steps_run_then_are_reused_and_each_miss_says_why(pk: PipeKit) -> None:
    data = pk.root / "data"
    data.mkdir()
    (data / "train.csv").write_text("a,b\n1,2\n")
    (data / "test.csv").write_text("a,b\n3,4\n")
    raw = Dataset.File.from_files(str(data)).as_named_input("raw").as_mount()
    scale = PipelineParameter("scale", 1.0)
    pipeline = three_steps(pk, raw, scale)

    first = pk.exp.submit(pipeline)
    assert isinstance(first, PipelineRun) and first.type == "azureml.PipelineRun"
    assert first.wait_for_completion(show_output=False) == "Completed"
    steps = first.get_steps()
    assert [s.name for s in steps] == ["prep", "count", "report"]
    assert all(s.status == "Completed" and not s.reused for s in steps)
    assert reuse_of(first)["prep"] == {
        "reused": False,
        "from": None,
        "reason": "no earlier run of step 'prep' in this experiment",
    }
    assert {c.id for c in first.get_children()} == {s.id for s in steps}
    out = steps[0].get_output_data("prepared").download(str(pk.root / "dl"))
    assert sorted(os.listdir(out)) == ["test.csv", "train.csv"]
    assert Run(pk.exp, steps[2].id).get_metrics()["count"] == 0

    # Nothing changed: every step is reused, at once, from the first run.
    again = pk.exp.submit(pipeline)
    assert again.wait_for_completion(show_output=False) == "Completed"
    reuse = reuse_of(again)
    assert all(r["reused"] for r in reuse.values()), reuse
    assert [r["from"] for r in reuse.values()] == [s.id for s in steps]
    details = again.find_step_run("count")[0].get_details()
    assert details["properties"]["azureml.reusedRunId"] == steps[1].id and details["reused_from"] == steps[1].id
    assert (
        again.find_step_run("count")[0].get_outputs()["counted"].manifest_id
        == steps[1].get_outputs()["counted"].manifest_id
    )

    # A parameter: prep reruns and says so; its output is the same bytes, so count and report are reused.
    param = pk.exp.submit(pipeline, pipeline_parameters={"scale": 2.0})
    assert param.wait_for_completion(show_output=False) == "Completed"
    reuse = reuse_of(param)
    assert reuse["prep"] == {"reused": False, "from": None, "reason": "parameter scale 1.0 → 2.0"}
    assert reuse["count"]["reused"] and reuse["report"]["reused"]

    # The CSV edited in place, mtime put back: re-fingerprinted at submit, prep and count rerun and
    # say which file; count writes the same bytes, so report is still reused.
    edit_in_place(data / "train.csv", "a,b\n9,9\n")
    edited = pk.exp.submit(pipeline, pipeline_parameters={"scale": 2.0})
    assert edited.wait_for_completion(show_output=False) == "Completed"
    reuse = reuse_of(edited)
    assert reuse["prep"]["reason"] == "input 'raw' changed: 1 of 2 files (train.csv)"
    assert reuse["count"]["reason"] == "input 'prepared' changed: 1 of 2 files (train.csv)"
    assert reuse["report"]["reused"]

    # The source of one step: only it (and what its output feeds, if it differs) reruns.
    count_py = pk.src / "count" / "count.py"
    count_py.write_text(count_py.read_text() + "\n# a comment\n")
    source = pk.exp.submit(pipeline, pipeline_parameters={"scale": 2.0})
    assert source.wait_for_completion(show_output=False) == "Completed"
    reuse = reuse_of(source)
    assert reuse["prep"]["reused"] and reuse["report"]["reused"]
    assert reuse["count"] == {"reused": False, "from": None, "reason": "source count.py changed"}


def test_allow_reuse_false_regenerate_outputs_and_deleted_outputs(pk: PipeKit) -> None:
    pk.script("make.py", "Path(sys.argv[1], 'out.txt').write_text(os.environ['AML_PARAMETER_what'])\n")
    pk.script("use.py", "print(Path(sys.argv[1], 'out.txt').read_text())\n")
    made = PipelineData("made")
    make = PythonScriptStep(
        "make.py", name="make", arguments=[made], outputs=[made], params={"what": "made"}, source_directory=pk.src
    )
    use = PythonScriptStep("use.py", name="use", arguments=[made], source_directory=pk.src, allow_reuse=False)
    pipeline = Pipeline(pk.ws, [make, use])
    first = pk.exp.submit(pipeline)
    first.wait_for_completion(show_output=False)
    made_run = first.find_step_run("make")[0]
    assert made_run.get_details()["params"] == {"what": "made"}  # and AML_PARAMETER_what in its environment (v1)
    folder = made_run.get_outputs()["made"].download(str(pk.root / "m"))
    assert (Path(folder) / "out.txt").read_text() == "made"  # the script read AML_PARAMETER_what
    second = pk.exp.submit(pipeline)
    second.wait_for_completion(show_output=False)
    reuse = reuse_of(second)
    assert reuse["make"]["reused"]
    assert reuse["use"] == {"reused": False, "from": None, "reason": "allow_reuse=False: the step always runs"}

    regenerated = pk.exp.submit(pipeline, regenerate_outputs=True)
    assert regenerated.wait_for_completion(show_output=False) == "Completed"
    assert reuse_of(regenerated)["make"]["reason"] == "regenerate_outputs=True: every step runs"

    # The stored output's files are gone (garbage collected): the earlier runs are no hit any more.
    manifest = regenerated.find_step_run("make")[0].get_outputs()["made"].manifest_id
    artifacts = pk.ws.artifacts
    from jupyter_mlws.snapshots import load_manifest

    for entry in load_manifest(artifacts, manifest).files:
        artifacts.delete(entry.digest)  # type: ignore[arg-type]
    gone = pk.exp.submit(pipeline)
    assert gone.wait_for_completion(show_output=False) == "Completed"
    reason = reuse_of(gone)["make"]["reason"]
    assert reason.startswith("the outputs of the earlier run ") and reason.endswith(" with the same inputs are gone")


def test_a_changed_registered_dataset_stops_the_pipeline_before_any_step(pk: PipeKit) -> None:
    data = pk.root / "reg"
    data.mkdir()
    (data / "a.csv").write_text("x\n1\n")
    (data / "b.csv").write_text("x\n2\n")
    ds = Dataset.File.from_files(str(data)).register(pk.ws, f"reg-{os.getpid()}")
    pk.script("read.py", "print(sorted(os.listdir(sys.argv[1])))\n")
    step = PythonScriptStep(
        "read.py", name="read", arguments=[ds.as_named_input("data").as_mount()], source_directory=pk.src
    )
    pipeline = Pipeline(pk.ws, [step])
    assert pk.exp.submit(pipeline).wait_for_completion(show_output=False) == "Completed"
    before = len(list(pk.exp.get_runs()))

    edit_in_place(data / "a.csv", "x\n9\n")
    with pytest.raises(DatasetChangedError, match=r"a\.csv"):
        pk.exp.submit(pipeline)
    assert len(list(pk.exp.get_runs())) == before  # nothing was created, nothing ran

    v2 = Dataset.File.from_files(str(data)).register(pk.ws, ds.name, create_new_version=True)
    assert v2.version == 2
    step2 = PythonScriptStep(
        "read.py", name="read", arguments=[v2.as_named_input("data").as_mount()], source_directory=pk.src
    )
    rerun = pk.exp.submit(Pipeline(pk.ws, [step2]))
    assert rerun.wait_for_completion(show_output=False) == "Completed"
    assert reuse_of(rerun)["read"]["reason"] == f"input 'data' changed: {ds.name} version 1 → 2, 1 of 2 files (a.csv)"


FAIL_GRAPH = {
    "fail.py": "sys.exit('this step fails')\n",
    "slow.py": "(FLAGS / 'slow-started').write_text('1')\nwhile not (FLAGS / 'go').exists():\n    time.sleep(0.02)\n",
    "after.py": "print('after', sys.argv[1:])\n",
}


def failing_pipeline(pk: PipeKit) -> Pipeline:
    for name, body in FAIL_GRAPH.items():
        pk.script(name, body)
    a, b = PipelineData("a"), PipelineData("b")
    fail = PythonScriptStep("fail.py", name="fail", arguments=[a], outputs=[a], source_directory=pk.src)
    slow = PythonScriptStep("slow.py", name="slow", arguments=[b], outputs=[b], source_directory=pk.src)
    after_fail = PythonScriptStep("after.py", name="after_fail", arguments=[a], source_directory=pk.src)
    after_slow = PythonScriptStep("after.py", name="after_slow", arguments=[b], source_directory=pk.src)
    return Pipeline(pk.ws, [fail, slow, after_fail, after_slow])


def states(run: PipelineRun) -> dict[str, tuple[str, str | None]]:
    return {s.name: (s.get_status(), (s.get_details().get("error") or {}).get("message")) for s in run.get_steps()}


def test_a_failed_step_cancels_its_dependants_and_stops_the_pipeline(pk: PipeKit) -> None:
    run = pk.exp.submit(failing_pipeline(pk))
    wait_until(lambda: pk.flag("slow-started").exists(), what="the slow step to start")
    with pytest.raises(ActivityFailedException, match="step 'fail' failed"):
        run.wait_for_completion(show_output=False)
    assert run.get_status() == "Failed"
    got = states(run)
    assert got["fail"][0] == "Failed"
    assert got["after_fail"] == ("Canceled", "upstream step 'fail' failed")
    assert got["after_slow"] == ("Canceled", "the pipeline stopped: step 'fail' failed")
    assert got["slow"][0] == "Canceled"  # running: asked to stop
    assert run.get_details()["error"]["failed_steps"] == ["fail"]


def test_continue_on_step_failure_lets_independent_branches_finish(pk: PipeKit) -> None:
    run = pk.exp.submit(failing_pipeline(pk), continue_on_step_failure=True)
    wait_until(lambda: pk.flag("slow-started").exists(), what="the slow step to start")
    wait_until(lambda: run.find_step_run("fail")[0].get_status() == "Failed", what="the failing step to fail")
    pk.flag("go").write_text("1")
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"  # still Failed, as in v1
    got = states(run)
    assert got["slow"][0] == "Completed" and got["after_slow"][0] == "Completed"
    assert got["after_fail"] == ("Canceled", "upstream step 'fail' failed")


def test_independent_steps_run_in_parallel_up_to_the_targets_concurrency(pk: PipeKit) -> None:
    ComputeTarget.attach(pk.ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2))
    pk.script(
        "span.py",
        "start = time.time()\ntime.sleep(0.6)\n"
        "(FLAGS / f'span-{sys.argv[1]}').write_text(json.dumps([start, time.time()]))\n",
    )
    steps = [
        PythonScriptStep("span.py", name=f"s{i}", arguments=[str(i)], compute_target="two", source_directory=pk.src)
        for i in range(5)
    ]
    run = pk.exp.submit(Pipeline(pk.ws, steps))
    assert run.wait_for_completion(show_output=False) == "Completed"
    spans = [json.loads(pk.flag(f"span-{i}").read_text()) for i in range(5)]
    moments = sorted({t for span in spans for t in span})
    overlap = max(sum(1 for s, e in spans if s <= m < e) for m in moments)
    assert overlap == 2, spans  # never more than the target allows, and the bound is used


def test_cancel_mid_pipeline(pk: PipeKit) -> None:
    pk.script("wait.py", "(FLAGS / 'waiting').write_text('1')\ntime.sleep(600)\n")
    pk.script("next.py", "print('never')\n")
    w = PipelineData("w")
    first = PythonScriptStep("wait.py", name="wait", arguments=[w], outputs=[w], source_directory=pk.src)
    second = PythonScriptStep("next.py", name="next", arguments=[w], source_directory=pk.src)
    run = pk.exp.submit(Pipeline(pk.ws, [first, second]))
    wait_until(lambda: pk.flag("waiting").exists(), what="the first step to run")
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    got = states(run)
    assert got["wait"][0] == "Canceled"
    assert got["next"][0] == "Canceled"


def test_a_dead_driver_fails_the_pipeline_and_stops_its_steps(pk: PipeKit) -> None:
    pk.script("hang.py", "(FLAGS / 'hanging').write_text('1')\ntime.sleep(600)\n")
    pk.script("later.py", "print('never')\n")
    h = PipelineData("h")
    hang = PythonScriptStep("hang.py", name="hang", arguments=[h], outputs=[h], source_directory=pk.src)
    later = PythonScriptStep("later.py", name="later", arguments=[h], source_directory=pk.src)
    run = pk.exp.submit(Pipeline(pk.ws, [hang, later]))
    wait_until(lambda: pk.flag("hanging").exists(), what="the step to run")
    driver = wait_until(lambda: pk.ws.metadata.get_run(run.id).supervisor_pid, what="the driver to claim the run")
    os.kill(driver, signal.SIGKILL)
    assert run.wait_for_completion(show_output=False, raise_on_error=False, timeout_seconds=60) == "Failed"
    assert "supervisor" in run.get_details()["error"]["message"] or "gone" in run.get_details()["error"]["message"]
    wait_until(lambda: states(run)["hang"][0] == "Canceled", what="the running step to be stopped")
    assert states(run)["later"][0] == "Canceled"


NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "data = ''\nout = ''\n", "outputs": [],
         "execution_count": None},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "import os, pathlib\nnames = sorted(os.listdir(data))\n"
                   "pathlib.Path(out, 'names.txt').write_text(','.join(names))\nprint(names)\n"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}  # fmt: skip


def test_a_notebook_step_a_data_reference_and_an_output_registered_on_complete(pk: PipeKit) -> None:
    from jupyter_mlws import DataReference, Datastore, NotebookStep, OutputFileDatasetConfig

    shared = pk.root / "shared"
    (shared / "images").mkdir(parents=True)
    (shared / "images" / "one.png").write_bytes(b"\x89PNG one")
    (shared / "images" / "two.png").write_bytes(b"\x89PNG two")
    store = Datastore.register(pk.ws, f"shared{os.getpid()}", str(shared))
    images = DataReference(store, "images", "images")
    listed = PipelineData("listed")
    (pk.src / "list.ipynb").write_text(json.dumps(NOTEBOOK))
    notebook = NotebookStep(
        "list.ipynb",
        parameters={"data": images, "out": listed},
        inputs=[images],
        outputs=[listed],
        source_directory=pk.src,
    )
    pk.script(
        "score.py", "Path(sys.argv[2], 'scores.txt').write_text(Path(sys.argv[1], 'names.txt').read_text().upper())\n"
    )
    scored = OutputFileDatasetConfig("scored").register_on_complete(f"scores-{os.getpid()}")
    score = PythonScriptStep(
        "score.py", name="score", arguments=[listed, scored], outputs=[scored], source_directory=pk.src
    )
    run = pk.exp.submit(Pipeline(pk.ws, [notebook, score]))
    assert run.wait_for_completion(show_output=False) == "Completed", run.get_details().get("error")
    step = run.find_step_run("list.ipynb")[0]
    assert "outputs/list.ipynb" in step.get_file_names()
    registered = Dataset.get_by_name(pk.ws, f"scores-{os.getpid()}")
    assert registered.version == 1 and [e.path for e in registered.manifest.entries] == ["scores.txt"]
    folder = registered.download(str(pk.root / "scores"))
    assert Path(folder[0]).read_text() == "ONE.PNG,TWO.PNG"
    assert run.find_step_run("score")[0].get_outputs()["scored"].download(str(pk.root / "out"))


def test_a_submit_interrupted_mid_schedule_is_taken_over_by_the_driver(
    pk: PipeKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or a store error) while the submitting process queues the first steps: the pipeline run
    does not stay NotStarted with nobody driving it — the agent's driver takes over from the records."""
    from jupyter_mlws.pipelines import driver

    pk.script("one.py", "print('one')\n")
    step = PythonScriptStep("one.py", name="one", source_directory=pk.src)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(driver, "queue_job", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pk.exp.submit(Pipeline(pk.ws, [step]))
    monkeypatch.undo()
    (parent,) = [r for r in pk.exp.get_runs() if r.type == "azureml.PipelineRun"]
    run = PipelineRun(pk.exp, parent.id)
    assert run.wait_for_completion(show_output=False, timeout_seconds=60) == "Completed"
    assert run.find_step_run("one")[0].get_status() == "Completed"


def test_a_published_pipeline_runs_the_code_it_was_published_with(pk: PipeKit) -> None:
    """As in v1: publishing freezes the steps' code. Edited or deleted afterwards, the folder does not
    change what the published pipeline runs."""
    import shutil

    from jupyter_mlws import PublishedPipeline

    folder = pk.src / "frozen"
    pk.script("say.py", "from jupyter_mlws import Run\nRun.get_context().log('version', 1)\n", folder=folder)
    step = PythonScriptStep("say.py", name="say", source_directory=folder)
    published = Pipeline(pk.ws, [step]).publish("frozen-code")
    pk.script("say.py", "from jupyter_mlws import Run\nRun.get_context().log('version', 2)\n", folder=folder)
    run = published.submit(pk.ws, pk.exp.name)
    assert PipelineRun.get(pk.ws, run.id).wait_for_completion(show_output=False) == "Completed"
    (say,) = PipelineRun.get(pk.ws, run.id).get_steps()
    assert Run.get(pk.ws, say.id).get_metrics()["version"] == 1
    shutil.rmtree(folder)
    again = PublishedPipeline.get(pk.ws, published.id).submit(pk.ws, pk.exp.name)
    assert PipelineRun.get(pk.ws, again.id).wait_for_completion(show_output=False) == "Completed"
    assert PipelineRun.get(pk.ws, again.id).get_steps()[0].reused  # the same frozen code: reused
