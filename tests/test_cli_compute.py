"""``mlws compute list|show|attach|detach`` and ``mlws dask local`` (issue 19), in-process through
``main(argv)``. ``show`` reads a real Dask cluster (``LocalDaskCluster``: ``dask scheduler`` + 2 ``dask
worker`` processes) through the real ``dask`` target type. ``dask local`` runs with a stand-in
``LocalDaskCluster`` (the real one starts processes: its own tests are the cluster's), and once as a
real process."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import ComputeTarget, Workspace
from jupyter_mlws.cli import compute as compute_cmds
from jupyter_mlws.compute.dask_cluster import LocalDaskCluster
from jupyter_mlws.compute.dask_cluster_info import describe_cluster
from jupyter_mlws.errors import BackendUnavailableError
from tests.support.dask_cluster import shown_cluster, unreachable_address
from tests.test_cli import assert_one_line_error, mlws

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalDaskCluster]:
    with shown_cluster() as started:
        yield started


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "ws")


def test_attach_show_list_and_detach_a_dask_target(
    capsys: pytest.CaptureFixture[str], ws: Workspace, cluster: LocalDaskCluster
) -> None:
    root = str(ws.root)
    result = mlws(capsys, "-w", root, "compute", "attach", "dask", "cluster", "--scheduler", cluster.address)
    assert result.code == 0, result
    assert "cluster" in result.out and cluster.address in result.out
    assert ComputeTarget(ws, "cluster").config["scheduler_address"] == cluster.address

    listed = mlws(capsys, "-w", root, "compute", "list", "--json").json()
    assert {(t["name"], t["type"]) for t in listed} == {("cluster", "dask"), ("local", "local")}

    shown = mlws(capsys, "-w", root, "compute", "show", "cluster")
    assert shown.code == 0, shown
    assert cluster.address in shown.out and str(cluster.dashboard_url) in shown.out
    rows = [line.split() for line in shown.out.splitlines() if line.startswith("worker-")]
    # name, threads, memory, executing
    assert [(r[0], r[2], " ".join(r[3:-1]), r[-1]) for r in rows] == [
        ("worker-0", "1", "1.0 GiB", "0"),
        ("worker-1", "1", "1.0 GiB", "0"),
    ]

    data = mlws(capsys, "-w", root, "compute", "show", "cluster", "--json").json()
    assert [w["name"] for w in data["cluster"]["workers"]] == ["worker-0", "worker-1"]
    assert data["cluster"]["dashboard"] == cluster.dashboard_url

    assert mlws(capsys, "-w", root, "compute", "detach", "cluster").code == 0
    assert [t["name"] for t in mlws(capsys, "-w", root, "compute", "list", "--json").json()] == ["local"]
    line = assert_one_line_error(mlws(capsys, "-w", root, "compute", "detach", "cluster"))
    assert "'cluster'" in line


def test_a_dashboard_given_on_attach(
    capsys: pytest.CaptureFixture[str], ws: Workspace, cluster: LocalDaskCluster
) -> None:
    argv = ["-w", str(ws.root), "compute", "attach", "dask", "proxied", "--scheduler", cluster.address]
    assert mlws(capsys, *argv, "--dashboard", "https://dask.example/status").code == 0
    data = mlws(capsys, "-w", str(ws.root), "compute", "show", "proxied", "--json").json()
    assert data["config"]["dashboard_url"] == data["cluster"]["dashboard"] == "https://dask.example/status"


def test_show_of_a_target_that_describes_nothing(capsys: pytest.CaptureFixture[str], ws: Workspace) -> None:
    ComputeTarget.attach(ws, "two", {"type": "local", "max_concurrent_runs": 2})
    result = mlws(capsys, "-w", str(ws.root), "compute", "show", "two")
    assert result.code == 0, result
    lines = [line.split() for line in result.out.splitlines()]
    assert lines[:2] == [["name:", "two"], ["type:", "local"]]
    assert ["max_concurrent_runs:", "2"] in lines
    data = mlws(capsys, "-w", str(ws.root), "compute", "show", "local", "--json").json()
    assert (data["name"], data["type"], data["cluster"]) == ("local", "local", None)


def test_show_of_a_cluster_that_is_down(capsys: pytest.CaptureFixture[str], ws: Workspace) -> None:
    address = unreachable_address()
    ComputeTarget.attach(ws, "gone", {"type": "dask", "scheduler_address": address})
    result = mlws(capsys, "-w", str(ws.root), "compute", "show", "gone")
    line = assert_one_line_error(result)
    assert address in line and "does not answer" in line
    lines = [line.split() for line in result.out.splitlines()]  # the target's settings come first
    assert lines[:2] == [["name:", "gone"], ["type:", "dask"]] and ["scheduler_address:", address] in lines
    line = assert_one_line_error(mlws(capsys, "-w", str(ws.root), "compute", "show", "nope"))
    assert "'nope'" in line and "local" in line


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--scheduler", "127.0.0.1:8786"], ["--scheduler", "tcp://HOST:PORT", "'127.0.0.1:8786'"]),
        (["--scheduler", "tcp://127.0.0.1"], ["tcp://HOST:PORT", "'tcp://127.0.0.1'"]),
        (["--scheduler", "http://127.0.0.1:8786"], ["tcp://HOST:PORT"]),
        (["--scheduler", "tcp://127.0.0.1:8786", "--dashboard", "127.0.0.1:8787"], ["--dashboard", "http://"]),
        ([], ["--scheduler"]),
    ],
)
def test_attach_argument_errors_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], words: list[str]
) -> None:
    ws = Workspace.create(tmp_path / "ws")
    result = mlws(capsys, "-w", str(ws.root), "compute", "attach", "dask", "c", *argv)
    line = assert_one_line_error(result, code=2, prefix="mlws compute attach dask: usage error:")
    for word in words:
        assert word in line, line
    assert [t.name for t in ComputeTarget.list(ws)] == ["local"]


def test_attach_names_a_bad_target_name(capsys: pytest.CaptureFixture[str], ws: Workspace) -> None:
    result = mlws(capsys, "-w", str(ws.root), "compute", "attach", "dask", "bad name", "--scheduler", "tcp://h:1")
    assert "compute target" in assert_one_line_error(result)


class _FakeCluster:
    made: list[_FakeCluster] = []

    def __init__(self, workers: int = 2, threads_per_worker: int = 1, port: int = 0) -> None:
        self.options = {"workers": workers, "threads_per_worker": threads_per_worker, "port": port}
        self.events: list[str] = []
        self.address = "tcp://127.0.0.1:8786"
        self.dashboard_url = "http://127.0.0.1:8787/status"
        _FakeCluster.made.append(self)

    def start(self) -> None:
        self.events.append("start")

    def stop(self) -> None:
        self.events.append("stop")


@pytest.fixture
def fake_local_cluster(monkeypatch: pytest.MonkeyPatch) -> list[_FakeCluster]:
    module = types.ModuleType("jupyter_mlws.compute.dask_cluster")
    module.LocalDaskCluster = _FakeCluster  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jupyter_mlws.compute.dask_cluster", module)
    _FakeCluster.made = []

    def interrupted() -> None:
        _FakeCluster.made[-1].events.append("waited")
        raise KeyboardInterrupt

    monkeypatch.setattr(compute_cmds, "wait_for_interrupt", interrupted)
    return _FakeCluster.made


def test_dask_local_prints_how_to_attach_and_stops_on_ctrl_c(
    capsys: pytest.CaptureFixture[str], fake_local_cluster: list[_FakeCluster]
) -> None:
    result = mlws(capsys, "dask", "local", "--workers", "3", "--threads-per-worker", "2", "--port", "8786")
    assert result.code == 0, result
    (cluster,) = fake_local_cluster
    assert cluster.options == {"workers": 3, "threads_per_worker": 2, "port": 8786}
    assert cluster.events == ["start", "waited", "stop"]
    assert "tcp://127.0.0.1:8786" in result.out and "http://127.0.0.1:8787/status" in result.out
    attach = (
        "mlws compute attach dask dask-local --scheduler tcp://127.0.0.1:8786 --dashboard http://127.0.0.1:8787/status"
    )
    assert attach in result.out.splitlines()[3]

    assert mlws(capsys, "dask", "local").code == 0
    assert fake_local_cluster[-1].options == {"workers": 2, "threads_per_worker": 1, "port": 0}  # a free port


@pytest.mark.parametrize(
    ("argv", "word"), [(["--workers", "0"], "--workers"), (["--port", "70000"], "--port"), (["--workers", "x"], "int")]
)
def test_dask_local_argument_errors(
    capsys: pytest.CaptureFixture[str], fake_local_cluster: list[_FakeCluster], argv: list[str], word: str
) -> None:
    line = assert_one_line_error(mlws(capsys, "dask", "local", *argv), code=2, prefix="mlws dask local: usage error:")
    assert word in line
    assert not fake_local_cluster


class _PortlessCluster(_FakeCluster):
    def __init__(self, workers: int = 2, threads_per_worker: int = 1) -> None:
        super().__init__(workers, threads_per_worker)


def test_dask_local_port_needs_a_cluster_that_takes_one(
    capsys: pytest.CaptureFixture[str], fake_local_cluster: list[_FakeCluster]
) -> None:
    sys.modules["jupyter_mlws.compute.dask_cluster"].LocalDaskCluster = _PortlessCluster  # type: ignore[attr-defined]
    line = assert_one_line_error(mlws(capsys, "dask", "local", "--port", "8786"), code=2, prefix="mlws dask local:")
    assert "--port" in line
    assert not fake_local_cluster
    assert mlws(capsys, "dask", "local").code == 0


def test_dask_local_as_a_real_process(tmp_path: Path) -> None:
    """``mlws dask local`` as a user runs it: with ``compute.dask_cluster.LocalDaskCluster``, a real
    cluster answers at the printed address until Ctrl-C, which stops it; without that module, one line
    naming the fix."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlws.cli", "dask", "local", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        if importlib.util.find_spec("jupyter_mlws.compute.dask_cluster") is None:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 1 and "Traceback" not in err, (out, err)
            assert err.strip().count("\n") == 0 and "jupyter-mlws[dask]" in err, err
            return
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        assert lines[-1].startswith("Press Ctrl-C"), lines
        address = lines[0].split()[-1]
        assert f"mlws compute attach dask dask-local --scheduler {address}" in lines[3]
        assert len(describe_cluster({"scheduler_address": address}, timeout=10)["workers"]) == 2
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, (out, err)
        assert "stopping the Dask cluster" in out and "Traceback" not in err
        with pytest.raises(BackendUnavailableError):
            describe_cluster({"scheduler_address": address}, timeout=1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
