"""Pre-started kernels in containers for the docker target's notebook jobs (issue 22), on a real
Docker engine.

A Docker notebook job handed a pooled kernel runs as one in a fresh container would: in a container of
its environment's image, as the submitting user, its kernel set up with the job's variables, working
folder and job API before the first cell; its metrics, ./logs and outputs reach the run; nothing a
job does reaches the next job (each kernel's container serves one job and is removed); a failing
cell and a killed kernel fail only their job, as before; pools are keyed by image and container
settings; the agent removes its kernels' containers when it idles out.

One workspace and one agent serve the module (containers and kernels are what is slow here); the
idle-out test runs last. No assertion depends on how long anything takes.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import ComputeTarget, DockerCompute, Environment, Experiment, NotebookRunConfig, Run
from jupyter_mlws.compute import agent
from jupyter_mlws.compute.docker_kernels import POOL_LABEL, SLOT_PREFIX, pool_key
from jupyter_mlws.compute.kernel_pool import EARLY_EXIT_S, KernelPool
from jupyter_mlws.compute.supervision import make_channel_folder
from jupyter_mlws.errors import InvalidArgumentError
from tests.compute.conftest import wait_until
from tests.support.agent_workspace import agent_workspace
from tests.support.docker import TEST_IMAGE
from tests.support.notebooks import write_notebook

pytestmark = [pytest.mark.docker, pytest.mark.slow]

BUILD_WAIT = 600.0  # the module's first job may build the runtime's image
WAIT = 120.0
IDLE_SECONDS = 15  # longer than any pause between two jobs of the module (one test waits EARLY_EXIT_S)
PRESTARTED = "Using a pre-started"

PROBE = """\
import builtins, json, os, sys
from IPython import get_ipython
from jupyter_mlws import Run

run = Run.get_context()
ip = get_ipython()
os.makedirs("logs", exist_ok=True)
with open("logs/probe.txt", "w") as f:
    f.write("written in ./logs")
with open("outputs/probe.txt", "w") as f:
    f.write("an output")
seen = {
    "global": "LEAKED" in globals(),
    "module": "json_probe_leak" in sys.modules,
    "env_leak": "MLWS_POOL_LEAK" in os.environ,
    "builtin": hasattr(builtins, "mlws_leak") or abs(-1) != 1,
    "docker": os.path.exists("/.dockerenv"),
    "uid": os.getuid(),
    "python": sys.executable,
    "cwd_is_job": os.getcwd() == os.path.dirname(os.environ["MLWS_OUTPUTS"]),
    "host": os.environ.get("HOSTNAME"),
    "env": dict(os.environ),
    "path": sys.path,
    "dh": [str(d) for d in _dh] == [os.getcwd()],
    "count": ip.execution_count,
    "history": len(In),
    "argv": [os.path.basename(sys.argv[0]), *sys.argv[1:2]],
    "orig_argv": sys.orig_argv[1:3],
}
run.tag("seen", json.dumps(seen, sort_keys=True))
run.log("probe", 1)
if leak:
    LEAKED = 1
    sys.modules["json_probe_leak"] = json
    os.environ["MLWS_POOL_LEAK"] = "1"
    builtins.mlws_leak = True
    builtins.abs = lambda x: 42
    os.chdir("/")
"""

TRAPS = """\
import os, time
from pathlib import Path
from jupyter_mlws import Run
os.makedirs("logs", exist_ok=True)
Path("logs/real.txt").write_text("fine")
os.symlink(secret, "logs/leak.txt")
os.symlink(os.path.dirname(secret), "logs/leakdir")
os.mkfifo("logs/pipe")
os.symlink(secret, "outputs/leak.txt")
Run.get_context().tag("started", "yes")
time.sleep(600)
"""

# Run in a pooled job's container: SIGKILL to its kernel (the process running ipykernel's launcher).
KILL_KERNEL = """\
import os, signal
found = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()
         and b"IPKernelApp" in open(f"/proc/{p}/cmdline", "rb").read()]
for pid in found:
    os.kill(pid, signal.SIGKILL)
