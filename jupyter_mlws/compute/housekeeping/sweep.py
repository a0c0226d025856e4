"""What one sweep of ``mlws gc`` over a kind of thing found: what went (or would go) and what was
kept although old enough, with the reason."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ...core.services.reclaim import DAY_SECONDS, Reclaimable

__all__ = ["Sweep", "unused_since", "when"]


@dataclass
class Sweep:
    items: list[Reclaimable] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def extend(self, other: Sweep) -> None:
        self.items.extend(other.items)
        self.kept.extend(other.kept)


def unused_since(keep_days: float, grace_seconds: float, now: float | None = None) -> float:
    """The time before which an environment's last use must lie for it to go: ``keep_days`` ago,
    and never within the grace period (a job that took its environment from the cache a moment ago
    has not started its process yet, so no process shows that it uses it)."""
    now = time.time() if now is None else now
    return now - max(keep_days * DAY_SECONDS, grace_seconds)


def when(seconds: float) -> str:
    """A time as a reader wants it in a report line: to the minute, UTC."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))
