"""The ``dask`` compute target (issue 19): jobs as tasks on an existing Dask cluster.

``ComputeTarget.attach(ws, "cluster", DaskCompute.attach_configuration("tcp://host:8786"))``. Submitting
a run hands Dask one task per run (key ``mlws-run-<run id>``, fire-and-forget: the task outlives the
submitting process). On a worker the task opens the workspace from its locator
(:mod:`jupyter_mlws.core.locator`: a team workspace reports to PostgreSQL and writes to the object
store directly, no Jupyter server involved) and runs the job with the same lifecycle as a local job
(:class:`DaskJob`: the snapshot fetched by digest, the environment's venv built or reused on the
worker, logs streamed, outputs collected, a cancel request stops the process group).

A worker that dies mid-run is Dask's business: the scheduler runs the task again elsewhere (at most
``distributed.scheduler.allowed-failures`` times), and the new attempt takes the run over by
compare-and-set (:meth:`JobStore.reclaim_job`), so it is the same run at attempt 2 (run property
``mlws.attempt``), never a second run. Once Dask gives up (``KilledWorker``) the health check
(:meth:`DaskCompute.reconcile`) fails the run with Dask's reason. Dask is imported only when used, so
``import jupyter_mlws`` stays light and a missing ``jupyter-mlws[dask]`` is a clear error.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import os
import socket
import threading
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.entities import ATTEMPT_PROPERTY
from ..core.layout import DRIVER_LOG
from ..core.locator import is_team_workspace, open_located, workspace_locator
from ..core.status import ACTIVE_STATUSES, TERMINAL_STATUSES, RunStatus
from ..errors import BackendUnavailableError, InvalidArgumentError, InvalidStateError
from .aml import RECORDED
from .lifecycle import DEFAULT_CANCEL_GRACE_S, JobExecution, Outcome
from .local import LocalJob
from .supervision import (
    DISPATCH_AFTER_S,
    HOSTNAME,
    StoreReporter,
    SupervisedCompute,
    database_clock,
    end_if_stale,
)

if TYPE_CHECKING:
    from ..core.entities import RunRecord

__all__ = ["DaskCompute", "DaskJob", "client_for", "close_clients", "execute_run", "task_key"]

TASK_PREFIX = "mlws-run-"
CONNECT_TIMEOUT_S = 5.0
CHECK_VALID_S = 10.0  # how long a passed check() holds in a process
ATTEMPT_CHECK_S = 1.0  # how often a running attempt checks that the run is still its own
LOG_SYNC_INTERVAL_S = 2.0  # how often a team workspace's readers elsewhere see a job's log grow
_SCHEMES = ("tcp://", "tls://", "ucx://", "ws://", "wss://", "inproc://")
# max_nodes, aml_compute and v1's settings: a target made by AmlCompute.provisioning_configuration (recorded).
_SETTINGS = {"scheduler_address", "dashboard_url", "cancel_grace_seconds", "max_nodes", "aml_compute", *RECORDED}
# Dask's task states in which the scheduler still owns the task (it will run, or run it again).
_ALIVE_TASK_STATES = frozenset({"released", "waiting", "no-worker", "queued", "processing"})


def task_key(run_id: str) -> str:
    """The Dask key of a run's task: one per run, so submitting twice never runs it twice."""
    return f"{TASK_PREFIX}{run_id}"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise BackendUnavailableError(
            "the dask compute target needs Dask's distributed scheduler: pip install 'jupyter-mlws[dask]'"
        ) from None
    return distributed


# distributed's API is untyped: its objects are Any here.
_clients: dict[tuple[int, str], Any] = {}
_clients_lock = threading.Lock()
_checked: dict[tuple[int, str, str], float] = {}  # (pid, scheduler, workspace) -> when check() passed


