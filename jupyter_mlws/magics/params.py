"""Typed ``k=v`` values for ``--param`` and ``--tag``: int, float, bool, JSON, else a string."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidArgumentError

__all__ = ["parse_assignment", "typed_value"]


def typed_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``true`` -> True, ``[1, 2]`` -> [1, 2], ``'x'``/``x`` -> "x"."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text[:1] in ("[", "{", '"'):
        try:
            return json.loads(text)
        except ValueError:
            pass
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return text


def parse_assignment(item: str, option: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or (not key.isidentifier() and option == "--param"):
        raise InvalidArgumentError(f"{option} takes name=value with a Python name, got {item!r}")
    if not sep or not key:
        raise InvalidArgumentError(f"{option} takes key=value, got {item!r}")
    return key, value
