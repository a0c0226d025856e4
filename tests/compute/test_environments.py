"""Jobs in environments on the local target: a venv built once per definition (an activity with its
log), reused by later runs, a failed build failing the run with its log, and pip settings passed on."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Environment, Run
from jupyter_mlws.compute.environments.pip import host_pip_settings, local_paths
from jupyter_mlws.core.activities import Activity
from tests.compute.conftest import TIMEOUT, JobKit

BUILD_TIMEOUT = 300.0  # a first build installs the job runtime from pip's cache or the index

REPORT = """\
import os
import six
from jupyter_mlws import Run

run = Run.get_context()
run.log("answer", 42)
print("REPORT " + json.dumps({"python": sys.executable, "six": six.__version__, "flavour": os.environ.get("FLAVOUR")}))
"""


def report(run: Run) -> dict[str, Any]:
    data, _ = run.read_log(max_bytes=1 << 30)
    lines = [line for line in data.decode().splitlines() if line.startswith("REPORT ")]
    assert len(lines) == 1, data.decode()
    result: dict[str, Any] = json.loads(lines[0][7:])
    return result


def six_env(**variables: str) -> Environment:
    env = Environment("six-env")
    env.python.pip_packages = ["six==1.16.0"]
    env.environment_variables = dict(variables)
    return env


def build_log(run: Run, tmp_path: Path) -> str:
    return Path(run.download_file("logs/environment_build.log", tmp_path / f"{run.id}.log")).read_text()


def test_a_job_runs_in_its_environment_built_once_then_reused(kit: JobKit, tmp_path: Path) -> None:
    kit.script("report.py", REPORT)
    first = kit.submit("report.py", environment=six_env(FLAVOUR="vanilla"))
    first.wait_for_completion(timeout=BUILD_TIMEOUT)
    seen = report(first)
    assert seen["six"] == "1.16.0" and seen["flavour"] == "vanilla"
    assert seen["python"] != sys.executable and "venvs" in seen["python"]  # not the submitting interpreter
    assert first.get_metrics() == {"answer": 42}
    assert first.get_environment().name == "six-env" and first.get_environment().version == 1
    [activity] = Activity.list(kit.ws)
    assert (activity.kind, activity.name, activity.status, activity.run_id) == (
        "environment-build",
        "six-env:1",
        "Completed",
        first.id,
    )
    assert activity.details["cached"] is False and activity.details["location"] == seen["python"]
    full = Activity.get(kit.ws, activity.activity_id)
    assert "--- installing 1 package(s)" in full.log and "six" in full.log
    assert "--- installing" in build_log(first, tmp_path)

    # Same definition, by name this time: the same venv, no build (no new activity).
    second = kit.submit("report.py", environment="six-env")
    second.wait_for_completion(timeout=TIMEOUT)
    assert report(second)["python"] == seen["python"]
    assert len(Activity.list(kit.ws)) == 1
    assert "cache hit" in build_log(second, tmp_path)
    built = Environment.get(kit.ws, "six-env").build(kit.ws)
    assert built.cached and built.location == seen["python"] and built.seconds < 30


def test_a_changed_environment_is_a_new_version_and_a_new_build(kit: JobKit) -> None:
    kit.script("report.py", REPORT)
    first = kit.submit("report.py", environment=six_env(FLAVOUR="a"))
    first.wait_for_completion(timeout=BUILD_TIMEOUT)
    # Variables do not change what is installed, but they are part of the definition: a new version.
    changed = six_env(FLAVOUR="b")
    changed.python.pip_packages.append("packaging")
    second = kit.submit("report.py", environment=changed)
    second.wait_for_completion(timeout=BUILD_TIMEOUT)
    assert (first.get_environment().version, second.get_environment().version) == (1, 2)
    assert report(first)["python"] != report(second)["python"]
    assert report(second)["flavour"] == "b"
    # The second definition installs more: it was built (the first may be a cache hit of an earlier test's).
    assert Activity.list(kit.ws)[0].name == "six-env:2" and Activity.list(kit.ws)[0].status == "Completed"


def test_a_failed_build_fails_the_run_with_the_build_log(kit: JobKit, tmp_path: Path) -> None:
    kit.script("report.py", REPORT)
    env = Environment("broken")
    env.python.pip_packages = ["mlws-no-such-package-anywhere==9.9.9"]
    run = kit.submit("report.py", environment=env)
    run.wait_for_completion(timeout=BUILD_TIMEOUT, raise_on_error=False)
    assert run.status == "Failed"
    error = run.get_details()["error"]
    assert error["reason"] == "environment_build"
    assert "environment 'broken' failed to build" in error["message"]
    assert "mlws-no-such-package-anywhere" in error["message"]
    assert "mlws-no-such-package-anywhere" in error["build_log"]
    activity = Activity.get(kit.ws, error["activity_id"])
    assert activity.status == "Failed" and activity.run_id == run.id
    assert "mlws-no-such-package-anywhere" in activity.log and activity.error is not None
    assert "mlws-no-such-package-anywhere" in build_log(run, tmp_path)
    assert "user_logs/std_log.txt" not in run.get_file_names()  # the job never started


def test_user_managed_dependencies_run_as_they_are(kit: JobKit) -> None:
    kit.script("where.py", "print('REPORT ' + json.dumps({'python': sys.executable}))\n")
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = sys.executable
    run = kit.submit("where.py", environment=env)
    run.wait_for_completion(timeout=TIMEOUT)
    assert report(run)["python"] == sys.executable
    assert Activity.list(kit.ws) == []  # nothing was built

    env.python.interpreter_path = "/no/such/python"
    broken = kit.submit("where.py", environment=env)
    broken.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert broken.status == "Failed" and "/no/such/python" in broken.get_details()["error"]["message"]


def test_the_cli_submits_with_a_registered_environment(kit: JobKit) -> None:
    kit.script("report.py", REPORT)
    six_env(FLAVOUR="cli").register(kit.ws)
    done = kit.mlws(
        "submit", "report.py", "--source", str(kit.src), "--environment", "six-env:1", "--wait", timeout=BUILD_TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    [run] = kit.ws.search_runs().runs
    assert report(run)["flavour"] == "cli"
    missing = kit.mlws("submit", "report.py", "--source", str(kit.src), "--environment", "nope")
    assert missing.returncode == 1 and "environment 'nope' is not registered" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_pip_settings_of_this_machine_are_passed_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    index = tmp_path / "mirror" / "simple"
    index.mkdir(parents=True)
    for variable in ("PIP_CERT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("PIP_INDEX_URL", f"file://{index}")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setattr("jupyter_mlws.compute.environments.pip._pip_config", dict)  # no config files
    settings = host_pip_settings()
    assert settings["PIP_CERT"] == str(bundle)  # a CA bundle known to requests is one pip must trust
    assert settings["PIP_INDEX_URL"] == f"file://{index}" and settings["HTTPS_PROXY"] == "http://proxy.invalid:3128"
    # A local "simple" index links to files beside it: its parent folder is what a container needs.
    assert local_paths(settings) == sorted([str(bundle), str(index.parent)])


def test_cancel_stops_a_build_that_hangs(kit: JobKit) -> None:
    # A package URL whose server accepts and never answers: pip waits (for minutes, as behind a
    # stuck proxy). Cancel must stop the build, not wait for it.
    import socket
    import threading

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not done.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        kit.script("report.py", REPORT)
        env = Environment("stuck")
        env.python.pip_packages = [f"mlws-stuck @ http://127.0.0.1:{port}/mlws_stuck-1.0-py3-none-any.whl"]
        run = kit.submit("report.py", environment=env)
        kit.wait_until(lambda: held, BUILD_TIMEOUT, "pip to connect to the stuck package server")
        run.cancel()
        run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
        assert run.status == "Canceled"
        assert run.get_details()["error"]["message"] == "canceled while its environment was being built"
        [activity] = Activity.list(kit.ws)
        assert activity.status == "Failed" and "canceled" in activity.error["message"]
    finally:
        done.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
