"""Published pipelines and pipeline endpoints (issue 16, part 4): publishing stores the definition
unchanged, submissions hand it back to the engine with the parameter values and v1's properties,
disabled ones refuse, tokens are scoped and stored hashed, endpoints number their versions."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import PipelineEndpoint, PublishedPipeline, Workspace
from jupyter_mlws.errors import AlreadyExistsError, InvalidArgumentError, InvalidStateError, NotFoundError
from jupyter_mlws.pipelines.published import hash_token, token_opens
from tests.pipelines.publishing.conftest import DEFINITION


def test_publish_get_list_and_the_definition_round_trips(pws: Workspace, published: PublishedPipeline) -> None:
    got = PublishedPipeline.get(pws, published.id)
    assert got == published and got.definition == DEFINITION
    assert (got.name, got.description, got.version, got.status) == ("training", "trains", "1.0", "Active")
    assert got.total_run_steps == 2 and got.parameters == {"lr": 0.1, "epochs": 3}
    other = PublishedPipeline._create(pws, "other", None, None, {"steps": []}, True)
    assert [p.id for p in PublishedPipeline.list(pws)] == [published.id, other.id]
    other.disable()
    assert [p.id for p in PublishedPipeline.list(pws)] == [published.id]
    assert len(PublishedPipeline.list(pws, active_only=False)) == 2
    with pytest.raises(NotFoundError, match=r"'nope'.*PublishedPipeline\.list"):
        PublishedPipeline.get(pws, "nope")
    with pytest.raises(InvalidArgumentError, match="published pipeline"):
        PublishedPipeline._create(pws, "bad name!", None, None, {}, None)


def test_submit_hands_the_definition_to_the_engine_with_values_and_properties(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    run = published.submit(pws, "nightly", pipeline_parameters={"lr": 0.5})
    assert engine[-1]["definition"] == DEFINITION and engine[-1]["values"] == {"lr": 0.5, "epochs": 3}
    assert run.experiment.name == "nightly" and run.get_status() == "Completed"
    props = run.properties
    assert props["azureml.pipelineid"] == published.id and props["azureml.pipelineComponent"] == "pipelinerun"
    with pytest.raises(InvalidArgumentError, match=r"no parameter 'learning_rate'.*'epochs', 'lr'"):
        published.submit(pws, "nightly", pipeline_parameters={"learning_rate": 1})
    assert len(engine) == 1  # refused before the engine was called


def test_a_disabled_pipeline_refuses_submissions_until_enabled(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    published.disable()
    assert published.status == "Disabled"
    with pytest.raises(InvalidStateError, match=r"disabled: enable it with PublishedPipeline\.get") as info:
        PublishedPipeline.get(pws, published.id).submit(pws, "nightly")
    assert info.value.http_status == 409 and not engine
    published.enable()
    assert published.submit(pws, "nightly").get_status() == "Completed"


def test_tokens_open_their_pipeline_only_and_are_stored_hashed(pws: Workspace, published: PublishedPipeline) -> None:
    other = PublishedPipeline._create(pws, "other", None, None, DEFINITION, None)
    token = published.get_token()
    second = published.get_token()
    assert token.startswith("mlwsp_") and second != token
    assert token_opens(pws, token, pipeline_id=published.id)
    assert not token_opens(pws, token, pipeline_id=other.id)
    assert not token_opens(pws, "mlwsp_forged", pipeline_id=published.id)
    assert not token_opens(pws, token, endpoint_name="anything")
    database = Path(pws.path) / "mlws.db"
    with sqlite3.connect(database) as conn:
        stored = [row[0] for row in conn.execute("SELECT token_hash FROM pipeline_tokens")]
    assert hash_token(token) in stored
    for path in Path(pws.path).rglob("*"):  # the token itself is nowhere in the workspace
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    assert published.revoke_tokens() == 2
    assert not token_opens(pws, token, pipeline_id=published.id)


def test_the_endpoint_url_is_the_serving_lab_or_the_bare_route(
    pws: Workspace, published: PublishedPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert published.endpoint == f"/mlws/api/v1/pipelines/{published.id}/runs"
    monkeypatch.setenv("MLWS_LAB_URL", "http://127.0.0.1:8899/base/?token=secret")
    assert published.endpoint == f"http://127.0.0.1:8899/base/mlws/api/v1/pipelines/{published.id}/runs"


def test_endpoints_version_pipelines_and_submit_the_default(
    pws: Workspace, published: PublishedPipeline, engine: list[dict[str, Any]]
) -> None:
    endpoint = PipelineEndpoint.publish(pws, "scoring", "scores", published)
    assert endpoint.default_version == "0" and endpoint.get_pipeline() == published
    with pytest.raises(AlreadyExistsError, match=r"add_default"):
        PipelineEndpoint.publish(pws, "scoring", None, published)
    v2 = PublishedPipeline._create(pws, "training", None, "2.0", {"steps": [], "parameters": {"lr": 1.0}}, None)
    assert endpoint.add(v2) == "1" and endpoint.default_version == "0"
    run = endpoint.submit("scoring-runs")
    assert run.properties["azureml.pipelineid"] == published.id
    assert endpoint.add_default(v2) == "1" and endpoint.get_default_version() == "1"
    assert endpoint.submit("scoring-runs").properties["azureml.pipelineid"] == v2.id
    assert endpoint.submit("scoring-runs", pipeline_version="0").properties["azureml.pipelineid"] == published.id
    endpoint.set_default_version(0)
    assert PipelineEndpoint.get(pws, name="scoring").default_version == "0"
    assert PipelineEndpoint.get(pws, id=endpoint.id).name == "scoring"
    assert endpoint.list_versions() == [
        {"version": "0", "pipeline_id": published.id},
        {"version": "1", "pipeline_id": v2.id},
    ]
    with pytest.raises(NotFoundError, match=r"no version '9'"):
        endpoint.get_pipeline("9")
    endpoint.disable()
    with pytest.raises(InvalidStateError, match=r"endpoint 'scoring' is disabled"):
        endpoint.submit("scoring-runs")
    assert PipelineEndpoint.list(pws) == [] and len(PipelineEndpoint.list(pws, active_only=False)) == 1
    endpoint.enable()
    token = endpoint.get_token()
    assert token_opens(pws, token, endpoint_name="scoring")
    assert not token_opens(pws, token, endpoint_name="other")
    assert not token_opens(pws, token, pipeline_id=published.id)


def test_an_endpoint_publishes_a_pipeline_object_given_to_it(pws: Workspace) -> None:
    class FakePipeline:  # the lead's Pipeline: .publish(name, description) -> PublishedPipeline
        def publish(self, name: str, description: str | None = None) -> PublishedPipeline:
            return PublishedPipeline._create(pws, name, description, None, DEFINITION, None)

    endpoint = PipelineEndpoint.publish(pws, "from-pipeline", "desc", FakePipeline())
    assert endpoint.get_pipeline().name == "from-pipeline"
    swapped = PipelineEndpoint.publish(pws, "swapped", FakePipeline(), "described")  # (ws, name, pipeline, description)
    assert swapped.description == "described" and swapped.get_pipeline().description == "described"
    with pytest.raises(InvalidArgumentError, match="expected a Pipeline or a PublishedPipeline"):
        endpoint.add("not a pipeline")
