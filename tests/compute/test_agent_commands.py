"""``mlws submit`` run in a fork of the workspace's warm agent (issue 22, a snappy CLI).

The real ``mlws`` command, as a process. With an agent running, the command runs in a fork of it (the
agent's log names it); its output, exit codes and errors are those of the command run on its own
(``MLWS_AGENT_COMMANDS=0``), with the client's working folder and environment. A command never runs
twice (a client that gave up before ``go`` leaves nothing behind), one the agent declines runs in the
client, and Ctrl-C in the client interrupts the command, not the job. No timing assertions here: the
figures are in ``benchmarks/bench_cli.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws.compute import agent, agent_socket

TIMEOUT = 60.0
JOB = "import os, sys\nprint('hello from', os.path.basename(os.getcwd()) != '', sys.argv[1:], flush=True)\n"


def _log(kit: Any) -> str:
    path = kit.ws.path / "agent" / "agent.log"
    return path.read_text() if path.exists() else ""


def _commands_run(kit: Any) -> int:
    return len(re.findall(r"command \d+ started: mlws submit", _log(kit)))


def _warm_agent(kit: Any) -> None:
    """Start the agent the way a user's first submit does, and wait until it listens."""
    (kit.ws.root / "job.py").write_text(JOB)
    first = kit.mlws("submit", "job.py", "--wait", cwd=kit.ws.root)
    assert first.returncode == 0, first.stderr
    kit.wait_until(lambda: Path(agent.socket_path(kit.ws)).exists(), TIMEOUT, "the agent's socket")


def _normalised(text: str) -> str:
    # Which of the statuses on the way a waiter sees depends on when it looks: only the end is compared.
    text = re.sub(r"^Status: (Queued|Preparing|Starting|Running|Finalizing)\n", "", text, flags=re.MULTILINE)
    text = re.sub(r"\b[\w-]+_\d{10}_[0-9a-f]{8}\b", "RUN", text)
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "TIME", text)


def _runs(kit: Any) -> int:
    return len(kit.ws.metadata.search_runs(experiment_ids=None, filter=None, order_by=[], max_results=1000).runs)


def test_submit_runs_in_the_agent_with_the_same_output_and_exit_codes(kit: Any) -> None:
    _warm_agent(kit)
    root = kit.ws.root
    (root / "bad.py").write_text("raise SystemExit('it broke')\n")
    on_its_own = {"MLWS_AGENT_COMMANDS": "0"}
    outputs = {}
    for argv, code, in_agent in [
        (("submit", "job.py", "--wait", "--", "--epochs", "3"), 0, 1),
        (("submit", "bad.py", "--wait"), 1, 1),
        (("submit", "missing.py"), 1, 1),
        (("submit", "job.py", "--max-seconds", "x"), 2, 0),  # a usage error: told before any agent is asked
    ]:
        before = _commands_run(kit)
        forwarded = kit.mlws(*argv, cwd=root)
        assert _commands_run(kit) == before + in_agent, _log(kit)  # it ran in the agent
        alone = kit.mlws(*argv, cwd=root, env=on_its_own)
        assert _commands_run(kit) == before + in_agent
        assert (forwarded.returncode, alone.returncode) == (code, code), (forwarded.stderr, alone.stderr)
        assert _normalised(forwarded.stdout) == _normalised(alone.stdout)
        assert _normalised(forwarded.stderr) == _normalised(alone.stderr)
        outputs.setdefault(argv[1], forwarded)
    assert "hello from True ['--epochs', '3']" in outputs["job.py"].stdout
    assert "Status: Completed" in outputs["job.py"].stdout
    assert "it broke" in outputs["bad.py"].stdout and "Status: Failed" in outputs["bad.py"].stdout
    assert "missing.py" in outputs["missing.py"].stderr
    listed = kit.mlws("runs", "list", "--json", cwd=root)
    runs = json.loads(listed.stdout)
    # Two of each job (forwarded and on its own), and the warm-up's: nothing ran twice.
    assert sorted(r["status"] for r in runs) == ["Completed"] * 3 + ["Failed"] * 2


