"""A real, throw-away PostgreSQL server for the test suite.

``PostgresServer`` runs ``initdb`` on a temporary directory and starts ``postgres`` on a free port of
127.0.0.1 with settings tuned for tests (no fsync, trust authentication, unix sockets inside the
temporary directory). PostgreSQL refuses to run as root, so when the tests run as root the server runs
as the ``postgres`` OS user (the one the Debian package creates).

Each test gets its own database through :meth:`PostgresServer.create_database`, which is a cheap
``CREATE DATABASE`` on the already running server.

Set ``MLWS_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://me:secret@db.local:5432/postgres``) to use
an existing server instead: nothing is started, and databases are created (and dropped again on
``stop()``) through that URL. The URL's user must be allowed to create databases.

Install the server binaries with ``apt-get install postgresql`` (Debian/Ubuntu).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

__all__ = ["ENV_URL", "PostgresServer", "PostgresUnavailableError", "find_bindir"]

#: Use this existing server instead of starting one.
ENV_URL = "MLWS_TEST_POSTGRES_URL"
#: Directory holding ``initdb`` and ``postgres``, when the search below does not find them.
ENV_BINDIR = "MLWS_TEST_POSTGRES_BINDIR"
#: OS user that runs the server when the tests run as root.
ENV_OS_USER = "MLWS_TEST_POSTGRES_OS_USER"
#: Parent directory of the server's temporary directory (default: /dev/shm when roomy, else $TMPDIR).
ENV_TMPDIR = "MLWS_TEST_POSTGRES_TMPDIR"

INSTALL_HINT = (
    "install the PostgreSQL server binaries (Debian/Ubuntu: `apt-get install postgresql`), "
    f"point {ENV_BINDIR} at the directory holding `initdb` and `postgres`, "
    f"or set {ENV_URL}=postgresql+psycopg://USER:PASSWORD@HOST:PORT/postgres to use a running server"
)

SUPERUSER = "postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

# Durability is worthless for a throw-away test server; these make it much faster.
TEST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "shared_buffers": "64MB",
}

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_REQUIRED = ("initdb", "postgres")


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server can be started (binaries or the ``postgres`` OS user are missing)."""


def _version_key(bindir: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); unparsable names sort first.
    name = Path(bindir).parent.name
    return tuple(int(p) for p in name.split(".")) if re.fullmatch(r"\d+(\.\d+)*", name) else (-1,)


