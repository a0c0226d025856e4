"""Issue 13, findings 1, 4 and part of 7: private job folders, an agent socket nobody can squat,
correct liveness (a paused supervisor is alive, a losing dispatcher leaves no pid), interactive runs
whose process died are ended by the sweeps, and an agent whose workspace is gone exits.

A second local user is simulated by a forked child that drops to uid/gid 65534 (root only: CI runs
as root). No test depends on how long anything takes, only on generous upper bounds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Run, RunStatus, Workspace
from jupyter_mlws.compute import agent, supervision
from jupyter_mlws.core.services import liveness
from jupyter_mlws.errors import InvalidStateError

from .conftest import TIMEOUT, wait_until

NOBODY = 65534
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="acting as a second local user needs root (CI runs as root)")

BLOCKS = """
mark("cwd", os.getcwd())
mark("pid", os.getpid())
wait_for(FLAGS / "go")
"""


def as_nobody(action: Callable[[], bool]) -> bool:
    """Run ``action`` as another local user (uid/gid 65534) in a forked child; its result."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 3
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code = 0 if action() else 1
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    assert code in (0, 1), f"the second user's action crashed (exit code {code})"
    return code == 0


def refused(action: Callable[[], object]) -> Callable[[], bool]:
    """An action for :func:`as_nobody` that is True when the OS refuses it."""

    def attempt() -> bool:
        try:
            action()
        except PermissionError:
            return True
        return False

    return attempt


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every local user may write into, sticky like /tmp (what XDG_CACHE_HOME might be on a
    badly set up machine, and what the shared temporary folder was for job folders)."""
    path = Path(tempfile.mkdtemp(prefix="mlws-shared-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


# -- 1. private job folders ------------------------------------------------------------------------------
@root_only
def test_job_folders_refuse_what_another_user_prepared(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    app, jobs = shared / "jupyter-mlws", shared / "jupyter-mlws" / "jobs"
    assert supervision.jobs_root() == jobs

    # The attack: another user creates the folders first (theirs, open to all) so that they can swap
    # a job's folder between the snapshot's restore and the start.
    assert as_nobody(lambda: (jobs.mkdir(parents=True), app.chmod(0o777), jobs.chmod(0o777)) is not None)
    with pytest.raises(InvalidStateError, match=r"jupyter-mlws belongs to another user \(uid 65534\)") as info:
        supervision.make_job_folder("run_1")
    assert "XDG_CACHE_HOME" in info.value.message  # and the fix
    assert not (jobs / "run_1").exists()

    # A link to a folder of theirs is refused too, not followed.
    theirs = shared / "theirs"
    shutil.rmtree(app)
    assert as_nobody(lambda: (theirs.mkdir(), os.symlink(theirs, app)) is not None)
    with pytest.raises(InvalidStateError, match="jupyter-mlws is a symbolic link"):
        supervision.make_job_folder("run_1")
    assert list(theirs.iterdir()) == []

    # Ours with a wider mode is narrowed (only we could have widened it); what another user put in
    # meanwhile is refused (their folder) or removed without being followed (their link).
    os.unlink(app)
    jobs.mkdir(parents=True)
    app.chmod(0o777)
    jobs.chmod(0o777)
    assert as_nobody(lambda: ((jobs / "run_2").mkdir(), os.symlink(theirs, jobs / "run_3")) is not None)
    with pytest.warns(RuntimeWarning, match="narrowed to 700"):
        with pytest.raises(InvalidStateError, match=r"run_2 exists and belongs to another user"):
            supervision.make_job_folder("run_2")
    assert _mode(app) == _mode(jobs) == 0o700
    folder = supervision.make_job_folder("run_3")
    assert folder == jobs / "run_3" and not folder.is_symlink() and _mode(folder) == 0o700
    assert os.lstat(folder).st_uid == os.geteuid()
    assert theirs.is_dir()

    # A base folder others may write into without the sticky bit is refused.
    open_base = shared / "open"
    open_base.mkdir()
    open_base.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(open_base))
    with pytest.raises(InvalidStateError, match=r"open is writable by other users.*chmod go-w"):
        supervision.make_job_folder("run_4")


def test_a_wide_job_folder_of_ours_is_narrowed_where_chmod_cannot_skip_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """glibc < 2.32 (Ubuntu 20.04, RHEL 8) has no chmod that leaves links alone: Python raises
    NotImplementedError for ``os.chmod(..., follow_symlinks=False)``, which made every job fail on
    a machine whose job folders were once created wider than 0700."""
    real_chmod = os.chmod

    def old_glibc_chmod(path: Any, mode: int, *, dir_fd: Any = None, follow_symlinks: bool = True) -> None:
        if not follow_symlinks:
            raise NotImplementedError("chmod: follow_symlinks unavailable on this platform")
        real_chmod(path, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "chmod", old_glibc_chmod)
    root = tmp_path / "cache" / "jupyter-mlws" / "jobs"
    root.mkdir(parents=True)
    root.chmod(0o755)
    root.parent.chmod(0o755)
    with pytest.warns(RuntimeWarning, match="narrowed to 700"):
        folder = supervision.make_job_folder("run_1", root=root)
    assert _mode(root) == _mode(root.parent) == _mode(folder) == 0o700


def test_a_user_without_a_usable_home_gets_a_private_job_folder(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A service account (home /nonexistent) or a container's arbitrary uid (HOME=/) had no job
    folder at all: creating ~/.cache failed, so every job failed. The shared temporary folder takes
    over, in a folder named after the uid and checked like the others."""
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "/proc/self/nonexistent")  # cannot be created, even by root
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    app = shared / f"jupyter-mlws-{os.geteuid()}"
    assert supervision.jobs_root() == app / "jobs"
    folder = supervision.make_job_folder("run_1")
    assert folder == app / "jobs" / "run_1"
    assert _mode(app) == _mode(app / "jobs") == _mode(folder) == 0o700
    if os.geteuid() == 0:  # another user who made that folder first is refused, as elsewhere
        shutil.rmtree(app)
        assert as_nobody(lambda: (app.mkdir(), app.chmod(0o777)) is not None)
        with pytest.raises(InvalidStateError, match="belongs to another user"):
            supervision.make_job_folder("run_2")


