"""Submitting a ScriptRunConfig to the local target (issue 3, items 2 and 3).

A job runs ``python script args`` in a fresh working folder holding the snapshot, finds its run
through ``Run.get_context()``, has ``./outputs`` collected and ``./logs`` streamed live, writes
stdout and stderr to the driver log ``user_logs/std_log.txt`` and ends Completed or Failed with
the exit code, the log tail and the Python traceback in its error details.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Run, RunStatus
from jupyter_mlws.core.run_config import ScriptRunConfig
from jupyter_mlws.core.runs import DRIVER_LOG
from jupyter_mlws.core.status import ACTIVE_STATUSES
from jupyter_mlws.errors import InvalidArgumentError, MlwsError, NotFoundError, RunFailedError

TIMEOUT = 60.0  # generous: a loaded 2-core machine

ACTIVE = {s.value for s in ACTIVE_STATUSES}


def driver_log(run: Run) -> str:
    data, _ = run.read_log(max_bytes=1 << 30)
    return data.decode()


def info_line(log: str) -> dict[str, Any]:
    lines = [line for line in log.splitlines() if line.startswith("INFO ")]
    assert len(lines) == 1, log
    result: dict[str, Any] = json.loads(lines[0][5:])
    return result


# -- the lifecycle of a script job --------------------------------------------------------------------
TRAIN = """
from jupyter_mlws import Run

run = Run.get_context()
Path("outputs/sub").mkdir(parents=True, exist_ok=True)
Path("outputs/sub/model.txt").write_text("weights")
Path("outputs/top.json").write_text("{}")
with open("logs/x.log", "a") as f:
    f.write("live-line\\n")
print("to-stdout", flush=True)
print("to-stderr", file=sys.stderr, flush=True)
run.log("acc", 0.5)
run.log("acc", 0.75)
mark("running", os.getcwd())
wait_for(FLAGS / "go")
info = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "listing": sorted(os.listdir(".")),
    "config": Path("config.txt").read_text(),
    "run_id": run.id,
    "env_run_id": os.environ["MLWS_RUN_ID"],
    "run_type": type(run).__name__,
    "env_workspace": os.environ["MLWS_WORKSPACE"],
    "python": sys.executable,
}
print("INFO " + json.dumps(info), flush=True)
with open("logs/x.log", "a") as f:
    f.write("after-release\\n")
