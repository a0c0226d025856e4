"""The ``local`` compute target: jobs as processes on this machine, at most N at a time.

Submitting wakes the workspace's local agent (see :mod:`.agent`), which dispatches queued runs in
order and forks one supervisor per job; the supervisor runs the :class:`LocalJob` lifecycle.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.activities import ActivityRecorder
from ..core.interfaces.compute import BuildResult, default_concurrency
from ..core.layout import (
    ENV_INPUTS,
    ENV_NEW_SECRET_KEY,
    ENV_SECRET_KEY,
    ENV_SECRETS_API,
    ENV_TASK_POOL,
    INPUTS_FILE,
    INPUTS_FOLDER,
    LOCAL_TASK_POOL,
)
from ..core.values import is_finite_number
from ..errors import InvalidArgumentError
from .environments.venv import build_venv
from .job_api import JobApi
from .kernel_pool import (
    DEFAULT_POOL_SIZE,
    POOL_SETTING,
    SHUTDOWN_WAIT_S,
    PooledKernel,
    pool_size,
    startup_variables,
    write_description,
)
from .lifecycle import DEFAULT_CANCEL_GRACE_S, JobExecution
from .log_pump import LogPump
from .supervision import SECRETS_CHANNEL_PREFIX, AgentCompute, make_channel_folder

__all__ = ["LocalCompute", "LocalJob"]

_SETTINGS = {"max_concurrent_runs", "cancel_grace_seconds", POOL_SETTING}
#: The vault key's variables, never passed on to a job (issue 21).
SECRET_KEY_VARIABLES = (ENV_SECRET_KEY, ENV_NEW_SECRET_KEY)


class LocalCompute(AgentCompute):
    """Processes on this machine. Settings: ``max_concurrent_runs`` (default: the number of cores),
    ``cancel_grace_seconds`` (SIGTERM to SIGKILL, default 10), ``kernel_pool_size`` (notebook
    kernels the agent keeps started ahead of need per interpreter (this one, or an environment's
    built venv) and kernel name, each used by one job; default 1, 0 turns it off)."""

    type = "local"

    @staticmethod
    def attach_configuration(
        max_concurrent_runs: int | None = None,
        cancel_grace_seconds: float = DEFAULT_CANCEL_GRACE_S,
        kernel_pool_size: int = DEFAULT_POOL_SIZE,
    ) -> dict[str, Any]:
        config: dict[str, Any] = {
            "type": "local",
            "cancel_grace_seconds": cancel_grace_seconds,
            POOL_SETTING: kernel_pool_size,
        }
        if max_concurrent_runs is not None:
            config["max_concurrent_runs"] = max_concurrent_runs
        return config

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return {
            "max_concurrent_runs": default_concurrency(),
            "cancel_grace_seconds": DEFAULT_CANCEL_GRACE_S,
            POOL_SETTING: DEFAULT_POOL_SIZE,
        }

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        result = cls.merged_config(config, _SETTINGS)
        limit = result["max_concurrent_runs"]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidArgumentError(f"max_concurrent_runs must be an integer >= 1, got {limit!r}")
        grace = result["cancel_grace_seconds"]
        # not (grace >= 0): NaN fails every comparison, so "grace < 0" would let it through.
        if not is_finite_number(grace) or grace < 0:
            raise InvalidArgumentError(f"cancel_grace_seconds must be a finite number >= 0, got {grace!r}")
        pool_size(result)
        return result

    @classmethod
    def execution(cls) -> builtins.type[JobExecution]:
        return LocalJob

    @classmethod
    def build_environment(
        cls, name: str, definition: Mapping[str, Any], config: Mapping[str, Any], recorder: ActivityRecorder
    ) -> BuildResult:
        return build_venv(name, definition, recorder)


class ForkedProcess:
    """A job run by a fork of the supervisor (with what it has imported), waited for like a Popen."""

    def __init__(
        self, target: Callable[[], int], cwd: Path, env: Mapping[str, str], log_fd: int, close: Sequence[int] = ()
    ) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its exit code is what the tests see
            code = 1
            try:
                os.setsid()  # its own process group, signalled as a whole, as a Popen job is
                _die_with_parent()
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update(env)
                os.dup2(log_fd, 1)
                os.dup2(log_fd, 2)
                for fd in close:  # the supervisor's own ends (its log pump reads; the job never does)
                    with contextlib.suppress(OSError):
                        os.close(fd)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                # Fresh line-buffered streams on the log: whatever sys.stdout was in the parent.
                sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
                sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                code = target()
            except SystemExit as exc:
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code if isinstance(code, int) else 1)  # never back into the supervisor's code
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired([str(self.pid)], timeout or 0)
            self._sleep(0.01 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic())))
        return self.returncode

    _pidfd: int | None = None

    def _sleep(self, seconds: float) -> None:
        """Until the process exits (a pidfd wakes us the moment it does) or ``seconds`` pass."""
        if self._pidfd is None:
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except (AttributeError, OSError):  # an old kernel, or it is gone already
                self._pidfd = -1
        if self._pidfd < 0:
            time.sleep(seconds)
            return
        poller = select.poll()
        poller.register(self._pidfd, select.POLLIN)
        if poller.poll(int(seconds * 1000)):
            os.close(self._pidfd)  # exited: waitpid reaps it next
            self._pidfd = -2


def job_argv(spec: Mapping[str, Any], python: str) -> list[str]:
    """The job's command line: the notebook runner, a script, or the user's command."""
    if spec.get("kind") == "notebook":
        output = f"outputs/{spec['notebook'].rsplit('/', 1)[-1]}"
        runner = "jupyter_mlws.compute.notebook_runner"
        return [python, "-m", runner, spec["notebook"], output, "--kernel", spec["kernel_name"]]
    if "script" in spec:
        return [python, spec["script"], *spec["arguments"]]
    command = spec["command"]
    if isinstance(command, str):
        return ["/bin/sh", "-c", command]
    return [*command, *spec["arguments"]]


def job_variables(
    spec: Mapping[str, Any],
    run_id: str,
    workspace_root: str,
    workdir: Path,
    error_file: Path,
    task_pool: str = LOCAL_TASK_POOL,
) -> dict[str, str]:
    """What a job finds in its environment: its run, its workspace, where the tasks it fans out run
    (``task_pool``: see ENV_TASK_POOL), the environment's variables."""
    variables = dict((spec.get("environment") or {}).get("definition", {}).get("environment_variables", {}))
    # The job's own (a pipeline step's params as v1's AML_PARAMETER_<name>), then ours, which win.
    variables.update({str(k): str(v) for k, v in (spec.get("environment_variables") or {}).items()})
    variables.update(
        {
            "MLWS_RUN_ID": run_id,
            "MLWS_WORKSPACE": workspace_root,
            "MLWS_OUTPUTS": str(workdir / "outputs"),
            "MLWS_ERROR_FILE": str(error_file),
            "MLWS_NOTEBOOK_PARAMETERS": json.dumps(spec.get("parameters", {})),
            ENV_TASK_POOL: task_pool,
            "PYTHONUNBUFFERED": "1",  # logs stream as they are written
        }
    )
    if spec.get("inputs"):  # staged by the supervisor: Run.get_context().input_datasets reads it
        variables[ENV_INPUTS] = str(workdir / INPUTS_FOLDER / INPUTS_FILE)
    return variables


