"""The agent's socket, and commands run in a fork of the agent (issue 22: a snappy ``mlws submit``).

Light on purpose (the standard library only): the command line imports it before anything else.

The socket is in the workspace's own folder (``.mlws/agent/agent.sock``). A client sends one line:
``wake`` (dispatch now), or a JSON request to run an ``mlws`` command. A command is what makes
``mlws submit job.py --wait`` cost a quarter of a second less: the agent already has the store's
database toolkit imported and its database open, so the command runs in a fork of it, with the
client's working folder, environment and arguments, its output sent back as it is printed.

The conversation, one JSON object a line:

1. client → agent: ``{"argv": [...], "cwd": ..., "env": {...}, "code": ..., "workspace": ...}``;
2. agent (the forked command) → client: ``{"ok": true}``, or the agent → client ``{"declined": why}``
   (another interpreter or workspace, another user): the client then runs the command itself;
3. client → command: ``{"go": true}``. Only now does the command run: a client that gave up waiting for
   ``ok`` (and runs the command itself) has closed the connection, and the command sees that instead
   of ``go``. So a command never runs twice;
4. command → client: ``{"o": text}`` (stdout), ``{"e": text}`` (stderr), at last ``{"x": exit code}``.
   The client ending its side of the connection (Ctrl-C) interrupts the command, as Ctrl-C would have
   interrupted it in the client.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["SOCKET_NAME", "agent_dir", "forward_command", "run_forwarded", "socket_address", "socket_path"]

SOCKET_NAME = "agent.sock"
# sun_path holds 108 bytes with its terminating NUL; longer paths go through the folder's descriptor.
_SUN_PATH_MAX = 107
_MAX_REQUEST = 4 << 20  # bytes: arguments and an environment, with room to spare
_ACCEPT_WAIT_S = 30.0  # for the agent's "ok": one turn of its loop, which may be busy a while


def agent_dir(ws_path: Path) -> Path:
    """``.mlws/agent/`` of the workspace whose ``.mlws`` folder is ``ws_path``, created private."""
    path = ws_path / "agent"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def socket_path(ws_path: Path) -> str:
    """The agent's socket: in the workspace's own folder (``.mlws/agent/agent.sock``), which only the
    workspace's owner can write, not at a predictable name in the shared temporary folder that
    another user could take first (then no agent could ever start)."""
    return str(ws_path / "agent" / SOCKET_NAME)


@contextlib.contextmanager
def socket_address(ws_path: Path) -> Iterator[str]:
    """An address for the socket's path that fits in sun_path: the path itself, or when it is too
    long ``/proc/self/fd/<fd>/agent.sock`` through a descriptor of its folder (Linux resolves it as
    a path; no ``chdir``, which would move every thread of the process)."""
    path = socket_path(ws_path)
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield path
        return
    fd = os.open(agent_dir(ws_path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{SOCKET_NAME}"
    finally:
        os.close(fd)


class _Lines:
    """JSON lines from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def next(self) -> Any:
        """The next object, or ``None`` at the end of the connection."""
        while b"\n" not in self._buffer:
            data = self._sock.recv(1 << 16)
            if not data:
                return None
            self._buffer += data
            if len(self._buffer) > _MAX_REQUEST:
                raise ValueError("a line longer than the agent's protocol allows")
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


def _code_identity() -> list[str]:
    """What a command runs on: the interpreter, its environment and this package's folder."""
    return [os.path.realpath(sys.executable), sys.prefix, str(Path(__file__).resolve().parents[1])]


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


