"""Which folders this machine's processes are using right now (Linux ``/proc``).

A folder is in use when a process of ours runs in it (its working folder), runs a program from it
(its executable or its first argument: a venv's ``bin/python``), or has it on its ``PATH`` (a local
job's command runs with its venv's ``bin`` first, and so do the processes it starts). Processes of
other users cannot be read and cannot use our private folders.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessUse", "process_use"]

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessUse:
    """The working folders and the program paths of the processes seen."""

    cwds: frozenset[str]
    programs: frozenset[str]  # executables, first arguments, PATH entries

    def runs_in(self, folder: Path) -> bool:
        """Whether a process works inside ``folder`` (a job's scratch folder)."""
        return _any_under(self.cwds, folder)

    def uses(self, folder: Path) -> bool:
        """Whether a process works in, or runs a program from, ``folder`` (a venv)."""
        return _any_under(self.cwds, folder) or _any_under(self.programs, folder)


def _any_under(paths: frozenset[str], folder: Path) -> bool:
    # Both spellings: a process names the folder as it was given (a link in the cache path stays),
    # the kernel resolves working folders and executables.
    prefixes = {os.path.normpath(folder), os.path.normpath(os.path.realpath(folder))}
    return any(path == prefix or path.startswith(prefix + os.sep) for path in paths for prefix in prefixes)


def process_use(proc: Path = PROC) -> ProcessUse | None:
    """What the visible processes use; None where processes cannot be seen (no ``/proc``): then
    nothing that a process might use can be judged unused."""
    if not (proc / "self" / "cwd").exists():
        return None
    cwds: set[str] = set()
    programs: set[str] = set()
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        base = Path(entry.path)
        # A process may end while it is read, or belong to another user: skip what cannot be read.
        with contextlib.suppress(OSError):
            cwds.add(os.path.normpath(os.readlink(base / "cwd")))
        with contextlib.suppress(OSError):
            programs.add(os.path.normpath(os.readlink(base / "exe")))
        with contextlib.suppress(OSError):
            argv0 = (base / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
            if os.path.isabs(argv0):
                programs.add(os.path.normpath(argv0))
        with contextlib.suppress(OSError):
            for variable in (base / "environ").read_bytes().split(b"\0"):
                if variable.startswith(b"PATH="):
                    entries = variable[5:].decode(errors="replace").split(os.pathsep)
                    programs.update(os.path.normpath(p) for p in entries if os.path.isabs(p))
    return ProcessUse(frozenset(cwds), frozenset(programs))