"""


@pytest.mark.slow
def test_script_job_runs_from_its_snapshot_with_live_logs_and_collected_outputs(kit: Any) -> None:
    (kit.src / "config.txt").write_text("from-the-snapshot")
    kit.script("train.py", TRAIN)
    run = kit.submit("train.py", arguments=["--lr", 0.5, "two words"])
    assert run.type == "script"
    assert run.status.value in ACTIVE

    # The snapshot was taken at submit: changing the source folder now changes nothing for the job.
    (kit.src / "config.txt").write_text("changed after submit")

    workdir = Path(kit.wait_flag("running"))
    assert run.status == RunStatus.RUNNING
    assert workdir.is_dir()
    # ./logs is live: what the job wrote there is readable while it still runs, from any reader.
    live, _ = run.read_log(name="logs/x.log")
    assert live == b"live-line\n"
    details = run.get_details()
    assert details["status"] == "Running"
    assert "logs/x.log" in details["logFiles"]
    assert details["startTimeUtc"] is not None and details["endTimeUtc"] is None
    assert "to-stdout" in driver_log(run)

    kit.release("go")
    details = run.wait_for_completion(timeout=TIMEOUT)
    assert details["status"] == "Completed" == run.get_status()
    assert details["startTimeUtc"] is not None and details["endTimeUtc"] is not None
    assert "error" not in details

    log = driver_log(run)
    info = info_line(log)
    assert info["argv"] == ["--lr", "0.5", "two words"]
    assert info["run_id"] == info["env_run_id"] == run.id
    assert info["run_type"] == "Run"  # not an offline run
    assert Path(info["env_workspace"]) == kit.ws.root
    assert info["python"] == sys.executable  # environment=None: the submitting interpreter
    assert info["config"] == "from-the-snapshot"
    assert {"train.py", "config.txt", "outputs", "logs"} <= set(info["listing"])
    assert ".mlws" not in info["listing"]
    # A fresh folder: neither the source folder nor the workspace, and removed afterwards.
    assert Path(info["cwd"]) == workdir
    assert not workdir.resolve().is_relative_to(kit.src.resolve())
    assert not workdir.resolve().is_relative_to(kit.ws.root.resolve())
    assert not workdir.exists()
    assert not (kit.src / "outputs").exists()
    # stdout and stderr both reach the driver log.
    assert "to-stdout" in log and "to-stderr" in log

    assert run.get_metrics() == {"acc": [0.5, 0.75]}
    files = run.get_file_names()
    assert {"outputs/sub/model.txt", "outputs/top.json", "logs/x.log", DRIVER_LOG} <= set(files)
    with run.open_file("outputs/sub/model.txt") as f:
        assert f.read() == b"weights"
    stored, _ = run.read_log(name="logs/x.log")
    assert stored == b"live-line\nafter-release\n"
    assert {"logs/x.log", DRIVER_LOG} <= set(details["logFiles"])
    assert details["properties"]["mlws.compute_target"] == "local"


def test_each_job_gets_a_fresh_working_folder(kit: Any) -> None:
    kit.script(
        "scratch.py",
        """
        leftover = Path("scratch.txt").exists()
        Path("scratch.txt").write_text("written by the job")
        print("INFO " + json.dumps({"leftover": leftover, "cwd": os.getcwd()}))
        """,
    )
    first = kit.submit("scratch.py")
    first.wait_for_completion(timeout=TIMEOUT)
    second = kit.submit("scratch.py")
    second.wait_for_completion(timeout=TIMEOUT)
    one, two = info_line(driver_log(first)), info_line(driver_log(second))
    assert one["leftover"] is False and two["leftover"] is False
    assert one["cwd"] != two["cwd"]
    assert not (kit.src / "scratch.txt").exists()


# -- commands -----------------------------------------------------------------------------------------
def test_command_string_runs_in_a_shell_with_the_submitting_python(kit: Any) -> None:
    (kit.src / "hello.py").write_text("import sys\nprint('hello', sys.argv[1:])\n")
    run = kit.submit(command="python hello.py a 'b c' && echo shell-ok > outputs/s.txt && echo id=$MLWS_RUN_ID")
    run.wait_for_completion(timeout=TIMEOUT)
    log = driver_log(run)
    assert "hello ['a', 'b c']" in log
    assert f"id={run.id}" in log
    with run.open_file("outputs/s.txt") as f:
        assert f.read() == b"shell-ok\n"


def test_command_list_runs_without_a_shell_and_takes_the_arguments(kit: Any) -> None:
    (kit.src / "hello.py").write_text("import sys\nprint('hello', sys.argv[1:])\n")
    run = kit.submit(command=["python", "hello.py", "x y", "$HOME"], arguments=["z", 3])
    run.wait_for_completion(timeout=TIMEOUT)
    assert "hello ['x y', '$HOME', 'z', '3']" in driver_log(run)


# -- what is refused at submit ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"script": None}, InvalidArgumentError, "exactly one"),
        ({"script": "train.py", "command": "python train.py"}, InvalidArgumentError, "exactly one"),
        ({"script": "train.py", "max_run_duration_seconds": -1}, InvalidArgumentError, "max_run_duration_seconds"),
        ({"script": "train.py", "max_run_duration_seconds": 0}, InvalidArgumentError, "max_run_duration_seconds"),
        ({"script": "train.py", "max_run_duration_seconds": "10"}, InvalidArgumentError, "max_run_duration_seconds"),
        ({"script": "train.py", "environment": "myenv"}, NotFoundError, "environment 'myenv' is not registered"),
        ({"script": "train.py", "environment": "myenv:x"}, InvalidArgumentError, "must be a number"),
        ({"script": "train.py", "environment": ["myenv"]}, InvalidArgumentError, "environment must be"),
        ({"command": ""}, InvalidArgumentError, "command"),
        ({"command": []}, InvalidArgumentError, "command"),
        ({"script": "missing.py"}, NotFoundError, "missing.py"),
        ({"script": "../train.py"}, InvalidArgumentError, ".."),
        ({"script": "train.py", "source_directory": "no-such-folder"}, NotFoundError, "no-such-folder"),
    ],
)
def test_bad_configs_are_refused_at_submit_and_create_no_run(
    kit: Any, kwargs: dict[str, Any], error: type[MlwsError], words: str
) -> None:
    kit.script("train.py", "print('never runs')\n")
    if "source_directory" in kwargs:
        kwargs["source_directory"] = kit.src.parent / kwargs["source_directory"]
    with pytest.raises(error, match=words.replace(".", r"\.")):
        kit.submit(**kwargs)
    assert list(kit.ws.search_runs().runs) == []


def test_submit_refuses_what_is_not_a_run_config(kit: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="ScriptRunConfig"):
        kit.exp.submit({"script": "train.py"})
    assert list(kit.ws.search_runs().runs) == []


def test_script_run_config_defaults_match_the_design() -> None:
    config = ScriptRunConfig(script="train.py")
    assert config.source_directory == "."
    assert config.arguments == []
    assert config.compute_target == "local"
    assert config.environment is None
    assert config.command is None
    assert config.max_run_duration_seconds is None


def test_public_names_are_exported_from_the_package() -> None:
    """DESIGN §6: ``from jupyter_mlws import ... ScriptRunConfig ... ComputeTarget ...``."""
    import jupyter_mlws

    missing = [n for n in ("ScriptRunConfig", "ComputeTarget") if not hasattr(jupyter_mlws, n)]
    assert missing == [], f"jupyter_mlws does not export {missing}"


# -- failures -----------------------------------------------------------------------------------------
def test_non_zero_exit_fails_the_run_with_exit_code_log_tail_and_traceback(kit: Any) -> None:
    kit.script(
        "fail.py",
        """
        print("some progress", flush=True)
        print("a warning on stderr", file=sys.stderr, flush=True)


        def inner():
            raise ValueError("boom-4711")


        inner()
        """,
    )
    run = kit.submit("fail.py")
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Failed"
    error = details["error"]
    assert error["exit_code"] == 1
    assert "boom-4711" in error["message"]
    assert "a warning on stderr" in error["log_tail"] and "boom-4711" in error["log_tail"]
    traceback = error["traceback"]
    assert traceback.startswith("Traceback (most recent call last):")
    assert "in inner" in traceback
    assert traceback.rstrip().endswith("ValueError: boom-4711")
    # The driver log is stored even though the job failed.
    assert DRIVER_LOG in run.get_file_names()
    assert "some progress" in driver_log(run)
    with pytest.raises(RunFailedError, match="boom-4711"):
        run.wait_for_completion(timeout=TIMEOUT)


def test_non_python_failure_has_the_exit_code_and_no_traceback(kit: Any) -> None:
    run = kit.submit(command="echo about to fail; exit 3")
    details = run.wait_for_completion(timeout=TIMEOUT, raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["exit_code"] == 3
    assert "3" in details["error"]["message"]
    assert "about to fail" in details["error"]["log_tail"]
    assert "traceback" not in details["error"]


@pytest.mark.slow
def test_megabytes_of_output_are_stored_in_full(kit: Any) -> None:
    kit.script(
        "loud.py",
        """
        chunk = ("x" * 99 + "\\n") * 1000
        for _ in range(200):
            sys.stdout.write(chunk)
        sys.stdout.write("THE-END\\n")
        """,
    )
    run = kit.submit("loud.py")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
    size = 200 * 1000 * 100 + len("THE-END\n")
    assert kit.ws.metadata.get_run_file(run.id, DRIVER_LOG).size == size
    tail, end = run.read_log(offset=size - 108)
    assert end == size
    assert tail == b"x" * 99 + b"\nTHE-END\n"


# -- waiting ------------------------------------------------------------------------------------------
WAITER = """
print("line-A", flush=True)
mark("a")
wait_for(FLAGS / "go")
print("line-B", flush=True)
"""


class _Stdout(io.StringIO):
    """A stdout another thread can watch while ``wait_for_completion`` prints to it."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, s: str) -> int:
        with self.lock:
            return super().write(s)

    def text(self) -> str:
        with self.lock:
            return self.getvalue()