def client_for(address: str, timeout: float = CONNECT_TIMEOUT_S) -> Any:
    """A connected client of the scheduler at ``address``, one per process (a fork gets its own)."""
    distributed = _distributed()
    key = (os.getpid(), address)
    with _clients_lock:
        client = _clients.pop(key, None)
        if client is not None and client.status == "running":
            _clients[key] = client
            return client
        if client is not None:  # reconnecting or closed: not left running beside the new one
            with contextlib.suppress(Exception):
                client.close(timeout=1)
        try:
            client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise BackendUnavailableError(
                f"cannot reach the Dask scheduler at {address}: {exc}. Start a cluster (`mlws dask local`) "
                "or attach the target again with the right address (`mlws compute attach dask NAME --scheduler …`)"
            ) from None
        _clients[key] = client
        return client


@atexit.register
def close_clients(address: str | None = None) -> None:
    """Close this process's clients (of ``address``, else all). Closing flushes what was submitted
    fire-and-forget, so it runs when the process exits."""
    with _clients_lock:
        for key, client in list(_clients.items()):
            if address is None or key[1] == address:
                del _clients[key]
                if key[0] == os.getpid():
                    with contextlib.suppress(Exception):
                        client.close(timeout=5)


def _local_hosts() -> set[str]:
    """The names and addresses a worker on this machine may report as its host (a `dask worker`
    started without --host registers at the machine's outward address)."""
    hosts = {"127.0.0.1", "localhost", "::1", HOSTNAME, socket.gethostname()}
    with contextlib.suppress(OSError):
        hosts.update(socket.gethostbyname_ex(socket.gethostname())[2])
    with contextlib.suppress(OSError):
        hosts.update(str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None))
    with contextlib.suppress(Exception):
        hosts.add(_distributed().utils.get_ip())  # the address Dask itself picks by default
    return hosts


