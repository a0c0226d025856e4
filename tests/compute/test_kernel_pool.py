"""The agent's pool of pre-started notebook kernels (issue 22), with real kernels.

Each pooled kernel serves exactly one job: nothing a job does (a global, an imported module,
``os.environ``, the working folder, a patched builtin) is visible to the next; a job starts in its own
folder with its own environment and run, and sees nothing of the pool's set-up. A kernel that dies
while pooled is replaced; one killed under a job fails that job only, naming why; jobs of different
kernels never share one; a failing cell reports as it does with a fresh kernel; sweeps' and pipelines'
notebook jobs draw from the pool; a built venv's jobs draw from a pool of the venv's interpreter (never
a plain job's), their kernel seeing exactly what a fresh one does; the pool keeps its size and empties
when the agent idles out.

One workspace and one agent serve the whole module (kernels are what is slow here); the test that
lets the agent idle out runs last. No assertion depends on how long anything takes.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import ComputeTarget, Environment, Experiment, NotebookRunConfig, Run, Workspace
from jupyter_mlws.compute import agent
from jupyter_mlws.compute.environments.keys import package_dir
from jupyter_mlws.compute.environments.venv import BUILT_MARKER, venv_folder
from jupyter_mlws.compute.kernel_pool import (
    KernelPool,
    PooledKernel,
    pool_key,
    pool_size,
    read_description,
    write_description,
)
from jupyter_mlws.compute.local import LocalCompute
from jupyter_mlws.errors import InvalidArgumentError
from tests.compute.conftest import wait_until, write_alt_kernelspec
from tests.support.agent_workspace import agent_workspace
from tests.support.notebooks import write_notebook

pytestmark = pytest.mark.slow

WAIT = 120
PRESTARTED = "Using a pre-started"
IDLE_SECONDS = 6  # longer than any pause between two jobs of the module: its agent never idles out early
LAST_AGENT_IDLE_SECONDS = 3

PROBE = """\
import builtins, json, os, sys
from IPython import get_ipython
from jupyter_mlws import Run

run = Run.get_context()
ip = get_ipython()
seen = {
    "global": "LEAKED" in globals(),
    "module": "mlws_pool_probe" in sys.modules,
    "env": "MLWS_POOL_LEAK" in os.environ,
    "builtin": hasattr(builtins, "mlws_leak") or abs(-1) != 1,
    "setup_names": sorted(n for n in ("ARGS", "a", "env", "json_loads") if n in globals()),
    "cwd_is_job": os.path.basename(os.getcwd()) == run.id,
    "run_env": os.environ.get("MLWS_RUN_ID") == run.id,
    "pool_on_path": [p for p in sys.path if "agent/pool" in p],
    "dh": [str(d) for d in _dh] == [os.getcwd()],
    "dh_types": [type(d).__name__ for d in _dh],
    "count": ip.execution_count,
    "history": len(In),
    "flavour": os.environ.get("MLWS_KERNEL_FLAVOUR", "default"),
    # As ipykernel's launcher starts it (a pooled kernel is launched by its code, see _LAUNCHER).
    "argv": [os.path.basename(sys.argv[0]), *sys.argv[1:2]],
    "orig_argv": sys.orig_argv[1:3],
    "path": [p.replace(run.id, "RUN") for p in sys.path],
}
run.tag("seen", json.dumps(seen, sort_keys=True))
run.tag("pid", str(os.getpid()))
run.log("probe", 1)  # buffered: flushed when the kernel exits, which a pooled kernel must do too
if leak:
    LEAKED = 1
    import mlws_pool_probe
    os.environ["MLWS_POOL_LEAK"] = "1"
    builtins.mlws_leak = True
    builtins.abs = lambda x: 42
    os.chdir("/")
