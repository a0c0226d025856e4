"""The machine's part of ``mlws gc`` (issue 21 item 4): environment venvs and Docker images unused for
``--keep-days``, finished jobs' scratch folders.

Real folders in the cache layout (a venv's cache hit goes through the real ``build_venv``), real
processes using them, real runs of a real workspace. Docker images: the engine is not the subject
(and there may be none), so the decision logic runs over a listing injected through ``ImageEngine``.
Ages are set with ``os.utime``: no sleeping.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.compute.environments.keys import build_key, cache_root, package_dir
from jupyter_mlws.compute.environments.locks import build_lock
from jupyter_mlws.compute.environments.usage import USED_MARKER, image_marker
from jupyter_mlws.compute.environments.venv import BUILT_MARKER, build_venv
from jupyter_mlws.compute.housekeeping import (
    ImageEngine,
    ProcessUse,
    ProjectImage,
    collect_images,
    collect_job_channels,
    collect_job_folders,
    collect_venvs,
    docker_images,
    process_use,
    venv_last_used,
)
from jupyter_mlws.compute.supervision import (
    JOB_API_CHANNEL_PREFIX,
    SECRETS_CHANNEL_PREFIX,
    channel_owner,
    jobs_root,
    make_channel_folder,
    make_job_folder,
)
from jupyter_mlws.core.activities import ActivityRecorder
from jupyter_mlws.core.services.liveness import process_start
from jupyter_mlws.core.status import RunStatus
from jupyter_mlws.errors import NotFoundError

DAY = 86400.0
HOUR = 3600.0


@pytest.fixture(autouse=True)
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own environment cache, job root, temporary folder and (absent) Docker engine: gc never sees the
    developer's."""
    monkeypatch.setenv("MLWS_ENV_CACHE", str(tmp_path / "env-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # jobs' secrets channels
    yield tmp_path


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def fake_venv(name: str, used_days_ago: float, size: int = 1000) -> Path:
    """A venv folder in the cache layout: a ``bin/python`` link to this interpreter (as ``venv``
    makes it), some bytes, the build marker and a last-used marker of the given age."""
    folder = cache_root() / "venvs" / name
    (folder / "bin").mkdir(parents=True)
    os.symlink(sys.executable, folder / "bin" / "python")
    (folder / "lib").mkdir()
    (folder / "lib" / "payload.bin").write_bytes(b"x" * size)
    (folder / BUILT_MARKER).write_text("{}")
    (folder / USED_MARKER).touch()
    age(folder / BUILT_MARKER, 100 * DAY)
    age(folder / USED_MARKER, used_days_ago * DAY)
    return folder


def no_process() -> ProcessUse:
    return ProcessUse(frozenset(), frozenset())


@pytest.fixture
def sleeper() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts (standing in for a running job); stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait(10)


# -- venvs ------------------------------------------------------------------------------------------------
def test_a_cache_hit_marks_the_venv_used_and_keeps_it() -> None:
    definition = {"python": {"user_managed_dependencies": False}, "pip": ["six"]}
    base = getattr(sys, "_base_executable", sys.executable)
    key = build_key("venv", definition, python=sys.version, base=base, package=str(package_dir()))
    folder = fake_venv(key[:16], used_days_ago=60)
    assert collect_venvs(30, HOUR, dry_run=True, processes=no_process).items != []

    result = build_venv("env", definition, ActivityRecorder(None, "environment-build", "env"))
    assert result.cached and result.location == str(folder / "bin" / "python")
    assert time.time() - venv_last_used(folder) < 60  # the use was recorded
    assert collect_venvs(30, HOUR, processes=no_process).items == []
    assert (folder / BUILT_MARKER).is_file()


def test_keep_days_old_venvs_go_recent_and_in_use_ones_stay(sleeper: list[subprocess.Popen[bytes]]) -> None:
    old = fake_venv("a" * 16, used_days_ago=45, size=3000)
    recent = fake_venv("b" * 16, used_days_ago=10)
    busy = fake_venv("c" * 16, used_days_ago=90)
    # A job running on `busy`: its interpreter is the venv's bin/python (as a local job's is).
    sleeper.append(subprocess.Popen([str(busy / "bin" / "python"), "-c", "import time; time.sleep(60)"]))
    seen = process_use()
    assert seen is not None and seen.uses(busy) and not seen.uses(old)

    dry = collect_venvs(30, HOUR, dry_run=True)
    assert [(i.name, i.kind) for i in dry.items] == [(str(old), "venv")]
    assert old.is_dir()  # a dry run removes nothing
    assert any(str(busy) in k and "running process" in k for k in dry.kept)

    done = collect_venvs(30, HOUR)
    assert [(i.name, i.size) for i in done.items] == [(i.name, i.size) for i in dry.items]
    assert done.items[0].size >= 3000  # the payload (the links count as themselves)
    assert not old.exists() and recent.is_dir() and busy.is_dir()
    assert Path(sys.executable).exists()  # the interpreter the venv linked to is untouched
    # With a shorter keep-days, the recent one goes too; the busy one never while its job runs.
    assert [i.name for i in collect_venvs(5, HOUR).items] == [str(recent)]
    assert busy.is_dir()


def test_a_path_entry_marks_a_venv_in_use(sleeper: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    """A local job's command (``/bin/sh -c "python train.py"``) runs with the venv's bin first on PATH."""
    venv = fake_venv("d" * 16, used_days_ago=90)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    sleeper.append(subprocess.Popen(["/bin/sh", "-c", "sleep 60"], env=env, cwd=tmp_path))
    assert collect_venvs(30, HOUR).items == []
    assert venv.is_dir()


def test_a_venv_being_built_is_left_alone() -> None:
    folder = fake_venv("e" * 16, used_days_ago=90)
    recorder = ActivityRecorder(None, "environment-build", "env")
    with build_lock(cache_root() / "venvs", folder.name, recorder):
        sweep = collect_venvs(30, HOUR, processes=no_process)
    assert sweep.items == [] and folder.is_dir() and "being built" in sweep.kept[0]
    assert [i.name for i in collect_venvs(30, HOUR, processes=no_process).items] == [str(folder)]


def test_unseen_processes_keep_every_venv() -> None:
    folder = fake_venv("f" * 16, used_days_ago=90)
    sweep = collect_venvs(30, HOUR, processes=lambda: None)
    assert sweep.items == [] and folder.is_dir() and "cannot be seen" in sweep.kept[0]


def test_keep_days_zero_still_honours_the_grace_period() -> None:
    folder = fake_venv("0" * 16, used_days_ago=0)
    assert collect_venvs(0, HOUR, processes=no_process).items == []
    age(folder / USED_MARKER, 2 * HOUR)
    assert [i.name for i in collect_venvs(0, HOUR, processes=no_process).items] == [str(folder)]


# -- images -----------------------------------------------------------------------------------------------
class FakeImages(ImageEngine):
    """A Docker engine's listing: the engine itself is not the subject here."""

    def __init__(self, images: list[ProjectImage], used_by_containers: set[str] | None = None) -> None:
        self.images = {i.tag: i for i in images}
        self.used = set(used_by_containers or ())
        self.refuse: set[str] = set()
        self.removed: list[str] = []

    def project_images(self) -> list[ProjectImage]:
        return list(self.images.values())

    def images_in_use(self) -> set[str]:
        return self.used

    def labelled_runs(self) -> set[str]:
        return set()

    def remove(self, tag: str) -> bool:
        if tag in self.refuse:
            return False
        del self.images[tag]
        self.removed.append(tag)
        return True


def image(key16: str, created_days_ago: float, size: int = 500) -> ProjectImage:
    return ProjectImage(f"mlws-env:{key16}", f"sha256:{key16}", size, time.time() - created_days_ago * DAY)


def mark_image(key16: str, days_ago: float) -> None:
    marker = image_marker(key16)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    age(marker, days_ago * DAY)


def test_images_unused_for_keep_days_go_others_stay() -> None:
    old, recent, unmarked_old, unmarked_new, contained, refused = (c * 16 for c in "123456")
    mark_image(old, 40)
    mark_image(recent, 3)
    mark_image(contained, 40)
    mark_image(refused, 40)
    engine = FakeImages(
        [
            image(old, 100, 700),
            image(recent, 100),  # built long ago, used lately
            image(unmarked_old, 50, 300),  # built before markers: its creation time counts
            image(unmarked_new, 2),
            image(contained, 100),
            image(refused, 100),
        ],
        used_by_containers={f"sha256:{contained}"},
    )
    engine.refuse.add(f"mlws-env:{refused}")

    served = image("7" * 16, 100)
    engine.images[served.tag] = served  # a web service's image: kept, whatever its age
    dry = collect_images(engine, 30, HOUR, dry_run=True, pinned={served.tag})
    expected = sorted([f"mlws-env:{old}", f"mlws-env:{unmarked_old}", f"mlws-env:{refused}"])
    assert [i.name for i in dry.items] == expected
    assert engine.removed == []
    assert any("a container was made from it" in k for k in dry.kept)

    done = collect_images(engine, 30, HOUR, pinned={served.tag})
    assert [i.name for i in done.items] == [f"mlws-env:{old}", f"mlws-env:{unmarked_old}"]
    assert sum(i.size for i in done.items) == 1000
    assert any("refused" in k for k in done.kept)
    assert not image_marker(old).exists() and image_marker(recent).exists()
    assert set(engine.images) == {f"mlws-env:{k}" for k in (recent, unmarked_new, contained, refused, "7" * 16)}


def test_the_docker_listing_keeps_to_the_projects_images() -> None:
    """``DockerImages`` over a stand-in of the SDK's client: what it asks and how it reads the answer."""
    from types import SimpleNamespace

    from jupyter_mlws.compute.housekeeping import DockerImages

    asked: dict[str, object] = {}

    def images_list(**kwargs: object) -> list[SimpleNamespace]:
        asked.update(kwargs)
        attrs = {"Created": "2026-01-31T12:00:00.123456789Z", "Size": 4096}
        return [SimpleNamespace(id="sha256:1", tags=["mlws-env:abc", "other:tag"], attrs=attrs)]

    client = SimpleNamespace(images=SimpleNamespace(list=images_list))
    [found] = DockerImages(client).project_images()
    assert asked == {"name": "mlws-env", "filters": {"label": "mlws.environment"}}
    assert found == ProjectImage("mlws-env:abc", "sha256:1", 4096, 1769860800.0)
    assert found.key16 == "abc"


def test_no_docker_engine_means_no_images() -> None:
    assert docker_images() is None  # DOCKER_HOST names a socket nobody listens on
    assert collect_images(None, 0, 0).items == []


# -- job folders ------------------------------------------------------------------------------------------
def test_scratch_folders_of_ended_and_unknown_runs_go_active_ones_stay(
    ws: Workspace, sleeper: list[subprocess.Popen[bytes]]
) -> None:
    exp = Experiment(ws, "gc-jobs")
    ended = exp.start_logging()
    ended.complete()
    active = exp.start_logging()  # Running
    folders = {}
    for name, run_id in [
        ("ended", ended.id),
        ("active", active.id),
        ("unknown", "elsewhere_1_deadbeef"),
        ("busy", "elsewhere_2_cafebabe"),
        ("fresh", "elsewhere_3_0badf00d"),
    ]:
        folder = make_job_folder(run_id)
        (folder / "outputs").mkdir()
        (folder / "outputs" / "big.bin").write_bytes(b"y" * 2048)
        age(folder, 2 * HOUR)
        folders[name] = folder
    os.utime(folders["fresh"])
    # A job of another workspace, still running in its folder.
    sleeper.append(subprocess.Popen(["/bin/sh", "-c", "sleep 60"], cwd=folders["busy"]))
    queries = ws.services.queries

    def status_of(run_id: str) -> RunStatus:
        return queries.run(run_id).status

    dry = collect_job_folders(status_of, HOUR, dry_run=True)
    assert sorted(i.name for i in dry.items) == sorted(str(folders[k]) for k in ("ended", "unknown"))
    assert all(i.size == 2048 for i in dry.items)
    assert all(f.is_dir() for f in folders.values())
    done = collect_job_folders(status_of, HOUR)
    assert [(i.name, i.size) for i in done.items] == [(i.name, i.size) for i in dry.items]
    assert {i.detail for i in done.items} == {"run Completed", "a run this workspace does not know"}
    assert sorted(p.name for p in jobs_root().iterdir()) == sorted(folders[k].name for k in ("active", "busy", "fresh"))
    active.complete()
    assert not any(i.name == str(folders["active"]) for i in collect_job_folders(status_of, 3 * HOUR).items)
    assert [i.name for i in collect_job_folders(status_of, HOUR).items] == [str(folders["active"])]


def test_a_live_supervisor_keeps_its_folder_fresh_for_other_workspaces(ws: Workspace) -> None:
    """A job of another workspace building its environment for hours: no process works in its
    folder yet, and this workspace does not know its run; its supervisor's heartbeats keep it."""
    from jupyter_mlws.compute.supervision import StoreReporter

    run = Experiment(ws, "elsewhere").start_logging()
    folder = make_job_folder(run.id)
    age(folder, 5 * HOUR)
    StoreReporter(ws, run.id).heartbeat()
    assert time.time() - folder.stat().st_mtime < 60

    def unknown(run_id: str) -> RunStatus:
        raise NotFoundError(run_id)

    assert collect_job_folders(unknown, 0, processes=no_process).items == []  # not even with --grace 0
    assert folder.is_dir()
    run.complete()


def test_a_container_of_the_run_keeps_its_folder() -> None:
    folder = make_job_folder("docker_1_feedface")
    age(folder, 2 * HOUR)

    def unknown(run_id: str) -> RunStatus:
        raise NotFoundError(run_id)

    sweep = collect_job_folders(unknown, HOUR, labelled_runs=lambda: {"docker_1_feedface"}, processes=no_process)
    assert sweep.items == [] and folder.is_dir() and "container" in sweep.kept[0]


def test_write_protected_inputs_are_removed_too() -> None:
    folder = make_job_folder("ro_1_12345678")
    inputs = folder / "inputs" / "data"
    inputs.mkdir(parents=True)
    (inputs / "part.csv").write_text("a,b\n")
    (inputs / "part.csv").chmod(0o444)
    inputs.chmod(0o555)
    age(folder, 2 * HOUR)

    def ended(run_id: str) -> RunStatus:
        return RunStatus.FAILED

    sweep = collect_job_folders(ended, HOUR, processes=no_process)
    assert [i.size for i in sweep.items] == [4] and not folder.exists()


# -- the CLI: every kind in one report --------------------------------------------------------------------
def test_cli_gc_dry_run_reports_what_the_real_run_reclaims(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    from jupyter_mlws.cli import main

    venv = fake_venv("9" * 16, used_days_ago=40, size=1234)
    # A web service of the workspace (stopped: no process shows it) runs on another old venv.
    served = fake_venv("8" * 16, used_days_ago=400)
    service = ws.path / "services" / "scorer"
    service.mkdir(parents=True)
    (service / "service.json").write_text(json.dumps({"name": "scorer", "python": str(served / "bin" / "python")}))
    run = Experiment(ws, "gc-cli").start_logging()
    run.complete()
    folder = make_job_folder(run.id)
    (folder / "out.txt").write_bytes(b"z" * 100)
    age(folder, 2 * HOUR)

    def gc(*argv: str) -> tuple[int, str]:
        code = main(["-w", str(ws.root), "gc", *argv])
        return code, capsys.readouterr().out

    code, out = gc("--dry-run", "--json")
    dry = json.loads(out)
    assert code == 0 and dry["dry_run"] is True and dry["keep_days"] == 30 and dry["event_days"] == 7
    kinds = {(i["kind"], i["name"]) for i in dry["items"]}
    assert {("venv", str(venv)), ("job-folder", str(folder))} <= kinds
    assert dry["reclaimed_bytes"] == sum(i["bytes"] for i in dry["items"]) >= 1334
    assert venv.is_dir() and folder.is_dir()

    assert not any(i["name"] == str(served) for i in dry["items"])
    assert f"venv {served}: a web service of this workspace runs on it" in dry["kept"]

    code, text = gc("--dry-run")
    assert code == 0 and f"would remove venv {venv} " in text and f"would remove job-folder {folder} 100 bytes" in text
    assert f"would reclaim {dry['reclaimed_bytes']} bytes" in text and "would prune 0 events" in text

    code, out = gc("--json")
    done = json.loads(out)
    assert code == 0 and done["dry_run"] is False
    assert done["items"] == dry["items"] and done["reclaimed_bytes"] == dry["reclaimed_bytes"]
    assert not venv.exists() and not folder.exists() and served.is_dir()

    code, text = gc()
    assert code == 0 and "reclaimed 0 bytes (0 blobs)" in text


def test_channels_of_killed_supervisors_go(machine: Path) -> None:
    """A supervisor's job's channel folders (its secrets; the Docker target's job API) name their
    supervisor (pid and start time, in a file) and are removed as the job ends; those of a killed
    supervisor stay, and gc removes them once that process is gone. The folders of live supervisors,
    ones that name none, files stay."""
    base = Path(tempfile.gettempdir())
    mine = [make_channel_folder(prefix) for prefix in (SECRETS_CHANNEL_PREFIX, JOB_API_CHANNEL_PREFIX)]
    for folder in mine:  # this process stands for a live supervisor
        assert folder.parent == base and folder.stat().st_mode & 0o777 == 0o700
        assert channel_owner(folder) == (os.getpid(), process_start(os.getpid()))
    finished = subprocess.Popen(["/bin/true"])
    finished.wait()
    folders = {}
    for name, prefix, owner in [
        ("dead", SECRETS_CHANNEL_PREFIX, f"{finished.pid} 12345"),
        ("dead-api", JOB_API_CHANNEL_PREFIX, f"{finished.pid} 12345"),
        ("reused", SECRETS_CHANNEL_PREFIX, f"{os.getpid()} {(process_start(os.getpid()) or 0) + 1}"),  # pid reused
        ("unnamed", SECRETS_CHANNEL_PREFIX, None),  # an older version's, or one being made: not ours to judge
        ("other", "mlws-something-", f"{finished.pid} 12345"),  # not a channel
    ]:
        folder = Path(tempfile.mkdtemp(prefix=prefix))
        (folder / "api.sock").write_text("")
        if owner is not None:
            (folder / "supervisor").write_text(owner + "\n")
        folders[name] = folder
    (base / "mlws-job-secrets-a-file").write_text("not a folder")
    gone = sorted(str(folders[k]) for k in ("dead", "dead-api", "reused"))
    dry = collect_job_channels(dry_run=True)
    assert sorted(i.name for i in dry.items) == gone
    assert all(i.kind == "job-folder" and "supervisor, which is gone" in i.detail for i in dry.items)
    assert all(f.exists() for f in folders.values())
    done = collect_job_channels()
    assert [i.name for i in done.items] == [i.name for i in dry.items]
    assert sorted(str(f) for f in folders.values() if not f.exists()) == gone
    assert all(f.exists() for f in mine) and (base / "mlws-job-secrets-a-file").exists()


def test_a_killed_supervisors_secrets_channel_is_swept(kit: Any, machine: Path) -> None:
    """A real local job: its secrets channel folder names its supervisor; the supervisor killed
    (SIGKILL: no clean-up), the folder stays until gc finds that supervisor gone."""
    kit.script("wait.py", "print(os.environ['MLWS_SECRETS_API'], flush=True)\nwhile True:\n    time.sleep(0.1)\n")
    run = kit.submit("wait.py")
    kit.wait_status(run, "Running")
    record = kit.wait_until(lambda: (r := kit.record(run)).supervisor_pid and r, what="the supervisor's pid")
    channel = Path(kit.wait_until(lambda: _first_line(run), what="the job's first line")).parent
    assert channel_owner(channel) == (record.supervisor_pid, process_start(record.supervisor_pid))
    # The agent's temporary folder is the machine's: looked at, not swept, while the supervisor lives.
    assert str(channel) not in [i.name for i in collect_job_channels(dry_run=True, folder=channel.parent).items]
    os.kill(record.supervisor_pid, signal.SIGKILL)
    kit.wait_until(lambda: process_start(record.supervisor_pid) is None, what="the supervisor to be gone")
    assert channel.is_dir()
    assert str(channel) in [i.name for i in collect_job_channels(dry_run=True, folder=channel.parent).items]
    moved = Path(shutil.move(channel, machine / "tmp"))  # swept where nothing else is
    swept = collect_job_channels(folder=machine / "tmp")
    assert [i.name for i in swept.items] == [str(moved)] and not moved.exists()


def _first_line(run: Any) -> str | None:
    data, _ = run.read_log(name="user_logs/std_log.txt")
    lines = data.decode().splitlines()
    return lines[0] if lines else None
