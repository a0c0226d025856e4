"""The docker compute target on a real Docker engine: jobs in containers built from an offline base
image (CI builds it with .ci/docker-engine), metrics reaching the workspace from inside, cancel,
limits, GPU requests, and containers removed after success, failure and cancel.

The engine is the session fixture of tests/support/docker.py (tests/compute/conftest.py). Without an
engine these tests are skipped locally; CI sets ``MLWS_REQUIRE_DOCKER=1`` so that a
missing engine fails the run instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import ComputeTarget, DockerCompute, Environment, Experiment, Model, NotebookRunConfig, Run, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.compute.docker import RUN_LABEL
from jupyter_mlws.core.activities import Activity
from jupyter_mlws.core.layout import live_dir, snapshot_stat_cache
from jupyter_mlws.errors import BackendUnavailableError, InvalidArgumentError
from tests.compute.conftest import TIMEOUT, JobKit, wait_until
from tests.support.docker import TEST_IMAGE

BUILD_TIMEOUT = 600.0  # the first image build installs the job runtime with pip inside a container


@pytest.fixture
def docker_target(engine: Any, ws: Workspace) -> str:
    ComputeTarget.attach(ws, "docker", DockerCompute.attach_configuration(base_image=TEST_IMAGE))
    return "docker"


def containers_of(engine: Any, run: Run) -> list[Any]:
    return list(engine.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run.id}"}))


def driver_log(run: Run) -> str:
    data, _ = run.read_log(max_bytes=1 << 30)
    return data.decode()


def live_log(ws: Workspace, run: Run) -> str:
    try:
        return (live_dir(ws.path, run.id) / "user_logs" / "std_log.txt").read_text()
    except OSError:
        return ""


pytestmark = pytest.mark.docker


def test_a_script_runs_in_a_container_and_reports_to_the_workspace(
    engine: Any, docker_target: str, kit: JobKit, tmp_path: Path
) -> None:
    kit.script(
        "train.py",
        """\
        from jupyter_mlws import Run
        run = Run.get_context()
        for step in range(3):
            run.log("loss", 1.0 / (step + 1), step=step)
        Path("outputs/model.txt").write_text("weights")
        print("INSIDE " + json.dumps({"docker": Path("/.dockerenv").exists(), "uid": os.getuid(),
                                      "flavour": os.environ.get("FLAVOUR"), "python": sys.executable}))
        """,
    )
    for image in engine.images.list(filters={"label": "mlws.environment=dock"}):
        engine.images.remove(image.id, force=True)  # left by an earlier session: this one must build
    env = Environment("dock")
    env.python.pip_packages = ["six==1.16.0"]
    env.environment_variables = {"FLAVOUR": "docker"}
    run = kit.submit("train.py", compute_target=docker_target, environment=env)
    run.wait_for_completion(timeout=BUILD_TIMEOUT)
    inside = json.loads(next(line[7:] for line in driver_log(run).splitlines() if line.startswith("INSIDE ")))
    assert inside == {"docker": True, "uid": os.getuid(), "flavour": "docker", "python": "/opt/mlws/venv/bin/python"}
    assert [p.value for p in run.get_metric_history("loss")] == [1.0, 0.5, 1.0 / 3]
    assert "outputs/model.txt" in run.get_file_names()
    assert containers_of(engine, run) == []  # removed after success
    [activity] = Activity.list(kit.ws)
    assert activity.status == "Completed" and activity.details["location"].startswith("mlws-env:")
    image = engine.images.get(activity.details["location"])
    assert "PIP_CERT" not in json.dumps(image.attrs["Config"]["Env"])  # build settings do not stay in the image

    # The same environment again (new variables: a new version, the same image): reused, no new activity.
    # Its base image is now v1's Azure ML one, which means the target's image here: still the same build.
    env.environment_variables = {"FLAVOUR": "again"}
    env.docker.base_image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
    again = kit.submit("train.py", compute_target=docker_target, environment=env)
    again.wait_for_completion(timeout=TIMEOUT)
    assert again.get_environment().version == 2 and "again" in driver_log(again)
    assert len(Activity.list(kit.ws)) == 1
    log = Path(again.download_file("logs/environment_build.log", tmp_path / "build.log")).read_text()
    assert "cache hit" in log
    azure_image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"
    assert f"{azure_image} is an Azure ML v1 base image; this target builds on {TEST_IMAGE}" in log


def test_a_failing_job_fails_and_its_container_is_removed(engine: Any, docker_target: str, kit: JobKit) -> None:
    kit.script("fail.py", "raise SystemExit('the data is bad')\n")
    run = kit.submit("fail.py", compute_target=docker_target)
    run.wait_for_completion(timeout=BUILD_TIMEOUT, raise_on_error=False)
    assert run.status == "Failed"
    error = run.get_details()["error"]
    assert error["exit_code"] == 1 and "the data is bad" in error["log_tail"]
    assert containers_of(engine, run) == []


def test_cancel_stops_the_container_with_sigterm(engine: Any, ws: Workspace, kit: JobKit) -> None:
    ComputeTarget.attach(
        ws, "docker", DockerCompute.attach_configuration(base_image=TEST_IMAGE, cancel_grace_seconds=60)
    )
    kit.script(
        "wait.py",
        """\
        def stop(signum, frame):
            print("got SIGTERM", flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
        print("ready", flush=True)
        time.sleep(600)
        """,
    )
    run = kit.submit("wait.py", compute_target="docker")
    wait_until(lambda: "ready" in live_log(ws, run), BUILD_TIMEOUT, "the job to start in its container")
    assert len(containers_of(engine, run)) == 1
    started = time.monotonic()
    run.cancel()
    run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert run.status == "Canceled"
    assert time.monotonic() - started < 50  # SIGTERM reached the job; it did not wait for the 60 s SIGKILL
    assert "got SIGTERM" in driver_log(run)
    assert containers_of(engine, run) == []


def test_cpu_and_memory_limits_apply_and_gpu_requests_reach_the_engine(engine: Any, ws: Workspace, kit: JobKit) -> None:
    config = DockerCompute.attach_configuration(base_image=TEST_IMAGE, cpus=0.5, memory="256m")
    ComputeTarget.attach(ws, "small", config)
    kit.script(
        "limits.py",
        """\
        cgroup = Path("/sys/fs/cgroup")
        if (cgroup / "memory.max").exists():  # cgroup v2
            memory, cpu = (cgroup / "memory.max").read_text(), (cgroup / "cpu.max").read_text()
        else:  # cgroup v1
            memory = (cgroup / "memory/memory.limit_in_bytes").read_text()
            cpu = " ".join((cgroup / f"cpu/cpu.cfs_{n}_us").read_text().strip() for n in ("quota", "period"))
        status = dict(line.split(":\t", 1) for line in Path("/proc/self/status").read_text().splitlines())
        print("LIMITS " + json.dumps({"memory": memory.strip(), "cpu": cpu.strip(),
                                      "caps": status["CapEff"].strip(), "nnp": status["NoNewPrivs"].strip()}))
        """,
    )
    run = kit.submit("limits.py", compute_target="small")
    run.wait_for_completion(timeout=BUILD_TIMEOUT)
    limits = json.loads(next(line[7:] for line in driver_log(run).splitlines() if line.startswith("LIMITS ")))
    # No capabilities and no privilege gained through setuid files, even when the job runs as root.
    assert limits == {"memory": str(256 * 1024 * 1024), "cpu": "50000 100000", "caps": "0" * 16, "nnp": "1"}

    # No GPU here: the engine refuses the device request, and the run says why.
    ComputeTarget.attach(ws, "gpu", DockerCompute.attach_configuration(base_image=TEST_IMAGE, gpus=1))
    gpu = kit.submit("limits.py", compute_target="gpu")
    gpu.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert gpu.status == "Failed"
    message = gpu.get_details()["error"]["message"]
    assert "refused to start the job's container" in message and "gpu" in message.lower()
    assert containers_of(engine, gpu) == []


def test_the_example_notebook_runs_on_docker(engine: Any, docker_target: str, kit: JobKit) -> None:
    shutil.copy(Path(__file__).resolve().parents[2] / "notebooks" / "train.ipynb", kit.src / "train.ipynb")
    parameters = {"epochs": 15, "learning_rate": 0.4}
    run = kit.exp.submit(NotebookRunConfig(kit.src, "train.ipynb", parameters=parameters, compute_target=docker_target))
    run.wait_for_completion(timeout=BUILD_TIMEOUT)
    assert len(run.get_metric_history("loss")) == 15 and run.get_metrics()["final_loss"] < 0.01
    assert run.get_tags()["mlws.progress"] == "cell 4 of 4"  # with the injected parameters cell
    executed = Path(run.download_file("outputs/train.ipynb", kit.src.parent / "executed.ipynb")).read_text()
    assert "after 15 epochs at learning rate 0.4" in executed
    assert "outputs/model.json" in run.get_file_names()
    assert containers_of(engine, run) == []


def test_a_missing_base_image_is_a_clear_failure(engine: Any, ws: Workspace, kit: JobKit) -> None:
    ComputeTarget.attach(ws, "nowhere", DockerCompute.attach_configuration(base_image="mlws-no-such-image:never"))
    kit.script("job.py", "print('never')\n")
    run = kit.submit("job.py", compute_target="nowhere")
    run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert run.status == "Failed"
    message = run.get_details()["error"]["message"]
    assert "mlws-no-such-image:never" in message and "could not be pulled" in message


def test_abandon_removes_what_a_dead_supervisor_left(engine: Any, docker_target: str, ws: Workspace) -> None:
    engine.containers.run(TEST_IMAGE, ["sleep", "600"], detach=True, labels={RUN_LABEL: "orphan-run"})
    try:
        ComputeTarget(ws, docker_target).backend().abandon("orphan-run")
        assert engine.containers.list(all=True, filters={"label": f"{RUN_LABEL}=orphan-run"}) == []
    finally:
        for container in engine.containers.list(all=True, filters={"label": f"{RUN_LABEL}=orphan-run"}):
            container.remove(force=True)


# -- no engine needed ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"memory": "lots"}, "memory"),
        ({"cpus": 0}, "cpus"),
        ({"gpus": "some"}, "gpus"),
        ({"docker_host": "localhost"}, "docker_host"),
        ({"base_image": ""}, "base_image"),
        ({"volumes": ["/:/host"]}, "unknown docker compute setting"),
    ],
)
def test_bad_settings_are_refused_at_attach(ws: Workspace, settings: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words):
        ComputeTarget.attach(ws, "docker", {"type": "docker", **settings})


@pytest.mark.usefixtures("ws")
def test_an_absent_engine_is_a_clear_error_and_creates_no_run(kit: JobKit, tmp_path: Path) -> None:
    socket = tmp_path / "no-engine.sock"
    ComputeTarget.attach(kit.ws, "docker", {"type": "docker", "docker_host": f"unix://{socket}"})
    kit.script("job.py", "print('never')\n")
    with pytest.raises(BackendUnavailableError) as caught:
        kit.submit("job.py", compute_target="docker")
    message = str(caught.value)
    assert f"the Docker engine at unix://{socket} does not answer" in message
    assert "dockerd" in message and "docker_host" in message
    assert kit.ws.search_runs().runs == []
    cli = kit.mlws("submit", "job.py", "--source", str(kit.src), "--compute", "docker")
    assert cli.returncode == 1 and "does not answer" in cli.stderr and "Traceback" not in cli.stderr


def test_the_workspace_lists_its_compute_targets(ws: Workspace, tmp_path: Path) -> None:
    assert list(ws.compute_targets) == ["local"]
    ComputeTarget.attach(ws, "gpu-box", DockerCompute.attach_configuration(base_image="python:3.11-slim", gpus="all"))
    targets = ws.compute_targets
    assert sorted(targets) == ["gpu-box", "local"]
    assert (targets["gpu-box"].type, targets["gpu-box"].config["gpus"]) == ("docker", "all")
    assert targets["gpu-box"].config["network_mode"] == "bridge"  # defaults filled in at attach


# -- the container sees its own run, never the workspace (issue 13, finding 5) -----------------------------------
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 16


def test_a_container_job_cannot_reach_the_workspace_or_queue_a_host_job(
    engine: Any, docker_target: str, kit: JobKit, tmp_path: Path
) -> None:
    """Before: .mlws was mounted read-write — the job read the database, rewrote the snapshot stat
    cache and could queue a local job for the host's agent. Now none of it is in the container, and
    the job API refuses any run but its own."""
    ws = kit.ws
    other = Experiment(ws, "private").start_logging()
    other.log_param("secret", "on the host")
    other.complete()
    cache = snapshot_stat_cache(ws.path)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("{}")
    cache_before = cache.read_bytes()
    kit.script(
        "probe.py",
        """\
        import socket
        ws_root, ws_dir, cache, agent_socket, other, pwned = sys.argv[1:7]
        seen = {"config": os.path.exists(os.path.join(ws_dir, "config.json")),
                "db": os.path.exists(os.path.join(ws_dir, "mlws.db")), "cache": os.path.exists(cache),
                "hostname": socket.gethostname()}
        try:
            Path(cache).write_text('{"poisoned": true}')
            seen["cache_written"] = True
        except OSError:
            seen["cache_written"] = False
        try:
            with socket.socket(socket.AF_UNIX) as agent:
                agent.connect(agent_socket)
            seen["agent"] = "reached"
        except OSError as exc:
            seen["agent"] = type(exc).__name__
        try:  # what a malicious dependency would do: queue a job that the host's agent runs
            from jupyter_mlws import Experiment, ScriptRunConfig, Workspace
            evil = Experiment(Workspace(ws_root), "evil")
            evil.submit(ScriptRunConfig(source_directory=".", command="touch " + pwned, compute_target="local"))
            seen["queued"] = "queued"
        except Exception as exc:
            seen["queued"] = str(exc)
        try:
            from jupyter_mlws.core.runs.remote import RemoteRun, connect
            seen["other_params"] = RemoteRun(connect(os.environ["MLWS_JOB_API"], other), other).get_params()
        except Exception as exc:
            seen["other_params"] = type(exc).__name__ + ": " + str(exc)
        try:
            from jupyter_mlws import Run
            Run.get_context().workspace
            seen["workspace"] = "reached"
        except Exception as exc:
            seen["workspace"] = str(exc)
        print("SEEN " + json.dumps(seen), flush=True)
        """,
    )
    pwned = tmp_path / "pwned"  # on the host: what the queued job would create
    args = [str(ws.root), str(ws.path), str(cache), agent.socket_path(ws), other.id, str(pwned)]
    run = kit.submit("probe.py", arguments=args, compute_target=docker_target)
    run.wait_for_completion(timeout=BUILD_TIMEOUT)
    seen = json.loads(next(line[5:] for line in driver_log(run).splitlines() if line.startswith("SEEN ")))
    assert (seen["config"], seen["db"], seen["cache"], seen["cache_written"]) == (False, False, False, False), seen
    assert seen["agent"] in ("FileNotFoundError", "ConnectionRefusedError"), seen
    assert "no workspace at" in seen["queued"], seen
    assert seen["other_params"].startswith("InvalidStateError") and "Docker target" in seen["other_params"], seen
    assert "not available to a job on the Docker target" in seen["workspace"], seen
    assert seen["hostname"] != os.uname().nodename  # bridge networking by default, not the host's
    # On the host: the stat cache untouched, no run queued, the other run's params unread.
    assert cache.read_bytes() == cache_before
    assert [r.id for r in ws.search_runs(include_children=True).runs if r.experiment.name != "private"] == [run.id]
    assert not pwned.exists()  # before the fix, the host's agent ran the queued job: this file appeared
    assert containers_of(engine, run) == []


def test_what_a_container_job_logs_reaches_the_workspace(
    engine: Any, docker_target: str, kit: JobKit, tmp_path: Path
) -> None:
    kit.script(
        "log.py",
        """\
        from jupyter_mlws import Run
        run = Run.get_context()
        run.log_list("acc", [0.5, 0.75])
        run.log_row("roc", fpr=0.1, tpr=0.8)
        run.log_table("pr", {"p": [1.0, 0.5], "r": [0.2, 0.9]})
        run.log("message", "from the container")  # v1's text-valued metrics and chart metrics (issue 14)
        run.log("converged", True)
        run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
                                        "data": {"class_labels": ["a", "b"], "matrix": [[1, 0], [2, 3]]}})
        run.log_params({"lr": 0.1, "layers": 3})
        run.set_tags({"stage": "docker"})
        run.add_properties({"owner": "container"})
        Path("outputs/model.txt").write_text("weights")
        run.upload_file("outputs/model.txt", "outputs/model.txt")
        model = run.register_model("dock-model", "outputs/model.txt", tags={"from": "container"})
        print("MODEL " + model.id, flush=True)
        Path("folder/sub").mkdir(parents=True)
        Path("folder/sub/a.txt").write_text("a")
        os.symlink("/etc/hostname", "folder/link")  # not followed
        run.upload_folder("uploaded", "folder")
        Path("pixel.png").write_bytes(bytes.fromhex(sys.argv[1]))
        run.log_image("pixel", path="pixel.png")
        child = run.child_run("fold-1")
        child.log("score", 0.9)
        child.complete()
        print("METRICS " + json.dumps(run.get_metrics(recursive=True)[child.id]), flush=True)
        for step in range(100):
            run.log("loss", 1.0 / (step + 1), step=step)  # no flush: the exit sends them
        """,
    )
    run = kit.submit("log.py", arguments=[PNG.hex()], compute_target=docker_target)
    run.wait_for_completion(timeout=BUILD_TIMEOUT)
    inside = json.loads(next(line[8:] for line in driver_log(run).splitlines() if line.startswith("METRICS ")))
    assert inside == {"score": 0.9}
    metrics = run.get_metrics()
    assert metrics["acc"] == [0.5, 0.75] and len(run.get_metric_history("loss")) == 100
    assert metrics["roc"] == {"fpr": [0.1], "tpr": [0.8]} and metrics["pr"] == {"p": [1.0, 0.5], "r": [0.2, 0.9]}
    assert (metrics["message"], metrics["converged"]) == ("from the container", True)
    assert metrics["cm"]["data"] == {"class_labels": ["a", "b"], "matrix": [[1, 0], [2, 3]]}
    assert run.get_params() == {"lr": "0.1", "layers": "3"}
    assert run.get_tags()["stage"] == "docker" and run.get_properties()["owner"] == "container"
    names = set(run.get_file_names())
    assert {"outputs/model.txt", "uploaded/sub/a.txt"} <= names and "uploaded/link" not in names
    [image] = [n for n in names if n.startswith("images/pixel_")]
    with run.open_file(image) as stored:
        assert stored.read() == PNG
    [child] = run.get_children()
    assert (child.display_name, child.status, child.get_metrics()) == ("fold-1", "Completed", {"score": 0.9})
    model = Model(kit.ws, "dock-model")
    assert f"MODEL dock-model:{model.version}" in driver_log(run)
    assert model.tags == {"from": "container"} and model.run_id == run.id


def test_links_a_container_job_leaves_are_not_followed_on_the_host(
    engine: Any, docker_target: str, kit: JobKit, tmp_path: Path
) -> None:
    """The job writes its folders; links it leaves there (to host paths it cannot see) must not make
    the supervisor read host files into the run: its outputs, its logs, its error details."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("SECRET-KEY")
    (secret / "error.json").write_text(json.dumps({"message": "SECRET-ERROR"}))
    kit.script(
        "links.py",
        """\
        import shutil
        secret = sys.argv[1]
        shutil.rmtree("outputs")
        os.symlink(secret, "outputs")
        os.symlink(secret + "/key.txt", "logs/leak.txt")
        os.symlink(secret + "/error.json", os.environ["MLWS_ERROR_FILE"])
        sys.exit(3)
        """,
    )
    run = kit.submit("links.py", arguments=[str(secret)], compute_target=docker_target)
    run.wait_for_completion(timeout=BUILD_TIMEOUT, raise_on_error=False)
    assert run.status == "Failed"
    assert "SECRET" not in json.dumps(run.get_details()["error"])
    names = run.get_file_names()
    assert not [n for n in names if n.startswith("outputs/") or n == "logs/leak.txt"], names
    for name in names:
        with run.open_file(name) as stored:
            assert b"SECRET" not in stored.read(), name


