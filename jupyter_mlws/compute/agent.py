"""The local agent: one long-lived dispatcher per workspace and machine.

It keeps the ``local``-type targets' queues: it starts queued runs first in, first out, never more
than each target's ``max_concurrent_runs``, and forks a supervisor for each. Forking a warm process
(its imports done, its database ready) is what keeps the job overhead small. The agent is started on
demand by the first submit, is woken through a Unix socket, rescans the queue every second anyway,
and exits after a while with nothing to do. Every second or so it also sweeps its targets' active
jobs and ends those whose supervisor died (reading a status never does that).

Run as ``python -m jupyter_mlws.compute.agent WORKSPACE_ROOT``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..core.compute import ComputeTarget, compute_target_types
from ..core.entities import SUBMITTED_FROM
from ..core.locator import is_team_workspace
from ..core.registry import agent_commands, agent_tasks, resumable_driver, run_drivers
from ..core.services import liveness
from ..core.status import ACTIVE_STATUSES, RunStatus
from ..core.workspace import Workspace, close_backends
from . import agent_socket
from .kernel_pool import KernelPool, PooledKernel, pool_key, pool_size
from .supervision import HOSTNAME, StoreReporter, reconcile_records, stale_reason

__all__ = ["Agent", "ensure_running", "notify", "running_pid", "socket_path", "stop"]

IDLE_EXIT_S = float(os.environ.get("MLWS_AGENT_IDLE_SECONDS", 600))
RESCAN_S = 1.0
SWEEP_S = 1.0  # how often the agent looks for jobs whose supervisor died
MAX_RESUMES = 5  # new drivers in a row one agent gives a resumable driven run before it ends the run
RESUME_WINDOW_S = 120.0  # "in a row": each within this long of the one before
LOCK_WAIT_S = 10.0
SPAWN_WAIT_S = 15.0


def _agent_dir(ws: Workspace) -> Path:
    return agent_socket.agent_dir(ws.path)


def socket_path(ws: Workspace) -> str:
    """The agent's socket (``.mlws/agent/agent.sock``)."""
    return agent_socket.socket_path(ws.path)


def _socket_address(ws: Workspace) -> contextlib.AbstractContextManager[str]:
    return agent_socket.socket_address(ws.path)