class DaskCompute(SupervisedCompute):
    """An existing Dask cluster. Settings: ``scheduler_address`` (``tcp://host:8786``), optional
    ``dashboard_url`` (else the scheduler's own), ``cancel_grace_seconds`` (SIGTERM to SIGKILL)."""

    type = "dask"

    @staticmethod
    def attach_configuration(scheduler_address: str, dashboard_url: str | None = None) -> dict[str, Any]:
        config: dict[str, Any] = {"type": "dask", "scheduler_address": scheduler_address}
        if dashboard_url is not None:
            config["dashboard_url"] = dashboard_url
        return config

    @classmethod
    def default_config(cls) -> dict[str, Any]:
        return {"cancel_grace_seconds": DEFAULT_CANCEL_GRACE_S}

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        result = cls.merged_config(config, _SETTINGS)
        address = result.get("scheduler_address")
        if not isinstance(address, str) or not address.startswith(_SCHEMES) or len(address) <= 6:
            raise InvalidArgumentError(
                f"a dask target needs scheduler_address='tcp://HOST:PORT' (the address `dask scheduler` prints), "
                f"got {address!r}"
            )
        dashboard = result.get("dashboard_url")
        if dashboard is not None and (
            not isinstance(dashboard, str) or not dashboard.startswith(("http://", "https://"))
        ):
            raise InvalidArgumentError(f"dashboard_url must be an http(s) URL, got {dashboard!r}")
        grace = result["cancel_grace_seconds"]
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or not grace >= 0:
            raise InvalidArgumentError(f"cancel_grace_seconds must be a number >= 0, got {grace!r}")
        return result

    @property
    def address(self) -> str:
        return str(self.config["scheduler_address"])

    def client(self) -> Any:
        return client_for(self.address)

    @classmethod
    def execution(cls) -> builtins.type[JobExecution]:
        return DaskJob

    def describe(self) -> dict[str, Any]:
        """The cluster as its scheduler sees it: address, dashboard, workers."""
        from .dask_cluster_info import describe_cluster

        return describe_cluster(self.config)

    def check(self) -> None:
        """The cluster answers, and a workspace whose database is a SQLite file (or whose files are a
        local folder) only sends jobs to workers on this machine. A passed check holds for a few
        seconds in this process (a loop submitting runs asks the scheduler once)."""
        key = (os.getpid(), self.address, str(self.workspace.root))
        if time.monotonic() - _checked.get(key, -CHECK_VALID_S) < CHECK_VALID_S:
            return
        client = self.client()
        if not is_team_workspace(self.workspace):
            self._check_workers_local(client)
        _checked[key] = time.monotonic()

    def _check_workers_local(self, client: Any) -> None:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        local = _local_hosts()
        remote = sorted({str(w.get("host")) for w in workers.values() if str(w.get("host")) not in local})
        if remote:
            raise InvalidStateError(
                f"the Dask cluster at {self.address} has workers on other machines ({', '.join(remote)}), "
                f"but the workspace {self.workspace.root} keeps its runs in a SQLite file and its files in a "
                "local folder, which they cannot share: use workers on this machine (`mlws dask local`) or a team "
                "workspace (Workspace.create(path, metadata_url='postgresql+psycopg://…', artifact_url='s3://…'); "
                "`mlws workspace migrate` copies this one)"
            )

    def submit(self, run_id: str) -> None:
        self._submit(self.client(), [run_id])

    def _submit(self, client: Any, run_ids: Sequence[str]) -> None:
        distributed = _distributed()
        locator = workspace_locator(self.workspace)
        for run_id in run_ids:
            future = client.submit(execute_run, locator, run_id, key=task_key(run_id), pure=False, retries=0)
            distributed.fire_and_forget(future)
        # Submissions travel in a batch a moment later: closing the client at exit flushes them, and a
        # queued run the scheduler never got (a process gone with os._exit) is handed to it again by the
        # health check (reconcile), which whoever waits on a run calls.

    def abandon(self, run_id: str) -> None:
        distributed = _distributed()
        client = self.client()
        client.cancel([distributed.Future(task_key(run_id), client)], force=True)

    @contextlib.contextmanager
    def _executor(self) -> Iterator[Executor]:
        executor = self.client().get_executor(pure=False)
        try:
            yield executor
        finally:
            executor.shutdown(wait=True)

    def task_executor(
        self, max_workers: int, preload: Sequence[str] = ()
    ) -> contextlib.AbstractContextManager[Executor]:
        # The cluster decides the parallelism (its workers' threads): max_workers is a local notion;
        # its long-lived workers import what a task needs once, with their first task.
        return self._executor()

    def task_states(self, run_ids: Sequence[str]) -> dict[str, dict[str, Any]] | None:
        """The scheduler's view of these runs' tasks (state, exception), ``None`` if it cannot be asked."""
        keys = [task_key(r) for r in run_ids]

        def states(keys: list[str], dask_scheduler: Any = None) -> dict[str, dict[str, Any]]:
            # Pickled by value (a nested function): the scheduler need not import this package.
            out = {}
            for key in keys:
                ts = dask_scheduler.tasks.get(key)
                if ts is not None:
                    text = ts.exception_text or (repr(ts.exception) if ts.exception is not None else "")
                    out[key] = {"state": ts.state, "exception": text}
            # A fire-and-forget task that erred is forgotten at once; the scheduler's recent history of
            # erred tasks still has it (a KilledWorker has no exception text there).
            for erred in getattr(dask_scheduler, "erred_tasks", ()):
                if erred.key in keys and erred.key not in out:
                    out[erred.key] = {"state": "erred", "exception": erred.exception_text or ""}
            return out

        try:
            found: dict[str, dict[str, Any]] = self.client().run_on_scheduler(states, keys)
        except Exception:
            return None
        return {run_id: found[task_key(run_id)] for run_id in run_ids if task_key(run_id) in found}

    def reconcile(self, records: Sequence[RunRecord]) -> list[str]:
        """The cluster's view first: a task Dask still owns is alive (a dead worker's task is run again,
        however stale its supervisor looks); a task Dask gave up on fails its run with Dask's reason;
        a queued run the scheduler does not know (it restarted) is handed to it again. Runs whose task
        is gone are judged by their supervisor's pid and heartbeat, as any job."""
        if not records:
            return []
        states = self.task_states([r.run_id for r in records])
        if states is None:
            # The scheduler cannot be asked (restarting, busy): a dead worker's task may be about to
            # run again, so nothing is judged now; the next check asks again.
            return []
        clock = database_clock(self.workspace)
        ended: list[str] = []
        resubmit: list[str] = []
        for record in records:
            task = states.get(record.run_id)
            if task is not None and task["state"] in _ALIVE_TASK_STATES:
                continue
            if task is not None and task["state"] == "erred" and record.status in ACTIVE_STATUSES:
                reason = _dask_reason(task)
                if end_if_stale(self.workspace, record, None, clock, reason=reason):
                    ended.append(record.run_id)
                continue
            if record.status == RunStatus.QUEUED:
                if time.time() - record.created_time > DISPATCH_AFTER_S:
                    resubmit.append(record.run_id)
                continue
            if end_if_stale(self.workspace, record, self, clock):
                ended.append(record.run_id)
        if resubmit:
            with contextlib.suppress(Exception):  # best effort: the next check tries again
                self._submit(self.client(), resubmit)
        return ended