def test_the_command_has_the_clients_folder_and_environment(kit: Any) -> None:
    _warm_agent(kit)
    sub = kit.ws.root / "project"
    sub.mkdir()
    (sub / "train.py").write_text("print('trained')\n")
    before = _commands_run(kit)
    result = kit.mlws("submit", "train.py", "--source", ".", "--wait", cwd=sub)
    assert result.returncode == 0, result.stderr
    assert _commands_run(kit) == before + 1
    # The snapshot is the client's folder; the experiment is named after it, as on its own.
    assert "(experiment 'project')" in result.stdout and "trained" in result.stdout
    run_id = re.search(r"^Submitted (\S+) ", result.stdout, re.MULTILINE).group(1)  # type: ignore[union-attr]
    restored = kit.ws.get_run(run_id).restore_snapshot(path=kit.ws.root.parent / "snapshot.zip")
    with zipfile.ZipFile(restored) as zipped:
        assert zipped.namelist() == ["train.py"]
    # The client's environment: here its snapshot limit (a folder of two files is over a limit of one).
    (sub / "data.csv").write_text("a\n1\n")
    limited = kit.mlws("submit", "train.py", "--source", ".", cwd=sub, env={"MLWS_SNAPSHOT_MAX_FILES": "1"})
    assert _commands_run(kit) == before + 2
    assert limited.returncode == 1 and "MLWS_SNAPSHOT_MAX_FILES" in limited.stderr, limited.stderr


def _raw_request(kit: Any, **changes: Any) -> tuple[socket.socket, agent_socket._Lines]:
    request = {
        "argv": ["submit", "job.py"],
        "cwd": str(kit.ws.root),
        "env": dict(os.environ),
        "umask": 0o022,
        "path0": sys.path[0],
        "code": agent_socket._code_identity(),
        "workspace": str(kit.ws.root),
        **changes,
    }
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    with agent_socket.socket_address(kit.ws.path) as address:
        sock.connect(address)
    agent_socket._send(sock, request)
    return sock, agent_socket._Lines(sock)


def test_a_command_without_its_go_runs_nothing(kit: Any) -> None:
    """The command waits for "go" with the connection open: anything else (here "go": false, the
    connection held) and it ends without running, and the agent serves on."""
    _warm_agent(kit)
    before = _runs(kit)
    sock, lines = _raw_request(kit)
    with sock:
        assert lines.next() == {"ok": True}
        agent_socket._send(sock, {"go": False})
        pid = int(kit.wait_until(lambda: re.findall(r"command (\d+) started: mlws submit", _log(kit)), TIMEOUT)[-1])
        kit.wait_until(lambda: not _alive(pid), TIMEOUT, "the command to end without running")
        assert lines.next() is None  # it closed the connection, sending nothing
    sock, lines = _raw_request(kit, argv=["runs", "list"])
    with sock:  # a full conversation after the refused one
        assert lines.next() == {"ok": True}
        agent_socket._send(sock, {"go": True})
        out = []
        while (message := lines.next()) is not None and "x" not in message:
            out.append(message.get("o", ""))
        assert message == {"x": 0}
    assert _runs(kit) == before and "Completed" in "".join(out)


def test_bad_or_slow_requests_do_not_hold_or_kill_the_agent(kit: Any) -> None:
    _warm_agent(kit)
    holder = agent.running_pid(kit.ws)
    # JSON nested deeper than the parser's recursion limit: treated as a wake-up.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        with agent_socket.socket_address(kit.ws.path) as address:
            sock.connect(address)
        sock.sendall(b'{"a": ' + b"[" * 100_000 + b"\n")
    # A client trickling its request: the agent drops it after a second, it does not wait on it.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        with agent_socket.socket_address(kit.ws.path) as address:
            sock.connect(address)
        dropped = False
        for _ in range(40):  # 12 s of a byte every 0.3 s
            try:
                sock.sendall(b"{")
            except OSError:
                dropped = True
                break
            time.sleep(0.3)
        assert dropped, "the agent kept reading a request that never ends"
    result = kit.mlws("submit", "job.py", "--wait", cwd=kit.ws.root)
    assert result.returncode == 0 and _commands_run(kit) == 1, result.stderr
    assert agent.running_pid(kit.ws) == holder