def notify(ws: Workspace) -> None:
    """Wake the agent so it dispatches now; start it if it is not running."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, _socket_address(ws) as address:
            s.settimeout(2)
            s.connect(address)
            s.sendall(b"wake\n")
    except OSError:
        spawn(ws)


def _lock_is_free(ws: Workspace) -> bool:
    fd = os.open(_agent_dir(ws) / "local.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases the lock if we took it
    return True


def ensure_running(ws: Workspace) -> None:
    if _lock_is_free(ws):
        spawn(ws)


def running_pid(ws: Workspace) -> int | None:
    """The pid of this workspace's agent, or None if none is running."""
    if _lock_is_free(ws):
        return None
    try:
        return int((_agent_dir(ws) / "agent.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def stop(ws: Workspace, timeout: float = 10.0) -> bool:
    """Stop the agent (running jobs go on: their supervisors are separate processes)."""
    pid = running_pid(ws)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _lock_is_free(ws):
        time.sleep(0.02)
    return True


# Double fork: the launcher exits at once (and is reaped), the agent is re-parented to init. Nothing
# is left for the submitting process to wait for, however long it lives (a notebook kernel).
_LAUNCHER = (
    "import os, sys\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    os.execv(sys.executable, [sys.executable, '-m', 'jupyter_mlws.compute.agent', sys.argv[1]])\n"
)


def spawn(ws: Workspace) -> None:
    """Start an agent detached from the caller (its own session: it outlives a killed submitter).

    Many processes may want an agent at the same moment (a burst of submits, readers of queued
    runs): they take turns on a spawn lock, and only the first, finding no agent, starts one and
    waits until it holds the workspace's agent lock. The others then find it running.
    """
    fd = os.open(_agent_dir(ws) / "spawn.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not _lock_is_free(ws):
            return  # an agent is up (or just starting): it scans the queue once it listens
        with open(_agent_dir(ws) / "agent.log", "ab") as log:
            subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(ws.root)],
                # A database password this process was given in a URL is in no file (issue 13).
                env={**os.environ, **ws.database_environment()},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                close_fds=True,
                cwd=ws.root,
                check=True,
                timeout=60,
            )
        deadline = time.monotonic() + SPAWN_WAIT_S
        while _lock_is_free(ws) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        os.close(fd)


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {message}", flush=True)


def run_driver(ws: Workspace, run_id: str, run_type: str, resume: RunStatus | None = None) -> None:
    """A driven run (a pipeline run, issue 16): claim it (Queued -> Running, this process recorded as
    its supervisor, so a reader finds it if this process dies) and let its driver take it to its end.
    ``resume`` (a resumable driver's run whose driver died, issue 18): take it over in that status."""
    pid = os.getpid()
    claimed = ws.metadata.claim_job(
        run_id,
        resume or RunStatus.QUEUED,
        resume or RunStatus.RUNNING,
        supervisor_pid=pid,
        supervisor_host=HOSTNAME,
        supervisor_start=liveness.process_start(pid),
        job_folder=None,
    )
    if claimed:
        run_drivers.get(run_type)().drive(ws, run_id)


def run_supervisor(ws: Workspace, run_id: str, target: ComputeTarget, kernel: PooledKernel | None = None) -> RunStatus:
    reporter = StoreReporter(ws, run_id)
    execution = compute_target_types.get(target.type).execution()
    job = execution(reporter, reporter.job_spec(), target.config)
    if kernel is not None:
        job.pooled_kernel = kernel  # a notebook job on a local or docker target
    status: RunStatus = job.process()
    return status


class Agent:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.children: dict[int, tuple[str, str]] = {}  # pid -> (run id, target)
        self.commands: set[int] = set()  # clients' mlws commands, run in forks (agent_socket)
        # Pre-started notebook kernels (issue 22), and the pool key of each supervisor's job.
        self.pool = KernelPool(_agent_dir(ws) / "pool", _log)
        self.job_keys: dict[int, tuple[str, str]] = {}
        self.started: set[str] = set()
        self.idle_since = time.monotonic()
        self.next_sweep = 0.0
        self.sock: socket.socket | None = None
        self.lock_fd: int | None = None
        self.identity: tuple[int, int] | None = None  # the workspace folder's (device, inode)
        self.next_tasks = 0.0
        self.tasks_busy = False  # a periodic task (an enabled schedule) keeps the agent up
        # run id -> (new drivers given in a row, when the last was): a driver that lived a while resets it
        self.resumed: dict[str, tuple[int, float]] = {}
        self.team = is_team_workspace(ws)  # members on other machines share the queue
        self.hosts: dict[str, str] = {}  # queued run id -> the host it was submitted from

    def _workspace_gone(self) -> bool:
        """Whether our workspace's folder was deleted (or replaced by another): nothing is left to
        serve, and an agent must not linger for its idle minutes (test suites leave dozens)."""
        try:
            st = os.stat(self.ws.path)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return self.identity is not None and (st.st_dev, st.st_ino) != self.identity

    def _take_lock(self) -> bool:
        fd = os.open(_agent_dir(self.ws) / "local.lock", os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.lock_fd = fd
                (_agent_dir(self.ws) / "agent.pid").write_text(f"{os.getpid()}\n")
                return True
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)

    def _bind(self) -> None:
        path = socket_path(self.ws)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # left by an agent that died; we hold the lock, so it is not live
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old_umask = os.umask(0o177)  # created 0600: no moment when another user could connect
            try:
                with _socket_address(self.ws) as address:
                    sock.bind(address)
                sock.listen(64)
            except BaseException:
                sock.close()
                raise
            finally:
                os.umask(old_umask)
        except OSError as exc:
            # A file system that holds no sockets (some network or host-shared folders): serve
            # anyway. Submitters cannot wake us, so queued runs start at the next rescan (RESCAN_S).
            _log(f"cannot listen at {path} ({exc}): queued runs start within {RESCAN_S:g} s instead")
            return
        sock.setblocking(False)
        self.sock = sock

    def _unbind(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            with contextlib.suppress(OSError):
                os.unlink(socket_path(self.ws))

    def run(self) -> int:
        if not self._take_lock():
            return 0  # another agent serves this workspace
        # `stop()` and a system shutdown send SIGTERM: leave through the finally clause below, which
        # removes the socket. Running jobs go on (their supervisors are separate processes).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a finished supervisor wakes select()
        with contextlib.suppress(OSError):
            st = os.stat(self.ws.path)
            self.identity = (st.st_dev, st.st_ino)
        self._warm_up()
        self.pool.kill_leftovers()
        self._bind()
        _log(f"agent for {self.ws.root} listening")
        try:
            while True:
                if self._workspace_gone():
                    _log(f"the workspace {self.ws.root} is gone: exiting")
                    return 0
                self._reap()
                # A freed slot is filled first: the sweep's and the schedules' queries can wait a turn.
                self._dispatch()
                self._sweep()
                self._run_tasks()
                # Notebook jobs with a kernel pool run in forks of a warm runner: import it now, even
                # while jobs run (a sweep may never leave the agent idle).
                if "papermill.engines" not in sys.modules and (
                    self.pool.active() or (not self.children and not self._queued())
                ):
                    self._warm_notebook_runner()
                self.pool.poll()
                self.pool.refill()
                if self.children or self.tasks_busy:
                    self.idle_since = time.monotonic()
                elif time.monotonic() - self.idle_since > IDLE_EXIT_S and self._quit_if_idle():
                    return 0
                listening = [self.sock.fileno()] if self.sock is not None else []
                ready, _, _ = select.select([*listening, wake_r], [], [], RESCAN_S)
                if wake_r in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                if listening and listening[0] in ready:
                    self._drain()
        finally:
            self.pool.close()  # warm kernels go with the agent (kernels in jobs stay with their jobs)
            self._unbind()

    def _warm_up(self) -> None:
        """Import and open now what every supervisor needs: forked children then start warm."""
        from .. import snapshots  # noqa: F401
        from . import lifecycle, local  # noqa: F401

        agent_socket.remember_code_identity()  # the code this agent loaded: what its commands run
        self.ws.metadata  # noqa: B018
        self.ws.artifacts  # noqa: B018
        self._targets()
        with contextlib.suppress(Exception):  # clients' commands run in forks: their program loaded once
            agent_commands.get("mlws")

    def _warm_notebook_runner(self) -> None:
        """Import papermill once, while idle (not at start: the first job must not wait for it).
        Supervisors forked afterwards run notebook jobs without importing it again."""
        with contextlib.suppress(Exception):
            # Imported for what forks inherit: the modules stay loaded in every later supervisor.
            import papermill.engines  # noqa: F401
            from nbformat.validator import get_validator

            from . import notebook_runner

            notebook_runner.preload()

            get_validator()  # type: ignore[no-untyped-call]  # compiles the notebook schema (a third of a second) once, not per job

    def _quit_if_idle(self) -> bool:
        # Stop accepting first, then look once more: a run queued meanwhile keeps us alive.
        self._unbind()
        self.next_sweep = 0.0
        self._sweep()  # and leave no job whose supervisor died behind unended
        if self._queued():
            self._bind()
            return False
        _log("idle: exiting")
        return True

    def _drain(self) -> None:
        assert self.sock is not None
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            with conn:
                kind, request = agent_socket.read_request(conn)
                if kind == "command" and request is not None:
                    self._command(conn, request)

    def _command(self, conn: socket.socket, request: dict[str, Any]) -> None:
        """Run a client's ``mlws`` command in a fork of this warm process (see ``agent_socket``)."""
        reason = agent_socket.decline_reason(conn, request, self.ws.root)
        if reason is None:
            try:
                program = agent_commands.get(str(request.get("program", "mlws")))
            except Exception as exc:
                reason = f"no such program: {exc}"
        if reason is not None:
            _log(f"declined a command: {reason}")
            agent_socket.decline(conn, reason)
            return
        pid = os.fork()
        if pid:
            self.commands.add(pid)
            _log(f"command {pid} started: mlws {' '.join(map(str, request['argv'][:1]))}")
            return
        code = 1
        try:  # the command: never returns into the agent's loop
            self._leave_the_loop()
            code = agent_socket.run_forwarded(conn, request, program, before_exit=_command_exit)
        except BaseException as exc:
            _log(f"command {os.getpid()} crashed: {type(exc).__name__}: {exc}")
        finally:
            os._exit(code)

    def _leave_the_loop(self) -> None:
        """In a fork: let go of what is the agent's (its session, signals, socket and lock)."""
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if self.sock is not None:
            self.sock.close()
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # the lock stays with the agent (flock is per open file)

    def _reap(self) -> None:
        # Our supervisors by pid, not waitpid(-1): the kernel pool's kernels are children too, and
        # their Popen objects reap them.
        for pid in list(self.commands):
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue
            self.commands.discard(pid)
        for pid in list(self.children):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done == 0:
                continue
            run_id, _target = self.children.pop(pid, ("?", "?"))
            _log(f"supervisor {pid} of {run_id} finished")
            self.pool.supervisor_ended(pid)  # its job's kernel goes, however the job ended
            key = self.job_keys.pop(pid, None)
            if key is not None:
                self.pool.job_ended(key)
            self.next_sweep = 0.0  # if it died before ending its run, the sweep that follows ends it

    def _sweep(self) -> None:
        """End the active jobs of our targets whose supervisor died (killed, crashed, its machine
        gone quiet), and the interactive runs whose process died, every ``SWEEP_S``. Queued runs
        need no check here: this is their dispatcher."""
        now = time.monotonic()
        if now < self.next_sweep:
            return
        self.next_sweep = now + SWEEP_S
        try:
            targets = self._targets()
            groups: dict[str, list[Any]] = {}
            for record in self.ws.metadata.list_job_runs(None, list(ACTIVE_STATUSES)):
                if record.compute_target in targets and record.supervisor_pid is not None:
                    groups.setdefault(record.compute_target, []).append(record)
            # A resumable driven run whose driver died is not ended by reconcile_records: it is
            # given a new driver below, from the same records.
            driven = [r for records in groups.values() for r in records if resumable_driver(r.run_type)]
            for name, records in groups.items():
                for run_id in reconcile_records(targets[name].backend(), records, dispatch=False):
                    _log(f"ended {run_id}: its supervisor is gone")
            for run_id in self.ws.services.tracking.end_stale_interactive():
                _log(f"ended {run_id}: the process that logged it is gone")
            self._resume_driven(targets, driven)
        except Exception as exc:  # a store hiccup: the next sweep tries again
            _log(f"sweep failed: {type(exc).__name__}: {exc}")

    def _resume_driven(self, targets: dict[str, ComputeTarget], records: list[Any]) -> None:
        """Give a new driver to each run of a resumable driver (a sweep) whose driver died: killed,
        or gone with the agent that forked it. It goes on from the records."""
        mine = {run_id for run_id, _target in self.children.values()}
        for record in records:
            if (
                record.run_id in mine
                or record.status not in (RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED)
                or stale_reason(record) is None
            ):
                continue
            count, last = self.resumed.get(record.run_id, (0, 0.0))
            now = time.monotonic()
            count = 1 if now - last > RESUME_WINDOW_S else count + 1
            self.resumed[record.run_id] = (count, now)
            if count > MAX_RESUMES:  # its driver dies at once every time: end it rather than loop
                reason = f"its driver died {MAX_RESUMES} times in a row"
                new = RunStatus.CANCELED if record.status == RunStatus.CANCEL_REQUESTED else RunStatus.FAILED
                if self.ws.metadata.transition_run(
                    record.run_id, record.status, new, end_time=time.time(), error={"message": reason}
                ):
                    run_drivers.get(record.run_type)().abandon(self.ws, record.run_id, reason)
                    _log(f"ended {record.run_id}: {reason}")
                continue
            pid = self._fork(
                record.run_id, targets[record.compute_target], driven=record.run_type, resume=record.status
            )
            self.children[pid] = (record.run_id, "")
            _log(f"resumed {record.run_id}: its driver was gone")

    def _run_tasks(self) -> None:
        """The registered periodic tasks (``core.registry.agent_tasks``: schedules fire here), every
        ``SWEEP_S``; one that fails is logged and tried again next time."""
        now = time.monotonic()
        if now < self.next_tasks:
            return
        self.next_tasks = now + SWEEP_S
        busy = False
        for name, task in agent_tasks.available().items():
            try:
                busy = bool(task(self.ws)) or busy
            except Exception as exc:
                _log(f"agent task {name} failed: {type(exc).__name__}: {exc}")
        self.tasks_busy = busy

    def _targets(self) -> dict[str, ComputeTarget]:
        targets = {}
        for target in ComputeTarget.list(self.ws):
            try:
                dispatched = compute_target_types.get(target.type).dispatched_by_agent
            except Exception:  # noqa: S112 - a target whose plug-in is missing is not ours to run
                continue
            if dispatched:
                targets[target.name] = target
        return targets

    def _queued(self) -> list[Any]:
        targets = self._targets()
        queued = self.ws.metadata.list_job_runs(None, [RunStatus.QUEUED])
        self.hosts = {r.run_id: self.hosts[r.run_id] for r in queued if r.run_id in self.hosts}
        return [
            r
            for r in queued
            if r.compute_target in targets and r.run_id not in self.started and self._submitted_here(r.run_id)
        ]

    def _submitted_here(self, run_id: str) -> bool:
        """A team workspace's members share one queue: a job of a target of this machine (local,
        docker) is dispatched by the agent of the machine it was submitted from, never another's."""
        if not self.team:
            return True
        host = self.hosts.get(run_id)
        if host is None:
            host = self.hosts[run_id] = self.ws.metadata.get_properties(run_id).get(SUBMITTED_FROM, HOSTNAME)
        return host == HOSTNAME

    def _dispatch(self) -> None:
        targets = self._targets()
        queued = self._queued()
        if queued:
            self.idle_since = time.monotonic()
        active: dict[str, int] = {}
        for _run_id, target in self.children.values():
            active[target] = active.get(target, 0) + 1
        drivers = run_drivers.names()
        for record in queued:  # oldest first
            if record.run_type in drivers:
                # A driver only schedules its steps (which queue on their own targets): it never
                # waits for a slot of the target it is filed under.
                pid = self._fork(record.run_id, targets[record.compute_target], driven=record.run_type)
                self.children[pid] = (record.run_id, "")
                self.started.add(record.run_id)
                continue
            target = record.compute_target
            limit = int(targets[target].config.get("max_concurrent_runs", 1))
            if active.get(target, 0) >= limit:
                continue
            key, kernel = self._pooled_kernel(record.run_id, targets[target])
            pid = self._fork(record.run_id, targets[target], kernel=kernel)
            self.children[pid] = (record.run_id, target)
            self.started.add(record.run_id)
            active[target] = active.get(target, 0) + 1
            if key is not None:
                self.job_keys[pid] = key
                self.pool.job_started(key)
                if kernel is not None:
                    self.pool.hand(pid, kernel)

    def _pooled_kernel(self, run_id: str, target: ComputeTarget) -> tuple[Any, PooledKernel | None]:
        """The pool key of a notebook job on a local or docker target with a kernel pool, and a warm
        kernel for it if there is one. A job with an environment has a key only once its venv or image
        is built (the keys look in the cache or ask the engine; building is the job's, never this
        loop's)."""
        if target.type not in ("local", "docker"):
            return None, None
        try:
            size = pool_size(target.config)
            if not size:
                return None, None
            spec = self.ws.metadata.get_job_spec(run_id)
            if target.type == "docker":
                from .docker_kernels import pool_key as container_pool_key

                key = container_pool_key(spec, target.config)
            else:
                key = pool_key(spec)
        except Exception as exc:  # a bad setting or an unreadable spec: the job runs as before
            _log(f"no pooled kernel for {run_id}: {type(exc).__name__}: {exc}")
            return None, None
        if key is None:
            return None, None
        limit = int(target.config.get("max_concurrent_runs", 1))
        self.pool.configure(key, min(size, limit))
        if "papermill.engines" not in sys.modules:
            # The first notebook job of this agent: import the runner once here (about a second) so
            # that this job's runner is a fork too, rather than a process importing it all again.
            self._warm_notebook_runner()
        kernel = self.pool.take(key)
        if kernel is not None:
            _log(f"pooled kernel {kernel.pid} given to {run_id}")
        return key, kernel

    def _fork(
        self,
        run_id: str,
        target: ComputeTarget,
        driven: str | None = None,
        resume: RunStatus | None = None,
        kernel: PooledKernel | None = None,
    ) -> int:
        pid = os.fork()
        if pid:
            _log(f"supervisor {pid} started for {run_id}")
            return pid
        code = 1
        try:  # the supervisor: never returns into the agent's loop
            self._leave_the_loop()
            if driven is not None:
                run_driver(self.ws, run_id, driven, resume)
            else:
                run_supervisor(self.ws, run_id, target, kernel)
            code = 0
        except BaseException as exc:
            _log(f"supervisor of {run_id} crashed: {type(exc).__name__}: {exc}")
        finally:
            os._exit(code)


def _command_exit() -> None:
    """What a command's own process does at exit for jupyter-mlws (its atexit handlers): buffered
    metric points written and stores closed, and Dask clients closed, which hands the scheduler what
    was submitted fire-and-forget (a run submitted to a Dask target)."""
    close_backends()
    dask = sys.modules.get(f"{__package__}.dask")
    if dask is not None:
        dask.close_clients()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m jupyter_mlws.compute.agent WORKSPACE_ROOT", file=sys.stderr)
        return 2
    return Agent(Workspace(args[0])).run()


if __name__ == "__main__":
    sys.exit(main())