def forward_command(ws_root: Path, ws_path: Path, argv: Sequence[str]) -> int | None:
    """Run ``mlws argv`` in a fork of this workspace's agent, printing its output here; its exit code.
    ``None`` when no agent runs or it declines: nothing was run, the caller runs the command itself."""
    env = dict(os.environ)
    if sys.stdout.isatty() and "COLUMNS" not in env:
        env["COLUMNS"] = str(shutil.get_terminal_size().columns)  # the command prints for this terminal
    request = {"argv": list(argv), "cwd": os.getcwd(), "env": env, "code": _code_identity(), "workspace": str(ws_root)}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with sock:
        try:
            with socket_address(ws_path) as address:
                sock.settimeout(2.0)
                sock.connect(address)
            _send(sock, request)
            sock.settimeout(_ACCEPT_WAIT_S)
            lines = _Lines(sock)
            answer = lines.next()
        except (OSError, ValueError):
            return None  # no agent, an old one, or a busy one: nothing ran (see the module's docstring)
        if not isinstance(answer, dict) or not answer.get("ok"):
            return None
        try:
            _send(sock, {"go": True})
            sock.settimeout(None)
            try:
                return _relay(lines)
            except KeyboardInterrupt:
                # Ctrl-C: interrupt the command (its end of the connection sees ours end) and show what
                # it prints then, as it would have printed here ("Stopped waiting; …"). A second one
                # leaves at once.
                sock.shutdown(socket.SHUT_WR)
                return _relay(lines)
        except KeyboardInterrupt:
            print("mlws: interrupted", file=sys.stderr)
            return 130
        except (OSError, ValueError) as exc:
            print(f"mlws: error: lost the agent running this command: {exc}", file=sys.stderr)
            return 1


def _relay(lines: _Lines) -> int:
    while True:
        message = lines.next()
        if message is None:
            print(
                "mlws: error: the agent's process running this command ended without an exit code "
                "(see .mlws/agent/agent.log)",
                file=sys.stderr,
            )
            return 1
        if "o" in message:
            sys.stdout.write(message["o"])
            sys.stdout.flush()
        elif "e" in message:
            sys.stderr.write(message["e"])
            sys.stderr.flush()
        elif "x" in message:
            return int(message["x"])


# -- the agent's side ----------------------------------------------------------------------------------


def read_request(conn: socket.socket) -> tuple[str, dict[str, Any] | None]:
    """The first line a client sent: ``("wake", None)``, or ``("command", request)``."""
    conn.settimeout(0.5)
    buffer = b""
    while b"\n" not in buffer and len(buffer) <= _MAX_REQUEST:
        try:
            data = conn.recv(1 << 16)
        except OSError:
            break
        if not data:
            break
        buffer += data
    line = buffer.split(b"\n", 1)[0]
    if not line.startswith(b"{"):
        return "wake", None
    try:
        request = json.loads(line)
    except ValueError:
        return "wake", None
    return ("command", request) if isinstance(request, dict) else ("wake", None)


def decline_reason(conn: socket.socket, request: dict[str, Any], ws_root: Path) -> str | None:
    """Why this agent does not run the request here, or ``None``: it does."""
    uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[1]
    if uid != os.getuid():
        return "another user's command"  # it would run as the agent's user
    if request.get("code") != _code_identity():
        return "another interpreter or jupyter-mlws install"  # the command must run the client's code
    if request.get("workspace") != str(ws_root):
        return "another workspace"
    argv, env, cwd = request.get("argv"), request.get("env"), request.get("cwd")
    if not (isinstance(argv, list) and isinstance(env, dict) and isinstance(cwd, str)):
        return "a malformed request"
    return None


def decline(conn: socket.socket, reason: str) -> None:
    with contextlib.suppress(OSError):
        _send(conn, {"declined": reason})


class _Framed(io.TextIOBase):
    """A text stream whose writes go to the client as ``{"o"|"e": text}`` lines."""

    def __init__(self, conn: socket.socket, key: str, lock: threading.Lock) -> None:
        self._conn = conn
        self._key = key
        self._lock = lock

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            with self._lock:
                _send(self._conn, {self._key: text})
        return len(text)


def run_forwarded(conn: socket.socket, request: dict[str, Any], main: Callable[[list[str]], int]) -> int:
    """In the agent's fork: run ``main(argv)`` as the client's command; the exit code (already sent)."""
    lines = _Lines(conn)
    conn.settimeout(_ACCEPT_WAIT_S)
    _send(conn, {"ok": True})
    if lines.next() != {"go": True}:
        return 0  # the client gave up and runs the command itself
    conn.settimeout(None)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def interrupt_when_the_client_leaves() -> None:
        with contextlib.suppress(OSError):
            while conn.recv(1 << 10):
                pass
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_the_client_leaves, daemon=True).start()
    lock = threading.Lock()
    sys.stdout = _Framed(conn, "o", lock)
    sys.stderr = _Framed(conn, "e", lock)
    try:
        code = main(list(request["argv"]))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    with lock:
        _send(conn, {"x": code})
    return code
