"""Workspace housekeeping: ``mlws workspace check`` and the workspace's part of ``mlws gc`` (blobs,
the artifact store's stale temporary files, the change feed's old events). The machine's part
(environments, job folders) is ``jupyter_mlws.compute.housekeeping``'s.

What references a blob (each store concern answers for its own rows): run files, model version
files, recorded snapshots and runs' ``snapshot_id``, pipeline step outputs — and, by reading them,
every file a snapshot manifest lists. Dataset versions keep their files in datastores (their
``digest`` names a manifest kept in the dataset row, not a blob), environments keep their definition
in the database: neither holds a blob.

Why collecting is safe while registrations run (DESIGN §5, "nothing acknowledged is ever lost"):

1. Every writer stores a blob *before* it writes the row that names it (a run file, a model version,
   a snapshot manifest before its row), and a put that finds its bytes stored already refreshes the
   blob's mtime (:meth:`ArtifactStore.refresh`), as does a snapshot reusing cached digests. So a blob
   a registration is about to name has an mtime within the grace period and is never a candidate.
2. Candidates are chosen from a listing, and the references are read again *after* that listing,
   just before deleting: a row committed before the second read protects its blob. References read
   before the listing are never trusted on their own (a registration may commit in between).
3. The removal itself re-checks the time (:meth:`ArtifactStore.collect`): the local store renames
   the blob away, then reads its mtime, and puts it back if a put refreshed it since the listing. A
   put refreshes *before* it looks whether the blob exists, so it either refreshed the blob before
   the rename (gc sees the new time and keeps it) or finds it absent and writes it again.

So with a grace period longer than a registration takes (one hour by default; ``--grace 0`` drops
point 1 and may remove the blob of a registration in flight), no blob a row names goes. Object
stores (S3, …) cannot refresh an object's time without rewriting it nor rename atomically, so on
them points 1 and 3 cover fresh blobs only, not the re-use of an orphan older than the grace period.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field

from ...errors import InvalidArgumentError, MlwsError, NotFoundError
from ..entities import BlobReference
from ..interfaces import ArtifactStore
from .context import Backends
from .feed import EventService
from .reclaim import DAY_SECONDS, DEFAULT_EVENT_DAYS, Reclaimable, check_days

__all__ = ["BlobProblem", "CheckReport", "CollectReport", "CollectedBlob", "HousekeepingService"]

DEFAULT_GRACE_SECONDS = 3600


@dataclass(frozen=True)
class BlobProblem:
    digest: str
    problem: str  # "missing" | "corrupt"
    referenced_by: tuple[str, ...]
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "digest": self.digest,
            "problem": self.problem,
            "referenced_by": list(self.referenced_by),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CheckReport:
    checked: int
    problems: list[BlobProblem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {"checked": self.checked, "clean": self.clean, "problems": [p.to_json() for p in self.problems]}


@dataclass(frozen=True)
class CollectedBlob:
    digest: str
    size: int


@dataclass(frozen=True)
class CollectReport:
    dry_run: bool
    grace_seconds: float
    blobs: list[CollectedBlob]
    kept_fresh: int  # unreferenced but within the grace period

    @property
    def reclaimed_bytes(self) -> int:
        return sum(b.size for b in self.blobs)

    def to_json(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "grace_seconds": self.grace_seconds,
            "blobs": [{"digest": b.digest, "size": b.size} for b in self.blobs],
            "reclaimed_bytes": self.reclaimed_bytes,
            "kept_fresh": self.kept_fresh,
        }


class HousekeepingService:
    def __init__(self, backends: Backends) -> None:
        self._b = backends

    # -- references -----------------------------------------------------------------------------------
    def references(self) -> dict[str, list[str]]:
        """Every referenced digest with what refers to it (snapshot manifests expanded)."""
        store = self._b.metadata
        found: dict[str, list[str]] = defaultdict(list)
        snapshots: list[BlobReference] = [*store.snapshot_references(), *store.step_output_references()]
        for ref in [*store.run_file_references(), *store.model_file_references(), *snapshots]:
            found[ref.digest].append(ref.owner)
        manifests = {ref.digest for ref in snapshots}
        for digest in sorted(manifests):
            for path, file_digest in self._manifest_files(digest):
                found[file_digest].append(f"snapshot {digest} file {path}")
        return dict(found)

    def referenced_digests(self) -> set[str]:
        return set(self.references())

    def _manifest_files(self, snapshot_id: str) -> list[tuple[str, str]]:
        from ...snapshots import load_manifest

        try:
            manifest = load_manifest(self._b.artifacts, snapshot_id)
        except (NotFoundError, MlwsError, ValueError, json.JSONDecodeError):
            return []  # a missing or unreadable manifest is reported by check(), not here
        return [(e.path, e.digest) for e in manifest.files if e.digest is not None]

    # -- check ----------------------------------------------------------------------------------------
    def check(self) -> CheckReport:
        """Every referenced blob exists and its bytes hash to its digest (streamed sha256)."""
        self._b.flush()
        refs = self.references()
        artifacts = self._b.artifacts
        missing = artifacts.missing(refs)
        problems: list[BlobProblem] = []
        for digest in sorted(refs):
            owners = tuple(sorted(set(refs[digest])))
            if digest in missing:
                problems.append(BlobProblem(digest, "missing", owners))
                continue
            actual = _sha256(artifacts, digest)
            if actual != digest:
                problems.append(BlobProblem(digest, "corrupt", owners, f"its bytes hash to {actual}"))
        return CheckReport(len(refs), problems)

    # -- collect --------------------------------------------------------------------------------------
    def collect(self, dry_run: bool = False, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> CollectReport:
        """Remove (or, ``dry_run``, list) blobs nothing references, written before the grace period."""
        _check_grace(grace_seconds)
        self._b.flush()
        artifacts = self._b.artifacts
        cutoff = time.time() - grace_seconds
        listed = list(artifacts.list_blobs())  # 1. list first ...
        old = {d: size for d, size, mtime in listed if mtime <= cutoff}
        fresh = {d for d, _size, mtime in listed if mtime > cutoff}
        referenced = self.referenced_digests()  # 2. ... then read the references (after the listing)
        candidates = {d: size for d, size in old.items() if d not in referenced}
        if not dry_run and candidates:
            # 3. the candidates' times again: a put that re-used one since the listing refreshed it
            again = {d: (size, mtime) for d, size, mtime in artifacts.list_blobs() if d in candidates}
            candidates = {d: size for d, (size, mtime) in again.items() if mtime <= cutoff}
        blobs = [CollectedBlob(d, candidates[d]) for d in sorted(candidates)]
        if not dry_run:
            blobs = [blob for blob in blobs if artifacts.collect(blob.digest, cutoff)]
        kept_fresh = len(fresh - referenced)
        return CollectReport(dry_run, float(grace_seconds), blobs, kept_fresh)

    def collect_temp_files(
        self, dry_run: bool = False, grace_seconds: float = DEFAULT_GRACE_SECONDS
    ) -> list[Reclaimable]:
        """Remove (or list) the temporary files of puts killed half-way, untouched for the grace
        period (a put in progress keeps writing its file, so its time stays fresh)."""
        _check_grace(grace_seconds)
        found = self._b.artifacts.collect_temp_files(time.time() - grace_seconds, dry_run)
        return [Reclaimable("temp-file", name, size, "left by an interrupted upload") for name, size in found]

    # -- the change feed ------------------------------------------------------------------------------
    def prune_events(self, dry_run: bool = False, event_days: float = DEFAULT_EVENT_DAYS) -> int:
        """Forget (or count) the change feed's events older than ``event_days`` days: by age only."""
        before = time.time() - check_days(event_days, "--event-days") * DAY_SECONDS
        feed = EventService(self._b)
        return feed.count(before) if dry_run else feed.prune(before)


def _check_grace(grace_seconds: float) -> None:
    if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, (int, float)) or not grace_seconds >= 0:
        raise InvalidArgumentError(f"the grace period is a number of seconds >= 0, got {grace_seconds!r}")


def _sha256(artifacts: ArtifactStore, digest: str) -> str:
    hasher = hashlib.sha256()
    with artifacts.open(digest) as stream:
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()