def test_wait_for_completion_streams_the_log_while_the_job_runs(kit: Any) -> None:
    kit.script("waiter.py", WAITER)
    run = kit.submit("waiter.py")
    out = _Stdout()

    def release_once_streamed() -> None:
        # The job only goes on once line-A has been *printed by the waiter*: no streaming, no end.
        kit.wait_until(lambda: "line-A" in out.text(), TIMEOUT, "line-A to be streamed")
        kit.release("go")

    helper = threading.Thread(target=release_once_streamed, daemon=True)
    helper.start()
    with contextlib.redirect_stdout(out):
        details = run.wait_for_completion(show_output=True, timeout=TIMEOUT + 30)
    helper.join(5)
    text = out.text()
    assert details["status"] == "Completed"
    assert text.index("line-A") < text.index("line-B") < text.index("Execution Summary")
    assert f"RunId: {run.id}" in text
    assert "Status: Running" in text
    assert "Status: Completed" in text.split("Execution Summary")[1]
    assert text.count("line-A") == 1 and text.count("line-B") == 1


def test_wait_for_completion_timeout_raises_and_the_run_goes_on(kit: Any) -> None:
    kit.script("waiter.py", WAITER)
    run = kit.submit("waiter.py")
    kit.wait_flag("a")
    with pytest.raises(TimeoutError, match=run.id):
        run.wait_for_completion(timeout=0.5)
    assert run.status == RunStatus.RUNNING
    kit.release("go")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"


def test_ctrl_c_stops_only_the_streaming(kit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import _thread

    kit.script("waiter.py", WAITER)
    run = kit.submit("waiter.py")

    def interrupt_once_running() -> None:
        kit.wait_flag("a")
        _thread.interrupt_main()

    helper = threading.Thread(target=interrupt_once_running, daemon=True)
    helper.start()
    details = run.wait_for_completion(show_output=True, timeout=TIMEOUT)
    helper.join(5)
    assert details["status"] == "Running"
    assert "goes on" in capsys.readouterr().out
    assert run.status == RunStatus.RUNNING
    kit.release("go")
    assert run.wait_for_completion(timeout=TIMEOUT)["status"] == "Completed"
