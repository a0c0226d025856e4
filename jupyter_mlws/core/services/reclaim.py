"""What ``mlws gc`` reports: each thing it removed (or, in a dry run, would remove) and its bytes.

One report for every kind, so a dry run and the real run print and serialise the same way: blobs
and the artifact store's stale temporary files (core), environment venvs, Docker images and job
scratch folders (compute, which knows about them), and the events pruned from the change feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import InvalidArgumentError

__all__ = [
    "DAY_SECONDS",
    "DEFAULT_EVENT_DAYS",
    "DEFAULT_KEEP_DAYS",
    "KINDS",
    "GcReport",
    "Reclaimable",
    "check_days",
]

DAY_SECONDS = 86400.0
# Issue 21: environments no run has used for 30 days go.
DEFAULT_KEEP_DAYS = 30.0
# The change feed only serves live pages: a page reconnecting finds what it missed there, and a page
# away for longer than a week reloads everything anyway. Runs, metrics and activities are not events.
DEFAULT_EVENT_DAYS = 7.0
# In the order a report lists them.
KINDS = ("blob", "temp-file", "venv", "image", "job-folder")


def check_days(value: float, option: str) -> float:
    """``value`` as a number of days >= 0, else an error naming ``option`` and what it takes."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise InvalidArgumentError(f"{option} is a number of days >= 0 (e.g. {option} 30), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Reclaimable:
    """One thing gc removes: its kind (one of :data:`KINDS`), what names it (a digest, a folder, an
    image tag), its bytes and, for the reader, why it may go."""

    kind: str
    name: str
    size: int
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "name": self.name, "bytes": self.size, "detail": self.detail}


@dataclass
class GcReport:
    """Everything one ``mlws gc`` removed (``dry_run``: would remove); ``kept`` says what was left
    although old enough, and why (in use, being built, not visible)."""

    dry_run: bool
    grace_seconds: float
    keep_days: float
    event_days: float
    items: list[Reclaimable] = field(default_factory=list)
    events: int = 0
    kept: list[str] = field(default_factory=list)
    fresh_blobs: int = 0  # unreferenced blobs written within the grace period

    @property
    def reclaimed_bytes(self) -> int:
        return sum(item.size for item in self.items)

    def counts(self) -> dict[str, int]:
        """How many of each kind, every kind listed (zero included)."""
        return {kind: sum(1 for item in self.items if item.kind == kind) for kind in KINDS}

    def ordered(self) -> list[Reclaimable]:
        return sorted(self.items, key=lambda item: (KINDS.index(item.kind), item.name))

    def to_json(self) -> dict[str, object]:
        blobs = [item for item in self.ordered() if item.kind == "blob"]
        return {
            "dry_run": self.dry_run,
            "grace_seconds": self.grace_seconds,
            "keep_days": self.keep_days,
            "event_days": self.event_days,
            "items": [item.to_json() for item in self.ordered()],
            "counts": self.counts(),
            "reclaimed_bytes": self.reclaimed_bytes,
            "events_pruned": self.events,
            "kept": list(self.kept),
            # As before issue 21 item 4, for scripts reading the blob part.
            "blobs": [{"digest": b.name, "size": b.size} for b in blobs],
            "kept_fresh": self.fresh_blobs,
        }