def test_the_commands_end_is_sent_after_its_exit_work(tmp_path: Path) -> None:
    """In the fork: the command runs, then what its own process would do at exit (here: recorded),
    and only then does the client get the exit code; SystemExit's message and an exception's
    traceback reach the client's stderr; a folder the fork cannot enter is declined before "ok"."""
    events: list[str] = []

    def conversation(argv: list[str], main: Any, cwd: str) -> list[Any]:
        ours, theirs = socket.socketpair()
        request = {"argv": argv, "cwd": cwd, "env": dict(os.environ), "umask": 0o022, "path0": sys.path[0]}
        received: list[Any] = []
        with ours, theirs:
            lines = agent_socket._Lines(ours)

            def client() -> None:
                first = lines.next()
                received.append(first)
                if first == {"ok": True}:
                    agent_socket._send(ours, {"go": True})
                    while (message := lines.next()) is not None:
                        received.append(message)
                        if "x" in message:
                            events.append("client got the exit code")
                            break

            thread = threading.Thread(target=client)
            thread.start()
            saved = (
                os.getcwd(),
                sys.stdout,
                sys.stderr,
                dict(os.environ),
                sys.path[0],
                signal.getsignal(signal.SIGINT),
            )
            try:
                agent_socket.run_forwarded(theirs, request, main, before_exit=lambda: events.append("exit work"))
            finally:
                os.chdir(saved[0])
                sys.stdout, sys.stderr = saved[1], saved[2]
                os.environ.clear()
                os.environ.update(saved[3])
                sys.path[0] = saved[4]
                signal.signal(signal.SIGINT, saved[5])
            thread.join(TIMEOUT)
        return received

    def ok(argv: list[str]) -> int:
        events.append("command ran")
        print("hello")
        return 3

    got = conversation(["x"], ok, str(tmp_path))
    assert events == ["command ran", "exit work", "client got the exit code"]
    assert got == [{"ok": True}, {"o": "hello"}, {"o": "\n"}, {"x": 3}]

    def exits(argv: list[str]) -> int:
        raise SystemExit("stopped: a reason")

    got = conversation(["x"], exits, str(tmp_path))
    assert {"e": "stopped: a reason"} in got and got[-1] == {"x": 1}

    def raises(argv: list[str]) -> int:
        raise RuntimeError("deep down")

    got = conversation(["x"], raises, str(tmp_path))
    text = "".join(m.get("e", "") for m in got)
    assert "Traceback" in text and "RuntimeError: deep down" in text and got[-1] == {"x": 1}

    got = conversation(["x"], ok, str(tmp_path / "gone"))
    assert got[0]["declined"].startswith("cannot enter") and len(got) == 1


def test_a_reader_that_goes_away_is_not_an_error(kit: Any) -> None:
    """`mlws submit job.py --wait | head -1`: exit code 0 and nothing on stderr, as on its own."""
    _warm_agent(kit)
    for env in ({}, {"MLWS_AGENT_COMMANDS": "0"}):
        client = kit.mlws_popen("submit", "job.py", "--wait", cwd=kit.ws.root, env=env)
        assert client.stdout is not None
        assert client.stdout.readline().startswith("Submitted ")
        client.stdout.close()
        assert client.wait(TIMEOUT) == 0
        assert client.stderr is not None and client.stderr.read() == ""
    assert _commands_run(kit) == 1


