"""The job lifecycle, owned by a base class (as jupyter-scheduler's ExecutionManager does):

    Queued -> Preparing (materialise the snapshot) -> Starting -> Running (watch: exit, cancel,
    deadline, heartbeat) -> Finalizing (collect outputs and logs) -> Completed | Failed | Canceled

Subclasses say how to start, poll and stop the job's process on their target. Everything they learn
goes through a :class:`JobReporter`; nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..core.activities import ActivityRecorder
from ..core.interfaces.compute import BuildResult, JobReporter
from ..core.layout import DRIVER_LOG, LOCAL_TASK_POOL
from ..core.redaction import Redactor
from ..core.status import TERMINAL_STATUSES, RunStatus
from ..errors import EnvironmentBuildError, MlwsError
from .inputs import collect_outputs, discard_inputs, stage_inputs, stage_outputs
from .log_pump import LogPump, mask_file, mask_notebook
from .supervision import HEARTBEAT_INTERVAL_S, HOSTNAME, make_job_folder

__all__ = ["JobExecution", "Outcome"]

STATUS_CHECK_INTERVAL_S = 0.25
DEFAULT_CANCEL_GRACE_S = 10.0
LOG_TAIL_BYTES = 64 * 1024
LOG_TAIL_LINES = 30
ERROR_FILE = ".mlws-error.json"  # MLWS_ERROR_FILE, in the job's working folder
BUILD_LOG = "environment_build.log"  # a run file under logs/ when the job has an environment


@dataclass(frozen=True)
class Outcome:
    status: RunStatus
    error: dict[str, Any] | None = None


class JobExecution(ABC):
    """Runs one job inside its supervisor process."""

    target_type: ClassVar[str] = "local"  # which kind of target builds its environment (a venv here)
    task_pool: ClassVar[str] = LOCAL_TASK_POOL  # where the tasks the job fans out run (its MLWS_TASK_POOL)

    def __init__(self, reporter: JobReporter, spec: dict[str, Any], config: dict[str, Any]) -> None:
        self.reporter = reporter
        self.spec = spec
        self.config = config
        self.live = reporter.live_dir()
        self.driver_log = self.live / DRIVER_LOG
        # A job may leave structured error details here (the notebook runner names the cell): in its
        # private working folder (see prepare), not the live folder that readers of its logs see.
        self.error_file = self.live / ERROR_FILE
        self.grace = float(config.get("cancel_grace_seconds", DEFAULT_CANCEL_GRACE_S))
        self.built: BuildResult | None = None  # the job's environment, once materialised
        # The secrets the job obtained (through its supervisor): masked in its log as it is written,
        # in its log files and executed notebook when collected, and in what is stored of it (issue 21).
        self.redactor = Redactor()
        self.pump: LogPump | None = None  # the job's output on its way to the driver log

    # -- what a target provides ------------------------------------------------------------------------
    @abstractmethod
    def start(self, workdir: Path) -> None:
        """Start the job's process with ``workdir`` as its working folder."""

    @abstractmethod
    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds; the exit code (negative: killed by that signal) or None."""

    @abstractmethod
    def terminate(self) -> None:
        """Ask the job to stop (SIGTERM)."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the job now (SIGKILL), with everything it started."""

    def default_environment(self) -> dict[str, Any] | None:
        """The definition to build when the job names no environment (None: run as submitted)."""
        return None

    # -- the lifecycle ---------------------------------------------------------------------------------
    def process(self) -> RunStatus:
        reporter = self.reporter
        # Declared here, written by the claim below (the transition to Preparing) in its own
        # transaction, and only if this dispatch wins it: a second dispatch of the same run that
        # loses must not leave its pid on the job (it exits, and the job would be judged dead).
        reporter.supervisor(os.getpid(), HOSTNAME)
        if not reporter.transition(RunStatus.PREPARING):
            if reporter.status() == RunStatus.CANCEL_REQUESTED:  # canceled just as it was picked up
                reporter.transition(RunStatus.CANCELED, error={"message": "canceled before it started"})
            return reporter.status()
        workdir: Path | None = None
        try:
            workdir = self.prepare()
            builds: list[ActivityRecorder] = []
            with self._heartbeats(builds):  # a build may take minutes: the run must not look abandoned
                # The job's datasets are copied (and verified) into its folder first: a changed dataset
                # fails the run before any build.
                stage_inputs(reporter.workspace, self.spec, workdir)
                stage_outputs(self.spec, workdir)
                self.built = reporter.build_environment(
                    self.target_type,
                    self.config,
                    self.live / "logs" / BUILD_LOG,
                    self.default_environment(),
                    builds.append,
                )
            if reporter.status() == RunStatus.CANCEL_REQUESTED:
                outcome = Outcome(RunStatus.CANCELED, {"message": "canceled before it started", "reason": "canceled"})
            elif not reporter.transition(RunStatus.STARTING):
                outcome = Outcome(reporter.status())  # ended meanwhile (e.g. judged stale): start nothing
            else:
                self.start(workdir)
                reporter.transition(RunStatus.RUNNING)
                outcome = self.watch()
                self.output_ended()
                if outcome.status == RunStatus.COMPLETED and self.spec.get("outputs"):
                    collect_outputs(reporter.workspace, reporter.run_id, self.spec, workdir)
            if outcome.status == RunStatus.COMPLETED or reporter.status() == RunStatus.RUNNING:
                reporter.transition(RunStatus.FINALIZING)
            self.collect(workdir)
        except EnvironmentBuildError as exc:
            # A failed build explains itself: its message, its log's tail, the activity with the whole log.
            tail = "\n".join(exc.log.splitlines()[-LOG_TAIL_LINES:])
            error = {"message": exc.message, "reason": "environment_build", "build_log": tail}
            if exc.activity_id:
                error["activity_id"] = exc.activity_id
            if reporter.status() == RunStatus.CANCEL_REQUESTED:
                error.update(message="canceled while its environment was being built", reason="canceled")
                outcome = Outcome(RunStatus.CANCELED, error)
            else:
                outcome = Outcome(RunStatus.FAILED, error)
            self._collect_quietly(workdir)
        except MlwsError as exc:
            # Ours, with a message that names the thing and the fix (a missing image, a stopped engine).
            outcome = Outcome(RunStatus.FAILED, {"message": exc.message, "reason": type(exc).__name__})
            self._collect_quietly(workdir)
        except Exception as exc:
            outcome = Outcome(
                RunStatus.FAILED,
                {
                    "message": f"the job could not run: {type(exc).__name__}: {exc}",
                    "traceback": "".join(traceback.format_exception(exc)),
                },
            )
            self._collect_quietly(workdir)
        finally:
            self.cleanup(workdir)
        masked = self.redactor.value(outcome.error) if self.redactor else outcome.error
        reporter.transition(outcome.status, error=masked)
        return outcome.status

    @contextlib.contextmanager
    def _heartbeats(self, builds: list[ActivityRecorder]) -> Iterator[None]:
        """Heartbeats while the environment builds, and a cancel request stops the build."""
        stop = threading.Event()

        def beat() -> None:
            next_beat = time.monotonic() + HEARTBEAT_INTERVAL_S
            while not stop.wait(STATUS_CHECK_INTERVAL_S * 2):
                try:
                    if time.monotonic() >= next_beat:
                        self.reporter.heartbeat()
                        next_beat = time.monotonic() + HEARTBEAT_INTERVAL_S
                    if builds and self.reporter.status() in (RunStatus.CANCEL_REQUESTED, *TERMINAL_STATUSES):
                        builds[-1].cancel()
                except Exception:  # noqa: S110 - a missed beat is retried; the store may be busy
                    pass

        thread = threading.Thread(target=beat, name="mlws-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _collect_quietly(self, workdir: Path | None) -> None:
        try:
            self.collect(workdir)
        except Exception:  # noqa: S110 - the first error is the one to report
            pass

    def prepare(self) -> Path:
        """A fresh working folder holding the snapshot, with ``outputs/`` and a live ``logs/``: private
        to the user (0700, in their cache folder, checked level by level — see
        :func:`.supervision.make_job_folder`), so no other local user can read it or swap it."""
        workdir = self.job_folder()
        self.reporter.restore_snapshot(workdir)
        self.error_file = workdir / ERROR_FILE
        if self.error_file.exists() or self.error_file.is_symlink():
            self.error_file.unlink()  # a snapshot's file of that name is not the job's report
        (workdir / "outputs").mkdir(exist_ok=True)
        live_logs = self.live / "logs"
        live_logs.mkdir(parents=True, exist_ok=True)
        self.driver_log.parent.mkdir(parents=True, exist_ok=True)
        snapshot_logs = workdir / "logs"
        if snapshot_logs.is_dir() and not snapshot_logs.is_symlink():
            shutil.copytree(snapshot_logs, live_logs, dirs_exist_ok=True)
            shutil.rmtree(snapshot_logs)
        elif snapshot_logs.exists() or snapshot_logs.is_symlink():
            snapshot_logs.unlink()
        # ./logs is the live folder itself, so readers see log files as the job writes them.
        os.symlink(live_logs, snapshot_logs)
        return workdir

    def job_folder(self) -> Path:
        """The job's fresh, private working folder (an earlier attempt's is replaced)."""
        return make_job_folder(self.reporter.run_id)

    def watch(self) -> Outcome:
        reporter = self.reporter
        started = time.monotonic()
        limit = self.spec.get("max_run_duration_seconds")
        deadline = started + float(limit) if limit else None
        next_check = next_beat = started
        while True:
            code = self.wait(0.05)
            if code is not None:
                self.output_ended()  # the log's last lines are in it before its tail is read
                return self._exited(code)
            now = time.monotonic()
            if now >= next_beat:
                reporter.heartbeat()
                next_beat = now + HEARTBEAT_INTERVAL_S
            if now >= next_check:
                next_check = now + STATUS_CHECK_INTERVAL_S
                status = reporter.status()
                if status == RunStatus.CANCEL_REQUESTED:
                    self.stop()
                    return Outcome(RunStatus.CANCELED, {"message": "canceled on request", "reason": "canceled"})
                if status in TERMINAL_STATUSES:  # someone else ended it (e.g. judged it stale)
                    self.stop()
                    return Outcome(status)
            if deadline is not None and now >= deadline:
                self.stop()
                return Outcome(
                    RunStatus.CANCELED,
                    {
                        "message": f"the run exceeded max_run_duration_seconds={limit} and was canceled",
                        "reason": "max_run_duration_seconds",
                    },
                )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period."""
        self.terminate()
        if self.wait(self.grace) is None:
            self.kill()
            self.wait(30)

    def _exited(self, code: int) -> Outcome:
        if code == 0:
            return Outcome(RunStatus.COMPLETED)
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            message = f"the job's process was killed by {name}"
        else:
            message = f"the job's process exited with code {code}"
        tail = self._log_tail()
        error: dict[str, Any] = {"message": message, "exit_code": code, "log_tail": tail}
        found = _last_traceback(tail)
        if found:
            error["traceback"] = found
            error["message"] = f"{message}: {found.strip().splitlines()[-1]}"
        try:
            reported = json.loads(self.error_file.read_text(encoding="utf-8"))
            if isinstance(reported, dict):
                error.update(reported)
        except (OSError, ValueError):
            pass
        return Outcome(RunStatus.FAILED, error)

    def _log_tail(self) -> str:
        try:
            with open(self.driver_log, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - LOG_TAIL_BYTES))
                text = f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-LOG_TAIL_LINES:])

    def output_ended(self) -> None:
        """The job's process is gone: its last output reaches the driver log."""
        if self.pump is not None:
            self.pump.finish()

    def _mask_collected(self, workdir: Path | None) -> None:
        """Mask what the job obtained in the files collected as logs and in an executed notebook (the
        runner's, not the job's own outputs, which are the user's data and kept as written)."""
        if not self.redactor:
            return
        # The driver log again: a value the job printed before it asked for it was not known then.
        for path in [self.driver_log, *sorted((self.live / "logs").rglob("*"))]:
            mask_file(path, self.redactor)
        if workdir is not None and self.spec.get("kind") == "notebook":
            mask_notebook(workdir / "outputs" / str(self.spec["notebook"]).rsplit("/", 1)[-1], self.redactor)

    def collect(self, workdir: Path | None) -> None:
        self.output_ended()
        self._mask_collected(workdir)
        if workdir is not None:
            self.reporter.collect(workdir / "outputs", "outputs")
        self.reporter.collect(self.live / "logs", "logs")
        self.reporter.collect(self.driver_log.parent, DRIVER_LOG.rsplit("/", 1)[0])

    def cleanup(self, workdir: Path | None) -> None:
        if self.spec.get("inputs"):
            discard_inputs(self.spec, workdir)  # mounted inputs were staged write-protected
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(self.live, ignore_errors=True)


_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):$", re.MULTILINE)


def _last_traceback(text: str) -> str | None:
    """The last Python traceback in ``text`` (header to the exception line), if any."""
    starts = [m.start() for m in _TRACEBACK.finditer(text)]
    if not starts:
        return None
    block = text[starts[-1] :].splitlines()
    lines = [block[0]]
    for line in block[1:]:
        lines.append(line)
        if line and not line.startswith((" ", "\t")):
            break  # the "ValueError: ..." line ends the traceback
    return "\n".join(lines)
