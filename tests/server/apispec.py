"""The shipped OpenAPI file, and a validator of real responses against it.

``check_response(method, path, status, content_type, body)`` finds the operation of a request
path (relative to ``/mlws/api/v1``), asserts that the status and content type are documented for
it, and validates a JSON body against the documented schema (JSON Schema 2020-12 with OpenAPI 3.1
formats, so ``date-time`` is checked too).
"""

from __future__ import annotations

import importlib.resources
import json
import re
from functools import cache
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["SPEC", "SPEC_TEXT", "check_response", "find_operation", "validate_schema"]

SPEC_TEXT = (importlib.resources.files("jupyter_mlws.server") / "openapi.yaml").read_text(encoding="utf-8")
SPEC: dict[str, Any] = yaml.safe_load(SPEC_TEXT)
_URI = "urn:jupyter-mlws:openapi"
_REGISTRY: Registry = Registry().with_resource(_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _resolve(node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Follow a local ``$ref``; returns the node and its JSON pointer when it was a reference."""
    ref = node.get("$ref")
    if ref is None:
        return node, None
    assert ref.startswith("#/"), ref
    target: Any = SPEC
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target, ref[1:]


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    found = []
    for template in SPEC["paths"]:
        pattern = re.sub(r"\{path\}", "(?:.+)", template)
        pattern = re.sub(r"\{[^}]+\}", "(?:[^/]+)", pattern)
        found.append((re.compile(f"^{pattern}$"), template))
    # Most literal characters first: /runs/{run_id}/files beats /runs/{run_id}/files/{path}.
    found.sort(key=lambda item: -len(re.sub(r"\{[^}]+\}", "", item[1])))
    return found


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The path template and operation object documenting ``method path`` (path decoded, no query)."""
    for pattern, template in _templates():
        if pattern.match(path):
            operation = SPEC["paths"][template].get(method.lower())
            assert operation is not None, f"{method} {template} is not documented in openapi.yaml"
            return template, operation
    raise AssertionError(f"no path of openapi.yaml matches {path!r}")


@cache
def _validator(pointer: str) -> OAS31Validator:
    return OAS31Validator(
        {"$ref": f"{_URI}#{pointer}"}, registry=_REGISTRY, format_checker=OAS31Validator.FORMAT_CHECKER
    )


def _validate(pointer: str, instance: Any, what: str) -> None:
    errors = sorted(_validator(pointer).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"- at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors[:10]]
        raise AssertionError(f"{what} does not match openapi.yaml ({pointer}):\n" + "\n".join(lines))


def validate_schema(component: str, instance: Any) -> None:
    """Validate ``instance`` against ``#/components/schemas/<component>``."""
    assert component in SPEC["components"]["schemas"], component
    _validate(f"/components/schemas/{_escape(component)}", instance, f"a {component}")


def check_response(method: str, path: str, status: int, content_type: str | None, body: bytes) -> Any:
    """Assert that a response is what openapi.yaml documents; returns the parsed JSON body (or None)."""
    template, operation = find_operation(method, path)
    what = f"{method} {path} -> {status}"
    responses = operation["responses"]
    assert str(status) in responses, f"{what}: status {status} is not documented for {method} {template}"
    response, ref = _resolve(responses[str(status)])
    base = ref or f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
    media = (content_type or "").split(";", 1)[0].strip().lower()
    content = response.get("content", {})
    if not content:  # a documented answer without a body (204): it must have none
        assert not body, f"{what}: no body is documented, got {body[:300]!r}"
        return None
    if media in content:
        key = media
    elif "*/*" in content:
        key = "*/*"
    else:
        raise AssertionError(f"{what}: Content-Type {content_type!r} is not documented (documented: {list(content)})")
    if key != "application/json":
        return None
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise AssertionError(f"{what}: the body is not JSON ({exc}): {body[:300]!r}") from None
    _validate(f"{base}/content/{_escape(key)}/schema", data, what)
    return data
