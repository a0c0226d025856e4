"""Housekeeping over blobs: ``mlws workspace check`` and the blob part of ``mlws gc``.

``HousekeepingService`` through ``ws.services`` and the CLI in-process. Ages are set with
``os.utime`` (no sleeping, no timing assertions).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Model, Workspace
from jupyter_mlws.cli import main
from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.stores.artifacts.local import LocalArtifactStore

HOUR = 3600.0
DAY = 86400.0


@pytest.fixture(autouse=True)
def _own_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``mlws gc`` also sweeps the machine (environment cache, job folders, Docker images): here
    this test's own, never the developer's."""
    monkeypatch.setenv("MLWS_ENV_CACHE", str(tmp_path / "env-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # jobs' secrets channels


def blob_path(ws: Workspace, digest: str) -> Path:
    store = ws.artifacts
    assert isinstance(store, LocalArtifactStore)
    return store.root / "blobs" / digest[:2] / digest[2:]


def age(ws: Workspace, digest: str, seconds: float = 2 * HOUR) -> None:
    then = time.time() - seconds
    os.utime(blob_path(ws, digest), (then, then))


def age_all(ws: Workspace, seconds: float = 2 * HOUR) -> None:
    for digest in ws.artifacts.iter_digests():
        age(ws, digest, seconds)


def model_digest(ws: Workspace, name: str, version: int) -> str:
    [record] = ws.metadata.list_model_files(name, version)
    return record.digest


def populate(ws: Workspace, tmp_path: Path) -> dict[str, str]:
    """A run with a file and a snapshot, and a model version; returns the digests by role."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "train.py").write_text("print('train')\n")
    (src / "util.py").write_text("X = 1\n")
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"weights v1")
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"acc": 0.9}')
    exp = Experiment(ws, "hk")
    with exp.start_logging(snapshot_directory=src) as run:
        run.upload_file("outputs/metrics.json", str(metrics))
        run.take_snapshot(src)
    model = Model.register(ws, weights, "m")
    return {
        "run_file": ws.metadata.get_run_file(run.id, "outputs/metrics.json").digest,
        "model": model_digest(ws, "m", model.version),
        "run": run.id,
    }


def cli(capsys: pytest.CaptureFixture[str], ws: Workspace, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["-w", str(ws.root), *argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


# -- the service ---------------------------------------------------------------------------------------


def test_references_cover_run_files_models_snapshots_and_their_files(ws: Workspace, tmp_path: Path) -> None:
    digests = populate(ws, tmp_path)
    refs = ws.services.housekeeping.references()
    assert digests["run_file"] in refs and digests["model"] in refs
    owners = [owner for found in refs.values() for owner in found]
    assert any(o.startswith("snapshot ") and o.endswith(" file train.py") for o in owners)
    assert any(o == f"run {digests['run']} file outputs/metrics.json" for o in owners)
    assert any(o.startswith("model m:1 file ") for o in owners)
    # every stored blob is referenced: nothing to collect, however old
    age_all(ws)
    assert ws.services.housekeeping.collect(grace_seconds=0).blobs == []


def test_deleted_model_version_is_collected_after_a_dry_run(ws: Workspace, tmp_path: Path) -> None:
    digests = populate(ws, tmp_path)
    other = tmp_path / "v2.bin"
    other.write_bytes(b"weights v2, never run")
    v2 = Model.register(ws, other, "m")
    gone = model_digest(ws, "m", v2.version)
    Model(ws, "m", v2.version).delete()
    hk = ws.services.housekeeping

    fresh = hk.collect()  # within the grace period (one hour): kept
    assert fresh.blobs == [] and fresh.kept_fresh == 1
    age_all(ws)
    dry = hk.collect(dry_run=True)
    assert [(b.digest, b.size) for b in dry.blobs] == [(gone, len(b"weights v2, never run"))]
    assert dry.reclaimed_bytes == len(b"weights v2, never run")
    assert ws.artifacts.exists(gone)  # a dry run removes nothing

    done = hk.collect()
    assert [b.digest for b in done.blobs] == [gone]
    assert not ws.artifacts.exists(gone)
    assert ws.artifacts.exists(digests["model"]) and ws.artifacts.exists(digests["run_file"])
    assert hk.check().clean
    assert hk.collect(grace_seconds=0).blobs == []


def test_a_fresh_orphan_is_kept_and_an_old_one_goes(ws: Workspace) -> None:
    old = ws.artifacts.put_bytes(b"crashed mid-registration, long ago")[0]
    new = ws.artifacts.put_bytes(b"registration in flight")[0]
    age(ws, old)
    report = ws.services.housekeeping.collect()
    assert [b.digest for b in report.blobs] == [old]
    assert report.kept_fresh == 1
    assert ws.artifacts.exists(new) and not ws.artifacts.exists(old)


def test_a_put_of_stored_bytes_makes_an_old_orphan_fresh_again(ws: Workspace) -> None:
    digest = ws.artifacts.put_bytes(b"orphan re-used")[0]
    age(ws, digest)
    ws.artifacts.put_bytes(b"orphan re-used")  # a registration about to name it
    assert ws.services.housekeeping.collect().blobs == []
    assert ws.artifacts.exists(digest)


def test_check_finds_corrupt_and_missing_blobs(ws: Workspace, tmp_path: Path) -> None:
    digests = populate(ws, tmp_path)
    hk = ws.services.housekeeping
    clean = hk.check()
    assert clean.clean and clean.checked == 5  # a snapshot manifest, its two files, the metrics, the weights

    path = blob_path(ws, digests["model"])
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    path.write_bytes(b"bit rot")
    blob_path(ws, digests["run_file"]).unlink()
    report = hk.check()
    problems = {(p.digest, p.problem) for p in report.problems}
    assert problems == {(digests["model"], "corrupt"), (digests["run_file"], "missing")}
    missing = next(p for p in report.problems if p.problem == "missing")
    assert f"run {digests['run']} file outputs/metrics.json" in missing.referenced_by


def test_gc_under_concurrent_registration_never_breaks_a_reference(ws: Workspace, tmp_path: Path) -> None:
    """Registrations (models, run files) in a thread while gc runs again and again. Half of them
    re-use the bytes of old orphans (the hard case: a put that finds its blob stored already)."""
    orphans = [f"orphan {i}".encode() for i in range(15)]
    for data in orphans:
        age(ws, ws.artifacts.put_bytes(data)[0])
    extra = [ws.artifacts.put_bytes(f"never used {i}".encode())[0] for i in range(5)]
    for digest in extra:
        age(ws, digest)
    run = Experiment(ws, "gc-race").start_logging()
    errors: list[BaseException] = []
    done = threading.Event()

    def register() -> None:
        try:
            for i in range(30):
                source = tmp_path / f"m{i}.bin"
                source.write_bytes(orphans[i // 2] if i % 2 else f"new {i}".encode())
                if i % 3:
                    Model.register(ws, source, f"model{i % 4}")
                else:
                    run.upload_file(f"outputs/f{i}.bin", str(source))
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=register)
    thread.start()
    rounds = 0
    try:
        while not done.is_set() or rounds < 3:
            ws.services.housekeeping.collect(grace_seconds=60)
            rounds += 1
    finally:
        thread.join()
    run.complete()
    assert not errors, errors
    report = ws.services.housekeeping.check()
    assert report.clean, report.problems
    assert ws.services.housekeeping.collect(grace_seconds=60).blobs == []
    assert not any(ws.artifacts.exists(d) for d in extra)  # gc did collect meanwhile
    assert ws.artifacts.missing(ws.services.housekeeping.referenced_digests()) == set()


def test_grace_must_be_a_non_negative_number(ws: Workspace) -> None:

    with pytest.raises(InvalidArgumentError, match="grace"):
        ws.services.housekeeping.collect(grace_seconds=-1)


# -- the CLI -----------------------------------------------------------------------------------------------


def test_cli_gc_and_check(ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    digests = populate(ws, tmp_path)
    code, out, _ = cli(capsys, ws, "workspace", "check")
    assert code == 0 and out.startswith("clean:")
    code, out, _ = cli(capsys, ws, "workspace", "check", "--json")
    assert code == 0 and json.loads(out)["clean"] is True

    other = tmp_path / "v2.bin"
    other.write_bytes(b"twelve bytes")
    v2 = Model.register(ws, other, "m")
    gone = model_digest(ws, "m", v2.version)
    Model(ws, "m", v2.version).delete()
    code, out, _ = cli(capsys, ws, "gc", "--dry-run")
    assert code == 0 and "would reclaim 0 bytes (0 blobs)" in out and "kept 1 unreferenced" in out
    code, out, _ = cli(capsys, ws, "gc", "--dry-run", "--grace", "0")
    assert code == 0 and out.splitlines()[:2] == [
        f"would remove blob {gone} 12 bytes",
        "would reclaim 12 bytes (1 blobs)",
    ]
    assert ws.artifacts.exists(gone)
    code, out, _ = cli(capsys, ws, "gc", "--grace", "0")
    assert code == 0 and f"removed blob {gone} 12 bytes" in out and "reclaimed 12 bytes (1 blobs)" in out
    assert not ws.artifacts.exists(gone)
    code, out, _ = cli(capsys, ws, "gc", "--json", "--grace", "0")
    assert code == 0 and json.loads(out) == {
        "dry_run": False,
        "grace_seconds": 0.0,
        "keep_days": 30.0,
        "event_days": 7.0,
        "items": [],
        "counts": {"blob": 0, "temp-file": 0, "venv": 0, "image": 0, "job-folder": 0},
        "reclaimed_bytes": 0,
        "events_pruned": 0,
        "kept": [],
        "blobs": [],
        "kept_fresh": 0,
    }

    blob_path(ws, digests["run_file"]).unlink()
    code, out, _ = cli(capsys, ws, "workspace", "check")
    assert code == 1
    assert f"missing blob {digests['run_file']}: referenced by run {digests['run']} file outputs/metrics.json" in out
    code, out, _ = cli(capsys, ws, "workspace", "check", "--json")
    assert code == 1 and json.loads(out)["problems"][0]["problem"] == "missing"

    code, out, err = cli(capsys, ws, "gc", "--grace", "-5")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "seconds" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value"), [("--keep-days", "-1"), ("--keep-days", "soon"), ("--event-days", "inf"), ("--event-days", "")]
)
def test_cli_gc_refuses_bad_day_counts(
    ws: Workspace, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    code, out, err = cli(capsys, ws, "gc", option, value)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"argument {option}: a number of days >= 0 (e.g. {option} 30), got {value!r}" in err


# -- events and temporary files ------------------------------------------------------------------------------


def event_times(ws: Workspace) -> list[float]:
    return [event.time for event in ws.services.events.read(0)]


def age_events(ws: Workspace, first: int, days: float) -> None:
    """Move the first ``first`` events of the feed ``days`` back (the feed's time is the database's)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(ws.path / "mlws.db")) as db, db:
        db.execute("UPDATE events SET time = time - ? WHERE id <= ?", (days * DAY, first))


def test_events_are_pruned_by_age_only(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    exp = Experiment(ws, "feed")
    for _ in range(3):
        exp.start_logging().complete()
    total = len(event_times(ws))
    assert total >= 6  # created and status events
    age_events(ws, 2, days=10)
    age_events(ws, 4, days=0.5)  # two more, half a day back: within any retention here
    hk = ws.services.housekeeping
    assert hk.prune_events(dry_run=True) == 2
    assert len(event_times(ws)) == total  # counted, not pruned
    code, out, _ = cli(capsys, ws, "gc", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["events_pruned"] == 2
    code, out, _ = cli(capsys, ws, "gc")
    assert code == 0 and "pruned 2 events older than 7 days" in out
    assert len(event_times(ws)) == total - 2
    assert hk.prune_events(event_days=1) == 0
    assert hk.prune_events(event_days=0.25) == 2
    with pytest.raises(InvalidArgumentError, match="--event-days"):
        hk.prune_events(event_days=-1)


def test_stale_temp_files_of_interrupted_puts_go(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    store = ws.artifacts
    assert isinstance(store, LocalArtifactStore)
    stale = store.root / "tmp" / "put-killed.part"
    stale.write_bytes(b"half a blob")
    running = store.root / "tmp" / "put-running.part"
    running.write_bytes(b"being written")
    then = time.time() - 2 * HOUR
    os.utime(stale, (then, then))
    code, out, _ = cli(capsys, ws, "gc", "--dry-run")
    assert code == 0 and "would remove temp-file put-killed.part 11 bytes" in out and stale.exists()
    code, out, _ = cli(capsys, ws, "gc")
    assert code == 0 and "removed temp-file put-killed.part 11 bytes" in out
    assert "reclaimed 11 bytes (0 blobs, 1 temp-files)" in out
    assert not stale.exists() and running.exists()