"""

CLEAN = {
    "global": False,
    "module": False,
    "env": False,
    "builtin": False,
    "setup_names": [],
    "cwd_is_job": True,
    "run_env": True,
    "pool_on_path": [],
    "dh": True,
}


@dataclass
class Pool:
    ws: Workspace
    exp: Experiment
    src: Path
    root: Path

    def submit(self, notebook: str = "probe.ipynb", **kwargs: Any) -> Run:
        if notebook in ("probe.ipynb", "alt.ipynb"):
            kwargs.setdefault("parameters", {"leak": False})  # papermill injects a cell only for parameters
        return self.exp.submit(NotebookRunConfig(source_directory=self.src, notebook=notebook, **kwargs))

    def done(self, run: Run, status: str = "Completed") -> Run:
        details = run.wait_for_completion(timeout=WAIT, raise_on_error=False)
        assert details["status"] == status, details.get("error")
        return Run(self.exp, run.id)

    def log(self, run: Run) -> str:
        return str(run.read_log()[0].decode())

    def kernels(self, name: str | None = "python3") -> list[int]:
        """The warm kernels the agent lists (of one kernel name, or all)."""
        try:
            state = json.loads((self.ws.path / "agent" / "pool" / "pool.json").read_text())
        except (OSError, ValueError):
            return []
        return [k["pid"] for k in state["kernels"] if name is None or k["kernel_name"] == name]

    def pythons(self) -> list[str]:
        """The interpreters of the warm kernels the agent lists."""
        try:
            state = json.loads((self.ws.path / "agent" / "pool" / "pool.json").read_text())
        except (OSError, ValueError):
            return []
        return [str(k["python"]) for k in state["kernels"]]

    def warm(self, name: str = "python3", count: int = 1) -> list[int]:
        return wait_until(lambda: len(self.kernels(name)) >= count and self.kernels(name), WAIT, f"{count} warm {name}")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    root = tmp_path_factory.mktemp("kernel-pool")
    write_alt_kernelspec(root / "jupyter")  # a second kernel: this interpreter with a variable of its kernelspec
    old_path = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(root / "jupyter")  # the agent is spawned with it
    try:
        with agent_workspace(root, idle_seconds=IDLE_SECONDS) as ws:
            src = root / "src"
            src.mkdir()
            (src / "mlws_pool_probe.py").write_text("VALUE = 1\n")
            write_notebook(src / "probe.ipynb", [("parameters", "leak = False"), ("code", PROBE)])
            write_notebook(
                src / "alt.ipynb",
                [("parameters", "leak = False"), ("code", PROBE)],
                kernel={"name": "mlws-alt", "display_name": "Alt", "language": "python"},
            )
            ComputeTarget.attach(ws, "nopool", LocalCompute.attach_configuration(kernel_pool_size=0))
            p = Pool(ws, Experiment(ws, "pool"), src, root)
            p.done(p.submit())  # the first job of a fresh agent starts its kernel itself
            p.warm()
            yield p
    finally:
        if old_path is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old_path


def _seen(run: Run) -> dict[str, Any]:
    seen: dict[str, Any] = json.loads(run.tags["seen"])
    return seen


def test_nothing_a_job_does_reaches_the_next_and_the_setup_is_invisible(pool: Pool) -> None:
    # A kernel started for the job, as before: on a target of its own, so it starts alongside the others.
    fresh_run = pool.submit(compute_target="nopool")
    first = pool.done(pool.submit(parameters={"leak": True}))
    second = pool.done(pool.submit())
    fresh = pool.done(fresh_run)
    assert PRESTARTED not in pool.log(fresh)
    assert {k: _seen(fresh)[k] for k in CLEAN} == CLEAN
    for run in (first, second):
        assert PRESTARTED in pool.log(run)
        assert _seen(run) == _seen(fresh), run.id  # execution count and history too
        assert run.get_metrics()["probe"] == 1
    assert first.tags["pid"] != second.tags["pid"]  # a kernel serves one job
    assert not _alive(int(first.tags["pid"]))  # and is shut down after it


def test_a_kernel_that_dies_while_pooled_is_replaced(pool: Pool) -> None:
    (victim,) = pool.warm()
    os.kill(victim, signal.SIGKILL)
    replaced = wait_until(lambda: [p for p in pool.kernels() if p != victim], WAIT, "a replacement kernel")
    run = pool.done(pool.submit())
    assert PRESTARTED in pool.log(run) and run.tags["pid"] == str(replaced[0])


def test_a_pooled_kernel_killed_mid_job_fails_that_job_only_with_the_reason(pool: Pool) -> None:
    flag = pool.root / "kernel.pid"
    write_notebook(
        pool.src / "hang.ipynb",
        [
            ("parameters", "flag = ''"),
            ("code", "import os, pathlib, time\npathlib.Path(flag).write_text(str(os.getpid()))\ntime.sleep(600)"),
        ],
    )
    pool.warm()
    hung = pool.submit("hang.ipynb", parameters={"flag": str(flag)})
    pid = int(wait_until(lambda: flag.exists() and flag.read_text(), WAIT, "the job's kernel"))
    other = pool.submit()  # alongside it, on another kernel
    os.kill(pid, signal.SIGKILL)
    failed = pool.done(hung, "Failed")
    error = failed.get_details()["error"]
    # Code cells: the parameters, papermill's injected parameters, then the one that hangs.
    assert "kernel died while running cell 3" in error["message"], error
    assert pool.done(other).tags["pid"] != str(pid)
    assert pool.done(pool.submit()).tags["seen"]  # the pool goes on serving


def test_a_failing_cell_reports_as_with_a_fresh_kernel(pool: Pool) -> None:
    write_notebook(
        pool.src / "fail.ipynb",
        [("parameters", "x = 1"), ("code", "y = x + 1"), ("code", "raise ValueError(f'boom {y}')"), ("code", "z = 3")],
    )
    pool.warm()
    # Side by side: each target runs its own.
    runs = [pool.submit("fail.ipynb", parameters={"x": 2}, compute_target=t) for t in ("local", "nopool")]
    pooled, fresh = (pool.done(run, "Failed") for run in runs)
    assert PRESTARTED in pool.log(pooled) and PRESTARTED not in pool.log(fresh)
    errors = [run.get_details()["error"] for run in (pooled, fresh)]
    fields = ("message", "cell_index", "exec_count", "ename", "evalue")
    assert [{k: e[k] for k in fields} for e in errors] == [
        {"message": "cell 3 raised ValueError: boom 3", "cell_index": 3, "exec_count": 4, "ename": "ValueError",
         "evalue": "boom 3"}
    ] * 2  # fmt: skip
    assert all("raise ValueError(f'boom {y}')" in e["traceback"] for e in errors)


EXITS = """\
import atexit, gzip, os
from jupyter_mlws import Run
os.makedirs('outputs', exist_ok=True)
atexit.register(lambda: open('outputs/at-exit.txt', 'w').write('written at exit'))
left_open = open('outputs/left-open.txt', 'w')
left_open.write('buffered until exit')
class Box:
    pass