print(len(found))
"""

# What differs between any two jobs' kernels, pooled or not: the run, its folder, its container.
PER_JOB = {"MLWS_RUN_ID", "MLWS_OUTPUTS", "MLWS_ERROR_FILE", "HOSTNAME", "JPY_PARENT_PID"}


@dataclass
class Pool:
    ws: Any
    exp: Experiment
    src: Path
    engine: Any

    def submit(self, notebook: str = "probe.ipynb", target: str = "docker", **parameters: Any) -> Run:
        if notebook == "probe.ipynb":
            parameters.setdefault("leak", False)
        config = NotebookRunConfig(self.src, notebook, parameters=parameters, compute_target=target)
        return self.exp.submit(config)

    def done(self, run: Run, status: str = "Completed", timeout: float = WAIT) -> Run:
        details = run.wait_for_completion(timeout=timeout, raise_on_error=False)
        assert details["status"] == status, details.get("error")
        return Run(self.exp, run.id)

    def state(self) -> dict[str, Any]:
        try:
            found: dict[str, Any] = json.loads((self.ws.path / "agent" / "pool" / "pool.json").read_text())
            return found
        except (OSError, ValueError):
            return {"kernels": [], "handed": []}

    def warm(self) -> list[dict[str, Any]]:
        """The warm container kernels (waits for one)."""

        def containers() -> list[dict[str, Any]]:
            return [k for k in self.state()["kernels"] if k.get("container")]

        found: list[dict[str, Any]] = wait_until(containers, WAIT, "a warm kernel in a container")
        return found

    def pool_containers(self) -> list[Any]:
        pool = str(self.ws.path / "agent" / "pool")
        return list(self.engine.containers.list(all=True, filters={"label": f"{POOL_LABEL}={pool}"}))


@pytest.fixture(scope="module")
def pool(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    root = tmp_path_factory.mktemp("docker-kernel-pool")
    with agent_workspace(root, idle_seconds=IDLE_SECONDS) as ws:
        src = root / "src"
        src.mkdir()
        write_notebook(src / "probe.ipynb", [("parameters", "leak = False"), ("code", PROBE)])
        write_notebook(
            src / "fails.ipynb",
            [("code", "x = 1"), ("code", "raise ValueError('cell two fails')"), ("code", "y = 3")],
        )
        write_notebook(
            src / "waits.ipynb",
            [
                (
                    "code",
                    "import time\nfrom jupyter_mlws import Run\nRun.get_context().tag('started', 'yes')\n"
                    "time.sleep(600)",
                )
            ],
        )
        write_notebook(
            src / "traps.ipynb",
            [
                ("parameters", "secret = ''"),
                ("code", TRAPS),
            ],
        )
        ComputeTarget.attach(ws, "docker", DockerCompute.attach_configuration(base_image=TEST_IMAGE))
        ComputeTarget.attach(ws, "fresh", DockerCompute.attach_configuration(base_image=TEST_IMAGE, kernel_pool_size=0))
        p = Pool(ws, Experiment(ws, "docker-pool"), src, engine)
        p.done(p.submit(), timeout=BUILD_WAIT)  # builds the image if need be: its next jobs find it built
        p.done(p.submit())  # the first with a built image: the pool starts its kernel now
        p.warm()
        try:
            yield p
        finally:
            for container in p.pool_containers():  # a failed test's leftovers (the last test checks none)
                with contextlib.suppress(Exception):  # removed by the agent meanwhile
                    container.remove(force=True)


def _seen(run: Run) -> dict[str, Any]:
    seen: dict[str, Any] = json.loads(run.tags["seen"])
    return seen


def _log(run: Run) -> str:
    return str(run.read_log(max_bytes=1 << 24)[0].decode())


def test_a_pooled_kernel_runs_the_job_as_a_fresh_container_would(pool: Pool, tmp_path: Path) -> None:
    fresh = pool.done(pool.submit(target="fresh"))
    pool.warm()
    pooled = pool.done(pool.submit())
    assert PRESTARTED in _log(pooled) and PRESTARTED not in _log(fresh)
    a, b = _seen(fresh), _seen(pooled)
    for seen in (a, b):
        assert seen["docker"] and seen["cwd_is_job"] and seen["dh"], seen
        assert not (seen["global"] or seen["module"] or seen["env_leak"] or seen["builtin"]), seen
        assert seen["uid"] == os.getuid() and seen["python"] == "/opt/mlws/venv/bin/python"
    # The same environment and path, but for what is each job's own (its run, its folder, its container).
    folder_a = os.path.dirname(a["env"]["MLWS_OUTPUTS"])
    folder_b = os.path.dirname(b["env"]["MLWS_OUTPUTS"])
    env_a = {k: v.replace(folder_a, "JOB") for k, v in a["env"].items() if k not in PER_JOB}
    env_b = {k: v.replace(folder_b, "JOB") for k, v in b["env"].items() if k not in PER_JOB}
    assert env_a == env_b
    assert b["env"]["MLWS_RUN_ID"] == pooled.id and b["host"] != a["host"]
    assert [p.replace(folder_a, "JOB") for p in a["path"]] == [p.replace(folder_b, "JOB") for p in b["path"]]
    for key in ("count", "history", "argv", "orig_argv"):
        assert a[key] == b[key], key
    # What the kernel did reached the run: its metric (through the job API), ./logs, outputs.
    for run in (fresh, pooled):
        assert run.get_metrics()["probe"] == 1
        assert {"logs/probe.txt", "outputs/probe.txt", "outputs/probe.ipynb"} <= set(run.get_file_names())
        target = run.download_file("logs/probe.txt", tmp_path / f"{run.id}.txt")
        assert Path(target).read_text() == "written in ./logs"
    # Used once: the pooled job's container is removed (by the agent, once the job's supervisor ends).
    wait_until(
        lambda: all(c.attrs["Config"]["Hostname"] != b["host"] for c in pool.engine.containers.list(all=True)),
        WAIT,
        "the used kernel's container to be removed",
    )


def test_nothing_a_job_does_reaches_the_next_job(pool: Pool) -> None:
    pool.warm()
    leaky = pool.done(pool.submit(leak=True))
    pool.warm()
    after = pool.done(pool.submit())
    assert PRESTARTED in _log(leaky) and PRESTARTED in _log(after)
    seen = _seen(after)
    assert not (seen["global"] or seen["module"] or seen["env_leak"] or seen["builtin"]), seen
    assert seen["cwd_is_job"] and seen["host"] != _seen(leaky)["host"]


def test_a_failing_cell_and_a_killed_kernel_fail_only_their_job(pool: Pool) -> None:
    pool.warm()
    failed = pool.done(pool.submit("fails.ipynb"), "Failed")
    error = failed.get_details()["error"]
    assert error["cell_index"] == 1 and error["ename"] == "ValueError" and "cell two fails" in error["message"]
    assert PRESTARTED in _log(failed)

    pool.warm()
    waiting = pool.submit("waits.ipynb")
    wait_until(lambda: Run(pool.exp, waiting.id).get_tags().get("started") == "yes", WAIT, "the cell to start")
    handed = [k for k in pool.state()["handed"] if k.get("container")]
    assert len(handed) == 1
    # SIGKILL to the kernel alone (its runner, in the same container, sees it die under its cell).
    killed = pool.engine.containers.get(handed[0]["container"]).exec_run(
        ["/opt/mlws/venv/bin/python", "-c", KILL_KERNEL]
    )
    assert killed.exit_code == 0 and killed.output.strip() == b"1", killed.output
    error = pool.done(waiting, "Failed").get_details()["error"]
    assert error["reason"] == "kernel_died" and "cell 1" in error["message"], error

    pool.warm()  # replaced; the next job runs
    assert _seen(pool.done(pool.submit()))["cwd_is_job"]


def test_a_pooled_job_cancels_and_its_links_and_fifos_are_not_followed(pool: Pool, tmp_path: Path) -> None:
    """The container's code may leave links to host files and FIFOs where the supervisor reads (its
    ./logs, copied live; its outputs): none is followed or opened. And a cancel stops it as it stops a
    fresh container."""
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-KEY")
    pool.warm()
    run = pool.submit("traps.ipynb", secret=str(secret))
    wait_until(lambda: Run(pool.exp, run.id).get_tags().get("started") == "yes", WAIT, "the traps to be set")
    run.cancel()
    details = pool.done(run, "Canceled").get_details()
    assert PRESTARTED in _log(run)
    names = set(Run(pool.exp, run.id).get_file_names())
    assert "logs/real.txt" in names and not {"logs/leak.txt", "logs/pipe", "outputs/leak.txt"} & names, names
    assert details["error"]["reason"] == "canceled"
    # Stopped and removed, as a fresh job's container is (it was renamed after its run when handed over).
    wait_until(
        lambda: not pool.engine.containers.list(all=True, filters={"name": f"mlws-{run.id}"}),
        WAIT,
        "the canceled job's container to be removed",
    )


def test_a_kernel_that_dies_while_pooled_is_replaced(pool: Pool) -> None:
    dead = pool.warm()[0]
    time.sleep(EARLY_EXIT_S)  # one that dies sooner is taken for one that cannot start: retried later
    pool.engine.containers.get(dead["container"]).kill()
    replaced = wait_until(
        lambda: [k for k in pool.warm() if k["container"] != dead["container"]], WAIT, "a new warm kernel"
    )
    assert [k["container"] for k in pool.warm()] == [replaced[0]["container"]]
    wait_until(lambda: not Path(dead["slot"]).exists(), WAIT, "the dead kernel's folder to be removed")
    run = pool.done(pool.submit())
    assert PRESTARTED in _log(run) and _seen(run)["cwd_is_job"]


def test_pools_are_keyed_by_image_and_container_settings(pool: Pool) -> None:
    spec = {"kind": "notebook", "kernel_name": "python3"}
    config = DockerCompute.validate_config({"base_image": TEST_IMAGE})
    key = pool_key(spec, config)
    assert key is not None and key[1] == "python3"
    assert pool_key(spec, {**config, "memory": "1g"}) not in (None, key)
    assert pool_key({**spec, "kernel_name": "other"}, config) is None
    assert pool_key({**spec, "kind": "script"}, config) is None
    assert pool_key(spec, {**config, "network_mode": "none"}) not in (None, key)  # no ports: any network
    assert pool_key(spec, {**config, "docker_host": "tcp://127.0.0.1:2375"}) is None
    unbuilt = Environment("never-built")
    unbuilt.python.pip_packages = ["six==1.16.0", "mlws-not-built-marker-0"]
    assert pool_key({**spec, "environment": {"definition": unbuilt.definition()}}, config) is None
    managed = Environment("managed")
    managed.python.user_managed_dependencies = True
    assert pool_key({**spec, "environment": {"definition": managed.definition()}}, config) is None
    with pytest.raises(InvalidArgumentError, match="kernel_pool_size"):
        DockerCompute.validate_config({"base_image": TEST_IMAGE, "kernel_pool_size": -1})


def test_an_agent_removes_the_kernel_containers_a_killed_agent_left(engine: Any, tmp_path: Path) -> None:
    """The state file names each kernel's container and folder: an agent started after one that was
    killed (its clean-up never ran) removes those left warm and those of jobs whose supervisors are gone."""
    folder = tmp_path / "pool"
    folder.mkdir()
    left = []
    for _ in range(2):
        slot = make_channel_folder(SLOT_PREFIX)
        container = engine.containers.create(TEST_IMAGE, ["sleep", "600"], labels={POOL_LABEL: str(folder)})
        left.append(
            {"pid": 0, "python": "docker:{}", "kernel_name": "python3", "container": container.id, "slot": str(slot)}
        )
    state = {"kernels": [left[0]], "handed": [{**left[1], "supervisor": 2**22 + 7, "supervisor_start": 1}]}
    (folder / "pool.json").write_text(json.dumps(state))
    KernelPool(folder).kill_leftovers()
    assert engine.containers.list(all=True, filters={"label": f"{POOL_LABEL}={folder}"}) == []
    assert not any(Path(entry["slot"]).exists() for entry in left)


def test_zz_the_pool_empties_when_the_agent_idles_out(pool: Pool) -> None:
    """Last in the module: the agent idles out (nothing is submitted) and removes its kernels'
    containers and their folders."""
    slots = [k["slot"] for k in pool.warm()]
    assert len(pool.state()["kernels"]) == 1  # its size (default 1)
    wait_until(lambda: agent.running_pid(pool.ws) is None, WAIT, "the agent to idle out")
    assert pool.pool_containers() == []
    assert all(Path(slot).name.startswith(SLOT_PREFIX) and not Path(slot).exists() for slot in slots)
