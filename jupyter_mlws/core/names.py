"""Validation of user-supplied names and file paths: each error names the thing and the fix."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from ..errors import InvalidArgumentError

__all__ = [
    "secret_names",
    "validate_entity_name",
    "validate_file_name",
    "validate_key",
    "validate_run_id",
]

# Experiments and models: Azure ML's rule (letters, digits, '-', '_', '.'; starts with a letter or digit).
_ENTITY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
# Run ids: generated ones are "<experiment>_<unix seconds>_<8 hex>", so the experiment rule fits them;
# a chosen one (child_run(run_id=...)) follows it too: it goes into URLs, file names and headers.
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_KEY_LENGTH = 250


def validate_entity_name(kind: str, name: object) -> str:
    """An experiment or model name: 1-255 characters of letters, digits, ``-``, ``_`` and ``.``."""
    if not isinstance(name, str) or not _ENTITY_NAME.match(name):
        raise InvalidArgumentError(
            f"invalid {kind} name {name!r}: use 1-255 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    return name


def validate_run_id(run_id: object) -> str:
    """A run id chosen by the caller: 1-255 letters, digits, ``-``, ``_`` and ``.``, starting with a
    letter or digit (as the ids jupyter-mlws makes)."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        shown = run_id[:60] + "..." if isinstance(run_id, str) and len(run_id) > 60 else run_id
        raise InvalidArgumentError(
            f"invalid run id {shown!r}: use 1-255 letters, digits, '-', '_' or '.', starting with a letter or digit "
            "(or leave it out for a generated one)"
        )
    return run_id


def validate_key(kind: str, key: object) -> str:
    """A metric name, param, tag or property key: a non-empty printable string of at most 250 chars."""
    if not isinstance(key, str):
        raise InvalidArgumentError(f"{kind} name must be a string, got {type(key).__name__} {key!r}")
    if not key or key != key.strip():
        raise InvalidArgumentError(f"invalid {kind} name {key!r}: it must be non-empty, without surrounding spaces")
    if len(key) > MAX_KEY_LENGTH or _CONTROL.search(key):
        raise InvalidArgumentError(f"invalid {kind} name {key[:60]!r}: at most {MAX_KEY_LENGTH} printable characters")
    return key


def validate_file_name(name: object, kind: str = "file") -> str:
    """A relative POSIX path inside a run or model; ``..`` and absolute paths are refused."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"{kind} name must be a non-empty relative path, got {name!r}")
    if _CONTROL.search(name):
        raise InvalidArgumentError(f"{kind} name {name!r} contains control characters")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        raise InvalidArgumentError(
            f"{kind} name {name!r} is absolute; use a path relative to the run, e.g. 'outputs/model.pkl'"
        )
    parts = [p for p in PurePosixPath(unified).parts if p not in ("", ".")]
    if not parts:
        raise InvalidArgumentError(f"{kind} name {name!r} names no file")
    if ".." in parts:
        raise InvalidArgumentError(f"{kind} name {name!r} escapes its folder ('..' is not allowed)")
    return "/".join(parts)


def secret_names(secrets: Iterable[str]) -> list[str]:
    """The names given to ``get_secrets``: a list of str (one str is refused: it would be read letter by letter)."""
    if isinstance(secrets, str):
        raise InvalidArgumentError("get_secrets takes a list of names; use get_secret for one")
    names = list(secrets)
    for name in names:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"a secret's name is a str, not {type(name).__name__}")
    return names
