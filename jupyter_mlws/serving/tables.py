"""The web-service tables the terminal and the notebook show (issue 17): the services of a
workspace, and one service's fields.

``mlws services list|show`` and ``%mlws services`` / ``%mlws service NAME`` show the same rows; each
adapter only draws them (upper-case headers in a terminal, an HTML table in a notebook). A service is
read once into :func:`service_json` (its state is read live from its supervisor's file), and the rows
are made from that: the JSON the CLI prints with ``--json`` is what the tables show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.values import iso_utc

if TYPE_CHECKING:
    from .webservice import Webservice

__all__ = [
    "DETAIL_HEADERS",
    "SERVICE_HEADERS",
    "detail_rows",
    "error_line",
    "service_json",
    "service_rows",
    "time_text",
]

SERVICE_HEADERS = ("Name", "Kind", "State", "URI", "Models", "Updated")
DETAIL_HEADERS = ("Field", "Value")


def time_text(value: str | None) -> str:
    """An ISO time as ``2026-12-03 08:00:00`` (UTC); ``""`` for None."""
    if not value:
        return ""
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def service_json(service: Webservice) -> dict[str, Any]:
    """A service as JSON (``mlws services list --json`` / ``show --json``): snake_case keys, ISO UTC
    times, the live state and its error, where it listens (None until its supervisor has bound the
    port), what it serves (``name:version`` ids) and how (the entry script, None for MLflow shapes)."""
    data = service.serialize()  # one read of the live state
    return {
        "name": data["name"],
        "compute_type": data["computeType"],
        "state": data["state"],
        "error": data["error"],
        "scoring_uri": data["scoringUri"],
        "swagger_uri": data["swaggerUri"],
        "port": service.port,
        "auth_enabled": data["authEnabled"],
        "models": list(data["models"]),
        "generation": data["generation"],
        "entry_script": service.entry_script,
        "created_time": iso_utc(service.created_time.timestamp()),
        "updated_time": iso_utc(service.updated_time.timestamp()),
        "description": data["description"],
        "tags": data["tags"],
        "properties": data["properties"],
    }


def service_rows(items: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """Rows of :func:`service_json` values, in :data:`SERVICE_HEADERS` order."""
    return [
        [s["name"], s["compute_type"], s["state"], s["scoring_uri"] or "", ", ".join(s["models"]),
         time_text(s["updated_time"])]
        for s in items
    ]  # fmt: skip


def error_line(text: str | None) -> str:
    """An error on one line. A failed deployment's error holds the traceback of ``init()`` (or of the
    new generation, for an update): its first line says what failed, its last line why."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    head = "" if lines[0].startswith("Traceback") else lines[0].rstrip(":")
    return f"{head}: {lines[-1]}" if head else lines[-1]


def detail_rows(view: Mapping[str, Any]) -> list[list[Any]]:
    """``[field, value]`` rows of one :func:`service_json` value (empty fields left out)."""
    rows: list[list[Any]] = [
        ["name", view["name"]],
        ["kind", view["compute_type"]],
        ["state", view["state"]],
    ]
    if view["error"]:
        rows.append(["error", error_line(view["error"])])
    rows += [
        ["scoring uri", view["scoring_uri"] or ""],
        ["swagger uri", view["swagger_uri"] or ""],
        ["auth", "key (Authorization: Bearer <key>)" if view["auth_enabled"] else "none"],
        ["models", ", ".join(view["models"])],
        ["entry script", view["entry_script"] or "(none: MLflow request shapes)"],
        ["generation", view["generation"]],
        ["created", time_text(view["created_time"])],
        ["updated", time_text(view["updated_time"])],
    ]
    if view["description"]:
        rows.append(["description", view["description"]])
    rows += [[f"tag {k}", v] for k, v in view["tags"].items()]
    rows += [[f"property {k}", v] for k, v in view["properties"].items()]
    return [row for row in rows if row[1] not in ("", None)]