def _dask_reason(task: Mapping[str, Any]) -> str:
    text = str(task.get("exception") or "").strip()
    if not text or "KilledWorker" in text:
        return (
            "KilledWorker: the workers running this job died, and Dask gave up on running it again "
            f"(its retry budget, distributed.scheduler.allowed-failures, is spent){': ' + text if text else ''}"
        )
    return f"the job's Dask task failed: {text}"


# -- on the worker -----------------------------------------------------------------------------------------
def execute_run(locator: Mapping[str, Any], run_id: str) -> str:
    """The Dask task of a run: open the workspace, take the run (first attempt or a retry), run it.
    Returns the run's final status. Never raises for a job that failed: that is the run's status."""
    workspace = open_located(locator)
    record = workspace.metadata.get_run(run_id)
    if record.status in TERMINAL_STATUSES or record.compute_target is None:
        return record.status.value
    target = workspace.services.compute_targets.target(record.compute_target)
    reporter = DaskReporter(workspace, run_id)
    spec = reporter.job_spec()
    # A job that hands tasks to this cluster and waits for them (a ParallelRunStep's runner) gives
    # its thread slot back while it runs: on a small cluster its own tasks would wait for it forever.
    seceded = bool(spec.get("fans_out")) and _secede()
    try:
        execution = DaskJob(reporter, spec, dict(target.config))
        return execution.process().value
    except Exception as exc:  # the lifecycle reports its own errors: this is what it could not
        error = {"message": f"the job could not run on the Dask worker: {type(exc).__name__}: {exc}"}
        error["traceback"] = "".join(traceback.format_exception(exc))
        with contextlib.suppress(Exception):
            reporter.transition(RunStatus.FAILED, error=error)
        return reporter.status().value
    finally:
        if seceded:
            _distributed().rejoin()


def _secede() -> bool:
    try:
        _distributed().secede()
    except ValueError:  # not in a Dask task (called directly)
        return False
    return True


