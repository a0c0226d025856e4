"""A workspace only its owner reads (issue 13, finding 2).

Before the fix, ``.mlws`` was made 0755 and ``mlws.db``/``config.json`` 0644 (under the usual umask),
so another local user read logged parameters from the database, and ``config.json`` kept a
PostgreSQL password in clear text.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.core import workspace as workspace_module
from jupyter_mlws.core.layout import snapshot_stat_cache
from jupyter_mlws.core.workspace import InsecureWorkspaceWarning, close_backends

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="simulating a second user needs root (CI runs as root)")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def populate(ws: Workspace, source: Path) -> None:
    """Something worth stealing: a parameter, a run file and a snapshot (blobs)."""
    with Experiment(ws, "exp").start_logging() as run:
        run.log_param("api_url", "https://internal.example")
        run.upload_file("outputs/model.txt", str(_file(source / "model.txt", "weights")))
    _file(source / "train.py", "print('train')\n")
    ws.services.snapshots.capture(source)


def _file(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def private_paths(ws: Workspace) -> list[Path]:
    """Every file the workspace holds (database, its -wal/-shm, config, blobs, stat cache)."""
    return [p for p in ws.path.rglob("*") if p.is_file()]


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every local user can reach (pytest's tmp_path is below a 0700 folder, where a
    second user could read nothing whatever the workspace's own modes are)."""
    path = Path(tempfile.mkdtemp(prefix="mlws-shared-"))
    os.chmod(path, 0o755)
    yield path
    close_backends()
    shutil.rmtree(path, ignore_errors=True)


def read_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["cat", str(path)], user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True, text=True, check=False
    )


# -- modes ------------------------------------------------------------------------------------------------
def test_a_new_workspace_is_private_even_under_a_permissive_umask(tmp_path: Path) -> None:
    with umask(0o002):  # a group-writable umask, common with per-user groups; the library must not rely on it
        ws = Workspace.create(tmp_path / "proj")
        populate(ws, tmp_path / "src")
        with Experiment(ws, "exp").start_logging() as run:
            run.log("acc", 0.5)
            ws.flush()
            wal = ws.path / "mlws.db-wal"
            assert wal.exists()  # checked while the connection holds it open
            assert mode(wal) == 0o600
            assert mode(ws.path / "mlws.db-shm") == 0o600
    assert mode(ws.path) == 0o700
    for path in ws.path.rglob("*"):
        if path.is_dir():
            assert mode(path) == 0o700, path
        elif "blobs" in path.parts:
            assert mode(path) == 0o400, path  # immutable and private
        elif path.name != "mlws.db.migrate.lock":  # an empty lock file, inside the private folder
            assert mode(path) & 0o077 == 0, f"{path} is {oct(mode(path))}"
    for name in ("config.json", "mlws.db", ".gitignore"):
        assert mode(ws.path / name) == 0o600
    assert mode(snapshot_stat_cache(ws.path)) == 0o600
    assert len(list((ws.path / "artifacts" / "blobs").rglob("*"))) > 3


def test_create_makes_an_existing_empty_mlws_folder_private(tmp_path: Path) -> None:
    (tmp_path / ".mlws").mkdir(mode=0o755)
    os.chmod(tmp_path / ".mlws", 0o755)
    ws = Workspace.create(tmp_path)
    assert mode(ws.path) == 0o700


def test_a_sqlite_database_outside_the_workspace_is_private(tmp_path: Path) -> None:
    with umask(0o022):
        ws = Workspace.create(tmp_path / "proj", metadata_url=f"sqlite:///{tmp_path / 'db' / 'meta.db'}")
        Experiment(ws, "x")
    assert mode(tmp_path / "db" / "meta.db") == 0o600
    assert mode(tmp_path / "db") == 0o700


@as_root
def test_another_user_cannot_read_a_new_workspace(shared_folder: Path) -> None:
    ws = Workspace.create(shared_folder / "proj")
    populate(ws, shared_folder / "proj" / "src")
    files = private_paths(ws)
    assert {"config.json", "mlws.db"} <= {p.name for p in files}
    assert any("blobs" in p.parts for p in files)

    # The attack, on the modes main made (.mlws 0755, files 0644): the other user reads everything.
    os.chmod(ws.path, 0o755)
    for path in ws.path.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    stolen = read_as_nobody(ws.path / "mlws.db")
    assert stolen.returncode == 0
    assert read_as_nobody(ws.path / "config.json").returncode == 0

    # A workspace made now: nothing in it can be read, not even its folder listed.
    fresh = Workspace.create(shared_folder / "fresh")
    populate(fresh, shared_folder / "fresh" / "src")
    assert read_as_nobody(shared_folder / "fresh" / "src" / "train.py").returncode == 0  # the user's own files
    for path in private_paths(fresh):
        result = read_as_nobody(path)
        assert result.returncode != 0 and "Permission denied" in result.stderr, path
    listing = subprocess.run(
        ["ls", str(fresh.path)], user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True, text=True
    )
    assert listing.returncode != 0


