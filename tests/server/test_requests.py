"""The request models: each is its openapi.yaml schema as typed fields, and a body that does not match
is refused with one message naming the field and the fix (the routes' own tests check the same through
the server)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.server.requests import CreateSnapshot, RegisterModelVersion, RequestModel, SubmitJob, parse
from tests.server.apispec import SPEC

MODELS: list[type[RequestModel]] = [CreateSnapshot, SubmitJob, RegisterModelVersion]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_model_holds_exactly_its_schema_fields(model: type[RequestModel]) -> None:
    schema = SPEC["components"]["schemas"][model.SCHEMA]
    fields = {f.name: f for f in dataclasses.fields(model)}  # type: ignore[arg-type]
    assert set(fields) == set(schema["properties"]), model
    required = {
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    assert required == set(schema.get("required", [])), model


def refusal(model: type[RequestModel], body: dict[str, Any]) -> str:
    with pytest.raises(InvalidArgumentError) as caught:
        parse(model, body)
    return caught.value.message


@pytest.mark.parametrize(
    ("model", "body", "words"),
    [
        (SubmitJob, {}, ["'script'", "'notebook'", "relative to the server root"]),
        (SubmitJob, {"script": 5}, ["'script'", "a string", "got 5"]),
        (SubmitJob, {"script": "", "notebook": ""}, ["'script'", "'notebook'"]),
        (SubmitJob, {"script": "a.py", "arguments": "a b"}, ["'arguments'", "a list of strings, numbers or booleans"]),
        (SubmitJob, {"script": "a.py", "arguments": ["x", {"k": 1}]}, ["'arguments'", "item 1"]),
        (SubmitJob, {"script": "a.py", "tags": {"n": 1}}, ["'tags'", "'n'", 'send it as "1"']),
        (
            SubmitJob,
            {"script": "a.py", "max_run_duration_seconds": 0},
            ["'max_run_duration_seconds'", "greater than 0"],
        ),
        (
            SubmitJob,
            {"script": "a.py", "allow_unknown_parameters": "yes"},
            ["'allow_unknown_parameters'", "true or false"],
        ),
        (SubmitJob, {"notebook": "n.ipynb", "kernel_name": 3}, ["'kernel_name'", "a string or null"]),
        (CreateSnapshot, {"path": None}, ["'path'", "a string", "relative to the server root"]),
        (RegisterModelVersion, {"run_id": "r"}, ["'path'", "outputs/model.pkl"]),
        (RegisterModelVersion, {"run_id": "", "path": "m"}, ["'run_id'", "empty"]),
        (RegisterModelVersion, {"run_id": "r", "path": "/abs"}, ["'path'", "absolute"]),
        (RegisterModelVersion, {"run_id": "r", "path": "m", "x": 1, "a": 2}, ["unknown field 'a'", "run_id, path"]),
        (RegisterModelVersion, {"run_id": "r", "path": "m", "tags": []}, ["'tags'", '{"stage": "dev"}']),
    ],
)
def test_a_bad_body_names_the_field_and_the_fix(
    model: type[RequestModel], body: dict[str, Any], words: list[str]
) -> None:
    message = refusal(model, body)
    for word in words:
        assert word in message, (word, message)


def test_the_first_problem_in_schema_order_is_reported() -> None:
    # Unknown fields first, then missing ones, then fields in the schema's order: the same body always
    # gets the same message.
    assert "unknown field" in refusal(RegisterModelVersion, {"extra": 1, "run_id": 5})
    assert "'run_id'" in refusal(RegisterModelVersion, {"path": 5})
    assert "'run_id'" in refusal(RegisterModelVersion, {"run_id": 5, "path": 5})


def test_good_bodies_become_typed_models_with_defaults() -> None:
    job = parse(SubmitJob, {"notebook": "n.ipynb", "parameters": {"epochs": 3}, "environment": None, "extra": 1})
    assert job.entry == "n.ipynb" and job.parameters == {"epochs": 3} and job.tags == {} and job.arguments == []
    assert parse(SubmitJob, {"script": "a.py", "notebook": "n.ipynb"}).entry == "a.py"  # the script wins, as before
    assert parse(CreateSnapshot, {}).path == "."
    reg = parse(RegisterModelVersion, {"run_id": "r", "path": "outputs//model.pkl", "description": None})
    assert reg.path == "outputs/model.pkl" and reg.description is None and reg.properties == {}


def test_a_huge_bad_value_is_quoted_short() -> None:
    message = refusal(SubmitJob, {"script": "a.py", "tags": list(range(100_000))})
    assert "'tags'" in message and len(message) < 300, message