def test_the_supervisor_writes_nothing_through_a_link_the_job_left(
    engine: Any, ws: Workspace, kit: JobKit, tmp_path: Path
) -> None:
    """Before: on an out-of-memory end the supervisor wrote its message to the job's error file on the
    host, following a link the job had left there: any file of the submitting user (a workspace's
    database, ~/.ssh/authorized_keys) was overwritten."""
    ComputeTarget.attach(ws, "small", DockerCompute.attach_configuration(base_image=TEST_IMAGE, memory="64m"))
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's file")
    kit.script(
        "oom.py",
        """\
        os.symlink(sys.argv[1], os.environ["MLWS_ERROR_FILE"])
        hog = [bytearray(1 << 20) for _ in range(1024)]
        """,
    )
    run = kit.submit("oom.py", arguments=[str(victim)], compute_target="small")
    run.wait_for_completion(timeout=BUILD_TIMEOUT, raise_on_error=False)
    assert victim.read_text() == "the user's file"
    error = run.get_details()["error"]
    assert run.status == "Failed" and error.get("reason") == "oom", error
    assert "ran out of memory (memory setting: 64m)" in error["message"], error


def test_fifos_the_job_leaves_do_not_hang_its_supervisor(engine: Any, docker_target: str, kit: JobKit) -> None:
    """Before: a FIFO in place of the job's error file or log blocked the supervisor for ever when it
    read them after the job: the run stayed Running, its container and folders were never removed.
    The job's output FIFO (MLWS_DRIVER_LOG) and the live driver log's place are tried too: the first is
    read through the descriptor opened before the job started, the second is not mounted at all."""
    kit.script(
        "fifo.py",
        """\
        live_log = os.path.join(os.path.dirname(os.path.realpath("logs")), "user_logs", "std_log.txt")
        os.makedirs(os.path.dirname(live_log), exist_ok=True)
        for path in (os.environ["MLWS_ERROR_FILE"], os.environ["MLWS_DRIVER_LOG"], live_log):
            if os.path.lexists(path):
                os.unlink(path)
            os.mkfifo(path)
        print("after the traps", flush=True)
        sys.exit(3)
        """,
    )
    run = kit.submit("fifo.py", compute_target=docker_target)
    run.wait_for_completion(timeout=BUILD_TIMEOUT, raise_on_error=False)
    error = run.get_details()["error"]
    assert run.status == "Failed" and error.get("exit_code") == 3, error
    assert containers_of(engine, run) == []
    assert "after the traps" in driver_log(run)