@as_root
def test_blobs_are_private_even_in_an_artifact_store_outside_the_workspace(shared_folder: Path) -> None:
    store = shared_folder / "store"
    ws = Workspace.create(shared_folder / "proj", artifact_url=str(store))
    ws.services.snapshots.capture(_file(shared_folder / "proj" / "src" / "a.py", "x = 1\n").parent)
    assert mode(store) == mode(store / "blobs") == 0o700
    blobs = [p for p in (store / "blobs").rglob("*") if p.is_file()]
    assert blobs
    for blob in blobs:
        assert mode(blob) == 0o400
        assert read_as_nobody(blob).returncode != 0


# -- opening an existing workspace that others can read ------------------------------------------------------
@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if this process had not opened any workspace yet (the check runs once per process)."""
    monkeypatch.setattr(workspace_module, "_checked", set())


def loosen(ws: Workspace) -> None:
    """The modes a workspace made before the fix has."""
    os.chmod(ws.path, 0o755)
    os.chmod(ws.path / "config.json", 0o644)
    os.chmod(ws.path / "mlws.db", 0o644)


def test_opening_a_readable_workspace_warns_once_with_the_fix(tmp_path: Path, fresh_process: None) -> None:
    ws = Workspace.create(tmp_path / "old")
    loosen(ws)
    workspace_module._checked.clear()
    with pytest.warns(InsecureWorkspaceWarning) as record:
        Workspace(ws.root)
    message = str(record[0].message)
    assert str(ws.root) in message
    assert f"chmod -R go-rwx {ws.path}" in message
    assert record[0].filename == __file__  # points at the caller's line
    # Once per process: later Workspace objects (hot paths build many) do not warn again.
    for _ in range(3):
        Workspace(ws.root)
        Workspace.from_config(ws.root)


def test_the_suggested_fix_silences_the_warning(tmp_path: Path, fresh_process: None) -> None:
    ws = Workspace.create(tmp_path / "old")
    loosen(ws)
    workspace_module._checked.clear()
    with pytest.warns(InsecureWorkspaceWarning, match="chmod -R go-rwx"):
        Workspace(ws.root)
    subprocess.run(["chmod", "-R", "go-rwx", str(ws.path)], check=True)
    workspace_module._checked.clear()
    Workspace(ws.root)  # no warning: the suite turns one into a failure


@pytest.mark.parametrize("name", ["config.json", "mlws.db"])
def test_a_readable_file_in_a_private_folder_warns_too(tmp_path: Path, fresh_process: None, name: str) -> None:
    ws = Workspace.create(tmp_path / "old")
    os.chmod(ws.path / name, 0o644)
    workspace_module._checked.clear()
    with pytest.warns(InsecureWorkspaceWarning, match=name):
        Workspace(ws.root)


def test_a_private_workspace_opens_without_a_warning(tmp_path: Path, fresh_process: None) -> None:
    ws = Workspace.create(tmp_path / "new")
    workspace_module._checked.clear()
    Workspace(ws.root)


# -- database passwords ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "safe", "password"),
    [
        ("postgresql://u:secret@h/db", "postgresql://u@h/db", "secret"),
        (
            "postgresql+psycopg://u:p%40ss%3Aw@h:5433/db?sslmode=require",
            "postgresql+psycopg://u@h:5433/db?sslmode=require",
            "p@ss:w",
        ),
        ("postgresql://u@h/db?password=secret&sslmode=require", "postgresql://u@h/db?sslmode=require", "secret"),
        ("postgresql://u@h/db", "postgresql://u@h/db", None),
        ("sqlite:////abs/mlws.db", "sqlite:////abs/mlws.db", None),
    ],
)
def test_split_password(url: str, safe: str, password: str | None) -> None:
    assert workspace_module._split_password(url) == (safe, password)
    # Put back for this process's connection, the same password comes out again.
    assert workspace_module._split_password(workspace_module._with_password(safe, password)) == (safe, password)


@pytest.fixture
def password_url(postgres_server: object, postgres_url: str) -> Iterator[str]:
    """A database whose owner must log in with a password (the test server trusts everyone else)."""
    import psycopg
    from sqlalchemy.engine import make_url

    server: Any = postgres_server
    if server.external or server.tmpdir is None:
        pytest.skip("needs the test session's own PostgreSQL server (its pg_hba.conf is edited)")
    hba = server.tmpdir / "data" / "pg_hba.conf"
    original = hba.read_text()
    url = make_url(postgres_url)
    admin = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True)
    role = f"pw_{url.database}"
    try:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 's3cr:et@pw'")
        admin.execute(f"ALTER DATABASE {url.database} OWNER TO {role}")
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + original)
        admin.execute("SELECT pg_reload_conf()")
        yield url.set(username=role, password="s3cr:et@pw").render_as_string(hide_password=False)
    finally:
        hba.write_text(original)
        admin.execute("SELECT pg_reload_conf()")
        close_backends()
        admin.close()


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = str(home)  # no ~/.pgpass of the machine's
    return env


@pytest.mark.postgres
def test_a_password_in_the_url_never_reaches_config_json(tmp_path: Path, password_url: str) -> None:
    ws = Workspace.create(tmp_path / "pg", metadata_url=password_url)
    with Experiment(ws, "exp").start_logging() as run:  # the password reached this process's connection
        run.log("acc", 0.9)
    config_text = (ws.path / "config.json").read_text()
    assert "s3cr" not in config_text
    stored = json.loads(config_text)["metadata_url"]
    assert "@127.0.0.1" in stored and ":s3cr" not in stored
    assert "s3cr" not in ws.metadata_url and "s3cr" not in json.dumps(ws.get_details())
    assert ws.database_environment() == {"PGPASSWORD": "s3cr:et@pw"}
    # Another Workspace object of this process, after every pooled connection is gone, still connects.
    close_backends()
    assert Workspace(ws.root).get_run(run.id).get_metrics() == {"acc": 0.9}

    # Another process has no password: a clear error says where to put one.
    home = tmp_path / "home"
    home.mkdir()
    code = f"from jupyter_mlws import Workspace\nprint(Workspace({str(ws.root)!r}).get_run({run.id!r}).get_metrics())"
    failed = _python(code, _clean_env(home))
    assert failed.returncode != 0
    assert "BackendUnavailableError" in failed.stderr
    assert "PGPASSWORD" in failed.stderr and ".pgpass" in failed.stderr
    # libpq's own mechanisms: the environment, or ~/.pgpass.
    env = {**_clean_env(home), "PGPASSWORD": "s3cr:et@pw"}
    assert "0.9" in _python(code, env).stdout
    pgpass = home / ".pgpass"
    pgpass.write_text("127.0.0.1:*:*:*:s3cr\\:et@pw\n")
    pgpass.chmod(0o600)
    done = _python(code, _clean_env(home))
    assert "0.9" in done.stdout, done.stderr


@pytest.mark.postgres
def test_an_old_config_with_a_password_still_opens_and_warns(
    tmp_path: Path, password_url: str, fresh_process: None
) -> None:
    ws = Workspace.create(tmp_path / "pg", metadata_url=password_url)
    config = json.loads((ws.path / "config.json").read_text())
    config["metadata_url"] = password_url  # what main wrote
    (ws.path / "config.json").write_text(json.dumps(config))
    os.chmod(ws.path / "config.json", 0o600)
    close_backends()
    workspace_module._passwords.clear()  # a new process: only the config knows the password
    workspace_module._checked.clear()
    with pytest.warns(InsecureWorkspaceWarning, match="clear text") as record:
        old = Workspace(ws.root)
    message = str(record[0].message)
    assert "PGPASSWORD" in message and ".pgpass" in message and "s3cr" not in message
    assert "s3cr" not in old.metadata_url
    Experiment(old, "still-works")
    assert "still-works" in old.experiments


@pytest.mark.postgres
def test_jobs_submitted_by_the_process_that_has_the_password_run(
    tmp_path: Path, password_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The agent, its supervisors and the jobs are other processes: the password reaches them in
    # their environment (PGPASSWORD), as config.json no longer carries it.
    from jupyter_mlws.compute import agent
    from jupyter_mlws.core.run_config import ScriptRunConfig

    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pgpass
    ws = Workspace.create(tmp_path / "pg", metadata_url=password_url)
    src = _file(tmp_path / "src" / "job.py", "from jupyter_mlws import Run\nRun.get_context().log('ok', 1)\n").parent
    try:
        run = Experiment(ws, "jobs").submit(ScriptRunConfig(source_directory=src, script="job.py"))
        run.wait_for_completion(timeout=120, raise_on_error=True)
        assert run.get_metrics() == {"ok": 1}
    finally:
        agent.stop(ws)


@pytest.mark.postgres
def test_mlws_init_with_a_password_stores_none_and_says_where_it_goes(
    tmp_path: Path, password_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from jupyter_mlws.cli import main

    assert main(["init", str(tmp_path / "pg"), "--metadata-url", password_url]) == 0
    out, err = capsys.readouterr()
    assert "s3cr" not in out + err
    assert "PGPASSWORD" in err and ".pgpass" in err
    assert "s3cr" not in (tmp_path / "pg" / ".mlws" / "config.json").read_text()
