"""Storage options of a workspace's artifact store (issue 19): fsspec options that are not secret.

A team workspace's ``config.json`` names its object store (``artifact_url``) and may keep the options
every member needs to reach it — ``endpoint_url``, ``client_kwargs`` (e.g. ``{"region_name": …}``),
``use_ssl`` — as ``artifact_options``. Keys are never kept there: every member gives their own in the
standard environment variables (for S3: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN`` or ``AWS_PROFILE``; botocore also reads the endpoint from ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidArgumentError

__all__ = ["CREDENTIAL_HELP", "SECRET_WORDS", "check_artifact_options", "is_local_url", "looks_secret"]

#: Parts of an option name that mark it as a secret (the datastores use the same words).
SECRET_WORDS = ("key", "secret", "token", "password", "credential", "sas", "session", "user")
#: Options whose names contain one of those words without being secret.
PUBLIC_OPTIONS = frozenset({"endpoint_url", "region_name", "anon", "use_ssl", "requester_pays", "default_block_size"})
CREDENTIAL_HELP = (
    "keys are never kept in the workspace: give them to every process that opens it in the standard "
    "environment variables (for S3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; the "
    "endpoint may come from AWS_ENDPOINT_URL)"
)


def looks_secret(name: str) -> bool:
    """Whether the storage option ``name`` looks like a credential."""
    lower = name.lower()
    return name not in PUBLIC_OPTIONS and any(word in lower for word in SECRET_WORDS)


def is_local_url(url: str) -> bool:
    """Whether an artifact URL is a local folder (a path or ``file://``), not an fsspec filesystem."""
    return "://" not in url or url.startswith("file://")


def check_artifact_options(options: object, artifact_url: str | None) -> dict[str, Any]:
    """``options`` as a plain JSON-able dict, refusing secrets (at any depth) with the fix."""
    if not isinstance(options, Mapping):
        raise InvalidArgumentError(
            "artifact_options is a dict of fsspec storage options such as "
            f"{{'endpoint_url': 'http://host:9000'}}, got {type(options).__name__}"
        )
    if options and (artifact_url is None or is_local_url(artifact_url)):
        raise InvalidArgumentError(
            "artifact_options apply to an object store: give artifact_url too (e.g. 's3://bucket/prefix'), "
            "or leave artifact_options out for a local artifact folder"
        )
    _refuse_secrets(options, "artifact_options")
    try:
        value: dict[str, Any] = json.loads(json.dumps(dict(options), sort_keys=True))
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"artifact_options must be JSON values (strings, numbers, booleans, dicts, lists): {exc}"
        ) from None
    return value


def _refuse_secrets(options: Mapping[Any, Any], where: str) -> None:
    for key, value in options.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"{where} keys are option names (strings), got {key!r}")
        if looks_secret(key):
            raise InvalidArgumentError(
                f"{where} holds {key!r}, which looks like a secret, and the workspace config is shared and "
                f"never holds one: leave it out; {CREDENTIAL_HELP}"
            )
        if isinstance(value, Mapping):
            _refuse_secrets(value, f"{where}[{key!r}]")
