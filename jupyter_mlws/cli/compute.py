"""``mlws compute list|show|attach|detach`` and ``mlws dask local`` (issue 19).

``compute show`` asks the target's backend what it runs on (a Dask target: its scheduler, dashboard
and workers) through one service call; a cluster that does not answer is one line on stderr, exit 1,
after the target's own settings. ``dask local`` starts a cluster of real ``dask scheduler`` / ``dask
worker`` processes on this machine (``LocalDaskCluster``), prints how to attach it, and stops it on
Ctrl-C. Mistakes on the command line (a scheduler address that is no ``tcp://HOST:PORT``) are usage
errors: one line, exit 2.
"""

from __future__ import annotations

import argparse
import inspect
import signal
import sys
import time
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit

from ..errors import BackendUnavailableError
from ..terminal import human_size, text_table
from .common import Parser, print_json, workspace_of

__all__ = ["add_parsers", "attach_line", "check_dashboard_url", "check_scheduler_address"]

SCHEDULER_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss")


def check_scheduler_address(value: str) -> str:
    """``tcp://HOST:PORT`` (or another protocol Dask speaks); else a ValueError saying what is wrong."""
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ValueError(
            f"--scheduler takes the scheduler's address as tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786), got {value!r}"
        )
    return value.rstrip("/")


def check_dashboard_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--dashboard takes the dashboard's URL, e.g. http://127.0.0.1:8787/status, got {value!r}")
    return value


def attach_line(name: str, address: str, dashboard: str | None) -> str:
    """The command that attaches a cluster (what ``mlws dask local`` prints)."""
    line = f"mlws compute attach dask {name} --scheduler {address}"
    return line + (f" --dashboard {dashboard}" if dashboard else "")


def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    args.usage(message)  # the parser's error: one line, exit 2
    raise AssertionError("unreachable")


# -- compute list / show ------------------------------------------------------------------------------------
def cmd_compute_list(args: argparse.Namespace) -> int:
    from ..core.compute import ComputeTarget, compute_target_types

    targets = [t.serialize() for t in ComputeTarget.list(workspace_of(args))]
    if args.json:
        print_json(targets)
    else:
        rows = [(t["name"], t["type"], ", ".join(f"{k}={v}" for k, v in t["config"].items())) for t in targets]
        print(text_table(["NAME", "TYPE", "SETTINGS"], rows, empty=None))
        # Broken plug-ins warn here (on stderr) and are left out.
        print(f"\ntarget types available: {', '.join(sorted(compute_target_types.available()))}")
    return 0


def _print_target(described: Mapping[str, Any]) -> None:
    cluster = described["cluster"] or {}
    # A cluster that answered tells its scheduler and dashboard below; else the settings say them.
    shown_below = ("scheduler_address", "dashboard_url") if "scheduler" in cluster else ()
    facts: list[tuple[str, Any]] = [("name", described["name"]), ("type", described["type"])]
    facts += [(k, v) for k, v in described["config"].items() if k not in shown_below]
    if "scheduler" in cluster:
        facts += [("scheduler", cluster["scheduler"]), ("dashboard", cluster.get("dashboard") or "(none)")]
    width = max(len(name) for name, _ in facts) + 2
    lines = [f"{name + ':':{width}}{value}" for name, value in facts]
    print("\n".join(lines))
    if "workers" in cluster:
        rows = [
            (w["name"], w["address"], w["nthreads"], human_size(w["memory_limit"]), w["executing"])
            for w in cluster["workers"]
        ]
        print()
        print(text_table(["WORKER", "ADDRESS", "THREADS", "MEMORY", "EXECUTING"], rows, empty="(no workers)"))


def cmd_compute_show(args: argparse.Namespace) -> int:
    from ..core.compute import ComputeTarget

    ws = workspace_of(args)
    target = ComputeTarget(ws, args.name)
    described = ws.services.compute_targets.describe(target.serialize(), target.backend)
    if args.json:
        print_json(described)
    else:
        _print_target(described)
    error = (described["cluster"] or {}).get("error")
    if error:
        print(f"mlws: error: {error}", file=sys.stderr)
        return 1
    return 0


