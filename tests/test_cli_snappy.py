"""A snappy CLI (issue 22, item 3): what ``mlws runs list | logs`` and ``mlws submit --wait`` do not do.

- They import no heavy library they do not use (checked in a fresh interpreter through ``sys.modules``):
  no pandas, numpy, Jupyter Server, IPython, Alembic, rich (ASCII tables), PostgreSQL's dialect on a
  SQLite workspace, multiprocessing.
- Opening a workspace whose schema is current is one query of the revision row: the migration
  machinery is neither imported nor run; a workspace at an old revision is still upgraded.
- ``--wait`` polls adaptively and still ends with the run's exit code. No timing assertions here: the
  figures are in ``benchmarks/bench_cli.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.cli import main
from jupyter_mlws.compute import agent
from jupyter_mlws.core.runs.waiting import POLL_FIRST_S, POLL_MAX_S, POLL_QUICK_MAX_S, next_poll_delay
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore, migrate

REPO = Path(__file__).resolve().parents[1]
# Modules a read command must not pay for (what it needs: the store's SQLAlchemy core and SQLite).
HEAVY = (
    "pandas",
    "numpy",
    "jupyter_server",
    "tornado",
    "IPython",
    "alembic",
    "rich",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.orm",
    "psycopg",
    "multiprocessing",
    "cryptography",
    "fsspec",
    "pydantic",
    "pathspec",
    "nbformat",
    "papermill",
)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace.create(tmp_path / "proj")
    run = Experiment(workspace, "exp").start_logging(display_name="first")
    run.log("acc", 0.5)
    run.upload_file("user_logs/std_log.txt", _text_file(tmp_path / "log.txt", "hello from the log\n"))
    run.complete()
    yield workspace
    agent.stop(workspace)


def _text_file(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _fresh_interpreter(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


_IMPORTS_OF = """
import json, sys
from jupyter_mlws.cli import main
code = main(sys.argv[2:])
heavy = json.loads(sys.argv[1])
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ("runs", "list"),
        ("runs", "list", "--json"),
        ("runs", "list", "--experiment", "exp", "--filter", "metrics.acc > 0.1"),
        ("runs", "logs", "RUN"),
        ("runs", "show", "RUN"),
        ("experiments", "list"),
    ],
)
def test_read_commands_import_no_heavy_library(ws: Workspace, argv: tuple[str, ...]) -> None:
    run_id = next(iter(ws.search_runs().runs)).id
    words = ["-w", str(ws.root), *(run_id if word == "RUN" else word for word in argv)]
    result = _fresh_interpreter(_IMPORTS_OF, json.dumps(HEAVY), *words)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}


def test_importing_the_cli_imports_no_store_nor_heavy_library() -> None:
    code = "import json, sys; import jupyter_mlws.cli; print(json.dumps(sorted(sys.modules)))"
    result = _fresh_interpreter(code)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert not loaded & {*HEAVY, "sqlalchemy", "jupyter_mlws.stores.metadata.sql.store"}


def test_a_current_schema_opens_without_migrations(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = next(iter(ws.search_runs().runs)).id

    def no_upgrade(*args: object, **kwargs: object) -> None:
        raise AssertionError("a current schema must not be migrated")

    monkeypatch.setattr(migrate, "upgrade", no_upgrade)
    store = SqlMetadataStore(ws.metadata_url)  # one query of alembic_version, nothing else
    assert store.get_run(run_id).display_name == "first"
    store.close()
    # In a fresh interpreter a read does not even import Alembic: see the matrix above.


def test_an_old_schema_is_still_upgraded_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = SqlMetadataStore(url, migrate=False)
    migrate.upgrade(old.sql, "0005")
    old.close()
    calls: list[str] = []
    real_upgrade = migrate.upgrade

    def counting_upgrade(sql: object, revision: str = "head") -> None:
        calls.append(revision)
        real_upgrade(sql, revision)  # type: ignore[arg-type]

    monkeypatch.setattr(migrate, "upgrade", counting_upgrade)
    store = SqlMetadataStore(url)
    assert calls == ["head"]
    with store.sql.read() as conn:
        assert migrate.current_revision(conn) == migrate.SCHEMA_REVISION
    store.close()


def test_wait_polls_adaptively() -> None:
    delay, waited, seen = POLL_FIRST_S, 0.0, []
    while waited < 5:
        seen.append(delay)
        waited += delay
        delay = next_poll_delay(delay, waited)
    assert seen[0] < 0.01 and seen == sorted(seen) and max(seen) == POLL_QUICK_MAX_S
    for _ in range(20):
        delay = next_poll_delay(delay, 10.0)
    assert delay == POLL_MAX_S


def test_submit_wait_exit_codes(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    src = ws.root
    (src / "ok.py").write_text("print('all good')\n")
    (src / "bad.py").write_text("raise SystemExit('it broke')\n")
    assert main(["-w", str(ws.root), "submit", "--source", str(src), "ok.py", "--wait"]) == 0
    out = capsys.readouterr().out
    assert "all good" in out and "Status: Completed" in out
    assert main(["-w", str(ws.root), "submit", "--source", str(src), "bad.py", "--wait"]) == 1
    out = capsys.readouterr().out
    assert "it broke" in out and "Status: Failed" in out


def test_the_command_as_a_process_prints_everything_and_keeps_its_exit_code(ws: Workspace) -> None:
    # As the command (no argv), main() leaves its objects to the OS at exit (gc.freeze): the output
    # is complete and the exit codes are the contract's.
    command = [sys.executable, "-m", "jupyter_mlws.cli", "-w", str(ws.root)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    listed = subprocess.run([*command, "runs", "list", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [run["display_name"] for run in json.loads(listed.stdout)] == ["first"]
    missing = subprocess.run(
        [*command, "runs", "show", "no-such-run"], capture_output=True, text=True, env=env, timeout=120
    )
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    usage = subprocess.run(
        [*command, "runs", "list", "--max", "x"], capture_output=True, text=True, env=env, timeout=120
    )
    assert usage.returncode == 2 and "usage error" in usage.stderr