class DaskReporter(StoreReporter):
    """A :class:`StoreReporter` that can take a run over from a dead worker (a new attempt), and
    notices when a later attempt took the run from it (its worker was cut off from the scheduler,
    not dead): it then stops its job and writes nothing more to the run."""

    attempt = 1
    owned = False  # this attempt claimed the run
    lost = False  # a later attempt took it over
    _checked_at = 0.0

    def transition(self, new: RunStatus, *, error: Mapping[str, Any] | None = None) -> bool:
        if new == RunStatus.PREPARING and self._claimant is not None:
            record = self._store.get_run(self.run_id)
            if record.status in ACTIVE_STATUSES and record.status not in (RunStatus.QUEUED, RunStatus.CANCEL_REQUESTED):
                self.owned = self._reclaim(record.status)
                return self.owned
            self.owned = super().transition(new, error=error)
            return self.owned
        if self._lost_to_another():
            return False
        return super().transition(new, error=error)

    def status(self) -> RunStatus:
        status = super().status()
        if status in ACTIVE_STATUSES and time.monotonic() - self._checked_at >= ATTEMPT_CHECK_S:
            self._checked_at = time.monotonic()
            if self._lost_to_another():
                return RunStatus.CANCELED  # as if ended by someone else: the job stops, nothing is written
        return status

    def heartbeat(self) -> None:
        if not self.lost:
            super().heartbeat()

    def _lost_to_another(self) -> bool:
        if self.owned and not self.lost:
            current = self._store.get_properties(self.run_id).get(ATTEMPT_PROPERTY, "1")
            self.lost = current != str(self.attempt)
        return self.lost

    def _reclaim(self, current: RunStatus) -> bool:
        """Dask ran the task again because the worker of the previous attempt died."""
        properties = self._store.get_properties(self.run_id)
        try:
            previous = max(1, int(properties.get(ATTEMPT_PROPERTY, "1")))
        except ValueError:
            previous = 1
        won = self._store.reclaim_job(self.run_id, current, previous, **self.claimant_fields())
        if won:
            self.attempt = previous + 1
        return won


class DaskJob(LocalJob):
    """A job run by a Dask worker: as a local job (a process group of its own), plus the attempt it
    is, and its logs copied to the run's files every few seconds when the workspace is a team one
    (readers on other machines have no access to this worker's folder)."""

    target_type = "local"  # the environment is a venv built on the worker
    task_pool = "cluster"  # the job's tasks go to the cluster (DaskBackend.task_executor), not a pool here
    reporter: DaskReporter

    def _runner_is_warm(self) -> bool:
        return False  # never fork a Dask worker: it runs threads

    def prepare(self) -> Path:
        workdir = super().prepare()
        if self.reporter.attempt > 1:
            with open(self.driver_log, "a", encoding="utf-8") as log:
                log.write(
                    f"[mlws] attempt {self.reporter.attempt} of run {self.reporter.run_id} on {HOSTNAME} "
                    f"(the worker running attempt {self.reporter.attempt - 1} died)\n"
                )
        return workdir

    def watch(self) -> Outcome:
        if not is_team_workspace(self.reporter.workspace):
            return super().watch()  # readers share this machine's live folder
        stop = threading.Event()
        thread = threading.Thread(target=self._sync_logs, args=(stop,), name="mlws-log-sync", daemon=True)
        thread.start()
        try:
            return super().watch()
        finally:
            stop.set()
            thread.join()

    def collect(self, workdir: Path | None) -> None:
        if not self.reporter.lost:  # the run is a later attempt's now: its files are that one's to write
            super().collect(workdir)

    def cleanup(self, workdir: Path | None) -> None:
        if self.reporter.lost:
            self.stop_all()  # the folders are named after the run: a later attempt here may use them
            self.close_channels()
            return
        super().cleanup(workdir)

    def _sync_logs(self, stop: threading.Event) -> None:
        seen: tuple[int, float] | None = None
        next_sync = 0.0
        while not stop.wait(LOG_SYNC_INTERVAL_S) and not self.reporter.lost:
            try:
                st = self.driver_log.stat()
            except OSError:
                continue
            if (st.st_size, st.st_mtime) == seen or time.monotonic() < next_sync:
                continue
            seen = (st.st_size, st.st_mtime)
            # Each copy is the whole log as a new blob: a long log is copied less often (a minute at most).
            next_sync = time.monotonic() + min(60.0, LOG_SYNC_INTERVAL_S * max(1.0, st.st_size / (1 << 20)))
            with contextlib.suppress(Exception):  # a missed copy is retried; the final collect is complete
                self.reporter.collect(self.driver_log.parent, DRIVER_LOG.rsplit("/", 1)[0])