def test_the_agent_declines_what_it_must_not_run(kit: Any) -> None:
    _warm_agent(kit)
    for changes, reason in [
        ({"code": ["/other/python", "/other", "/other/jupyter_mlws"]}, "another interpreter"),
        ({"workspace": "/somewhere/else"}, "another workspace"),
        ({"argv": "submit job.py"}, "a malformed request"),
    ]:
        sock, lines = _raw_request(kit, **changes)
        with sock:
            answer = lines.next()
        assert answer is not None and answer["declined"].startswith(reason)
    assert _commands_run(kit) == 0


def test_another_users_command_is_declined(monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket's peer is checked (SO_PEERCRED): a command would run as the agent's user."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        request = {
            "argv": [], "env": {}, "cwd": "/", "umask": 0o022, "path0": "", "code": agent_socket._code_identity(),
            "workspace": "/ws",
        }  # fmt: skip
        assert agent_socket.decline_reason(ours, request, Path("/ws")) is None
        monkeypatch.setattr(os, "getuid", lambda: 12345)
        assert agent_socket.decline_reason(ours, request, Path("/ws")) == "another user's command"


def test_declined_or_no_agent_the_client_runs_the_command_itself(kit: Any) -> None:
    (kit.ws.root / "job.py").write_text(JOB)
    assert agent_socket.forward_command(kit.ws.root, kit.ws.path, ["submit", "job.py"]) is None  # no agent
    _warm_agent(kit)
    # Another install of jupyter-mlws (a copy of this one on PYTHONPATH) is declined: the client runs it.
    other = kit.ws.root.parent / "other-install"
    package = Path(agent_socket.__file__).resolve().parents[1]
    shutil.copytree(package, other / "jupyter_mlws", ignore=shutil.ignore_patterns("__pycache__", "labextension"))
    before = _commands_run(kit)
    result = kit.mlws("submit", "job.py", "--wait", cwd=kit.ws.root, env={"PYTHONPATH": str(other)})
    assert result.returncode == 0, result.stderr
    assert "Status: Completed" in result.stdout
    assert _commands_run(kit) == before and "declined a command: another interpreter" in _log(kit)


def test_ctrl_c_interrupts_the_command_not_the_job(kit: Any) -> None:
    _warm_agent(kit)
    kit.script("slow.py", "Path(FLAGS, 'started').write_text('x')\ntime.sleep(120)\n", folder=kit.ws.root)
    outputs = []
    for env in ({}, {"MLWS_AGENT_COMMANDS": "0"}):  # forwarded, then on its own: the same
        before = _commands_run(kit)
        client = kit.mlws_popen("submit", "slow.py", "--wait", cwd=kit.ws.root, env=env)
        kit.wait_flag("started")
        kit.flag("started").unlink()
        client.send_signal(signal.SIGINT)
        out, err = client.communicate(timeout=TIMEOUT)
        assert client.returncode == 1, err  # the run did not complete (yet)
        assert "Stopped waiting; run" in out and "goes on" in out
        outputs.append(_normalised(out))
        run_id = re.search(r"^Submitted (\S+) ", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
        assert kit.ws.get_run(run_id).status == "Running"  # the job goes on
        if not env:
            assert _commands_run(kit) == before + 1
            command_pid = int(re.findall(r"command (\d+) started: mlws submit", _log(kit))[-1])
            kit.wait_until(lambda pid=command_pid: not _alive(pid), TIMEOUT, "the interrupted command to end")
        kit.ws.get_run(run_id).cancel()
    assert outputs[0] == outputs[1]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_the_client_imports_no_store() -> None:
    code = (
        "import sys; from jupyter_mlws.compute import agent_socket; "
        "print(sorted(m for m in sys.modules if m.startswith(('jupyter_mlws', 'sqlalchemy'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=True)
    assert result.stdout.strip() == "['jupyter_mlws', 'jupyter_mlws.compute', 'jupyter_mlws.compute.agent_socket']"
