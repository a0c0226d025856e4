"""The agent's socket, and commands run in a fork of the agent (issue 22: a snappy ``mlws submit``).

Light on purpose (the standard library only): the command line imports it before anything else.

The socket is in the workspace's own folder (``.mlws/agent/agent.sock``). A client sends one line:
``wake`` (dispatch now), or a JSON request to run an ``mlws`` command. A command is what makes
``mlws submit job.py --wait`` cost a quarter of a second less: the agent already has the store's
database toolkit imported and its database open, so the command runs in a fork of it, with the
client's working folder, environment and arguments, its output sent back as it is printed.

The conversation, one JSON object a line:

1. client → agent: ``{"argv": [...], "cwd": ..., "env": {...}, "umask": ..., "path0": ..., "code": ...,
   "workspace": ...}`` (``code``: what the client would run, see ``_code_identity``);
2. agent (the forked command) → client: ``{"ok": true}``, or ``{"declined": why}`` (another
   interpreter, install or workspace, another user, a folder it cannot enter): the client then runs the
   command itself;
3. client → command: ``{"go": true}``. Only now does the command run: a client that gave up waiting for
   ``ok`` (and runs the command itself) has closed the connection, and the command sees that instead
   of ``go``. So a command never runs twice;
4. command → client: ``{"o": text}`` (stdout), ``{"e": text}`` (stderr), at last ``{"x": exit code}``.
   The client ending its side of the connection (Ctrl-C) interrupts the command, as Ctrl-C would have
   interrupted it in the client.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["SOCKET_NAME", "agent_dir", "forward_command", "run_forwarded", "socket_address", "socket_path"]

SOCKET_NAME = "agent.sock"
# sun_path holds 108 bytes with its terminating NUL; longer paths go through the folder's descriptor.
_SUN_PATH_MAX = 107
_MAX_REQUEST = 4 << 20  # bytes: arguments and an environment, with room to spare
_ACCEPT_WAIT_S = 30.0  # for the agent's "ok": one turn of its loop, which may be busy a while
_READ_WAIT_S = 1.0  # for a request's whole line, in the agent's loop


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


def _code_identity() -> list[Any]:
    """What a command runs on: the interpreter, its environment, where imports come from (the path
    after its first entry, which is the command's own folder), and this package's source files as
    they are on disk (names, sizes, times): an agent started before an upgrade, an edit of a checkout
    or a ``pip install`` in its environment runs code the client would not run, and declines."""
    package = Path(__file__).resolve().parents[1]
    files = []
    for folder, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "labextension"))
        for name in sorted(names):
            if name.endswith(".py"):
                with contextlib.suppress(OSError):
                    st = os.stat(os.path.join(folder, name))
                    files.append(f"{os.path.join(folder, name)}:{st.st_size}:{st.st_mtime_ns}")
    installed = []
    for entry in sys.path[1:]:
        if entry.endswith(("site-packages", "dist-packages")):  # a pip install or uninstall changes them
            with contextlib.suppress(OSError):
                installed.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
    digest = hashlib.sha256("\n".join(files + installed).encode()).hexdigest()
    return [os.path.realpath(sys.executable), sys.prefix, str(package), sys.path[1:], digest]


_AGENT_CODE: list[Any] | None = None  # the agent's identity, taken as it starts (the code it loaded)


def remember_code_identity() -> None:
    """In the agent, at its start: the code it loads now is what its commands run."""
    global _AGENT_CODE
    _AGENT_CODE = _code_identity()


def _send_all(sock: socket.socket, data: bytes) -> None:
    """``sendall`` that a signal (Ctrl-C) cannot cut in the middle of a line: the line is sent whole,
    then the interruption is raised."""
    view = memoryview(data)
    interrupted: BaseException | None = None
    while view:
        try:
            sent = sock.send(view)
        except KeyboardInterrupt as exc:  # raised before anything of this try was sent
            interrupted = exc
            continue
        view = view[sent:]
    if interrupted is not None:
        raise interrupted


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    _send_all(sock, json.dumps(message).encode() + b"\n")


def forward_command(ws_root: Path, ws_path: Path, argv: Sequence[str]) -> int | None:
    """Run ``mlws argv`` in a fork of this workspace's agent, printing its output here; its exit code.
    ``None`` when no agent runs or it declines: nothing was run, the caller runs the command itself."""
    env = dict(os.environ)
    if sys.stdout.isatty() and "COLUMNS" not in env:
        env["COLUMNS"] = str(shutil.get_terminal_size().columns)  # the command prints for this terminal
    umask = os.umask(0o022)
    os.umask(umask)
    request = {
        "argv": list(argv),
        "cwd": os.getcwd(),
        "env": env,
        "umask": umask,
        "path0": sys.path[0],
        "code": _code_identity(),
        "workspace": str(ws_root),
    }
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
            try:
                sys.stdout.write(message["o"])
                sys.stdout.flush()
            except BrokenPipeError:
                # The reader went away (`mlws submit … | head`): not an error, as on its own; quiet at exit.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 0
        elif "e" in message:
            sys.stderr.write(message["e"])
            sys.stderr.flush()
        elif "x" in message:
            return int(message["x"])


# -- the agent's side ----------------------------------------------------------------------------------


def read_request(conn: socket.socket) -> tuple[str, dict[str, Any] | None]:
    """The first line a client sent: ``("wake", None)``, or ``("command", request)``."""
    # One deadline for the whole line: the agent's loop waits on it, and a client that trickles its
    # bytes must not hold the loop (dispatching, sweeping) for longer than this.
    deadline = time.monotonic() + _READ_WAIT_S
    buffer = b""
    while b"\n" not in buffer and len(buffer) <= _MAX_REQUEST:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        conn.settimeout(remaining)
        try:
            data = conn.recv(1 << 16)
        except OSError:
            break
        if not data:
            break
        buffer += data
    line = buffer.split(b"\n", 1)[0]
    if not line.startswith(b"{") or b"\n" not in buffer:
        return "wake", None
    try:
        request = json.loads(line)
    except Exception:  # not JSON, or nested past the parser's recursion limit
        return "wake", None
    return ("command", request) if isinstance(request, dict) else ("wake", None)


def decline_reason(conn: socket.socket, request: dict[str, Any], ws_root: Path) -> str | None:
    """Why this agent does not run the request here, or ``None``: it does."""
    uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[1]
    if uid != os.getuid():
        return "another user's command"  # it would run as the agent's user
    if request.get("code") != (_AGENT_CODE or _code_identity()):
        return "another interpreter or jupyter-mlws install"  # the command must run the client's code
    if request.get("workspace") != str(ws_root):
        return "another workspace"
    argv, env, cwd, umask = request.get("argv"), request.get("env"), request.get("cwd"), request.get("umask")
    if not (
        isinstance(argv, list)
        and all(isinstance(a, str) for a in argv)
        and isinstance(env, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
        and isinstance(cwd, str)
        and isinstance(umask, int)
        and isinstance(request.get("path0"), str)
    ):
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


def run_forwarded(
    conn: socket.socket,
    request: dict[str, Any],
    main: Callable[[list[str]], int],
    before_exit: Callable[[], None] = lambda: None,
) -> int:
    """In the agent's fork: run ``main(argv)`` as the client's command; the exit code (already sent).
    ``before_exit``: what the command's own process would do at exit (its atexit handlers are the
    agent's in this fork, and are not run): done before the exit code is sent, so that the client
    ends only once it is."""
    lines = _Lines(conn)
    conn.settimeout(_ACCEPT_WAIT_S)
    try:
        os.chdir(request["cwd"])
    except OSError as exc:  # a folder this process cannot enter: the client runs the command itself
        decline(conn, f"cannot enter {request['cwd']}: {exc.strerror}")
        return 0
    _send(conn, {"ok": True})
    if lines.next() != {"go": True}:
        return 0  # the client gave up and runs the command itself
    conn.settimeout(None)
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(request["umask"])
    sys.path[0] = request["path0"]
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def interrupt_when_the_client_leaves() -> None:
        with contextlib.suppress(OSError):
            while conn.recv(1 << 10):
                pass
        if not done.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    done = threading.Event()
    threading.Thread(target=interrupt_when_the_client_leaves, daemon=True).start()
    lock = threading.Lock()
    sys.stdout = _Framed(conn, "o", lock)
    sys.stderr = _Framed(conn, "e", lock)
    try:
        code = main(list(request["argv"]))
    except SystemExit as exc:  # argparse's usage errors; a message is printed, as Python prints it
        if isinstance(exc.code, int) or exc.code is None:
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except Exception:  # MLWS_DEBUG lets the command's exception through: its traceback goes to the client
        traceback.print_exc()
        code = 1
    done.set()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command is over: a client leaving now cuts nothing
    try:
        before_exit()
    except Exception as exc:
        print(f"mlws: error while the command ended: {type(exc).__name__}: {exc}", file=sys.stderr)
    with lock:
        _send(conn, {"x": code})
    return code