held = Box(); held.me = held; held.f = open('outputs/held-cycle.txt', 'w')
held.f.write('a cycle a global holds')
zipped = gzip.open('outputs/cycle.gz', 'wt'); zipped.write('hello ' * 1000)
box = Box(); box.me = box; box.g = zipped; del zipped
class Saver:
    def __init__(self):
        self.me = self
        self.open = open
    def __del__(self):
        self.open('outputs/del.txt', 'w').write('del ran')
saver = Saver()
late = open('outputs/late.txt', 'w'); other = Box(); other.me = other; other.f = late; del late
atexit.register(lambda b=other: b.f.write('by atexit'))
del other
Run.get_context().log('buffered', 3)
"""


def test_what_a_pooled_kernel_writes_as_it_exits_is_in_the_outputs(pool: Pool) -> None:
    """A pooled job ends without waiting for its kernel to exit, but its outputs are collected only
    after the exit, and the exit does what a fresh kernel's does: exit handlers run, files left open
    are flushed, and reference cycles that become garbage as the exit clears the namespace are
    collected, their finalizers run (a __del__, a gzip file's trailer, a file an exit handler writes
    to). The kernel froze only its own start-up objects; the metric the notebook buffered is
    recorded. Compared file by file with a fresh kernel's job."""
    write_notebook(pool.src / "exits.ipynb", [("code", EXITS)])
    fresh_run = pool.submit("exits.ipynb", compute_target="nopool")
    pooled = pool.done(pool.submit("exits.ipynb"))
    fresh = pool.done(fresh_run)
    assert PRESTARTED in pool.log(pooled) and PRESTARTED not in pool.log(fresh)
    assert pooled.get_metrics()["buffered"] == 3
    names = ["at-exit.txt", "left-open.txt", "held-cycle.txt", "del.txt", "late.txt", "cycle.gz"]
    contents = []
    for run in (pooled, fresh):
        out = pool.root / f"exits-{run.id}"
        found = {}
        for name in names:
            run.download_file(f"outputs/{name}", str(out / name))
            data = (out / name).read_bytes()
            found[name] = gzip.decompress(data).decode() if name.endswith(".gz") else data.decode()
        contents.append(found)
    assert contents[0] == contents[1]
    assert contents[0] == {
        "at-exit.txt": "written at exit",
        "left-open.txt": "buffered until exit",
        "held-cycle.txt": "a cycle a global holds",
        "del.txt": "del ran",
        "late.txt": "by atexit",
        "cycle.gz": "hello " * 1000,
    }


