"""REST reads of pipeline runs (issue 16, part 6): the recent pipeline runs with their steps counted by
status, and one pipeline run's graph with each step's status and reuse (reused or not, and why). Real
pipelines run through the workspace's agent. Every reply is validated against openapi.yaml by the
``api`` client, which also fails on any 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Run, RunStatus, Workspace
from tests.server.conftest import Api, expect_error
from tests.support.pipelines import EDGES, STEPS, fan_in_pipeline


async def test_no_workspace_yet_is_an_empty_page_and_bad_paging_a_400(api: Api) -> None:
    assert await api.ok("pipeline-runs") == {"items": [], "next_page_token": None}
    expect_error(await api.get("pipeline-runs", params={"page_size": "0"}), 400, "InvalidArgumentError", "page_size")
    expect_error(await api.get("pipeline-runs/nope"), 404, "NotFoundError", "no workspace")


@pytest.mark.usefixtures("jobs")
async def test_pipeline_runs_newest_first_with_their_graph_and_reuse(api: Api, jp_root_dir: Path) -> None:
    root = Path(jp_root_dir)
    ws = Workspace.create(root)
    exp = Experiment(ws, "pipes")
    pipeline = fan_in_pipeline(ws, root)
    first = exp.submit(pipeline)
    assert first.wait_for_completion(show_output=False, timeout_seconds=120) == "Completed"
    again = exp.submit(pipeline)
    assert again.wait_for_completion(show_output=False, timeout_seconds=120) == "Completed"
    with Experiment(ws, "plain").start_logging(display_name="not a pipeline") as plain:
        plain.log("acc", 1.0)

    page = await api.ok("pipeline-runs")
    assert [item["id"] for item in page["items"]] == [again.id, first.id]  # newest first, no plain run
    assert page["next_page_token"] is None
    item = page["items"][0]
    assert item["experiment"] == "pipes" and item["status"] == "Completed"
    assert item["display_name"] == "fan-in pipe"
    assert item["step_count"] == 4 and item["step_counts"] == {"Completed": 4}
    assert item["created_time"].endswith("Z") and item["end_time"].endswith("Z")

    # Paging and the experiment filter.
    one = await api.ok("pipeline-runs", params={"page_size": "1"})
    assert [i["id"] for i in one["items"]] == [again.id] and one["next_page_token"]
    rest = await api.ok("pipeline-runs", params={"page_size": "1", "page_token": one["next_page_token"]})
    assert [i["id"] for i in rest["items"]] == [first.id] and rest["next_page_token"] is None
    assert len((await api.ok("pipeline-runs", params={"experiment": "pipes"}))["items"]) == 2
    assert (await api.ok("pipeline-runs", params={"experiment": "plain,nope"}))["items"] == []
    assert (await api.ok("pipeline-runs", params={"experiment": "nope"}))["items"] == []

    # The first run: every step ran, each says why (no earlier run); the fan-in has two edges in.
    detail = await api.ok(f"pipeline-runs/{first.id}")
    assert detail["id"] == first.id and detail["status"] == "Completed" and detail["error"] is None
    assert [n["name"] for n in detail["nodes"]] == list(STEPS)
    ids = {n["name"]: n["id"] for n in detail["nodes"]}
    assert {s.name: s.id for s in first.get_steps()} == ids
    names = {v: k for k, v in ids.items()}
    assert sorted((names[e["source"]], names[e["target"]]) for e in detail["edges"]) == sorted(EDGES)
    assert {e["data"] for e in detail["edges"]} == {"raw", "features", "model"}
    for node in detail["nodes"]:
        assert node["status"] == "Completed" and node["error"] is None
        assert node["reuse"] == {
            "reused": False,
            "from": None,
            "reason": f"no earlier run of step {node['name']!r} in this experiment",
        }
        assert node["start_time"].endswith("Z") and node["end_time"].endswith("Z")

    # The second: every step reused from the first's, and it says so.
    detail = await api.ok(f"pipeline-runs/{again.id}")
    for node in detail["nodes"]:
        reuse = node["reuse"]
        assert reuse["reused"] is True and reuse["from"] == ids[node["name"]]
        assert reuse["reason"] == f"nothing it depends on changed since run {ids[node['name']]}"

    # A step run and a plain run are not pipeline runs: 404 with the error shape, naming the fix.
    step_id = ids["train"]
    expect_error(await api.get(f"pipeline-runs/{step_id}"), 404, "NotFoundError", "not a pipeline run", "runs/")
    expect_error(await api.get(f"pipeline-runs/{plain.id}"), 404, "NotFoundError", "not a pipeline run")
    expect_error(await api.get("pipeline-runs/no_such_run"), 404, "NotFoundError", "no_such_run")
    # The run page's own route still reads a pipeline run (the Lab links from there to the graph).
    assert (await api.ok(f"runs/{first.id}"))["run_type"] == "azureml.PipelineRun"


async def test_a_pipeline_run_whose_steps_were_not_all_made_shows_those_that_were(api: Api, jp_root_dir: Path) -> None:
    """A submission that failed part-way (a step run could not be created) still has a graph: the
    steps that exist and the edges between them, never a 500."""
    root = Path(jp_root_dir)
    ws = Workspace.create(root)
    exp = Experiment(ws, "broken")
    definition = fan_in_pipeline(ws, root)._definition()
    ids = {name: f"broken_{name}" for name in STEPS}
    parent = Run.create(
        exp,
        status=RunStatus.FAILED,
        run_type="azureml.PipelineRun",
        properties={"azureml.runsource": "azureml.PipelineRun"},
        job_spec={"kind": "pipeline", "definition": definition, "steps": ids},
    )
    for name in ("load", "train"):  # features and report were never made
        Run.create(exp, status=RunStatus.CANCELED, parent=parent, run_id=ids[name], display_name=name)
    detail = await api.ok(f"pipeline-runs/{parent.id}")
    assert [n["name"] for n in detail["nodes"]] == ["load", "train"]
    assert all(n["reuse"] is None and n["status"] == "Canceled" for n in detail["nodes"])
    assert detail["edges"] == [{"source": ids["load"], "target": ids["train"], "data": "raw"}]
    assert detail["step_counts"] == {"Canceled": 2}
    page = await api.ok("pipeline-runs")
    assert [i["id"] for i in page["items"]] == [parent.id]
