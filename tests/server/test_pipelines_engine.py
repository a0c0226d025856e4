"""A published pipeline run over REST by the real engine (issue 16's "published, it runs from curl with
its token"): the pipeline's token, v1's body, the new pipeline run's ``Id``; its steps run as jobs and
its parameter reaches the step. Then a schedule of it fires through the server's ticker."""

from __future__ import annotations

import time
from pathlib import Path

from jupyter_mlws import (
    Pipeline,
    PipelineParameter,
    PipelineRun,
    PublishedPipeline,
    PythonScriptStep,
    Run,
    Schedule,
    ScheduleRecurrence,
    Workspace,
)
from tests.server.conftest import Api


def wait_for(predicate: object, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


async def test_a_published_pipeline_runs_over_rest_with_its_token_and_on_a_schedule(api: Api, jobs: Path) -> None:
    ws = Workspace.create(jobs)
    src = jobs / "steps"
    src.mkdir()
    (src / "say.py").write_text(
        "import sys\nfrom jupyter_mlws import Run\nRun.get_context().log('value', float(sys.argv[1]))\n"
    )
    step = PythonScriptStep("say.py", name="say", arguments=[PipelineParameter("value", 1.0)], source_directory=src)
    published = Pipeline(ws, [step]).publish("say", description="says a value")
    token = published.get_token()
    body = {"ExperimentName": "rest", "ParameterAssignments": {"value": 7.5}}
    reply = await api.post(
        f"pipelines/{published.id}/runs", body=body, headers={"Authorization": f"Bearer {token}"}, auth=False
    )
    assert reply.status == 200, reply
    run_id = reply.data["Id"]
    run = PipelineRun.get(ws, run_id)
    assert run.wait_for_completion(show_output=False) == "Completed"
    (step_run,) = run.get_steps()
    assert Run.get(ws, step_run.id).get_metrics()["value"] == 7.5
    assert run.get_properties()["azureml.pipelineid"] == published.id
    assert PublishedPipeline.get(ws, published.id).endpoint.endswith(f"/mlws/api/v1/pipelines/{published.id}/runs")

    schedule = Schedule.create(ws, "often", published.id, "scheduled", recurrence=ScheduleRecurrence("Minute", 1))
    wait_for(lambda: schedule.get_last_pipeline_run() is not None)  # the first fire is at once (v1)
    fired = schedule.get_last_pipeline_run()
    wait_for(lambda: Run.get(ws, fired.id).get_status() == "Completed")
    schedule.disable()
    assert len(schedule.get_pipeline_runs()) == 1
