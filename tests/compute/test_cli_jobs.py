"""``mlws submit`` / ``runs logs --follow`` / ``runs snapshot`` as a new user runs them (issue 3, item 5).

The real ``mlws`` command in a project folder: a ``train.py``, a ``.gitignore`` and a large ignored
data folder.
"""

from __future__ import annotations

import re
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import RunStatus

TIMEOUT = 60.0

TRAIN = """
from jupyter_mlws import Run

run = Run.get_context()
print("argv=" + repr(sys.argv[1:]), flush=True)
for epoch in range(3):
    run.log("accuracy", 0.5 + epoch / 10)
Path("outputs/model.txt").write_text("trained")
"""


@pytest.fixture
def project(kit: Any) -> Path:
    """The workspace folder doubles as the project folder (``.mlws/`` is never captured)."""
    root: Path = kit.ws.root
    kit.script("train.py", TRAIN, folder=root)
    (root / ".gitignore").write_text("data/\n*.tmp\n")
    (root / "data").mkdir()
    with open(root / "data" / "big.bin", "wb") as f:
        f.truncate(400 * 1024 * 1024)  # sparse: large on paper (over the snapshot limit), cheap to make
    (root / "data" / "labels.csv").write_text("a,b\n1,2\n")
    (root / "scratch.tmp").write_text("ignored too")
    return root


def submitted_id(stdout: str) -> str:
    found = re.search(r"^Submitted (\S+) to ", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


@pytest.mark.slow
def test_submit_wait_snapshot_and_show_as_a_new_user(kit: Any, project: Path, tmp_path: Path) -> None:
    result = kit.mlws("submit", "train.py", "--epochs", "3", "--wait", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    run_id = submitted_id(result.stdout)
    out = result.stdout
    # --epochs 3 went to the script, --wait to mlws (it streamed the log and summarised).
    assert "argv=['--epochs', '3']" in out
    assert out.index("argv=") < out.index("Execution Summary")
    assert "Status: Completed" in out.split("Execution Summary")[1]

    run = kit.ws.get_run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.experiment.name == project.name  # the default experiment: the source folder's name

    snap = tmp_path / "snap.zip"
    result = kit.mlws("runs", "snapshot", run_id, "-o", str(snap), cwd=project)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == snap
    with zipfile.ZipFile(snap) as z:
        names = set(z.namelist())
        assert z.read("train.py").decode().endswith(TRAIN)
    assert {"train.py", ".gitignore"} <= names
    assert not any(n.startswith(("data/", ".mlws/", ".mlws")) for n in names), names
    assert "scratch.tmp" not in names

    result = kit.mlws("runs", "show", run_id, cwd=project)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\s+accuracy: 3 values, last 0\.7\b", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^\s+outputs/model\.txt$", result.stdout, re.MULTILINE), result.stdout
    assert "Completed" in result.stdout


@pytest.mark.slow
def test_arguments_after_double_dash_all_go_to_the_script(kit: Any, project: Path) -> None:
    result = kit.mlws("submit", "-e", "cli-exp", "train.py", "--", "--wait", "--epochs", "5", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Execution Summary" not in result.stdout  # --wait was the script's, so mlws did not wait
    run = kit.ws.get_run(submitted_id(result.stdout))
    assert run.experiment.name == "cli-exp"
    run.wait_for_completion(timeout=TIMEOUT)
    log, _ = run.read_log()
    assert b"argv=['--wait', '--epochs', '5']" in log


def test_submit_a_missing_script_is_one_line_and_exit_1(kit: Any, project: Path) -> None:
    result = kit.mlws("submit", "missing.py", "--wait", cwd=project)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlws: error:") and "missing.py" in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list(kit.ws.search_runs().runs) == []


def test_submit_without_a_script_is_a_usage_error(kit: Any, project: Path) -> None:
    result = kit.mlws("submit", "--wait", cwd=project)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_failing_script_makes_submit_wait_exit_1(kit: Any, project: Path) -> None:
    kit.script("bad.py", "raise SystemExit('bad things')\n", folder=project)
    result = kit.mlws("submit", "bad.py", "--wait", cwd=project)
    assert result.returncode == 1
    assert "bad things" in result.stdout
    assert "Status: Failed" in result.stdout.split("Execution Summary")[1]


@pytest.mark.slow
def test_runs_logs_follow_prints_the_log_until_the_end(kit: Any) -> None:
    kit.script(
        "chatty.py",
        """
        print("first line", flush=True)
        with open("logs/extra.log", "w") as f:
            f.write("extra\\n")
        wait_for(FLAGS / "go")
        print("last line", flush=True)
        """,
    )
    run = kit.submit("chatty.py")
    follower = kit.mlws_popen("runs", "logs", run.id, "--follow")
    lines: list[str] = []

    def read() -> None:
        assert follower.stdout is not None
        lines.extend(iter(follower.stdout.readline, ""))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # The job only ends after the follower has shown its first line: that is following, live.
    kit.wait_until(lambda: "first line\n" in lines, TIMEOUT, "the follower to print the first line")
    assert run.status == RunStatus.RUNNING
    live = kit.mlws("runs", "logs", run.id, "--name", "logs/extra.log")
    assert live.returncode == 0 and live.stdout == "extra\n"
    kit.release("go")
    assert follower.wait(TIMEOUT) == 0
    reader.join(TIMEOUT)
    assert lines == ["first line\n", "last line\n"]
    assert run.status == RunStatus.COMPLETED

    done = kit.mlws("runs", "logs", run.id)
    assert done.returncode == 0 and done.stdout == "first line\nlast line\n"
    stored = kit.mlws("runs", "logs", run.id, "--name", "logs/extra.log")
    assert stored.stdout == "extra\n"
