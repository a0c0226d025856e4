"""Pre-started Jupyter kernels for notebook jobs, each used by exactly one job (issue 22).

Starting a kernel is nearly all of a small notebook job's time. The local agent (see :mod:`.agent`)
keeps a few kernels started ahead of need, per *key* — the interpreter and the kernel name — and
hands one to each notebook job it dispatches; a used kernel is shut down, never returned, and the
pool starts a replacement in the background. The interpreter is the agent's own, or a built venv's
for jobs whose environment the cache already holds (:func:`pool_key`); a Docker target's notebook
jobs get kernels in containers of a built image, keyed by the image (:mod:`.docker_kernels`).

Why a neutral kernel plus a hidden bootstrap, rather than starting the kernel once the job's
environment is known: the job's environment (its run id, its folder, its secrets channel) exists only
when the job is dispatched, and starting the process then is exactly the cost the pool is there to
save. What a kernel's start-up reads from its environment is small and checkable: the interpreter,
its ``PYTHON*``/``LD_*`` variables, where Jupyter and IPython look for their files. A kernel is pooled
for jobs whose values of those are the pool's (:func:`startup_variables`); any other job gets a fresh
kernel as before. Everything else is set by one silent execution before the first cell (not stored
in the history, no output, no execution count, names kept out of the user namespace): the working
folder, ``sys.path``'s entry for it, IPython's directory history, and ``os.environ`` replaced wholesale
by the job's own (with what the kernel itself changed at start-up, e.g. ``TERM``, ``MPLBACKEND``, as a
fresh kernel would have it). No user code has run in the kernel before, so there is nothing else to
hide; and a kernel is never given to a second job, so nothing a job does can reach another.

The kernels are children of the agent, in sessions of their own. A forked supervisor and its job
reach a kernel through a pidfd opened by the agent (inherited across the forks; a venv job's runner,
a new process of the venv's interpreter, gets it passed open with the kernel's description): signals
through it can never hit a process that took over a reused pid.

Papermill stays the engine: the job passes a kernel manager attached to the pooled kernel as
nbclient's ``km`` (papermill hands its engine keyword arguments to nbclient's ``NotebookClient``), and
the bootstrap runs as nbclient's ``on_notebook_start`` hook, after the client is connected and before
papermill's first cell.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError

__all__ = [
    "DEFAULT_POOL_SIZE",
    "KernelPool",
    "PooledKernel",
    "attached_manager",
    "bootstrap_hook",
    "pool_key",
    "pool_size",
    "read_description",
    "startup_variables",
    "write_description",
]

DEFAULT_POOL_SIZE = 1
POOL_SETTING = "kernel_pool_size"
SHUTDOWN_WAIT_S = 5.0  # as long as a kernel gets to run its exit handlers before it is killed
EARLY_EXIT_S = 5  # a container's kernel that exits this soon after its start is not restarted at once
STATE_FILE = "pool.json"  # the warm kernels, for `mlws` tools and tests to see; rewritten on change
# The variables a kernel's start-up reads (the interpreter's, the dynamic loader's, Jupyter's and
# IPython's search paths): a job whose values differ gets a fresh kernel, never a pooled one.
_STARTUP_PREFIXES = ("PYTHON", "LD_", "JUPYTER", "IPYTHON", "PYDEVD")
_STARTUP_NAMES = ("PATH", "HOME", "MPLBACKEND", "VIRTUAL_ENV")

Key = tuple[str, str]  # (interpreter, kernel name)


def pool_size(config: Mapping[str, Any]) -> int:
    """The local and docker targets' setting ``kernel_pool_size``: kernels kept warm per key (0: no pool)."""
    size = config.get(POOL_SETTING, DEFAULT_POOL_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidArgumentError(
            f"{POOL_SETTING} must be an integer >= 0 (0 turns the kernel pool off), got {size!r}: "
            f"attach the target again with LocalCompute.attach_configuration({POOL_SETTING}=1) (or DockerCompute's)"
        )
    return size


def pool_key(spec: Mapping[str, Any]) -> Key | None:
    """Which pool a local notebook job's kernel can come from, or None (it starts a fresh kernel):

    * no environment: the agent's own interpreter (the local target's default), if the job was
      submitted from it;
    * an environment whose virtual environment the cache already holds built: that venv's
      interpreter. One not built yet gets None: the agent never builds (its job does, in its
      supervisor; the environment's next jobs then find it built). A user-managed interpreter is
      not pooled.

    Docker images' kernels are never pooled (the agent asks only for ``local`` targets' jobs)."""
    if spec.get("kind") != "notebook":
        return None
    kernel_name = str(spec.get("kernel_name") or "python3")
    environment = spec.get("environment")
    if environment:
        from .environments.venv import built_venv_python

        definition = environment.get("definition") if isinstance(environment, Mapping) else None
        if not isinstance(definition, Mapping):
            return None  # a reference the supervisor resolves (and rejects, if bad): not ours to judge
        venv_python = built_venv_python(definition)
        return (venv_python, kernel_name) if venv_python else None
    python = str(spec.get("python") or "")
    # Not resolved: two venvs' interpreters are links to the same base interpreter.
    if not python or os.path.abspath(python) != os.path.abspath(sys.executable):
        return None
    return (python, kernel_name)


def startup_variables(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(_STARTUP_PREFIXES) or k in _STARTUP_NAMES}


@dataclass
class PooledKernel:
    """One pre-started kernel: what a job needs to connect to it and to stop it."""

    key: Key
    pid: int
    pidfd: int  # -1 when pidfd_open is missing (then signals go by pid)
    connection: dict[str, Any]
    connection_file: str
    log_file: str
    neutral_cwd: str
    launch_env: dict[str, str]  # the environment the kernel was started with
    spec_env: dict[str, str]  # the kernelspec's own variables (they win, as in a fresh launch)
    started: float = field(default_factory=time.monotonic)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)  # only in the agent
    finished: bool | None = field(default=None, repr=False)  # what finish() answered, once asked

    def describe(self) -> dict[str, Any]:
        """What a job's runner that is not a fork of the agent (a venv's interpreter) needs to use this
        kernel: read back with :meth:`described`; the pidfd is passed to it open, under its number."""
        return {
            "key": list(self.key),
            "pid": self.pid,
            "pidfd": self.pidfd,
            "connection": self.connection,
            "connection_file": self.connection_file,
            "log_file": self.log_file,
            "neutral_cwd": self.neutral_cwd,
            "launch_env": self.launch_env,
            "spec_env": self.spec_env,
        }

    @classmethod
    def described(cls, data: Any) -> PooledKernel:
        """The kernel :meth:`describe` described (``proc`` stays None: only the agent has it)."""
        try:
            python, name = data["key"]
            return cls(
                key=(str(python), str(name)),
                pid=int(data["pid"]),
                pidfd=int(data["pidfd"]),
                connection=dict(data["connection"]),
                connection_file=str(data["connection_file"]),
                log_file=str(data["log_file"]),
                neutral_cwd=str(data["neutral_cwd"]),
                launch_env={str(k): str(v) for k, v in data["launch_env"].items()},
                spec_env={str(k): str(v) for k, v in data["spec_env"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidArgumentError(
                f"not a pooled kernel's description ({type(exc).__name__}: {exc}): it is written by the "
                "job's supervisor (PooledKernel.describe), not by hand"
            ) from exc

    def alive(self) -> bool:
        if self.pidfd >= 0:
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)
            return not poller.poll(0)  # readable once the process has exited
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        with contextlib.suppress(OSError):
            return Path(f"/proc/{self.pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
        return True

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if self.pidfd >= 0:
                signal.pidfd_send_signal(self.pidfd, sig)
            else:
                os.kill(self.pid, sig)

    def kill(self) -> None:
        """Stop the kernel and whatever it started (its own process group), then forget its files."""
        if self.alive():
            # The group only while the leader lives: its pid (the group's id) cannot be reused then.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        self.signal(signal.SIGKILL)
        for path in (self.connection_file,):
            with contextlib.suppress(OSError):
                os.unlink(path)

    def wait_exit(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the kernel to exit; whether it did."""
        if self.pidfd >= 0:
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)
            return bool(poller.poll(int(timeout * 1000)))
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.alive()

    def shut_down(self, timeout: float = SHUTDOWN_WAIT_S) -> None:
        """End the kernel as nbclient ends a kernel it started: a ``shutdown_request`` on its control
        channel first, so that the job's exit handlers run (``Run.get_context()`` flushes its
        metrics at exit), then SIGKILL if it has not gone within ``timeout``."""
        if self.alive():
            try:
                import zmq
                from jupyter_client.session import Session

                info = self.connection
                session = Session(key=str(info["key"]).encode(), signature_scheme=info["signature_scheme"])
                context = zmq.Context()
                try:
                    control = context.socket(zmq.DEALER)
                    control.linger = 0
                    control.connect(f"{info['transport']}://{info['ip']}:{info['control_port']}")
                    session.send(control, session.msg("shutdown_request", {"restart": False}))
                    self.wait_exit(timeout)
                    control.close()
                finally:
                    context.term()
            except Exception:  # noqa: S110 - it is killed below either way
                pass
        self.kill()

    def finish(self, timeout: float = SHUTDOWN_WAIT_S) -> bool:
        """End the job on this kernel without waiting for the kernel to exit: what the job's code
        buffered for the workspace (metric points) is written now, as its exit handlers would write it,
        then the kernel is asked to shut down (its exit handlers run) on its control channel. Whether
        that was done (False: the kernel is dead or did not answer; then :meth:`shut_down` it).

        A fresh kernel's job waits for the kernel to exit (a tenth of a second to a few: most of a small
        notebook job's end) only so that what exit handlers flush lands before the run ends; that part
        is done here first; the job's supervisor waits for the kernel's exit only before it collects
        the job's outputs (what exit handlers write is in them), while it wraps the job up. Asked
        again, it answers as it did the first time."""
        if self.finished is None:
            self.finished = self._finish(timeout)
        return self.finished

    def _finish(self, timeout: float) -> bool:
        if not self.alive():
            return False
        from jupyter_client.blocking.client import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(self.connection)  # type: ignore[arg-type]  # a plain dict of its fields
        kc.start_channels(iopub=False, stdin=False, hb=False)  # the shell and control channels
        try:
            msg_id = kc.execute(f"exec({_FLUSH!r}, {{}})", silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.alive():
                    return False
                try:
                    reply = kc.get_shell_msg(timeout=min(0.5, remaining))
                except Exception:  # noqa: S112 - queue.Empty: look again until the deadline
                    continue
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    break
            kc.shutdown()
            # Its reply (sent before the kernel stops) says the request was read: closing the channel
            # at once could drop it unsent.
            with contextlib.suppress(Exception):
                kc.control_channel.get_msg(timeout=min(1.0, max(0.01, deadline - time.monotonic())))
            return True
        finally:
            kc.stop_channels()

    def release(self) -> None:
        """In the agent: kill it, reap it, close its pidfd."""
        self.kill()
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.proc.wait(5)
        with contextlib.suppress(OSError):
            os.unlink(self.log_file)
        if self.pidfd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = -1

    def state(self) -> dict[str, Any]:
        """What the pool's state file says of this kernel (an agent started after a crash stops it)."""
        return {"pid": self.pid, "python": self.key[0], "kernel_name": self.key[1]}

    def log_size(self) -> int:
        try:
            return os.path.getsize(self.log_file)
        except OSError:
            return 0

    def take_log(self, start: int) -> str:
        """What the kernel wrote to its own stdout/stderr from ``start`` on (a fresh kernel's would be
        in the job's log; its start-up chatter, which differs for a kernel without a parent, is not)."""
        try:
            with open(self.log_file, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""


def base_environment(python: str | None = None) -> dict[str, str]:
    """The environment a pooled kernel of interpreter ``python`` (default: the agent's) starts with:
    the agent's, as a local job gets it before its own variables (see ``LocalJob.environment``): no
    venv marker (a venv job's runner has none either: its interpreter is its own), no vault key,
    unbuffered output, the interpreter's folder first on PATH."""
    from .local import SECRET_KEY_VARIABLES

    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    for name in SECRET_KEY_VARIABLES:
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = str(Path(python or sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _is_agent_python(python: str) -> bool:
    # Not resolved: two venvs' interpreters are links to the same base interpreter.
    return os.path.abspath(python) == os.path.abspath(sys.executable)


def _kernel_spec(name: str, prefix: str) -> Any:
    """The kernelspec ``name`` as the job's runner, an interpreter whose ``sys.prefix`` is ``prefix``,
    would find it: its own prefix's ``share/jupyter/kernels`` in place of the agent's, and ipykernel's
    built-in ``python3`` naming that runner's interpreter (it names ``sys.executable``)."""
    from jupyter_client.kernelspec import KernelSpecManager

    manager = KernelSpecManager()
    if os.path.abspath(prefix) == os.path.abspath(sys.prefix):
        return manager.get_kernel_spec(name)
    own = os.path.normpath(os.path.join(sys.prefix, "share", "jupyter", "kernels"))
    theirs = os.path.join(prefix, "share", "jupyter", "kernels")
    manager.kernel_dirs = [theirs if os.path.normpath(d) == own else d for d in manager.kernel_dirs]
    return manager.get_kernel_spec(name)


def _is_builtin_spec(spec: Any) -> bool:
    """Whether ``spec`` is ipykernel's built-in one (no kernel.json found), generated for this process."""
    try:
        from ipykernel.kernelspec import RESOURCES
    except ImportError:
        return False
    return os.path.abspath(str(spec.resource_dir)) == os.path.abspath(RESOURCES)


def start_kernel(key: Key, folder: Path) -> PooledKernel:
    """Start one kernel for ``key``: in a container of its image for a Docker target's key (see
    :mod:`.docker_kernels`), else a local process (:func:`start_local_kernel`)."""
    from . import docker_kernels

    if docker_kernels.is_container_key(key):
        return docker_kernels.start_container_kernel(key, folder)
    return start_local_kernel(key, folder)


def start_local_kernel(key: Key, folder: Path, env: Mapping[str, str] | None = None) -> PooledKernel:
    """Start one kernel for ``key`` in a neutral folder, the way jupyter_client's local provisioner
    in the job's runner would (the kernelspec's argv and env, a fresh connection file), but not
    through a KernelManager: that would open ZeroMQ sockets in the agent, which forks supervisors.

    A venv's kernel (``key``'s interpreter is not the agent's): its runner is that venv's interpreter,
    so ``{prefix}`` and the kernelspecs of the prefix are the venv's, as is PATH's first folder.
    ``env``: the environment to start it with (default: :func:`base_environment`'s), before the
    kernelspec's own variables."""
    from jupyter_client.connect import write_connection_file

    python, name = key
    # A venv's interpreter is <venv>/bin/python, and the venv is its sys.prefix.
    prefix = sys.prefix if _is_agent_python(python) else str(Path(os.path.abspath(python)).parent.parent)
    spec = _kernel_spec(name, prefix)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    neutral = folder / "cwd"
    neutral.mkdir(mode=0o700, exist_ok=True)
    stamp = f"{os.getpid()}-{time.monotonic_ns()}"
    connection_file = str(folder / f"kernel-{stamp}.json")
    _path, connection = write_connection_file(connection_file)  # 0600: it holds the HMAC key
    argv = list(spec.argv)
    if argv and argv[0] in {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}:
        argv[0] = python  # as jupyter_client does: the kernel runs on the job's interpreter
    elif argv and _is_builtin_spec(spec) and argv[0] == sys.executable:
        argv[0] = python  # the built-in spec the venv's runner generates names the venv's interpreter
    values = {"connection_file": os.path.realpath(connection_file), "prefix": prefix}
    values["resource_dir"] = spec.resource_dir
    argv = [arg.format(**values) if "{" in arg else arg for arg in argv]
    if argv[:3] == [python, "-m", "ipykernel_launcher"]:
        # ipykernel's launcher, with its start-up frozen (see _LAUNCHER); only on the key's interpreter
        # (the agent's or its venv's: this Python), not on one a kernelspec names itself.
        argv[1:3] = ["-c", _LAUNCHER]
    spec_env = {k: str(v) for k, v in (spec.env or {}).items()}
    env = {**(base_environment(python) if env is None else env), **spec_env}
    log_file = str(folder / f"kernel-{stamp}.log")
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=neutral,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a job's subprocesses are stopped with it
            close_fds=True,
        )
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        pidfd = -1
    return PooledKernel(
        key=key,
        pid=proc.pid,
        pidfd=pidfd,
        connection={k: v for k, v in connection.items() if k != "kernel_name"},
        connection_file=connection_file,
        log_file=log_file,
        neutral_cwd=str(neutral),
        launch_env=env,
        spec_env=spec_env,
        proc=proc,
    )


def _in_container(key: Key) -> bool:
    from .docker_kernels import is_container_key

    return is_container_key(key)


class KernelPool:
    """The agent's pools, one per key: warm kernels, how many each should hold, and the kernels
    handed to jobs (killed when their supervisor ends, whatever the job did)."""

    def __init__(self, folder: Path, log: Callable[[str], None] = lambda _m: None) -> None:
        self.folder = folder
        self.log = log
        self.warm: dict[Key, list[PooledKernel]] = {}
        self.sizes: dict[Key, int] = {}  # configured size per key (from the job's target)
        self.demand: dict[Key, int] = {}  # notebook jobs of the key running now
        self.handed: dict[int, PooledKernel] = {}  # supervisor pid -> its kernel
        self.handed_start: dict[int, int | None] = {}  # supervisor pid -> its start (a pid is reused)
        self.broken: set[Key] = set()  # keys whose kernels cannot start (a kernelspec gone)
        self.next_retry: dict[Key, float] = {}
        # Container kernels start in threads (half a second of engine calls each: the agent's loop
        # must not wait); what they made is taken in by poll().
        self.starting: dict[Key, int] = {}
        self._threads: list[threading.Thread] = []
        self._made: queue.SimpleQueue[tuple[Key, PooledKernel | Exception]] = queue.SimpleQueue()
        # tempfile sets up its folder and name source once, under a lock: here, not first in a start
        # thread, which a fork could copy holding it.
        os.rmdir(tempfile.mkdtemp(prefix="mlws-pool-"))

    def kill_leftovers(self) -> None:
        """Kernels a previous agent left (it was killed, so its clean-up never ran): the warm ones, and
        those it had handed to jobs whose supervisors are gone too (a pooled kernel has no parent to
        exit with); stopped now, each only if its command line still names our pool's folder (not a
        reused pid). A kernel whose job's supervisor still runs stays with its job."""
        from ..core.services.liveness import process_start

        try:
            state = json.loads((self.folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            return
        marker = os.fsencode(str(self.folder))
        leftovers = [(entry, "left warm") for entry in state.get("kernels", [])]
        for entry in state.get("handed", []):
            supervisor = entry.get("supervisor")
            started = process_start(int(supervisor)) if isinstance(supervisor, int) else None
            if started is None or started != entry.get("supervisor_start"):
                leftovers.append((entry, "left by a job whose supervisor is gone"))
        for entry, why in leftovers:
            pid = entry.get("pid")
            if entry.get("container"):
                from .docker_kernels import remove_leftover

                remove_leftover(entry)  # its container, by id, and the slot's folders
                self.log(f"removed kernel container {str(entry['container'])[:12]}, {why} by an earlier agent")
                continue
            try:
                cmdline = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
            except (OSError, TypeError, ValueError):
                continue
            if marker in cmdline:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(pid), signal.SIGKILL)
                self.log(f"stopped kernel {pid}, {why} by an earlier agent")
        self._save()

    # -- demand ------------------------------------------------------------------------------------------
    def wanted(self, key: Key) -> int:
        """How many warm kernels the key's pool holds: its configured size, or while more notebook
        jobs of the key run than that (a sweep's children), as many as run, so each next one finds a
        kernel ready."""
        size = self.sizes.get(key, 0)
        return max(size, self.demand.get(key, 0)) if size else 0

    def configure(self, key: Key, size: int) -> None:
        self.sizes[key] = size

    def job_started(self, key: Key) -> None:
        self.demand[key] = self.demand.get(key, 0) + 1

    def job_ended(self, key: Key) -> None:
        self.demand[key] = max(0, self.demand.get(key, 0) - 1)

    def active(self) -> bool:
        return any(self.sizes.values())

    # -- kernels -----------------------------------------------------------------------------------------
    def take(self, key: Key) -> PooledKernel | None:
        """A warm, live kernel of ``key`` (the oldest: most likely ready), or None."""
        kernels = self.warm.get(key, [])
        while kernels:
            kernel = kernels.pop(0)
            if kernel.alive():
                self._save()
                return kernel
            self.log(f"pooled kernel {kernel.pid} had died: replacing it")
            self._release(kernel)
        return None

    def hand(self, supervisor_pid: int, kernel: PooledKernel) -> None:
        from ..core.services.liveness import process_start

        self.handed[supervisor_pid] = kernel
        self.handed_start[supervisor_pid] = process_start(supervisor_pid)
        self._save()

    def supervisor_ended(self, supervisor_pid: int) -> None:
        kernel = self.handed.pop(supervisor_pid, None)
        self.handed_start.pop(supervisor_pid, None)
        if kernel is not None:
            self._release(kernel)  # the job is over: its kernel goes too, however the job ended
            self._save()

    def poll(self) -> None:
        """Take in the kernels started meanwhile; reap dead kernels (pooled ones are replaced by
        ``refill``), and those jobs shut down."""
        changed = self._take_made()
        for key, kernels in self.warm.items():
            for kernel in list(kernels):
                # A container's kernel is no child of ours: whether it lives is asked of its pidfd.
                ended = kernel.proc.poll() is not None if kernel.proc is not None else not kernel.alive()
                if ended:
                    self.log(f"pooled kernel {kernel.pid} of {key[1]} exited: replacing it")
                    kernels.remove(kernel)
                    self._release(kernel)
                    changed = True
                    if kernel.proc is None and time.monotonic() - kernel.started < EARLY_EXIT_S:
                        # A container that could not start (a broken image, too little memory): not again
                        # at once (a local kernel's start fails as it is launched, or later, by accident).
                        self._cannot_start(key, RuntimeError(f"it exited within {EARLY_EXIT_S} s of starting"))
        for kernel in self.handed.values():
            if kernel.proc is not None:
                kernel.proc.poll()  # a kernel its job shut down is reaped, not left a zombie
        if changed:
            self._save()

    def refill(self) -> None:
        """Start the kernels each pool lacks; stop those it holds beyond its size."""
        changed = False
        now = time.monotonic()
        for key in set(self.sizes) | set(self.warm):
            kernels = self.warm.setdefault(key, [])
            want = self.wanted(key)
            while len(kernels) > want:
                self._release(kernels.pop())  # the newest: the oldest are the readiest
                changed = True
            if key in self.broken and now < self.next_retry.get(key, 0.0):
                continue
            if _in_container(key):
                for _ in range(want - len(kernels) - self.starting.get(key, 0)):
                    self.starting[key] = self.starting.get(key, 0) + 1
                    thread = threading.Thread(target=self._start_in_thread, args=(key,), daemon=True)
                    thread.start()
                    self._threads.append(thread)
                continue
            while len(kernels) < want:
                try:
                    kernel = start_kernel(key, self.folder)
                except Exception as exc:  # a kernelspec removed since submit: its jobs say so themselves
                    self._cannot_start(key, exc)
                    break
                self._started(key, kernel)
                changed = True
        if changed:
            self._save()

    def _release(self, kernel: PooledKernel) -> None:
        """Stop a kernel now; a container's removal (a fraction of a second of engine calls) is left to
        a thread, which the agent waits for when it leaves."""
        if kernel.proc is not None:
            kernel.release()
            return
        kernel.kill()
        thread = threading.Thread(target=kernel.release, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _start_in_thread(self, key: Key) -> None:
        try:
            self._made.put((key, start_kernel(key, self.folder)))
        except Exception as exc:  # an image removed, the engine gone: told in the log, retried later
            self._made.put((key, exc))

    def _take_made(self) -> bool:
        changed = False
        self._threads = [t for t in self._threads if t.is_alive()]
        while True:
            try:
                key, made = self._made.get_nowait()
            except queue.Empty:
                return changed
            self.starting[key] = max(0, self.starting.get(key, 0) - 1)
            if isinstance(made, Exception):
                self._cannot_start(key, made)
            elif len(self.warm.setdefault(key, [])) >= self.wanted(key):
                self._release(made)  # no longer wanted (the pool shrank meanwhile)
            else:
                self._started(key, made)
                changed = True

    def _started(self, key: Key, kernel: PooledKernel) -> None:
        self.broken.discard(key)
        self.warm.setdefault(key, []).append(kernel)
        self.log(f"pooled kernel {kernel.pid} of {key[1]} started")

    def _cannot_start(self, key: Key, exc: Exception) -> None:
        self.log(f"cannot start a {key[1]} kernel for the pool: {type(exc).__name__}: {exc}")
        self.broken.add(key)
        self.next_retry[key] = time.monotonic() + 30

    def close(self) -> None:
        """The agent is leaving: its warm kernels go (kernels in jobs stay with their jobs), those
        still starting too."""
        for thread in self._threads:  # kernels starting, containers being removed
            thread.join(60)
        self._threads = []
        with contextlib.suppress(queue.Empty):
            while True:
                _key, made = self._made.get_nowait()
                if isinstance(made, PooledKernel):
                    made.release()
        for kernels in self.warm.values():
            for kernel in kernels:
                kernel.release()
        self.warm.clear()
        self._save()

    def _save(self) -> None:
        state = {
            "kernels": [k.state() for kernels in self.warm.values() for k in kernels],
            "handed": [
                {**k.state(), "supervisor": pid, "supervisor_start": self.handed_start.get(pid)}
                for pid, k in self.handed.items()
            ],
        }
        with contextlib.suppress(OSError):
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = self.folder / f".{STATE_FILE}.tmp"
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.folder / STATE_FILE)


# What ``python -m ipykernel_launcher`` does (the built-in kernelspec's argv), as ``python -c``, with
# one step more: once the kernel is initialised, what its start-up made (IPython's and ipykernel's
# objects, most of a kernel's) is collected and frozen (gc.freeze), in the pool, before any job. The
# interpreter's last garbage collections at exit skip frozen objects: a kernel's exit took 70-130 ms
# after its shutdown reply, 50-100 ms of it walking those objects. The job's own objects are not
# frozen: the exit collects them as a fresh kernel's does. The job sees the launcher's argv,
# ``sys.orig_argv``, path and modules; what tells is the garbage collector's view (``gc.get_freeze_count()``,
# and ``gc.get_objects()``/``get_referrers()`` leave the frozen objects out) and the bottom stack frame.
_LAUNCHER = """\
def launch():
    import gc
    import sys
    from importlib.util import find_spec
    from pathlib import Path

    import runpy  # noqa: F401 - loaded under `python -m`: the job sees the same modules

    if sys.path[0] == "" or Path(sys.path[0]) == Path.cwd():
        del sys.path[0]  # as ipykernel_launcher does (IPython puts it back)
    sys.argv[0] = find_spec("ipykernel_launcher").origin
    if hasattr(sys, "orig_argv"):  # Python 3.10+
        sys.orig_argv[1:3] = ["-m", "ipykernel_launcher"]
    from ipykernel import kernelapp

    app = kernelapp.IPKernelApp.instance()
    app.initialize()
    gc.collect()
    gc.freeze()
    app.start()


launch()
"""


# -- in the job: attach papermill to a pooled kernel -------------------------------------------------------

_BOOTSTRAP = """\
import json, os, sys
a = json.loads(ARGS)
os.chdir(a["cwd"])
# Where a fresh kernel started in the job's folder has that folder (sys.path[0] of `python -m`).
sys.path[:] = [a["cwd"] if p == a["neutral"] else p for p in sys.path]
env = dict(a["env"])
env.update(a["spec_env"])  # the kernelspec's own variables win over the job's, as in a fresh launch
# What the kernel changed at start-up (TERM, PAGER, MPLBACKEND, ...) it would have changed in a fresh
# launch too, over the job's values: kept. (Changes that depend on a start-up variable's value are the
# same here: the job's start-up variables are the kernel's, or it was not given this kernel.)
launch = a["launch"]
for k, v in os.environ.items():
    if launch.get(k) != v:
        env[k] = v
for k in launch:
    if k not in os.environ:
        env.pop(k, None)
os.environ.clear()
os.environ.update(env)
try:
    from IPython import get_ipython
    ip = get_ipython()
    if ip is not None:
        kind = type(ip.history_manager.dir_hist[0]) if ip.history_manager.dir_hist else str
        ip.history_manager.dir_hist[:] = [kind(os.getcwd())]  # _dh, as a kernel started here has it
except Exception:
    pass
"""


# What the job's code in the kernel buffered for the workspace, written (see PooledKernel.finish). Run
# in a namespace of its own: the job's globals see nothing of it. Nothing of the job's is collected or
# frozen here: its objects are left to the exit's collections, where their finalizers run (cycles that
# only become garbage as the exit clears the namespace too), as in a fresh kernel.
_FLUSH = """\
import sys
writer = sys.modules.get("jupyter_mlws.core.writer")
if writer is not None:
    writer.flush_all()
"""


class BootstrapError(RuntimeError):
    """The pooled kernel could not be prepared (dead, unresponsive): no cell of the job has run."""


def write_description(kernel: PooledKernel, folder: Path) -> Path:
    """The kernel's description in a new 0600 file of ``folder`` (it holds the kernel's HMAC key), for
    a runner started as a new process; :func:`read_description` reads and removes it."""
    path = folder / f"pooled-kernel-{kernel.pid}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(kernel.describe(), f)
    return path


def read_description(path: str | os.PathLike[str]) -> PooledKernel:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError(f"cannot read the pooled kernel's description {os.fspath(path)!r}: {exc}") from exc
    with contextlib.suppress(OSError):
        os.unlink(path)  # read once: nothing else needs its key
    return PooledKernel.described(data)


def bootstrap_code(kernel: PooledKernel, cwd: str, env: Mapping[str, str]) -> str:
    args = {
        "cwd": cwd,
        "neutral": kernel.neutral_cwd,
        "env": {**env, "JPY_PARENT_PID": str(os.getpid())},  # as jupyter_client sets for its kernels
        "launch": kernel.launch_env,
        "spec_env": kernel.spec_env,
    }
    # Run in a namespace of its own: nothing of it lands in the notebook's globals.
    return f"exec({_BOOTSTRAP!r}, {{'ARGS': {json.dumps(args)!r}}})"


def attached_manager(kernel: PooledKernel, kernel_name: str) -> Any:
    """An nbclient ``km`` for a kernel this process did not start: alive while its process is,
    shut down by killing it (it is never used again), signalled through the agent's pidfd."""
    from jupyter_client.manager import AsyncKernelManager

    class AttachedKernelManager(AsyncKernelManager):
        last_client: Any = None

        @property
        def has_kernel(self) -> bool:
            return True

        def client(self, **kwargs: Any) -> Any:
            kc = super().client(**kwargs)
            kc.wait_for_ready = lambda timeout=None: _ready(kc, kernel, timeout)  # type: ignore[method-assign]  # this client only: see _ready
            self.last_client = kc
            return kc

        async def _async_is_alive(self) -> bool:
            return kernel.alive()

        is_alive = _async_is_alive

        async def _async_signal_kernel(self, signum: int) -> None:
            kernel.signal(signum)

        signal_kernel = _async_signal_kernel

        async def _async_interrupt_kernel(self) -> None:
            kernel.signal(signal.SIGINT)

        interrupt_kernel = _async_interrupt_kernel

        async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
            if now:
                kernel.kill()
            else:
                kernel.shut_down()

        shutdown_kernel = _async_shutdown_kernel

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            with contextlib.suppress(OSError):
                os.unlink(kernel.connection_file)

        cleanup_resources = _async_cleanup_resources

    km = AttachedKernelManager(kernel_name=kernel_name, connection_file=kernel.connection_file)
    km.load_connection_info(kernel.connection)  # type: ignore[arg-type]  # a plain dict of its fields
    return km


async def _ready(kc: Any, kernel: PooledKernel, timeout: float | None) -> None:
    """nbclient's wait for the kernel, for a pooled one: as jupyter_client's ``wait_for_ready`` (a
    ``kernel_info`` reply, then an IOPub message to show IOPub is connected), without its last step,
    which waits until IOPub has been quiet for 0.2 s: that is for a kernel just started, whose start-up
    messages may still come. A pooled kernel started long ago, and nbclient reads only the IOPub
    messages of its own requests; what is queued now is read and dropped without waiting."""
    from queue import Empty

    deadline = time.monotonic() + (timeout if timeout is not None else 60.0)
    while True:
        if not kernel.alive():
            raise RuntimeError("the pre-started kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the pre-started kernel did not answer kernel_info in {timeout} s")
        kc.kernel_info()
        try:
            msg = await kc.shell_channel.get_msg(timeout=1)
        except Empty:
            continue
        if msg["msg_type"] != "kernel_info_reply":
            continue
        try:
            await kc.iopub_channel.get_msg(timeout=0.2)  # IOPub connected: its status message came
        except Empty:
            continue  # not subscribed yet: ask again
        kc._handle_kernel_info_reply(msg)
        break
    while True:
        try:
            await kc.iopub_channel.get_msg(timeout=0)
        except Empty:
            return


def bootstrap_hook(km: Any, kernel: PooledKernel, cwd: str, env: Mapping[str, str], timeout: float) -> Any:
    """nbclient's ``on_notebook_start``: the hidden set-up execution, on the client nbclient has just
    connected and seen ready, before papermill's first cell."""

    async def hook(**_kw: Any) -> None:
        kc = km.last_client
        if kc is None:
            raise BootstrapError("no client was connected to the pre-started kernel")
        msg_id = kc.execute(bootstrap_code(kernel, cwd, env), silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not kernel.alive():
                raise BootstrapError("the pre-started kernel did not answer its set-up")
            try:
                reply = await kc.get_shell_msg(timeout=min(1.0, remaining))
            except Exception:  # noqa: S112 - queue.Empty: look again until the deadline
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise BootstrapError(
                f"the pre-started kernel's set-up failed: {content.get('ename')}: {content.get('evalue')}"
            )
        ready.append(True)

    ready: list[bool] = []
    hook.ready = ready  # type: ignore[attr-defined]  # non-empty once the kernel is the job's
    return hook


@contextlib.contextmanager
def kernel_log_to_stdout(kernel: PooledKernel) -> Iterator[None]:
    """After the job, what the kernel wrote to its own stdout/stderr meanwhile goes to the job's log."""
    start = kernel.log_size()
    try:
        yield
    finally:
        text = kernel.take_log(start)
        if text:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