# -- attach / detach ----------------------------------------------------------------------------------------
def cmd_compute_attach_dask(args: argparse.Namespace) -> int:
    from ..core.compute import ComputeTarget

    try:
        address = check_scheduler_address(args.scheduler)
        dashboard = check_dashboard_url(args.dashboard) if args.dashboard else None
    except ValueError as exc:
        _usage(args, str(exc))
    config: dict[str, Any] = {"type": "dask", "scheduler_address": address}
    if dashboard:
        config["dashboard_url"] = dashboard
    target = ComputeTarget.attach(workspace_of(args), args.name, config)
    print(f"attached {target.name!r}: a dask target on {address}; submit with --compute {target.name}")
    return 0


def cmd_compute_detach(args: argparse.Namespace) -> int:
    from ..core.compute import ComputeTarget

    ComputeTarget(workspace_of(args), args.name).detach()
    print(f"detached {args.name!r}")
    return 0


# -- dask local ---------------------------------------------------------------------------------------------
def wait_for_interrupt() -> None:
    """Sleep until Ctrl-C (or SIGTERM, taken as one). SIGINT is handled even when this process was
    started with it ignored (a shell's background job), so that the cluster is always stopped."""

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            time.sleep(3600)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_dask_local(args: argparse.Namespace) -> int:
    for option in ("workers", "threads_per_worker"):
        if getattr(args, option) < 1:
            _usage(args, f"--{option.replace('_', '-')} takes a positive number, got {getattr(args, option)}")
    if args.port is not None and not 0 <= args.port <= 65535:
        _usage(args, f"--port takes a port number (0: any free one), got {args.port}")
    try:
        from ..compute.dask_cluster import LocalDaskCluster
    except ImportError as exc:
        raise BackendUnavailableError(f"mlws dask local needs Dask: pip install 'jupyter-mlws[dask]' ({exc})") from None
    options: dict[str, Any] = {"workers": args.workers, "threads_per_worker": args.threads_per_worker}
    if args.port is not None:
        if "port" not in inspect.signature(LocalDaskCluster).parameters:
            _usage(args, "--port is not supported by this installation's LocalDaskCluster; leave it out")
        options["port"] = args.port
    cluster = LocalDaskCluster(**options)
    cluster.start()
    try:
        print(f"Dask scheduler: {cluster.address}")
        print(f"Dask dashboard: {cluster.dashboard_url or '(none)'}")
        print(f"{args.workers} worker(s), {args.threads_per_worker} thread(s) each. Attach it with:")
        print(f"  {attach_line(args.name, cluster.address, cluster.dashboard_url)}")
        print("Press Ctrl-C to stop the cluster.", flush=True)
        wait_for_interrupt()
    except KeyboardInterrupt:
        print("stopping the Dask cluster", flush=True)
    finally:
        cluster.stop()
    return 0


def add_parsers(sub: Any) -> None:
    computes = sub.add_parser("compute", help="compute targets").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = computes.add_parser("list", help="list compute targets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compute_list)
    p = computes.add_parser("show", help="a compute target and where it runs (a Dask target's workers)")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compute_show)
    attach = computes.add_parser("attach", help="attach a compute target").add_subparsers(
        dest="kind", required=True, parser_class=Parser
    )
    p = attach.add_parser("dask", help="attach a Dask cluster by its scheduler's address")
    p.add_argument("name", help="the target's name, used with --compute NAME")
    p.add_argument("--scheduler", required=True, help="the scheduler's address, tcp://HOST:PORT")
    p.add_argument("--dashboard", help="the dashboard's URL (default: the one the scheduler tells)")
    p.set_defaults(func=cmd_compute_attach_dask, usage=p.error)
    p = computes.add_parser("detach", help="detach a compute target (its runs stay)")
    p.add_argument("name")
    p.set_defaults(func=cmd_compute_detach)

    dask = sub.add_parser("dask", help="Dask clusters").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = dask.add_parser("local", help="start a Dask cluster on this machine until Ctrl-C, and say how to attach it")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--threads-per-worker", type=int, default=1, help="threads of each worker (default 1)")
    p.add_argument("--port", type=int, default=None, help="the scheduler's port (default: a free one)")
    p.add_argument("--name", default="dask-local", help="the target name in the printed attach line")
    p.set_defaults(func=cmd_dask_local, usage=p.error)