def test_jobs_of_different_kernels_never_share_one(pool: Pool) -> None:
    runs = [pool.submit("alt.ipynb"), pool.submit(), pool.submit("alt.ipynb"), pool.submit()]
    done = [pool.done(run) for run in runs]
    flavours = [_seen(run)["flavour"] for run in done]
    assert flavours == ["alt", "default", "alt", "default"]  # the kernelspec's variable survives the set-up
    assert len({run.tags["pid"] for run in done}) == 4
    assert PRESTARTED in pool.log(done[2]) and PRESTARTED in pool.log(done[3])
    assert pool.warm("mlws-alt") and pool.warm("python3")
    assert not set(pool.kernels("mlws-alt")) & set(pool.kernels("python3"))


def test_notebook_sweep_children_and_pipeline_steps_draw_from_the_pool(pool: Pool) -> None:
    from jupyter_mlws import (
        GridParameterSampling,
        HyperDriveConfig,
        NotebookStep,
        Pipeline,
        PrimaryMetricGoal,
        choice,
    )

    write_notebook(
        pool.src / "trial.ipynb",
        [("parameters", "lr = 0.1"), ("code", "from jupyter_mlws import Run\nRun.get_context().log('acc', lr)")],
    )
    pool.warm()
    sweep = pool.exp.submit(
        HyperDriveConfig(
            run_config=NotebookRunConfig(source_directory=str(pool.src), notebook="trial.ipynb"),
            hyperparameter_sampling=GridParameterSampling({"--lr": choice(0.1, 0.2, 0.3, 0.4)}),
            primary_metric_name="acc",
            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
            max_total_runs=4,
            max_concurrent_runs=2,
        )
    )
    sweep.wait_for_completion(timeout=WAIT)
    children = sorted(sweep.get_children(), key=lambda r: r.id)
    assert len(children) == 4 and all(c.get_status() == "Completed" for c in children)
    # While two trials run, two kernels are kept warm: the later trials all find one.
    assert sum(PRESTARTED in pool.log(c) for c in children) >= 3

    steps = [
        NotebookStep("trial.ipynb", name=f"s{i}", parameters={"lr": i / 10}, source_directory=pool.src) for i in (1, 2)
    ]
    run = pool.exp.submit(Pipeline(pool.ws, steps))
    assert run.wait_for_completion(show_output=False) == "Completed"
    logs = [pool.log(run.find_step_run(f"s{i}")[0]) for i in (1, 2)]
    assert any(PRESTARTED in log for log in logs)


VENV_PROBE = """\
import json, os, sys
from jupyter_mlws import Run

run = Run.get_context()
# What differs between any two jobs (their run, their secrets channel, their runner's pid) is left out.
volatile = {"JPY_PARENT_PID", "MLWS_SECRETS_API"}
seen = {
    "executable": sys.executable,
    "prefix": sys.prefix,
    "environ": {k: v.replace(run.id, "RUN") for k, v in os.environ.items() if k not in volatile},
    "path": [p.replace(run.id, "RUN") for p in sys.path],
    "cwd_is_job": os.path.basename(os.getcwd()) == run.id,
}
run.tag("venv", json.dumps(seen, sort_keys=True))
run.tag("pid", str(os.getpid()))
"""


def _cached_venv(definition: dict[str, Any]) -> Path:
    """The venv of ``definition`` as the environment cache holds a built one (its marker written), made
    without the build (pip installing the job runtime takes minutes; building is test_environments'
    part): its packages are this interpreter's, through a .pth, and the package linked as a build
    links it. What matters here is that it is an interpreter, and a prefix, of its own."""
    folder = venv_folder(definition)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=WAIT)
    site = folder / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (site / "mlws_host.pth").write_text(f"{package_dir().parent}\n{sysconfig.get_paths()['purelib']}\n")
    (folder / BUILT_MARKER).write_text(json.dumps({"definition": definition}))
    return folder


def _venv_seen(run: Run) -> dict[str, Any]:
    seen: dict[str, Any] = json.loads(run.tags["venv"])
    return seen


