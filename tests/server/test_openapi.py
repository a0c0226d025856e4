"""The OpenAPI file: valid, shipped in the package, and describing exactly the routes the extension serves."""

from __future__ import annotations

import importlib.resources
import re

from openapi_spec_validator import validate

from jupyter_mlws.server.handlers import API, UnknownRouteHandler, handlers
from tests.server.apispec import SPEC, validate_schema

METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_spec_is_valid_openapi() -> None:
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.1")


def test_the_spec_ships_in_the_package() -> None:
    resource = importlib.resources.files("jupyter_mlws.server") / "openapi.yaml"
    assert resource.is_file()
    assert "openapi: 3.1" in resource.read_text(encoding="utf-8")


def _served() -> set[tuple[str, str]]:
    """(method, templated path) of every handler, from the route table."""
    found = set()
    for pattern, handler in handlers():
        assert pattern.startswith(API), pattern
        if handler is UnknownRouteHandler:
            continue  # the JSON 404 for anything undocumented
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern[len(API) :])
        found.update((method, path) for method in METHODS if method in vars(handler))
    return found


def test_unknown_routes_answer_json_404_last() -> None:
    assert handlers()[-1][1] is UnknownRouteHandler


def test_every_route_is_documented_and_nothing_else() -> None:
    documented = {(m, p) for p, item in SPEC["paths"].items() for m in item if m in METHODS}
    assert documented == _served()


def test_every_operation_documents_auth_and_errors() -> None:
    ids = []
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            ids.append(op["operationId"])
            responses = op["responses"]
            assert "403" in responses, (method, path)
            assert "500" not in responses, (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if op.get("parameters") or op.get("requestBody"):
                assert "400" in responses or all(p.get("in") == "path" for p in _params(op)), (method, path)
            for status, response in responses.items():
                if status not in ("200", "201", "202", "204"):  # successes are described inline
                    ref = response.get("$ref", "")
                    assert ref.startswith("#/components/responses/"), (method, path, status)
    assert len(ids) == len(set(ids))
    assert SPEC["components"]["securitySchemes"]["token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": SPEC["components"]["securitySchemes"]["token"]["description"],
    }


def _params(op: dict) -> list[dict]:
    params = []
    for p in op.get("parameters", []):
        if "$ref" in p:
            p = SPEC["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
        params.append(p)
    return params


def test_paging_parameters() -> None:
    page_size = SPEC["components"]["parameters"]["PageSize"]["schema"]
    assert (page_size["minimum"], page_size["maximum"], page_size["default"]) == (1, 1000, 100)
    for path in ("/runs", "/experiments/{name}/runs"):
        names = {p["name"] for p in _params(SPEC["paths"][path]["get"])}
        assert {"filter", "order_by", "page_size", "page_token", "include_children"} <= names


def test_the_component_schemas_accept_and_refuse() -> None:
    for value in (1, 0.5, -2, "NaN", "Infinity", "-Infinity"):
        validate_schema("MetricValue", value)
    for bad in ("nan", "inf", None, "1.0"):
        try:
            validate_schema("MetricValue", bad)
        except AssertionError:
            continue
        raise AssertionError(f"MetricValue accepted {bad!r}")
    validate_schema("Error", {"error": {"type": "NotFoundError", "message": "run 'x' not found"}})
    validate_schema("Point", {"step": None, "value": "NaN", "timestamp": "2026-01-31T12:00:00.5Z"})
    try:
        validate_schema("Point", {"step": 1, "value": 1, "timestamp": "yesterday"})
    except AssertionError:
        pass
    else:
        raise AssertionError("a Point with a bad timestamp was accepted")
    validate_schema("SubmissionRequest", {"script": "a.py", "arguments": ["--n", 3, True], "tags": {"k": "v"}})
    expected = {
        "Run", "RunDetail", "RunPage", "Experiment", "MetricSeriesSummary", "MetricSeries", "Point", "FileEntry",
        "LogChunk", "Model", "ModelDetail", "Workspace", "ComputeTarget", "Snapshot", "SubmissionRequest", "Error",
    }  # fmt: skip
    assert expected <= set(SPEC["components"]["schemas"])
