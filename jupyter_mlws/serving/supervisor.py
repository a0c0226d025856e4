"""The supervisor of one web service: it owns the listening socket and keeps a worker serving on it.

Run as ``python -m jupyter_mlws.serving.supervisor SERVICE_FOLDER`` (the deployer and the dispatcher
agent's ``serving`` task start it detached, in its own session: it outlives the kernel and the
Jupyter server that deployed it). Standard library only (plus the Docker client for a Docker
service): it stays small beside its worker.

- It binds the service's port itself, so a worker never does: a starting worker connects to
  ``run/control.sock`` and receives the listening socket there (SCM_RIGHTS; a container reaches the
  socket through its bind-mounted folder), then says ``ready`` (or ``failed`` with the traceback of
  ``init()``).
- An update (SIGHUP after ``service.json`` names a new generation) starts the new worker beside the
  serving one on the same listening socket; once it is ready the old one is told to drain (SIGTERM):
  it stops accepting and closes each keep-alive connection after that connection's next answer, so
  no request fails or is dropped. A new generation that fails leaves the old one serving.
- A worker that dies after it was ready is restarted with back-off (state ``Unhealthy`` meanwhile);
  one that fails before its first ready fails the deployment (state ``Failed``, its traceback as
  the error) — ``init()`` failing again would fail again.
- SIGTERM: every worker drains, then the supervisor removes its socket and exits (``delete()``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .layout import MAX_LOG_BYTES, ServiceFolder, process_start, read_json, unix_address, write_json

__all__ = ["main"]

READY_TIMEOUT_S = 120.0  # a worker's init() may load a big model
DRAIN_TIMEOUT_S = 35.0  # a draining worker gets at least this long (it gives up itself after 30 s)
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 60.0  # serving this long resets the back-off
CONTAINER_LABEL = "mlws.service"


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [supervisor {os.getpid()}] {message}", flush=True)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """A local worker gets SIGTERM (and drains) when its supervisor dies, however it dies."""
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Worker:
    """One worker process (or container) serving one generation."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.proc: subprocess.Popen[bytes] | None = None
        self.container: Any = None
        self.conn: socket.socket | None = None
        self.buffer = b""
        self.ready = False
        self.draining = False
        self.started = time.monotonic()
        self.drain_started = 0.0
        self.drain_timeout = DRAIN_TIMEOUT_S  # longer for a generation whose requests may run longer
        self.error: str | None = None

    @property
    def label(self) -> str:
        ident = self.proc.pid if self.proc is not None else getattr(self.container, "short_id", "?")
        return f"worker {ident} (generation {self.generation})"

    def exited(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is not None
        if self.container is not None:
            try:
                self.container.reload()
            except Exception as exc:
                # Removed under us; any other engine error is a hiccup, not an exit (a draining container
                # must not be removed because one status read failed).
                return type(exc).__name__ == "NotFound"
            return bool(self.container.status in ("exited", "dead"))
        return True

    def exit_code(self) -> int | None:
        if self.proc is not None:
            return self.proc.returncode
        with contextlib.suppress(Exception):
            return int(self.container.attrs["State"]["ExitCode"])
        return None

    def terminate(self) -> None:
        with contextlib.suppress(Exception):
            if self.proc is not None:
                self.proc.send_signal(signal.SIGTERM)
            elif self.container is not None:
                self.container.kill(signal="SIGTERM")

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            if self.proc is not None:
                self.proc.kill()
                self.proc.wait(5)
            elif self.container is not None:
                self.container.remove(force=True)

    def cleanup(self, sel: selectors.BaseSelector) -> None:
        if self.conn is not None:
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(self.conn)  # its descriptor number goes to the next connection
            with contextlib.suppress(OSError):
                self.conn.close()
            self.conn = None
        if self.container is not None:
            with contextlib.suppress(Exception):
                self.container.remove(force=True)


class Supervisor:
    def __init__(self, folder: ServiceFolder) -> None:
        self.folder = folder
        self.service = folder.service()
        self.sel = selectors.DefaultSelector()
        self.listen: socket.socket | None = None
        self.control: socket.socket | None = None
        self.current: Worker | None = None
        self.pending: Worker | None = None
        self.draining: list[Worker] = []
        self.healthy_generations: set[int] = set()
        self.restart_at: float | None = None
        self.restart_generation = 0  # what a restart starts: the generation that was serving
        self.backoff = 1.0
        self.serving_since = 0.0
        self.stopping = False
        self.state: dict[str, Any] = {}
        self._docker: Any = None

    # -- state -------------------------------------------------------------------------------------
    def write_state(self, **changes: Any) -> None:
        self.state.update(changes, updated=time.time())
        write_json(self.folder.state_file, self.state)

    # -- sockets -----------------------------------------------------------------------------------
    def bind(self) -> bool:
        host = str(self.service.get("host") or "127.0.0.1")
        port = int(self.service.get("port") or 0)
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                error = (
                    f"port {port} is already in use on {host}: choose another port "
                    "(deploy_configuration(port=...)), leave it out to take a free one, or stop what listens there"
                )
            else:
                error = f"cannot listen on {host}:{port}: {exc}"
            _log(error)
            self.write_state(state="Failed", error=error)
            return False
        sock.listen(1024)
        sock.set_inheritable(False)
        self.listen = sock
        path = self.folder.control_socket
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            with unix_address(path) as address:
                control.bind(address)
        finally:
            os.umask(old)
        control.listen(16)
        control.setblocking(False)
        self.control = control
        self.sel.register(control, selectors.EVENT_READ, "control")
        actual = sock.getsockname()[1]
        if port == 0:  # a restarted supervisor (or worker) must come back on the same port
            self.service["port"] = actual
            write_json(self.folder.service_file, self.service)
        self.write_state(port=actual)
        return True

    # -- workers -----------------------------------------------------------------------------------
    def start_worker(self, generation: int) -> None:
        worker = Worker(generation)
        config = self.folder.generation_dir(generation) / "config.json"
        timeout = (read_json(config) or {}).get("request_timeout_s")
        if isinstance(timeout, int | float):
            worker.drain_timeout = max(DRAIN_TIMEOUT_S, float(timeout) + 10.0)
        control = str(self.folder.control_socket)
        argv = ["-m", "jupyter_mlws.serving.worker", "--config", str(config), "--control", control]
        try:
            if self.service.get("compute_type") == "docker":
                worker.container = self._run_container(generation, argv)
            else:
                worker.proc = self._run_process(generation, argv)
        except Exception as exc:
            worker.error = f"the worker could not start: {type(exc).__name__}: {exc}"
            _log(worker.error)
            self.pending = worker
            self.worker_failed(worker)
            return
        _log(f"started {worker.label}")
        self.pending = worker

    def _run_process(self, generation: int, argv: list[str]) -> subprocess.Popen[bytes]:
        config = read_json(self.folder.generation_dir(generation) / "config.json") or {}
        python = str(self.service.get("python") or sys.executable)
        env = {**os.environ, **{str(k): str(v) for k, v in (config.get("environment_variables") or {}).items()}}
        package_parent = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        log = open(self.folder.log_file, "ab")  # the child keeps its own copy
        try:
            return subprocess.Popen(
                [python, *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(config.get("source_dir") or self.folder.root),
                env=env,
                close_fds=True,
                preexec_fn=_die_with_parent,  # no thread of ours runs meanwhile
            )
        finally:
            log.close()

    def _client(self) -> Any:
        if self._docker is None:
            import docker

            docker_config = self.service.get("docker") or {}
            self._docker = docker.DockerClient(base_url=docker_config.get("host"), version="auto", timeout=60)
        return self._docker

    def _run_container(self, generation: int, argv: list[str]) -> Any:
        from docker.types import Mount

        docker_config = self.service.get("docker") or {}
        config = read_json(self.folder.generation_dir(generation) / "config.json") or {}
        package_mount = str(docker_config.get("package_mount") or "/opt/mlws/lib")
        package_dir = str(Path(__file__).resolve().parents[1])
        env = {str(k): str(v) for k, v in (config.get("environment_variables") or {}).items()}
        env.update(PYTHONPATH=package_mount, PYTHONUNBUFFERED="1")
        root = str(self.folder.root)
        options: dict[str, Any] = {}
        if docker_config.get("cpu_cores"):
            options["nano_cpus"] = int(float(docker_config["cpu_cores"]) * 1e9)
        if docker_config.get("memory_gb"):
            options["mem_limit"] = f"{int(float(docker_config['memory_gb']) * 1024)}m"
        container = self._client().containers.run(
            docker_config["image"],
            [str(docker_config.get("python") or "python3"), *argv],
            detach=True,
            mounts=[
                Mount(root, root, type="bind"),
                Mount(f"{package_mount}/jupyter_mlws", package_dir, type="bind", read_only=True),
            ],
            environment=env,
            working_dir=str(config.get("source_dir") or root),
            labels={CONTAINER_LABEL: self.folder.name, "mlws.service.folder": root},
            user=f"{os.getuid()}:{os.getgid()}",
            init=True,
            **options,
        )
        threading.Thread(target=self._copy_logs, args=(container,), daemon=True).start()
        return container

    def _copy_logs(self, container: Any) -> None:
        with contextlib.suppress(Exception), open(self.folder.log_file, "ab") as log:
            for chunk in container.logs(stream=True, follow=True):
                log.write(chunk)
                log.flush()

    def _remove_stale_containers(self) -> None:
        """Containers a supervisor that died left behind (a new one starts its own)."""
        if self.service.get("compute_type") != "docker":
            return
        with contextlib.suppress(Exception):
            labelled = {"label": f"{CONTAINER_LABEL}={self.folder.name}"}
            for container in self._client().containers.list(all=True, filters=labelled):
                if container.labels.get("mlws.service.folder") == str(self.folder.root):
                    container.remove(force=True)

    # -- worker events -----------------------------------------------------------------------------
    def accept(self) -> None:
        assert self.control is not None and self.listen is not None
        while True:
            try:
                conn, _ = self.control.accept()
            except (BlockingIOError, InterruptedError):
                return
            worker = self.pending
            if worker is None or worker.conn is not None:
                conn.close()  # nobody is starting: a stray connection
                continue
            conn.setblocking(True)
            try:
                socket.send_fds(conn, [b"L"], [self.listen.fileno()])
            except OSError as exc:
                _log(f"could not hand the listening socket to {worker.label}: {exc}")
                conn.close()
                continue
            conn.setblocking(False)
            worker.conn = conn
            self.sel.register(conn, selectors.EVENT_READ, worker)

    def read(self, worker: Worker) -> None:
        assert worker.conn is not None
        try:
            data = worker.conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.sel.unregister(worker.conn)
            worker.conn.close()
            worker.conn = None
            return  # its exit is noticed by the next check (the process or container status)
        worker.buffer += data
        while b"\n" in worker.buffer:
            line, worker.buffer = worker.buffer.split(b"\n", 1)
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("event") == "ready":
                self.worker_ready(worker)
            elif message.get("event") == "failed":
                worker.error = str(message.get("error") or "init() failed")

    def worker_ready(self, worker: Worker) -> None:
        if worker is not self.pending:
            return
        worker.ready = True
        self.pending = None
        self.restart_at = None  # a restart of the old generation (its worker died meanwhile) is moot
        self.restart_generation = worker.generation
        old = self.current
        self.current = worker
        self.healthy_generations.add(worker.generation)
        self.serving_since = time.monotonic()
        _log(f"{worker.label} is ready")
        update = self.state.get("update")
        if isinstance(update, dict) and update.get("generation") == worker.generation:
            update = {**update, "status": "done", "error": None}
        self.write_state(state="Healthy", generation=worker.generation, error=None, update=update)
        if old is not None:
            self.drain(old)

    def discard(self, worker: Worker) -> None:
        """Stop a worker that was not ready: drained if it may have taken connections already."""
        if worker.conn is not None:
            self.drain(worker)
        else:
            worker.kill()
            worker.cleanup(self.sel)

    def drain(self, worker: Worker) -> None:
        _log(f"draining {worker.label}")
        worker.draining = True
        worker.drain_started = time.monotonic()
        worker.terminate()
        self.draining.append(worker)

    def worker_failed(self, worker: Worker) -> None:
        """``worker`` (pending) exited or failed before it was ready."""
        self.pending = None
        error = worker.error or self._exit_error(worker)
        worker.kill()
        worker.cleanup(self.sel)
        update = self.state.get("update")
        if self.current is not None:  # an update that failed: the old generation goes on serving
            _log(f"generation {worker.generation} failed; generation {self.current.generation} goes on serving")
            if isinstance(update, dict) and update.get("generation") == worker.generation:
                self.write_state(update={**update, "status": "failed", "error": error})
            return
        if worker.generation in self.healthy_generations:  # a restart that failed: try again later
            self.schedule_restart(error, worker.generation)
            return
        if self.restart_generation in self.healthy_generations:  # an update while a restart was due
            if isinstance(update, dict) and update.get("generation") == worker.generation:
                self.write_state(update={**update, "status": "failed", "error": error})
            self.schedule_restart(error, self.restart_generation)
            return
        _log(f"generation {worker.generation} failed: {error}")
        if isinstance(update, dict) and update.get("generation") == worker.generation:
            update = {**update, "status": "failed", "error": error}
        self.write_state(state="Failed", error=error, update=update)

    def _exit_error(self, worker: Worker) -> str:
        code = worker.exit_code()
        tail = self.folder.log_tail(30)
        return f"the worker exited with code {code} before it was ready; the end of the service log:\n{tail}"

    def schedule_restart(self, error: str, generation: int) -> None:
        self.restart_at = time.monotonic() + self.backoff
        self.restart_generation = generation
        _log(f"restarting in {self.backoff:g} s: {error.strip().splitlines()[-1] if error.strip() else error}")
        self.backoff = min(self.backoff * 2, BACKOFF_MAX_S)
        self.write_state(state="Unhealthy", error=error, restarts=int(self.state.get("restarts", 0)) + 1)

    def check(self) -> None:
        """Exits, timeouts, restarts and the log's size: once a tick."""
        now = time.monotonic()
        if not self.folder.root.exists():  # the workspace was deleted under us: nothing left to serve
            _log("the service folder is gone: stopping")
            self.stopping = True
            return
        pending = self.pending
        if pending is not None:
            if pending.exited() and pending.conn is None:
                self.worker_failed(pending)
            elif now - pending.started > READY_TIMEOUT_S:
                pending.error = f"the worker did not become ready within {READY_TIMEOUT_S:g} s"
                self.worker_failed(pending)
        current = self.current
        if current is not None and current.conn is None and current.exited():
            _log(f"{current.label} died (exit code {current.exit_code()})")
            current.cleanup(self.sel)
            self.current = None
            if not self.stopping:
                self.schedule_restart(f"the worker exited with code {current.exit_code()}", current.generation)
        if current is not None and now - self.serving_since > STABLE_AFTER_S:
            self.backoff = 1.0
        for worker in list(self.draining):
            if worker.exited():
                _log(f"{worker.label} drained")
                worker.cleanup(self.sel)
                self.draining.remove(worker)
            elif now - worker.drain_started > worker.drain_timeout:
                worker.kill()
        if self.restart_at is not None and now >= self.restart_at and self.pending is None and not self.stopping:
            self.restart_at = None
            self.start_worker(self.restart_generation)
        self._rotate_log()

    def _rotate_log(self) -> None:
        path = self.folder.log_file
        with contextlib.suppress(OSError):
            if path.stat().st_size > MAX_LOG_BYTES:
                # Copy and truncate: workers write with O_APPEND and go on at the new end.
                with open(path, "rb") as src, open(path.with_name("service.log.1"), "wb") as dst:
                    dst.write(src.read())
                os.truncate(path, 0)

    def reload(self) -> None:
        """SIGHUP: ``service.json`` may name a new generation."""
        service = self.folder.service()
        if not service.get("generation"):
            return  # being deleted: the SIGTERM follows
        if (service.get("docker") or {}).get("host") != (self.service.get("docker") or {}).get("host"):
            self._docker = None  # another engine (compute_target changed): connect anew
        self.service = service
        generation = int(service["generation"])
        pending = self.pending
        if pending is not None and pending.generation != generation:
            # Superseded, or the update was given up (timed out, interrupted): it must not take over.
            _log(f"generation {pending.generation} is no longer wanted")
            self.pending = None
            update = self.state.get("update")
            if isinstance(update, dict) and update.get("generation") == pending.generation:
                self.write_state(update={**update, "status": "failed", "error": "given up"})
            self.discard(pending)
        serving = self.current.generation if self.current is not None else None
        if generation == serving or (self.pending is not None and self.pending.generation == generation):
            return
        _log(f"update to generation {generation}")
        self.restart_at = None
        self.write_state(update={"generation": generation, "status": "running", "error": None})
        if self.current is None:
            self.write_state(state="Transitioning")
        self.start_worker(generation)

    # -- the loop ----------------------------------------------------------------------------------
    def run(self) -> int:
        if not self.service.get("generation") or not self.folder.root.is_dir():
            return 0  # deleted (or never deployed): nothing to serve
        self.folder.create()
        lock = os.open(self.folder.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # another supervisor serves this service
        pid = os.getpid()
        previous = self.folder.state()
        self.state = {
            "state": "Transitioning",
            "generation": None,
            "pid": pid,
            "pid_start": process_start(pid),
            "restarts": int(previous.get("restarts", 0)) + (1 if previous.get("pid") else 0),
            "error": None,
            "update": None,
        }
        self.write_state()
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        os.set_blocking(wake_r, False)
        signal.set_wakeup_fd(wake_w)
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, lambda *_: None)
        self.sel.register(wake_r, selectors.EVENT_READ, "signal")
        if not self.bind():
            return 0
        self._remove_stale_containers()
        _log(f"serving {self.folder.name} on port {self.state['port']}")
        self.start_worker(int(self.service.get("generation", 1)))
        try:
            while not self.stopping:
                for key, _ in self.sel.select(timeout=0.5):
                    if key.data == "control":
                        self.accept()
                    elif key.data == "signal":
                        self.on_signals(os.read(wake_r, 256))
                    else:
                        self.read(key.data)
                self.check()
            self.shutdown()
        finally:
            with contextlib.suppress(OSError):
                self.folder.control_socket.unlink()
        return 0

    def on_signals(self, data: bytes) -> None:
        for signum in data:
            if signum == signal.SIGHUP:
                self.reload()
            elif signum in (signal.SIGTERM, signal.SIGINT):
                self.stopping = True

    def shutdown(self) -> None:
        _log("stopping: draining every worker")
        if self.control is not None:
            self.sel.unregister(self.control)
            self.control.close()
        if self.pending is not None:
            self.discard(self.pending)
            self.pending = None
        workers = [w for w in (self.current,) if w is not None]
        for worker in workers:
            self.drain(worker)
        deadline = time.monotonic() + max((w.drain_timeout for w in self.draining), default=DRAIN_TIMEOUT_S)
        while self.draining and time.monotonic() < deadline:
            for worker in list(self.draining):
                if worker.exited():
                    worker.cleanup(self.sel)
                    self.draining.remove(worker)
            time.sleep(0.05)
        for worker in self.draining:
            worker.kill()
            worker.cleanup(self.sel)
        if self.listen is not None:
            self.listen.close()
        with contextlib.suppress(OSError):  # the folder may be gone
            self.write_state(state="Stopped", pid=None)
        _log("stopped")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m jupyter_mlws.serving.supervisor SERVICE_FOLDER", file=sys.stderr)
        return 2
    return Supervisor(ServiceFolder(Path(args[0]))).run()


if __name__ == "__main__":
    sys.exit(main())
