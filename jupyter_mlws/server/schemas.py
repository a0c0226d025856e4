"""openapi.yaml's request-body schemas as validators, and their errors as messages that name the field
and the fix (the messages a client shows its user; a schema library's own are written for schema authors).

Loaded on the first request with a body: the file is the contract (``components/schemas``), so a field
added there is checked here without another line of code.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import reprlib
from typing import Any

import yaml

__all__ = ["body_problem", "request_schema"]

TYPE_WORDS = {
    "string": ("a string", "strings"),
    "number": ("a number", "numbers"),
    "integer": ("an integer", "integers"),
    "boolean": ("true or false", "booleans"),
    "object": ("an object", "objects"),
    "array": ("a list", "lists"),
    "null": ("null", "nulls"),
}
SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z`])")  # not inside "e.g. `x`"
_SHOW = reprlib.Repr()  # a value quoted in a message stays short, however big the body
_SHOW.maxstring = _SHOW.maxother = 80
_SHOW.maxlist = _SHOW.maxdict = 6
BOUNDS = {
    "exclusiveMinimum": "greater than",
    "minimum": "at least",
    "exclusiveMaximum": "less than",
    "maximum": "at most",
}


@functools.cache
def _spec() -> dict[str, Any]:
    text = (importlib.resources.files("jupyter_mlws.server") / "openapi.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: dict[str, Any] = yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    return spec


def request_schema(name: str) -> dict[str, Any]:
    """The ``components/schemas`` entry ``name`` (a KeyError names an undocumented body)."""
    schema: dict[str, Any] = _spec()["components"]["schemas"][name]
    return schema


@functools.cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator  # OpenAPI 3.1 schemas are JSON Schema 2020-12

    request_schema(name)
    # The whole components section rides along so that "#/components/schemas/..." references resolve.
    root = {"$ref": f"#/components/schemas/{name}", "components": _spec()["components"]}
    return Draft202012Validator(root)


def _resolve(node: Any) -> dict[str, Any]:
    """A schema with its local ``$ref`` followed; keywords beside the reference (a description) win."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = _spec()
    for part in ref[2:].split("/"):
        target = target[part]
    return {**_resolve(target), **{k: v for k, v in node.items() if k != "$ref"}}


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _plural(node: Any) -> str:
    """Values of this schema, in words: ``strings``, ``strings, numbers or booleans``."""
    kinds = _types(_resolve(node))
    return _either([TYPE_WORDS.get(k, (k, k))[1] for k in kinds]) if kinds else "valid values"


def _phrase(node: Any) -> str:
    """A value of this schema, in words: ``a string or null``, ``a list of strings, numbers or booleans``."""
    node = _resolve(node)
    kinds = _types(node)
    if kinds == ["object"] and isinstance(node.get("additionalProperties"), dict):
        inner = _plural(node["additionalProperties"])
        return 'an object of strings, e.g. {"stage": "dev"}' if inner == "strings" else f"an object of {inner}"
    if kinds == ["array"] and isinstance(node.get("items"), dict):
        return f"a list of {_plural(node['items'])}"
    return _either([TYPE_WORDS.get(k, (k, k))[0] for k in kinds]) if kinds else "a valid value"


def _about(node: Any) -> str:
    """The first sentence of a schema's description, to be read inside a sentence ('' when none)."""
    text = str(_resolve(node).get("description") or "").strip()
    if not text:
        return ""
    sentence = SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".")
    if sentence[:1].isupper() and (len(sentence) < 2 or not sentence[1].isupper()):
        sentence = sentence[0].lower() + sentence[1:]
    return sentence


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = schema.get("properties", {})
    return properties


def _rank(error: Any, properties: list[str]) -> tuple[int, int, int]:
    """Which problem to report first: unknown fields, then missing ones, then the first field in the
    schema's order (one message at a time, always the same for the same body)."""
    where = len(properties)
    if error.path:
        head = error.path[0]
        where = properties.index(head) if head in properties else where
    elif error.validator == "required":
        missing = [p for p in error.validator_value if p not in error.instance]
        where = properties.index(missing[0]) if missing and missing[0] in properties else where
    kind = 2
    if not error.path:
        kind = 0 if error.validator == "additionalProperties" else 1
    return kind, where, len(error.path)


def _send_as(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return f" (send it as {json.dumps(json.dumps(value))})"
    return ""


def _explain(error: Any, schema: dict[str, Any], what: str) -> str:
    properties = _properties(schema)
    keyword = error.validator
    path = list(error.path)
    if not path:
        if keyword == "required":
            missing = next(p for p in error.validator_value if p not in error.instance)
            about = _about(properties.get(missing))
            return f"{what} needs {missing!r}: {_phrase(properties.get(missing))}" + (f" ({about})" if about else "")
        if keyword == "additionalProperties":
            unknown = sorted(set(error.instance) - set(properties))
            return f"unknown field {unknown[0]!r} in {what}; the fields are {', '.join(properties)}"
        alternatives = [b.get("required", [None])[0] for b in error.validator_value] if keyword == "anyOf" else []
        if alternatives and all(isinstance(a, str) for a in alternatives):
            parts = [f"{a!r} is {_about(properties.get(a)) or _phrase(properties.get(a))}" for a in alternatives]
            return f"{what} needs {_either([repr(a) for a in alternatives])}: " + "; ".join(parts)
        return f"{what}: {error.message}"
    field = str(path[0])
    node = properties.get(field)
    got = _SHOW.repr(error.instance)
    if keyword == "type" and len(path) == 1:
        about = _about(node)
        return f"{field!r} must be {_phrase(node)}" + (f" ({about})" if about else "") + f"; got {got}"
    if keyword == "type" and len(path) == 2:
        if isinstance(path[1], int):
            return f"{field!r} items must be {_plural(error.schema)}: item {path[1]} is {got}"
        values = _plural(error.schema)
        hint = _send_as(error.instance) if values == "strings" else ""
        return f"{field!r} values must be {values}: {path[1]!r} is {got}{hint}"
    if keyword in BOUNDS and len(path) == 1:
        return f"{field!r} must be {BOUNDS[keyword]} {error.validator_value}; got {got}"
    if keyword == "enum" and len(path) == 1:
        return f"{field!r} must be one of {', '.join(map(repr, error.validator_value))}; got {got}"
    where = "".join(f"[{p!r}]" for p in path[1:])
    return f"{field!r}{where}: {error.message}"


def body_problem(name: str, body: dict[str, Any], what: str) -> str | None:
    """Why ``body`` does not match schema ``name`` (one problem, in words), or None when it does."""
    errors = list(_validator(name).iter_errors(body))
    if not errors:
        return None
    schema = _resolve(request_schema(name))
    order = list(_properties(schema))
    return _explain(min(errors, key=lambda e: _rank(e, order)), schema, what)
