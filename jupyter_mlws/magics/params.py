"""Typed ``k=v`` values for ``--param`` and ``--tag``: int, float, bool, JSON, else a string."""

from __future__ import annotations

from ..core.values import typed_value
from ..errors import InvalidArgumentError

__all__ = ["parse_assignment", "typed_value"]

# typed_value is shared with the CLI (`mlws pipelines run -p`): it lives with core's value helpers.


def parse_assignment(item: str, option: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or (not key.isidentifier() and option == "--param"):
        raise InvalidArgumentError(f"{option} takes name=value with a Python name, got {item!r}")
    if not sep or not key:
        raise InvalidArgumentError(f"{option} takes key=value, got {item!r}")
    return key, value
