"""Process pools whose workers start with their imports done (issue 19).

A ParallelRunStep's entry script imports heavy libraries (scikit-learn: about two seconds). Each
worker of a plain forked pool imported them again, all at once, while the runner read and split
the inputs: on a small machine three processes competed for its cores. :func:`preloaded_pool`
starts a fork server (``multiprocessing``'s ``forkserver``) that imports them once, in the
background, and the pool's processes are forked from it with everything loaded.

The fork server's preload list names only this module, which takes the module names from
``MLWS_PRELOAD`` (set while the fork server starts) and keeps going past any error:
a module that fails to import there (a missing GPU driver, a module that needs the job's working
folder) is imported again by the task that needs it, which then reports the error as its own.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

__all__ = ["PRELOAD_VARIABLE", "preloaded_pool", "start_fork_server"]

PRELOAD_VARIABLE = "MLWS_PRELOAD"  # comma-separated module names, read by the fork server as it starts
MAIN_VARIABLE = "MLWS_PRELOAD_MAIN"  # the starting process's ``python -m`` module, if any


def preloaded_pool(max_workers: int, modules: Sequence[str]) -> ProcessPoolExecutor:
    """A pool of ``max_workers`` processes forked from a fork server that imported ``modules``.
    The fork server is started now (unless :func:`start_fork_server` started it already) and imports
    them in the background; the pool's first task waits for them only if it comes sooner. One fork
    server per process: a later pool (e.g. after one broke) reuses it with what it imported the first
    time."""
    start_fork_server(modules)
    context = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(max_workers=max(1, int(max_workers)), mp_context=context)


def start_fork_server(modules: Sequence[str]) -> None:
    """Start this process's fork server (if it has none yet), importing ``modules`` in the background:
    a pool made later by :func:`preloaded_pool` forks its processes from it."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    # A process started from a module run with ``python -m`` runs that module again as its own
    # ``__mp_main__`` (multiprocessing's spawn rules), with a warning that it was imported already.
    # Named here, the fork server makes the imported module its ``__main__``: nothing runs twice.
    main = getattr(sys.modules["__main__"].__spec__, "name", None) or ""
    if main == "__main__" or main.endswith(".__main__"):
        main = ""  # a package's __main__ is its program: not imported twice (multiprocessing's rule too)
    with _variable(PRELOAD_VARIABLE, ",".join(modules)), _variable(MAIN_VARIABLE, main):
        # The fork server inherits this process's environment as it starts (once per process: a
        # later pool reuses it, with what it imported).
        from multiprocessing import forkserver

        forkserver.ensure_running()


@contextlib.contextmanager
def _variable(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def _preload() -> None:
    # The fork server exits once the process that started it has (its "alive" pipe closes), and holds
    # that job's output pipe until it is gone: the job's log is whole only then. Tearing down what it
    # imported (scikit-learn, pandas...) took a third of a second; its children are forked, not
    # finalized, so they do not inherit this. Registered first, it runs after the handlers of the
    # modules imported below.
    atexit.register(os._exit, 0)
    # A cancel signals the job's whole process group, the fork server with it: it must not die then,
    # for the pool would take its processes' pipes to the server for their deaths and stop them all
    # at once, while they write what they hold. It leaves with the job's process (its alive pipe);
    # the processes it forks get the default back.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    for name in filter(None, os.environ.pop(PRELOAD_VARIABLE, "").split(",")):
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    main = os.environ.pop(MAIN_VARIABLE, "")
    if main:
        with contextlib.suppress(Exception):  # run under its name: its `__main__` block does not run
            sys.modules["__main__"] = importlib.import_module(main)


if __name__ != "__main__" and PRELOAD_VARIABLE in os.environ:  # set, if empty: a fork server all the same
    _preload()  # in the fork server: what its workers need, imported before they are forked