def _differences(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


def test_a_built_venvs_jobs_draw_from_a_pool_of_their_own_interpreter(pool: Pool) -> None:
    write_notebook(pool.src / "venv.ipynb", [("code", VENV_PROBE)])
    env = Environment("pool-venv")
    env.python.pip_packages = ["mlws-kernel-pool-venv"]  # a definition (a venv) no other test of the session has
    env = env.register(pool.ws)
    folder = _cached_venv(env.definition())
    python = str(folder / "bin" / "python")

    # Fresh kernels to compare with: the venv's first job (its pool has no kernel yet: the agent keys
    # it when the job is dispatched) and a plain job on the target without a pool, side by side.
    firsts = [pool.submit("venv.ipynb", environment="pool-venv"), pool.submit("venv.ipynb", compute_target="nopool")]
    fresh_venv, fresh_plain = (pool.done(run) for run in firsts)
    assert PRESTARTED not in pool.log(fresh_venv) and PRESTARTED not in pool.log(fresh_plain)
    assert (_venv_seen(fresh_venv)["executable"], _venv_seen(fresh_venv)["prefix"]) == (python, str(folder))
    wait_until(lambda: {python, sys.executable} <= set(pool.pythons()), WAIT, "warm kernels of both interpreters")
    # Side by side: a job of the venv and a plain one, each on a pooled kernel of its own interpreter.
    runs = [pool.submit("venv.ipynb", environment="pool-venv"), pool.submit("venv.ipynb")]
    in_venv, plain = (pool.done(run) for run in runs)
    assert PRESTARTED in pool.log(in_venv) and PRESTARTED in pool.log(plain)
    assert (_venv_seen(in_venv)["executable"], _venv_seen(in_venv)["prefix"]) == (python, str(folder))
    assert (_venv_seen(plain)["executable"], _venv_seen(plain)["prefix"]) == (sys.executable, sys.prefix)
    assert len({run.tags["pid"] for run in (fresh_venv, fresh_plain, in_venv, plain)}) == 4
    # A pooled kernel sees exactly what a fresh one saw: its variables (for the venv: PATH's first folder
    # the venv's, no VIRTUAL_ENV, as a venv job's runner has; TERM as ipykernel sets it), its sys.path,
    # its folder.
    for pooled, fresh in ((in_venv, fresh_venv), (plain, fresh_plain)):
        assert _differences(_venv_seen(pooled)["environ"], _venv_seen(fresh)["environ"]) == {}, pooled.id
        assert _venv_seen(pooled) == _venv_seen(fresh), pooled.id
        assert _venv_seen(pooled)["cwd_is_job"]
    environ = _venv_seen(in_venv)["environ"]
    assert environ["PATH"].split(os.pathsep)[0] == str(folder / "bin") and "VIRTUAL_ENV" not in environ


def test_kernels_left_warm_by_a_killed_agent_are_stopped_by_the_next(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = pool.warm()
    holder = agent.running_pid(pool.ws)
    assert holder is not None
    os.kill(holder, signal.SIGKILL)  # no clean-up runs
    wait_until(lambda: agent.running_pid(pool.ws) is None, WAIT, "the agent to die")
    assert all(_alive(pid) for pid in warm)
    # The next agent serves only this test and the idle-out one, which waits for it to idle: a shorter
    # idle time saves that test seconds. (Should it idle out before that test submits, the submit starts
    # another agent, with the module's idle time: the test holds either way.)
    monkeypatch.setenv("MLWS_AGENT_IDLE_SECONDS", str(LAST_AGENT_IDLE_SECONDS))
    pool.done(pool.submit())  # starts the next agent
    wait_until(lambda: not any(_alive(pid) for pid in warm), WAIT, "the orphaned kernels to stop")


def test_kernels_a_killed_agent_had_handed_out_are_stopped_once_their_supervisors_are_gone(tmp_path: Path) -> None:
    """A pooled kernel has no parent to exit with: the agent lists the kernels it handed to jobs, and
    the next agent stops those whose job's supervisor died with it (not one whose supervisor runs)."""
    folder = tmp_path / "pool"

    def fake_kernel() -> subprocess.Popen[bytes]:  # its command line names the pool's folder, as a kernel's
        argv = [sys.executable, "-c", "import time; time.sleep(120)", str(folder)]
        return subprocess.Popen(argv, start_new_session=True)

    orphan, in_use = fake_kernel(), fake_kernel()
    try:
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        pool = KernelPool(folder)
        for supervisor, kernel in ((gone.pid, orphan), (os.getpid(), in_use)):
            pool.hand(supervisor, PooledKernel(("python", "python3"), kernel.pid, -1, {}, "", "", "", {}, {}))
        state = json.loads((folder / "pool.json").read_text())
        assert sorted(entry["pid"] for entry in state["handed"]) == sorted([orphan.pid, in_use.pid])
        KernelPool(folder).kill_leftovers()  # the next agent
        assert orphan.wait(30) == -signal.SIGKILL
        assert in_use.poll() is None  # its job's supervisor still runs
    finally:
        for process in (orphan, in_use):
            process.kill()
            process.wait()


def test_the_pool_keeps_its_size_and_empties_when_the_agent_idles_out(pool: Pool) -> None:
    ComputeTarget.attach(pool.ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2, kernel_pool_size=2))
    pool.done(
        pool.exp.submit(NotebookRunConfig(source_directory=pool.src, notebook="probe.ipynb", compute_target="two"))
    )
    warm = pool.warm("python3", 2)
    assert len(warm) == 2 and len(pool.kernels()) <= 2
    everything = pool.kernels(None)
    holder = agent.running_pid(pool.ws)
    assert holder is not None
    wait_until(lambda: agent.running_pid(pool.ws) is None, WAIT, "the agent to idle out")
    assert pool.kernels(None) == []
    assert [pid for pid in everything if _alive(pid)] == []


def test_the_pool_size_setting_is_checked_with_the_fix() -> None:
    assert pool_size({}) == 1 and pool_size({"kernel_pool_size": 0}) == 0
    for bad in (-1, "2", 1.5, True):
        with pytest.raises(
            InvalidArgumentError, match=r"kernel_pool_size must be an integer >= 0.*attach_configuration"
        ):
            LocalCompute.validate_config({"kernel_pool_size": bad})


def test_a_pool_follows_demand_while_more_jobs_run_than_its_size(tmp_path: Path) -> None:
    kernels = KernelPool(tmp_path)
    key = (sys.executable, "python3")
    assert kernels.wanted(key) == 0  # no pool before a job asks for one
    kernels.configure(key, 1)
    assert kernels.wanted(key) == 1
    for _ in range(3):
        kernels.job_started(key)
    assert kernels.wanted(key) == 3  # a sweep running three: three kept warm
    for _ in range(3):
        kernels.job_ended(key)
    assert kernels.wanted(key) == 1
    kernels.configure(key, 0)
    kernels.job_started(key)
    assert kernels.wanted(key) == 0  # 0 turns it off, whatever runs


def test_a_job_in_an_environment_is_keyed_by_its_built_venv_only(tmp_path: Path) -> None:
    env = Environment("key-venv")
    env.python.pip_packages = ["mlws-kernel-pool-key"]  # a venv of this test alone
    definition = env.definition()
    spec: dict[str, Any] = {
        "kind": "notebook",
        "kernel_name": "python3",
        "python": sys.executable,
        "environment": {"name": "key-venv", "version": 1, "definition": definition},
    }
    assert pool_key(spec) is None  # not built yet: the job builds it and starts its own kernel
    folder = venv_folder(definition)
    (folder / "bin").mkdir(parents=True)
    (folder / BUILT_MARKER).write_text("{}")  # what a finished build leaves
    assert pool_key(spec) == (str(folder / "bin" / "python"), "python3")
    assert pool_key({**spec, "kind": "script"}) is None
    assert pool_key({**spec, "environment": {"name": "key-venv", "version": 1}}) is None  # not resolved yet
    managed = Environment("mine")
    managed.python.user_managed_dependencies = True
    assert pool_key({**spec, "environment": {"name": "mine", "version": 1, "definition": managed.definition()}}) is None
    assert pool_key({k: v for k, v in spec.items() if k != "environment"}) == (sys.executable, "python3")


def test_a_pooled_kernels_description_is_read_once_and_checked(tmp_path: Path) -> None:
    kernel = PooledKernel(
        key=("/venv/bin/python", "python3"),
        pid=12345,
        pidfd=-1,
        connection={"ip": "127.0.0.1", "key": "secret"},
        connection_file=str(tmp_path / "kernel.json"),
        log_file=str(tmp_path / "kernel.log"),
        neutral_cwd=str(tmp_path / "cwd"),
        launch_env={"PATH": "/venv/bin"},
        spec_env={"FLAVOUR": "alt"},
    )
    path = write_description(kernel, tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600  # it holds the kernel's key
    assert read_description(path).describe() == kernel.describe() and not path.exists()
    with pytest.raises(InvalidArgumentError, match="cannot read the pooled kernel's description"):
        read_description(path)
    path.write_text(json.dumps({"key": ["/venv/bin/python", "python3"], "pid": "x"}))
    with pytest.raises(InvalidArgumentError, match=r"not a pooled kernel's description.*PooledKernel.describe"):
        read_description(path)