def _has_binaries(bindir: str | os.PathLike[str]) -> bool:
    return all(os.access(Path(bindir, exe), os.X_OK) for exe in _REQUIRED)


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``postgres``.

    Looks at ``$MLWS_TEST_POSTGRES_BINDIR``, then the highest version under ``/usr/lib/postgresql/*/bin``
    (Debian/Ubuntu), then ``pg_config --bindir``, then ``PATH``.
    """
    explicit = os.environ.get(ENV_BINDIR)
    if explicit:
        if _has_binaries(explicit):
            return Path(explicit)
        raise PostgresUnavailableError(f"{ENV_BINDIR}={explicit} holds no `initdb` and `postgres`: {INSTALL_HINT}")

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for bindir in candidates:
        if _has_binaries(bindir):
            return Path(bindir)

    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out and _has_binaries(out):
                return Path(out)

    for exe in ("initdb", "postgres"):
        found = shutil.which(exe)
        if found and _has_binaries(Path(found).resolve().parent):
            return Path(found).resolve().parent

    raise PostgresUnavailableError(f"PostgreSQL server binaries (`initdb`, `postgres`) not found: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _traversable_by_others(path: Path) -> bool:
    """True when every ancestor of ``path`` lets other users pass through (o+x)."""
    for parent in [path, *path.parents]:
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _tmp_base(run_as: pwd.struct_passwd | None) -> Path:
    """Where to put the server's temporary directory.

    ``$MLWS_TEST_POSTGRES_TMPDIR`` if set; else ``/dev/shm`` when it is a roomy RAM disk (creating a
    database there is ~25x faster than on disk); else the usual temporary directory. The server user
    must be able to reach it, and unix socket paths are limited to ~100 bytes.
    """
    explicit = os.environ.get(ENV_TMPDIR)
    if explicit:
        return Path(explicit)
    candidates = [Path("/dev/shm"), Path(tempfile.gettempdir()), Path("/tmp")]
    for i, base in enumerate(candidates):
        try:
            usable = base.is_dir() and os.access(base, os.W_OK | os.X_OK) and len(str(base)) <= 60
            if usable and i == 0:
                vfs = os.statvfs(base)
                usable = vfs.f_bavail * vfs.f_frsize >= 1 << 30
        except OSError:
            usable = False
        if usable and (run_as is None or _traversable_by_others(base)):
            return base
    return Path(tempfile.gettempdir())


def _libpq_url(url: URL) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://…``) as a libpq connection URI."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    """A throw-away PostgreSQL server (or an existing one named by ``$MLWS_TEST_POSTGRES_URL``).

    ::

        with PostgresServer() as pg:
            url = pg.create_database("test_runs")   # postgresql+psycopg://postgres@127.0.0.1:PORT/test_runs
    """

    def __init__(self, *, database: str = "postgres", external_url: str | None = None) -> None:
        if external_url is None:
            external_url = os.environ.get(ENV_URL) or None
        self._external: URL | None = make_url(external_url) if external_url else None
        self._database = database
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: Path | None = None
        self._port: int | None = None
        self._admin: psycopg.Connection[Any] | None = None
        self._created: list[str] = []
        self._file_copy = False  # CREATE DATABASE … STRATEGY = FILE_COPY (PostgreSQL ≥ 15)

    # ------------------------------------------------------------------ properties
    @property
    def external(self) -> bool:
        """True when using the server named by ``$MLWS_TEST_POSTGRES_URL``."""
        return self._external is not None

    @property
    def running(self) -> bool:
        if self._external is not None:
            return self._admin is not None
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the postmaster (None for an external server or when stopped)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def port(self) -> int:
        return int(self._base_url().port or 5432)

    @property
    def tmpdir(self) -> Path | None:
        """Temporary directory holding the data directory, sockets and log (None when external)."""
        return self._tmpdir

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the server's default database."""
        return self._base_url().render_as_string(hide_password=False)

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return self._base_url().set(database=database).render_as_string(hide_password=False)

    def _base_url(self) -> URL:
        if self._external is not None:
            return self._external
        if self._port is None:
            raise RuntimeError("PostgresServer is not started")
        return URL.create(
            "postgresql+psycopg",
            username=SUPERUSER,
            host="127.0.0.1",
            port=self._port,
            database=self._database,
        )

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> PostgresServer:
        if self.running:
            return self
        if self._external is not None:
            self._admin = self._connect_admin(timeout=START_TIMEOUT)
        else:
            self._start_local()
        return self

    def stop(self) -> None:
        """Stop the server and delete its files (external server: drop the databases we created)."""
        atexit.unregister(self.stop)
        if self._external is not None:
            if self._admin is not None:
                for name in self._created:
                    with contextlib.suppress(psycopg.Error):
                        self._drop(name)
                self._created.clear()
                self._admin.close()
                self._admin = None
            return
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
        self._terminate()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        self._port = None
        self._created.clear()

    # ------------------------------------------------------------------ databases
    def create_database(self, name: str) -> str:
        """Create a fresh, empty database ``name`` (dropping any old one) and return its SQLAlchemy URL."""
        if not _DB_NAME.match(name):
            raise ValueError(
                f"database name {name!r} must be lower-case letters, digits and '_' (at most 63 characters)"
            )
        admin = self._require_admin()
        if name in self._created or self.external:
            self._drop(name)
        query = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name))
        if self._file_copy:
            query += sql.SQL(" STRATEGY = FILE_COPY")
        admin.execute(query)
        if name not in self._created:
            self._created.append(name)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, disconnecting its sessions."""
        self._require_admin()
        self._drop(name)
        if name in self._created:
            self._created.remove(name)

    def _drop(self, name: str) -> None:
        admin = self._require_admin()
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _require_admin(self) -> psycopg.Connection[Any]:
        if self._admin is None or self._admin.closed:
            if not self.running:
                raise RuntimeError("PostgresServer is not started")
            self._admin = self._connect_admin(timeout=5)
        return self._admin

    def _connect_admin(self, timeout: float) -> psycopg.Connection[Any]:
        target = _libpq_url(self._base_url())
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = psycopg.connect(target, autocommit=True, connect_timeout=5)
            except psycopg.OperationalError as exc:
                if self._proc is not None and self._proc.poll() is not None:
                    code = self._proc.returncode
                    raise PostgresUnavailableError(
                        f"PostgreSQL exited with code {code} while starting:\n{self._log_tail()}"
                    ) from exc
                if time.monotonic() > deadline:
                    where = self._external and self._external.render_as_string(hide_password=True)
                    raise PostgresUnavailableError(
                        f"PostgreSQL at {where or target} did not accept connections within {timeout:.0f} s: "
                        f"{exc}\n{self._log_tail()}"
                    ) from exc
                time.sleep(0.05)
                continue
            self._file_copy = conn.info.server_version >= 150000
            return conn

    # ------------------------------------------------------------------ local server
    def _start_local(self) -> None:
        bindir = find_bindir()
        run_as = self._os_user()
        self._tmpdir = self._make_tmpdir(run_as)
        atexit.register(self.stop)
        try:
            datadir = self._tmpdir / "data"
            self._run(
                [
                    str(bindir / "initdb"),
                    "--pgdata",
                    str(datadir),
                    "--username",
                    SUPERUSER,
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                    "--locale",
                    "C",
                    "--no-sync",
                ],
                run_as,
            )
            # Another process may grab the free port between our probe and the bind: retry a few times.
            for attempt in range(3):
                self._port = _free_port()
                self._spawn_postgres(bindir, datadir, run_as)
                try:
                    self._admin = self._connect_admin(timeout=START_TIMEOUT)
                    return
                except PostgresUnavailableError:
                    if attempt == 2 or "could not bind" not in self._log_tail():
                        raise
                    self._terminate()
        except BaseException:
            self.stop()
            raise

    def _spawn_postgres(self, bindir: Path, datadir: Path, run_as: pwd.struct_passwd | None) -> None:
        assert self._tmpdir is not None and self._port is not None
        settings = {
            **TEST_SETTINGS,
            "listen_addresses": "127.0.0.1",
            "port": str(self._port),
            "unix_socket_directories": str(self._tmpdir),
        }
        cmd = [str(bindir / "postgres"), "-D", str(datadir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        with open(self._tmpdir / "postgres.log", "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._popen_kwargs(run_as),
            )

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        # SIGINT = "fast" shutdown (like `pg_ctl stop -m fast`), then SIGQUIT (immediate), then SIGKILL.
        for sig, wait in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(wait)

    def _run(self, cmd: list[str], run_as: pwd.struct_passwd | None) -> None:
        assert self._tmpdir is not None
        result = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self._popen_kwargs(run_as),
        )
        if result.returncode != 0:
            output = result.stdout + result.stderr
            raise PostgresUnavailableError(f"`{' '.join(cmd)}` failed with exit code {result.returncode}:\n{output}")

    def _popen_kwargs(self, run_as: pwd.struct_passwd | None) -> dict[str, Any]:
        # Keep PG* variables of the caller (PGDATA, PGPORT, …) away from the server we start.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        kwargs: dict[str, Any] = {"cwd": str(self._tmpdir), "env": env}
        if run_as is not None:
            env.update(HOME=str(self._tmpdir), USER=run_as.pw_name, LOGNAME=run_as.pw_name)
            # The same as `runuser -u postgres --`, without PAM: drop to that user in the child.
            kwargs.update(user=run_as.pw_uid, group=run_as.pw_gid, extra_groups=[])
        return kwargs

    @staticmethod
    def _os_user() -> pwd.struct_passwd | None:
        """The OS user to run the server as: None (ourselves) unless we are root."""
        if os.geteuid() != 0:
            return None
        name = os.environ.get(ENV_OS_USER, "postgres")
        try:
            return pwd.getpwnam(name)
        except KeyError:
            raise PostgresUnavailableError(
                f"running as root, and PostgreSQL refuses to run as root, but there is no OS user {name!r} "
                f"to run it as: {INSTALL_HINT} (the package creates the user), or set {ENV_OS_USER}"
            ) from None

    @staticmethod
    def _make_tmpdir(run_as: pwd.struct_passwd | None) -> Path:
        path = Path(tempfile.mkdtemp(prefix="mlws-pg-", dir=_tmp_base(run_as)))
        if run_as is not None:
            os.chown(path, run_as.pw_uid, run_as.pw_gid)
        return path

    def _log_tail(self, lines: int = 30) -> str:
        if self._tmpdir is None:
            return ""
        try:
            text = (self._tmpdir / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