@root_only
@pytest.mark.slow
def test_a_job_refuses_a_job_folder_another_user_prepared(
    kit: Any, shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))  # the agent started below inherits it
    jobs = shared / "jupyter-mlws" / "jobs"
    assert as_nobody(lambda: (jobs.mkdir(parents=True), jobs.chmod(0o777), jobs.parent.chmod(0o777)) is not None)
    kit.script("job.py", 'mark("ran")\n')
    run = kit.submit("job.py")
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Failed"
    assert f"the job folder {jobs.parent} belongs to another user" in details["error"]["message"]
    assert not kit.flag("ran").exists()  # nothing of the job ran there


@root_only
@pytest.mark.slow
def test_a_job_folder_is_private_recorded_and_removed(kit: Any, shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    kit.script("job.py", BLOCKS)
    run = kit.submit("job.py")
    workdir = Path(kit.wait_flag("cwd"))
    assert workdir == shared / "jupyter-mlws" / "jobs" / run.id
    for level in (workdir.parent.parent, workdir.parent, workdir):
        assert _mode(level) == 0o700 and os.lstat(level).st_uid == os.geteuid(), level
    assert kit.record(run).job_folder == str(workdir)  # what a cleanup of a dead job removes
    # Another local user can neither list the job's folder nor read its script.
    assert as_nobody(refused(lambda: os.listdir(workdir)))
    assert as_nobody(refused(lambda: (workdir / "job.py").read_bytes()))
    kit.release("go")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    assert not workdir.exists()


@root_only
def test_a_dead_jobs_folder_is_found_through_its_record(kit: Any, shared: Path, tmp_path: Path) -> None:
    """The cleanup of a dead job removes the folder its supervisor recorded, though the location
    depends on the supervisor's environment (this process has another XDG_CACHE_HOME)."""
    folder = shared / "elsewhere" / "jobs"
    run = _queued_job(kit)
    workdir = supervision.make_job_folder(run.id, root=folder)
    (workdir / "out.txt").write_text("left behind")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert kit.ws.metadata.claim_job(
        run.id,
        RunStatus.QUEUED,
        RunStatus.PREPARING,
        supervisor_pid=int(dead.stdout),
        supervisor_host=liveness.HOSTNAME,
        supervisor_start=None,
        job_folder=str(workdir),
    )
    assert kit.ws.reconcile_jobs() == [run.id]
    assert not workdir.exists()


@root_only
@pytest.mark.slow
def test_a_squatted_socket_name_no_longer_keeps_the_agent_from_starting(kit: Any) -> None:
    # The old, predictable socket name in the shared temporary folder, taken by another user first
    # (a folder: the agent could neither remove it nor bind there, so it never started).
    digest = hashlib.sha256(str(kit.ws.root).encode()).hexdigest()[:16]
    old = Path(tempfile.gettempdir()) / f"mlws-{os.getuid()}-{digest}.sock"
    assert as_nobody(lambda: old.mkdir() is None)
    try:
        kit.script("job.py", 'mark("ran")\n')
        run = kit.submit("job.py")
        assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
        sock = Path(agent.socket_path(kit.ws))
        assert sock == kit.ws.path / "agent" / "agent.sock"
        assert stat.S_ISSOCK(os.lstat(sock).st_mode) and _mode(sock) == 0o600
        assert _mode(sock.parent) == 0o700
    finally:
        old.rmdir()


@pytest.mark.slow
def test_the_agent_socket_works_in_a_workspace_with_a_long_path(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / ("long-" * 24) / "ws")
    assert len(agent.socket_path(ws).encode()) > 107  # longer than sun_path holds
    try:
        agent.ensure_running(ws)
        assert wait_until(lambda: Path(agent.socket_path(ws)).exists(), TIMEOUT, "the agent's socket")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, agent._socket_address(ws) as address:
            s.connect(address)  # the agent listens: a wake-up reaches it
            s.sendall(b"wake\n")
    finally:
        agent.stop(ws)


# -- 4. liveness ------------------------------------------------------------------------------------------
def _queued_job(kit: Any) -> Run:
    return Run.create(
        kit.exp,
        status=RunStatus.QUEUED,
        run_type="script",
        compute_target="local",
        job_spec={"kind": "script", "script": "job.py", "arguments": []},
    )


@pytest.mark.slow
def test_a_paused_supervisor_is_alive_whatever_its_heartbeat(kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    kit.script("job.py", BLOCKS)
    run = kit.submit("job.py")
    kit.wait_flag("pid")
    kit.wait_status(run, "Running")
    record = kit.record(run)
    assert record.supervisor_start == liveness.process_start(record.supervisor_pid)
    os.kill(record.supervisor_pid, signal.SIGSTOP)  # a laptop suspended, a debugger
    try:
        monkeypatch.setattr(liveness, "STALE_AFTER_S", -1.0)  # every heartbeat is too old now
        record = kit.record(run)
        # The fault: judged by its heartbeat alone (as a status read used to) it would be failed.
        assert "heartbeat" in (supervision.stale_reason(dataclasses.replace(record, supervisor_host="x")) or "")
        # On its own host its live process decides.
        assert supervision.stale_reason(record) is None
        assert kit.ws.reconcile_jobs() == []
        assert run.status == RunStatus.RUNNING
    finally:
        os.kill(record.supervisor_pid, signal.SIGCONT)
    kit.release("go")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"


def test_a_pid_reused_by_another_process_is_dead(kit: Any) -> None:
    run = _queued_job(kit)
    mine = liveness.process_start(os.getpid())
    assert mine is not None
    # This process's pid, with another start time: the supervisor died and its pid was reused.
    assert kit.ws.metadata.claim_job(
        run.id,
        RunStatus.QUEUED,
        RunStatus.PREPARING,
        supervisor_pid=os.getpid(),
        supervisor_host=liveness.HOSTNAME,
        supervisor_start=mine + 1,
        job_folder=None,
    )
    assert kit.ws.reconcile_jobs() == [run.id]
    error = run.get_details()["error"]
    assert "belongs to another process" in error["message"] and error["reason"] == "stale"
    # The same pid with its own start time is alive.
    alive = _queued_job(kit)
    kw = {"supervisor_host": liveness.HOSTNAME, "supervisor_start": mine, "job_folder": None}
    assert kit.ws.metadata.claim_job(alive.id, RunStatus.QUEUED, RunStatus.PREPARING, supervisor_pid=os.getpid(), **kw)
    assert kit.ws.reconcile_jobs() == []


def test_heartbeats_across_hosts_are_in_the_database_clock(
    tmp_path: Path, metadata_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    any_ws = Workspace.create(tmp_path / "any", metadata_url=metadata_url)  # SQLite and PostgreSQL
    exp = Experiment(any_ws, "jobs")
    run = Run.create(exp, status=RunStatus.QUEUED, run_type="script", compute_target="local", job_spec={"kind": "x"})
    store = any_ws.metadata
    assert store.claim_job(
        run.id,
        RunStatus.QUEUED,
        RunStatus.PREPARING,
        supervisor_pid=1,
        supervisor_host="another-host",
        supervisor_start=None,
        job_folder=None,
    )
    beat = store.get_run(run.id).heartbeat_time
    assert beat is not None and beat <= store.database_time()
    # This host's clock is an hour ahead: the heartbeat is still fresh in the database's clock.
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)
    assert any_ws.reconcile_jobs() == []
    monkeypatch.setattr(time, "time", real)
    # And it goes stale in the database's clock (shrunk: no waiting).
    monkeypatch.setattr(liveness, "STALE_AFTER_S", -1.0)
    assert any_ws.reconcile_jobs() == [run.id]
    assert "no heartbeat" in store.get_run(run.id).error["message"]  # type: ignore[index]


@pytest.mark.slow
def test_a_losing_second_dispatch_leaves_the_winners_pid(kit: Any) -> None:
    kit.script("job.py", BLOCKS)
    run = kit.submit("job.py")
    kit.wait_flag("pid")
    kit.wait_status(run, "Running")
    winner = kit.record(run)
    # A second dispatch of the same run (a dispatcher restarted while the first still ran).
    second = kit.python(
        """
        import sys
        from jupyter_mlws import Workspace
        from jupyter_mlws.compute.agent import run_supervisor
        from jupyter_mlws.core.compute import ComputeTarget

        ws = Workspace(sys.argv[1])
        print(run_supervisor(ws, sys.argv[2], ComputeTarget(ws, "local")).value, flush=True)
        """,
        str(kit.ws.root),
        run.id,
    )
    out, err = second.communicate(timeout=TIMEOUT)
    assert second.returncode == 0, err
    assert out.strip() == "Running"  # it lost the claim and exited
    after = kit.record(run)
    assert (after.supervisor_pid, after.supervisor_start) == (winner.supervisor_pid, winner.supervisor_start)
    assert kit.ws.reconcile_jobs() == []  # so the healthy job is not failed
    kit.release("go")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"


# -- 7. interactive runs and the agent's exit ------------------------------------------------------------
INTERACTIVE = """
import sys, time
from jupyter_mlws import Experiment, Workspace

ws = Workspace(sys.argv[1])
run = Experiment(ws, "notebook").start_logging()
for i in range(5):
    run.log("loss", float(i))
ws.flush()
print(run.id, flush=True)
time.sleep(600)
"""


def _interactive_run(kit: Any, sig: signal.Signals) -> Run:
    proc = kit.python(INTERACTIVE, str(kit.ws.root))
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read() if proc.stderr else ""
    record = kit.ws.metadata.get_run(run_id)
    assert (record.supervisor_pid, record.supervisor_host) == (proc.pid, liveness.HOSTNAME)
    assert record.supervisor_start == liveness.process_start(proc.pid) and record.heartbeat_time is not None
    proc.send_signal(sig)
    proc.wait(TIMEOUT)
    run = kit.ws.get_run(run_id)
    assert run.status == RunStatus.RUNNING  # reading changes nothing
    return run


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_an_interactive_run_whose_process_died_is_failed_by_the_sweeps(kit: Any, sig: signal.Signals) -> None:
    run = _interactive_run(kit, sig)
    # Its last heartbeat is fresh: another process resuming the run could be beating for it, so the
    # sweeps wait until it is JOINED_GRACE_S old (aged here rather than waited for).
    assert kit.ws.reconcile_jobs() == [] and run.status == RunStatus.RUNNING
    store = kit.ws.metadata
    store.update_job(run.id, heartbeat_time=store.database_time() - liveness.JOINED_GRACE_S - 1)
    if sig == signal.SIGKILL:
        agent.Agent(kit.ws)._sweep()  # the agent's sweep
    else:
        from jupyter_mlws.server.sweeper import JobSweeper

        assert JobSweeper(lambda: kit.ws).sweep() == [run.id]  # the Jupyter server's
    assert run.status == RunStatus.FAILED
    error = run.get_details()["error"]
    assert error["reason"] == "stale" and "the process that logged this run" in error["message"]
    assert run.get_metrics()["loss"] == [0.0, 1.0, 2.0, 3.0, 4.0]  # what it logged is kept
    assert kit.ws.reconcile_jobs() == []  # ended once


def test_a_run_resumed_in_another_process_is_not_failed_when_its_creator_exits(kit: Any) -> None:
    """A launcher creates the run and exits; the process it handed the id to resumes it with
    ``Run.get`` and logs. Judged by its creator's pid alone it was failed at the next sweep, and the
    logging process's ``complete()`` was refused."""
    creator = kit.python(
        """
        import sys
        from jupyter_mlws import Experiment, Workspace

        print(Experiment(Workspace(sys.argv[1]), "handover").start_logging().id, flush=True)
        """,
        str(kit.ws.root),
    )
    out, err = creator.communicate(timeout=TIMEOUT)
    run = Run.get(kit.ws, out.strip())
    assert run.status == RunStatus.RUNNING, err
    assert run.id not in liveness._beater.runs.get(kit.ws.metadata, set())  # a read does not join
    run.log("loss", 0.5)  # the first write joins: this process beats for it
    assert run.id in liveness._beater.runs.get(kit.ws.metadata, set())
    kit.ws.metadata.heartbeat([run.id])  # (the beat its thread sends every few seconds)
    assert kit.ws.reconcile_jobs() == []
    run.complete()
    assert run.status == RunStatus.COMPLETED and run.get_metrics()["loss"] == 0.5
    assert run.id not in liveness._beater.runs.get(kit.ws.metadata, set())


def test_interactive_runs_beat_until_they_end(kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    run = kit.exp.start_logging()
    store = kit.ws.metadata
    assert run.id in liveness._beater.runs.get(store, set())
    monkeypatch.setattr(liveness, "STALE_AFTER_S", -1.0)
    assert kit.ws.reconcile_jobs() == []  # its process (this one) lives, whatever the heartbeat
    run.complete()
    assert run.id not in liveness._beater.runs.get(store, set())
    # A run of a process on another host whose heartbeats stopped is ended by a sweep.
    other = kit.exp.start_logging()
    liveness.stop_beating(store, other.id)
    with store.sql.write() as conn:
        conn.exec_driver_sql("UPDATE runs SET supervisor_host = 'another-host' WHERE run_id = ?", (other.id,))
    assert kit.ws.reconcile_jobs() == [other.id]
    assert "sent no heartbeat" in other.get_details()["error"]["message"]


def test_a_process_hidden_by_hidepid_is_not_taken_for_dead(monkeypatch: pytest.MonkeyPatch) -> None:
    """With /proc mounted hidepid=2 another user's processes have no /proc entry at all (a PostgreSQL
    workspace shared by several users of one machine): the kernel, not /proc, says whether they live."""
    mine = liveness.process_start(os.getpid())
    assert mine is not None and mine >= 0
    real_open = open

    def hidden(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(liveness, "open", hidden, raising=False)
    assert liveness.process_start(os.getpid()) == -1  # alive, start unknown (it was None: dead)
    who = ("the process", os.getpid(), liveness.HOSTNAME)
    assert liveness.stale_reason(*who, mine, None, time.time) is None
    assert liveness.stale_reason(*who, -1, None, time.time) is None  # an unknown start recorded
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert liveness.process_start(int(dead.stdout)) is None
    assert liveness.stale_reason("p", int(dead.stdout), liveness.HOSTNAME, mine, None, time.time) is not None


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0", "thirty"])
def test_a_bad_stale_after_setting_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # "nan" made every heartbeat fresh for ever (age > nan is False); "thirty" made the package
    # fail to import.
    monkeypatch.setenv("MLWS_STALE_AFTER_SECONDS", value)
    assert liveness._stale_after() == 30.0
    monkeypatch.setenv("MLWS_STALE_AFTER_SECONDS", "0.5")
    assert liveness._stale_after() == 0.5


def test_the_host_identity_names_a_pid_namespace_other_than_the_initial_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "readlink", lambda path: "pid:[4026531836]")
    assert liveness._host_identity() == socket.gethostname()
    monkeypatch.setattr(os, "readlink", lambda path: "pid:[4026532180]")
    assert liveness._host_identity() == f"{socket.gethostname()}/pid:[4026532180]"


@root_only
@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_a_run_of_another_pid_namespace_is_judged_by_its_heartbeat(kit: Any) -> None:
    """A process in a container that shares the host's name (Docker with --network host) logs to the
    workspace: its pid means nothing on the host, so its run must not be judged by the host's process
    of that number (pid 1 here: the host's init, with another start time)."""
    unshare = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"]
    probe = subprocess.run([*unshare, "true"], capture_output=True, timeout=TIMEOUT)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a pid namespace here: {probe.stderr.decode(errors='replace').strip()}")
    proc = subprocess.Popen(
        [*unshare, sys.executable, "-c", INTERACTIVE, str(kit.ws.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        assert run_id, proc.stderr.read() if proc.stderr else ""
        # The fault: judged by the host's pid 1 (another process, another start time) it was failed.
        assert kit.ws.reconcile_jobs() == []  # its heartbeat is fresh: alive
        record = kit.ws.metadata.get_run(run_id)
        assert record.supervisor_host != liveness.HOSTNAME and "/pid:[" in (record.supervisor_host or "")
        assert agent.Agent(kit.ws)._sweep() is None and kit.ws.get_run(run_id).status == RunStatus.RUNNING
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # unshare and the process in the namespace
        proc.communicate(timeout=TIMEOUT)


@pytest.mark.slow
def test_an_agent_exits_once_its_workspace_is_deleted(kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "600")  # idleness would take 10 minutes
    kit.script("job.py", "")
    run = kit.submit("job.py")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    pid = agent.running_pid(kit.ws)
    assert pid is not None
    shutil.rmtree(kit.ws.root)
    wait_until(lambda: _gone(pid), TIMEOUT, "the agent to exit")
