"""A snapshot's manifest: every captured file (path, size, mode, sha256) and symlink (target), and
the secret-like files the capture left out (by name only, so that the UI and CLI can say so).

The manifest is stored as a blob; its own sha256 is the snapshot id, so an unchanged tree gives the
same id and costs no new bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgumentError

__all__ = ["FORMAT", "Manifest", "ManifestEntry"]

FORMAT = 1


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    path: str
    kind: str  # "file" | "link"
    size: int = 0
    mode: int = 0o644
    digest: str | None = None  # files
    target: str | None = None  # links

    def to_json(self) -> dict[str, Any]:
        if self.kind == "link":
            return {"path": self.path, "kind": "link", "target": self.target}
        return {"path": self.path, "kind": "file", "size": self.size, "mode": self.mode, "digest": self.digest}


@dataclass(frozen=True)
class Manifest:
    entries: tuple[ManifestEntry, ...]
    skipped_links: tuple[str, ...] = field(default=())
    #: Secret-like files (and folders, ending in "/") the capture left out (issue 13).
    excluded_secrets: tuple[str, ...] = field(default=())

    @property
    def files(self) -> list[ManifestEntry]:
        return [e for e in self.entries if e.kind == "file"]

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries if e.kind == "file")

    def to_bytes(self) -> bytes:
        """Canonical JSON: the same tree always gives the same bytes (and so the same id)."""
        body: dict[str, Any] = {
            "format": FORMAT,
            "entries": [e.to_json() for e in sorted(self.entries, key=lambda e: e.path)],
        }
        if self.excluded_secrets:  # only then: a tree without any keeps the id it always had
            body["excluded_secrets"] = sorted(self.excluded_secrets)
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            body = json.loads(data)
            if body.get("format") != FORMAT:
                raise ValueError(f"unknown manifest format {body.get('format')!r}")
            entries = []
            for raw in body["entries"]:
                if raw["kind"] == "link":
                    entries.append(ManifestEntry(raw["path"], "link", target=str(raw["target"])))
                else:
                    entries.append(
                        ManifestEntry(raw["path"], "file", int(raw["size"]), int(raw["mode"]), str(raw["digest"]))
                    )
            excluded = tuple(str(name) for name in body.get("excluded_secrets", ()))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidArgumentError(f"not a snapshot manifest: {exc}") from None
        return cls(tuple(entries), excluded_secrets=excluded)
