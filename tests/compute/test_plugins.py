"""Compute targets and their plug-in registry (issue 3, item 4).

Target types come from the entry-point group ``jupyter_mlws.compute_targets`` (or ``register``); a
plug-in that cannot be loaded gives a clear error naming it and never breaks ``import jupyter_mlws``.
Compute code reports through a :class:`JobReporter`; it never touches the database itself.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import jupyter_mlws
from jupyter_mlws import Run, RunStatus
from jupyter_mlws.compute.lifecycle import JobExecution
from jupyter_mlws.compute.local import LocalCompute
from jupyter_mlws.compute.supervision import HOSTNAME, StoreReporter, SupervisedCompute
from jupyter_mlws.core.compute import ComputeBackend, ComputeTarget, compute_target_types
from jupyter_mlws.core.layout import DRIVER_LOG
from jupyter_mlws.errors import BackendUnavailableError, InvalidArgumentError, MlwsError, NotFoundError

TIMEOUT = 60.0


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The compute target registry, restored after the test."""
    monkeypatch.setattr(compute_target_types, "_specs", dict(compute_target_types._specs))
    monkeypatch.setattr(compute_target_types, "_loaded", dict(compute_target_types._loaded))
    return compute_target_types


# -- a plug-in: the lifecycle in a thread of this process, reporting through StoreReporter --------------
class InThreadJob(JobExecution):
    def start(self, workdir: Path) -> None:
        listing = sorted(os.listdir(workdir))
        (workdir / "outputs" / "listing.json").write_text(json.dumps(listing))
        with open(self.driver_log, "a") as f:
            f.write(f"fake job ran with {self.config['flavour']}\n")

    def wait(self, timeout: float) -> int | None:
        return 0

    def terminate(self) -> None:
        pass

    def kill(self) -> None:
        pass


class ThreadBackend(ComputeBackend):
    type = "in-thread"
    threads: list[threading.Thread] = []
    submitted: list[str] = []

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        if "flavour" not in config:
            raise InvalidArgumentError("the in-thread target needs a 'flavour'")
        return dict(config)

    def submit(self, run_id: str) -> None:
        reporter = StoreReporter(self.workspace, run_id)
        job = InThreadJob(reporter, reporter.job_spec(), self.config)
        thread = threading.Thread(target=job.process, daemon=True)
        thread.start()
        ThreadBackend.threads.append(thread)
        ThreadBackend.submitted.append(run_id)


def test_a_registered_target_type_runs_submitted_jobs(kit: Any, registry: Any) -> None:
    registry.register("in-thread", ThreadBackend)
    assert "in-thread" in registry.names()
    target = ComputeTarget.attach(kit.ws, "mine", {"type": "in-thread", "flavour": "vanilla"})
    assert (target.name, target.type) == ("mine", "in-thread")
    assert {t.name: t.type for t in ComputeTarget.list(kit.ws)} == {"local": "local", "mine": "in-thread"}

    kit.script("train.py", "print('never executed by this target')\n")
    run = kit.submit("train.py", compute_target=target)  # a ComputeTarget object or its name
    assert ThreadBackend.submitted[-1] == run.id
    ThreadBackend.threads[-1].join(TIMEOUT)
    details = run.wait_for_completion(timeout=TIMEOUT)
    assert details["status"] == "Completed"
    assert details["target"] == "mine"
    with run.open_file("outputs/listing.json") as f:
        assert "train.py" in json.load(f)  # the lifecycle materialised the snapshot for it
    log, _ = run.read_log()
    assert log == b"fake job ran with vanilla\n"
    assert DRIVER_LOG in run.get_file_names()


def test_a_plugin_config_is_validated_by_its_type(kit: Any, registry: Any) -> None:
    registry.register("in-thread", ThreadBackend)
    with pytest.raises(InvalidArgumentError, match="flavour"):
        ComputeTarget.attach(kit.ws, "mine", {"type": "in-thread"})
    assert [t.name for t in ComputeTarget.list(kit.ws)] == ["local"]


def test_a_plugin_that_cannot_be_imported_is_a_clear_error_naming_it(kit: Any, registry: Any) -> None:
    registry.register("broken", "no_such_module_for_mlws:Target")
    assert "broken" in registry.names()
    with pytest.raises(BackendUnavailableError, match="broken"):
        ComputeTarget.attach(kit.ws, "b", {"type": "broken"})
    # A target of that type attached earlier (say, before the plug-in was uninstalled).
    kit.ws.metadata.save_compute_target("b", "broken", {}, time.time())
    kit.script("train.py", "print('hi')\n")
    with pytest.raises(BackendUnavailableError, match="broken"):
        kit.submit("train.py", compute_target="b")
    assert list(kit.ws.search_runs().runs) == []
    assert {t.name for t in ComputeTarget.list(kit.ws)} == {"local", "b"}  # listing needs no plug-in code


