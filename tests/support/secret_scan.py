"""Scans for a secret's value (issue 21): every stored byte of a workspace, and any text, must be free of it."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterable
from pathlib import Path


def needles(value: str) -> list[bytes]:
    """The value and its base64 forms, as bytes."""
    raw = value.encode()
    return [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw)]


def files_holding(root: Path, value: str) -> list[str]:
    """Every regular file under ``root`` (the workspace: database, WAL, blobs, logs) holding the value."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if any(n in data for n in needles(value)):
            found.append(str(path.relative_to(root)))
    return found


def sqlite_dump_holds(database: Path, value: str) -> bool:
    """The database's SQL dump (every row of every table, as text) holds the value."""
    with sqlite3.connect(database) as conn:
        dump = "\n".join(conn.iterdump())
    return any(n.decode() in dump for n in needles(value))


def texts_holding(texts: Iterable[str], value: str) -> list[str]:
    return [t[:200] for t in texts if any(n.decode() in t for n in needles(value))]
