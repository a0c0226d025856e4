"""JSON for the outside world (CLI ``--json``, REST): strict JSON, no NaN or Infinity literals."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["json_safe"]


def json_safe(value: Any) -> Any:
    """Replace non-finite floats by the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

    Strict parsers (JavaScript's ``JSON.parse``, jq) reject bare NaN, and ``null`` would lose the
    value; ``float("NaN")`` and ``float("Infinity")`` read these strings back in Python.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