@pytest.mark.parametrize(
    "spec",
    ["mlws_exploding_plugin:Target", "json:NoSuchComputeTarget"],
    ids=["module-raises-on-import", "attribute-missing"],
)
def test_a_plugin_that_fails_to_load_otherwise_is_a_clear_error_naming_it(
    kit: Any, registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "mlws_exploding_plugin.py").write_text("raise RuntimeError('kaboom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    registry.register("exploding", spec)
    with pytest.raises(MlwsError, match="exploding"):
        ComputeTarget.attach(kit.ws, "x", {"type": "exploding"})


def test_a_broken_entry_point_does_not_break_import(kit: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = site / "mlws_broken_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlws-broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[jupyter_mlws.compute_targets]\nbrokenplug = no_such_module_xyz:Target\n")
    code = textwrap.dedent(
        """
        import sys
        import jupyter_mlws
        from jupyter_mlws.core.compute import ComputeTarget, compute_target_types
        from jupyter_mlws.errors import BackendUnavailableError

        print("names", compute_target_types.names())
        ws = jupyter_mlws.Workspace(sys.argv[1])
        try:
            ComputeTarget.attach(ws, "bp", {"type": "brokenplug"})
        except BackendUnavailableError as exc:
            print("error", exc)
        print("local", type(ComputeTarget(ws, "local").backend()).__name__)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, str(kit.ws.root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "'brokenplug'" in lines[0] and "'local'" in lines[0]
    assert lines[1].startswith("error") and "brokenplug" in lines[1]
    assert lines[2] == "local LocalCompute"


def test_an_unknown_target_name_lists_the_attached_ones(kit: Any) -> None:
    ComputeTarget.attach(kit.ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2))
    kit.script("train.py", "print('hi')\n")
    with pytest.raises(NotFoundError) as caught:
        kit.submit("train.py", compute_target="nope")
    message = str(caught.value)
    assert "'nope'" in message and "local" in message and "two" in message
    assert list(kit.ws.search_runs().runs) == []


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (LocalCompute.attach_configuration(max_concurrent_runs=0), "max_concurrent_runs"),
        ({"type": "local", "max_concurrent_runs": 1.5}, "max_concurrent_runs"),
        ({"type": "local", "max_concurrent_runs": True}, "max_concurrent_runs"),
        (LocalCompute.attach_configuration(cancel_grace_seconds=-1), "cancel_grace_seconds"),
        ({"type": "local", "gpus": 1}, "gpus"),
        ({"max_concurrent_runs": 2}, "type"),
        ({"type": "no-such-type"}, "no-such-type"),
    ],
)
def test_attach_validation(kit: Any, config: dict[str, Any], words: str) -> None:
    with pytest.raises(MlwsError, match=words):
        ComputeTarget.attach(kit.ws, "t", config)
    assert [t.name for t in ComputeTarget.list(kit.ws)] == ["local"]


def test_attach_refuses_bad_names_and_reconfigures(kit: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        ComputeTarget.attach(kit.ws, "bad name!", LocalCompute.attach_configuration())
    local = ComputeTarget(kit.ws, "local")
    assert local.type == "local" and local.config["max_concurrent_runs"] == (os.cpu_count() or 1)
    ComputeTarget.attach(kit.ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=2))
    ComputeTarget.attach(kit.ws, "two", LocalCompute.attach_configuration(max_concurrent_runs=3))
    assert ComputeTarget(kit.ws, "two").config["max_concurrent_runs"] == 3
    assert [t.name for t in ComputeTarget.list(kit.ws)] == ["local", "two"]
    assert jupyter_mlws.ComputeTarget is ComputeTarget


def test_job_code_reports_through_the_reporter_not_the_database() -> None:
    """The lifecycle and the local target never reach the metadata store or SQL themselves."""
    package = Path(jupyter_mlws.__file__).parent
    for name in ("compute/lifecycle.py", "compute/local.py"):
        tree = ast.parse((package / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("metadata", "_store", "transition_run", "update_job"), (name, node.lineno)
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = getattr(node, "module", None) or ""
                names = [module, *(a.name for a in node.names)]
                assert not any("sqlalchemy" in n or "stores" in n for n in names), (name, node.lineno)


class WatchedBackend(SupervisedCompute):
    """A plug-in whose supervisors report through StoreReporter: it gets their health check."""

    type = "watched"

    def submit(self, run_id: str) -> None:
        pass


def test_reconcile_checks_a_plugins_jobs_through_its_backend(kit: Any, registry: Any) -> None:
    registry.register("watched", WatchedBackend)
    registry.register("in-thread", ThreadBackend)
    ComputeTarget.attach(kit.ws, "watched", {"type": "watched"})
    ComputeTarget.attach(kit.ws, "plain", {"type": "in-thread", "flavour": "vanilla"})
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    runs = {}
    for target in ("watched", "plain"):
        runs[target] = Run.create(kit.exp, status=RunStatus.RUNNING, run_type="script", compute_target=target)
        kit.ws.metadata.update_job(
            runs[target].id, supervisor_pid=int(finished.stdout), supervisor_host=HOSTNAME, heartbeat_time=time.time()
        )
    assert kit.ws.reconcile_jobs() == [runs["watched"].id]
    assert runs["watched"].status == RunStatus.FAILED
    # A target that does not say how to check its jobs (ComputeBackend.reconcile) is left alone.
    assert runs["plain"].status == RunStatus.RUNNING


def test_dask_is_a_built_in_target_type_loaded_only_when_used() -> None:
    """The dask target (issue 19) is registered by name; ``distributed`` is imported when a target of
    that type is used, not by ``import jupyter_mlws`` nor by the registry."""
    assert "dask" in compute_target_types.names()
    code = (
        "import sys; from jupyter_mlws.core.compute import compute_target_types; "
        "cls = compute_target_types.get('dask'); print(cls.__name__, 'distributed' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["DaskCompute", "False"]