def test_reading_a_running_jobs_live_logs_follows_no_link_and_blocks_on_no_fifo(
    engine: Any, docker_target: str, kit: JobKit, tmp_path: Path
) -> None:
    """Before: while the job ran, reading its log (what the Jupyter server's log view does every
    second) opened whatever the job had left at that name: a FIFO blocked the reading thread for ever
    (the server's pool drained away), a link served a host file of the user. Now the live driver log is
    not in the container at all (its supervisor writes it): a FIFO made at its place stays inside."""
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-KEY")
    kit.script(
        "live.py",
        """\
        log = os.path.join(os.path.dirname(os.path.realpath("logs")), "user_logs", "std_log.txt")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        if os.path.lexists(log):
            os.unlink(log)
        os.mkfifo(log)
        print("traps set", flush=True)
        os.symlink(sys.argv[1], "logs/leak.txt")
        Path("logs/ready").write_text("ready")
        wait_for("logs/go", timeout=120)
        """,
    )
    run = kit.submit("live.py", arguments=[str(secret)], compute_target=docker_target)
    ready = live_dir(kit.ws.path, run.id) / "logs" / "ready"
    wait_until(ready.exists, BUILD_TIMEOUT, "the job to set its traps")
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        log = pool.submit(run.read_log)
        leak = pool.submit(run.read_log, name="logs/leak.txt")
        data, _ = log.result(timeout=10)  # before: blocked for ever on the FIFO
        deadline = time.monotonic() + 30
        while data != b"traps set\n" and time.monotonic() < deadline:
            # The supervisor's log pump copies the job's output a moment after the job wrote it.
            time.sleep(0.05)
            data, _ = pool.submit(run.read_log).result(timeout=10)
        assert data == b"traps set\n"
        assert leak.result(timeout=10) == (b"", 0)  # before: the host file's bytes
    finally:
        (ready.parent / "go").write_text("go")
        with contextlib.suppress(OSError):  # a reader blocked on the FIFO (before the fix) is let go
            os.close(os.open(live_dir(kit.ws.path, run.id) / "user_logs" / "std_log.txt", os.O_WRONLY | os.O_NONBLOCK))
        pool.shutdown(wait=False)
    run.wait_for_completion(timeout=TIMEOUT)
    assert "logs/leak.txt" not in run.get_file_names()


