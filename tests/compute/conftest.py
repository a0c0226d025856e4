"""Fixtures for the job tests: a short-lived agent, a kit to write and submit job scripts, and a
cleanup that leaves no process of a test behind.

Jobs synchronise with the tests through flag files (``kit.release(name)`` lets a job waiting in
``wait_for(FLAGS / name)`` go on): no test depends on how long anything takes, only on generous
upper bounds.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Run, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.core.run_config import ScriptRunConfig
from tests.support.agent_workspace import stop_processes
from tests.support.docker import engine  # noqa: F401 - the Docker engine's session fixture

TIMEOUT = 60.0  # generous upper bound for anything a job does here, on a loaded 2-core machine

# Prepended to every job script the kit writes: FLAGS is the test's flag folder.
PRELUDE = """\
import json
import os
import signal
import sys
import time
from pathlib import Path

FLAGS = Path({flags!r})


def wait_for(path, timeout=300.0):
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for " + str(path))
        time.sleep(0.02)


def mark(name, text=""):
    tmp = FLAGS / (name + ".tmp")
    tmp.write_text(str(text))
    tmp.replace(FLAGS / name)

"""


def wait_until(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (returned); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


class JobKit:
    """Write job scripts into a source folder, submit them, and talk to them through flag files."""

    def __init__(self, ws: Workspace, tmp_path: Path) -> None:
        self.ws = ws
        self.exp = Experiment(ws, "jobs")
        self.src = tmp_path / "src"
        self.src.mkdir()
        self.flags = tmp_path / "flags"
        self.flags.mkdir()
        self.children: list[subprocess.Popen[str]] = []

    wait_until = staticmethod(wait_until)

    # -- scripts and flags ---------------------------------------------------------------------------
    def script(self, name: str, body: str, folder: Path | None = None) -> str:
        path = (folder or self.src) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PRELUDE.format(flags=str(self.flags)) + textwrap.dedent(body))
        return name

    def flag(self, name: str) -> Path:
        return self.flags / name

    def release(self, name: str) -> None:
        self.flag(name).write_text("go")

    def wait_flag(self, name: str, timeout: float = TIMEOUT) -> str:
        path = self.flag(name)
        wait_until(path.exists, timeout, f"the job to write flag {name!r}")
        return path.read_text()

    # -- runs ----------------------------------------------------------------------------------------
    def config(self, script: str | None = None, **kwargs: Any) -> ScriptRunConfig:
        kwargs.setdefault("source_directory", self.src)
        return ScriptRunConfig(script=script, **kwargs)

    def submit(self, script: str | None = None, *, tags: dict[str, str] | None = None, **kwargs: Any) -> Run:
        return self.exp.submit(self.config(script, **kwargs), tags=tags)

    def wait_status(self, run: Run, *statuses: str, timeout: float = TIMEOUT) -> str:
        return str(wait_until(lambda: run.status in statuses and run.status, timeout, f"{run.id} to be {statuses}"))

    def record(self, run: Run) -> Any:
        return self.ws.metadata.get_run(run.id)

    # -- other processes -----------------------------------------------------------------------------
    def python(self, code: str, *args: str) -> subprocess.Popen[str]:
        """Start ``python -c code args`` (killed at the end of the test if still running)."""
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.children.append(proc)
        return proc

    def mlws(
        self, *argv: str, cwd: Path | None = None, timeout: float = TIMEOUT, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the real ``mlws`` command of this interpreter's environment (``env``: added variables)."""
        return subprocess.run(
            [str(Path(sys.executable).parent / "mlws"), *argv],
            cwd=cwd or self.ws.root,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def mlws_popen(
        self, *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "mlws"), *argv],
            cwd=cwd or self.ws.root,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.children.append(proc)
        return proc


@pytest.fixture(autouse=True)
def _job_processes(monkeypatch: pytest.MonkeyPatch, ws: Workspace, tmp_path: Path) -> Iterator[None]:
    """Agents exit after 5 idle seconds; after each test its agent, supervisors and jobs are gone."""
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", "5")
    yield
    stop_processes(ws, tmp_path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(agent.socket_path(ws))  # a stopped agent leaves its socket behind


@pytest.fixture
def kit(ws: Workspace, tmp_path: Path) -> Iterator[JobKit]:
    jobs = JobKit(ws, tmp_path)
    yield jobs
    for proc in jobs.children:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(Exception):
            proc.communicate(timeout=10)


def write_alt_kernelspec(jupyter_root: Path) -> None:
    """A second kernelspec, ``mlws-alt``, under ``jupyter_root`` (a JUPYTER_PATH entry): this
    interpreter with MLWS_KERNEL_FLAVOUR=alt."""
    spec = jupyter_root / "kernels" / "mlws-alt"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Alt Python",
                "language": "python",
                "env": {"MLWS_KERNEL_FLAVOUR": "alt"},
            }
        )
    )