# Looked up here, in the parent: between fork and exec in a threaded process (a Dask worker) a
# dlopen could wait for a lock another thread held at the fork, for ever.
_PRCTL = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # If the supervisor dies, the job must not run on unsupervised (Linux: PR_SET_PDEATHSIG).
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)


class LocalJob(JobExecution):
    """A script or command as a child process group of the supervisor."""

    target_type = "local"
    proc: subprocess.Popen[bytes] | ForkedProcess | None = None
    #: A pre-started kernel the agent handed to this job (issue 22); used once, killed at the end.
    pooled_kernel: PooledKernel | None = None

    def argv(self) -> list[str]:
        return job_argv(self.spec, self.python())

    def python(self) -> str:
        """The environment's interpreter, else the one that submitted the job."""
        return self.built.location if self.built is not None else str(self.spec["python"])

    def environment(self, workdir: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("VIRTUAL_ENV", None)  # the job's interpreter is its own
        for name in SECRET_KEY_VARIABLES:  # a job asks its supervisor for secrets; it never holds the key
            env.pop(name, None)
        ws = self.reporter.workspace
        env.update(
            job_variables(self.spec, self.reporter.run_id, str(ws.root), workdir, self.error_file, self.task_pool)
        )
        # `python` in a command means the job's interpreter.
        env["PATH"] = str(Path(self.python()).parent) + os.pathsep + env.get("PATH", "")
        return env

    def start(self, workdir: Path) -> None:
        env = self.environment(workdir)
        env[ENV_SECRETS_API] = str(self._serve_secrets())
        self.pump = pump = LogPump(self.driver_log, self.redactor)
        assert pump.write_fd is not None
        try:
            if self._runner_is_warm():
                # The agent has papermill imported: a fork of this supervisor runs the notebook without
                # paying for the imports again (seconds, most of papermill's own start-up).
                from . import notebook_runner

                argv = self.argv()[3:]  # after `python -m jupyter_mlws.compute.notebook_runner`
                kernel = self._usable_kernel(env)
                self.proc = ForkedProcess(
                    lambda: notebook_runner.main(argv, kernel=kernel), workdir, env, pump.write_fd, close=[pump.read_fd]
                )
            else:
                argv = self.argv()
                passed: tuple[int, ...] = ()
                # A venv's notebook job: its runner is that venv's interpreter, a new process, so the
                # kernel goes to it as a description in our private folder, and its pidfd stays open.
                kernel = self._usable_kernel(env) if self.spec.get("kind") == "notebook" else None
                if kernel is not None:
                    assert self._secrets_folder is not None  # made by _serve_secrets, above
                    argv += ["--pooled-kernel", str(write_description(kernel, self._secrets_folder))]
                    passed = (kernel.pidfd,) if kernel.pidfd >= 0 else ()
                self.proc = subprocess.Popen(
                    argv,
                    cwd=workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=pump.write_fd,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                    pass_fds=passed,
                )
        finally:
            pump.started()

    def _usable_kernel(self, env: Mapping[str, str]) -> PooledKernel | None:
        """The pooled kernel, if this job can use it: what the kernel's start-up read from its
        environment must be what this job's would have been; otherwise it is stopped here and the
        job starts a fresh kernel (see :mod:`.kernel_pool`)."""
        kernel = self.pooled_kernel
        if kernel is None:
            return None
        # The kernelspec's own variables win over the job's in a fresh launch too.
        launched = {k: v for k, v in startup_variables(kernel.launch_env).items() if k not in kernel.spec_env}
        wanted = {k: v for k, v in startup_variables(env).items() if k not in kernel.spec_env}
        # The interpreter the job's own kernel would run on (the venv's, once built) and its kernel name:
        # what the agent keyed the pool by, checked again now that the environment is built.
        # Not resolved: two venvs' interpreters are links to the same base interpreter.
        own = (os.path.abspath(self.python()), str(self.spec.get("kernel_name") or "python3"))
        if (os.path.abspath(kernel.key[0]), kernel.key[1]) != own or wanted != launched or not kernel.alive():
            kernel.kill()
            return None
        return kernel

    def _serve_secrets(self) -> Path:
        """The job's channel to its secrets: the job API answering ``get_secrets`` only, on a socket in a
        private folder of its own (0700, a fresh name)."""
        self._secrets_folder = make_channel_folder(SECRETS_CHANNEL_PREFIX)
        self.secrets_api = JobApi(
            self.reporter.workspace,
            self.reporter.run_id,
            self._secrets_folder,
            only=frozenset({"get_secrets"}),
            redactor=self.redactor,
        )
        self.secrets_api.start()
        return self.secrets_api.socket_path

    def _runner_is_warm(self) -> bool:
        """A notebook job with the supervisor's own interpreter, papermill already imported."""
        return (
            self.spec.get("kind") == "notebook"
            and self.built is None
            # Not resolved: two venvs' interpreters are links to the same base interpreter.
            and os.path.abspath(self.python()) == os.path.abspath(sys.executable)
            and "papermill.engines" in sys.modules
        )

    def wait(self, timeout: float) -> int | None:
        assert self.proc is not None
        if isinstance(self.proc, subprocess.Popen) and self.proc.returncode is None:
            self._wait_exit(self.proc, timeout)
            return self.proc.poll()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    _pidfd: int | None = None

    def _wait_exit(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        """Sleep until the process exits or ``timeout`` passes. A pidfd wakes us the moment it exits
        (``Popen.wait(timeout)`` polls with growing sleeps: up to tens of ms late for a short job)."""
        if self._pidfd is None and hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(proc.pid)
            except OSError:  # an old kernel, or it is gone already
                self._pidfd = -1
        if self._pidfd is None or self._pidfd < 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
            return
        poller = select.poll()  # not select(): a descriptor may be >= FD_SETSIZE in a busy process
        poller.register(self._pidfd, select.POLLIN)
        poller.poll(max(0, int(timeout * 1000)))

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def terminate(self) -> None:
        self._signal_group(signal.SIGTERM)

    def kill(self) -> None:
        self._signal_group(signal.SIGKILL)

    secrets_api: JobApi | None = None
    _secrets_folder: Path | None = None

    def cleanup(self, workdir: Path | None) -> None:
        self.stop_all()
        self.close_channels()
        super().cleanup(workdir)

    def close_channels(self) -> None:
        """The job is gone: its output's last bytes reach the log, its secrets channel closes."""
        self.output_ended()
        if self.secrets_api is not None:
            self.secrets_api.close()
            self.secrets_api = None
        if self._secrets_folder is not None:
            shutil.rmtree(self._secrets_folder, ignore_errors=True)
            self._secrets_folder = None

    def collect(self, workdir: Path | None) -> None:
        kernel = self.pooled_kernel
        if kernel is not None and self.proc is not None and (self.proc.returncode or 0) >= 0:
            # The runner ended on its own and asked its pooled kernel to shut down without waiting
            # (PooledKernel.finish): what the kernel's exit writes (exit handlers, files left open)
            # belongs in the outputs, as with a fresh kernel, whose runner waits for its exit.
            kernel.wait_exit(SHUTDOWN_WAIT_S)
        super().collect(workdir)

    def stop_all(self) -> None:
        """Kill the job's process group (nothing the job started outlives it) and let go of it."""
        self.kill()
        if self.pooled_kernel is not None:  # not in the job's group: the agent started it
            self.pooled_kernel.kill()
        if self._pidfd is not None and self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = None
