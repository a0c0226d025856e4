"""A real JupyterLab on a temporary workspace, driven by headless Chromium (Playwright).

The server is ``python -m jupyterlab`` on a free loopback port with a random token, its root a seeded
workspace, stopped by process id. Chromium is Debian's (``/usr/bin/chromium``); Playwright never
downloads a browser. Without Chromium the tests are skipped locally; CI sets ``MLWS_REQUIRE_BROWSER=1``
so that a missing browser fails the run instead. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_mlws.compute import agent
from jupyter_mlws.core.workspace import Workspace, close_backends
from tests.support.jupyter_env import isolated_server_env

CHROMIUM = os.environ.get("MLWS_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("MLWS_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def page_url(self) -> str:
        return f"{self.url}/lab?token={self.token}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium is required (MLWS_REQUIRE_BROWSER=1) but {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


def start_lab(root: Path, home: Path) -> tuple[Lab, subprocess.Popen[bytes]]:
    token = secrets.token_hex(16)
    port = _free_port()
    config = home / "config"
    # No news toast over the page (it would cover the sidebar in screenshots).
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = isolated_server_env(home)
    log = home / "lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--allow-root",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=home)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(requests.ConnectionError):
            reply = requests.get(f"{lab.url}/api/status", params={"token": token}, timeout=5)
            if reply.status_code == 200:
                return lab, proc
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"jupyter lab did not answer within 120 s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def stop_lab(proc: subprocess.Popen[bytes], root: Path) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if (root / ".mlws").exists():
        agent.stop(Workspace(root))


@contextlib.contextmanager
def running_lab(root: Path, home: Path) -> Iterator[Lab]:
    """A JupyterLab on ``root`` for the length of a ``with`` block, stopped (with the workspace's agent) after it."""
    lab, proc = start_lab(root, home)
    try:
        yield lab
    finally:
        stop_lab(proc, root)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed  # read by the browser fixture: screenshot a failed test's pages
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def browser(chromium_path: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            if request.node.stash.get(FAILED, False):
                # What the page showed when the test failed, for CI's artifacts.
                for index, page in enumerate(p for context in chromium.contexts for p in context.pages):
                    with contextlib.suppress(Exception):
                        screenshot(page, f"FAILED-{request.node.name}-{index}")
            chromium.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def lab_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    yield home
    close_backends()
    shutil.rmtree(home, ignore_errors=True)