def test_metrics_logged_just_before_a_cancel_are_kept(
    engine: Any, docker_target: str, kit: JobKit, tmp_path: Path
) -> None:
    """Before: a container job's points waited up to a second in its process; SIGTERM (a cancel, a
    time limit) ended it without sending them, where a local job's writer flushes on SIGTERM."""
    kit.script(
        "steady.py",
        """\
        from jupyter_mlws import Run
        run = Run.get_context()
        count = Path("logs/count")
        for step in range(1_000_000):
            run.log("tick", step, step=step)
            if step % 10 == 0:  # logged so far (never more than logged), replaced whole: a SIGTERM
                partial = Path("logs/count.tmp")  # between truncate and write must not leave it empty
                partial.write_text(str(step + 1))
                partial.replace(count)
            time.sleep(0.002)
        """,
    )
    run = kit.submit("steady.py", compute_target=docker_target)
    count = live_dir(kit.ws.path, run.id) / "logs" / "count"
    wait_until(lambda: count.exists() and int(count.read_text() or 0) > 200, BUILD_TIMEOUT, "the job to log")
    run.cancel()
    run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert run.status == "Canceled"
    logged = int(Path(run.download_file("logs/count", tmp_path / "count")).read_text())
    assert len(run.get_metric_history("tick")) >= logged


def test_a_folder_a_job_replaced_by_a_link_is_not_collected(ws: Workspace, tmp_path: Path) -> None:
    """What a dead supervisor's job left is salvaged by the reporter: a link in place of its logs
    folder (to a host folder) is not followed."""
    from jupyter_mlws.compute.supervision import StoreReporter

    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("SECRET-KEY")
    (tmp_path / "logs").symlink_to(secret)
    run = Experiment(ws, "salvage").start_logging()
    assert StoreReporter(ws, run.id).collect(tmp_path / "logs", "logs") == []
    assert run.get_file_names() == []
