"""``mlws drift list | show | backfill | run`` (issue 20): data-drift detectors from the terminal.

A thin adapter: ``list`` and ``show`` print ``monitoring.views``' views (rows from
``monitoring.tables``), ``backfill`` and ``run`` call the ``DataDriftDetector`` facade, which submits
one check (a run with a child per interval) and returns. With ``--wait`` the check is watched: each
interval's line is printed as it ends (start, end, magnitude, drift yes/no), then a summary. Dates are
ISO 8601 (a date, or a date and time; no zone means UTC); a bad one is a usage error (one line, exit 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import time
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, NotFoundError
from ..terminal import text_table
from .common import Parser, print_json, workspace_of

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from ..monitoring.detector import DataDriftDetector

__all__ = ["add_parsers", "cmd_drift_backfill", "cmd_drift_list", "cmd_drift_run", "cmd_drift_show"]

_TERMINAL = ("Completed", "Failed", "Canceled")


def _date(text: str) -> dt.datetime:
    """An argparse type: the date as aware UTC; argparse names the argument in its one-line error."""
    from ..monitoring.intervals import to_utc

    try:
        return to_utc(text, "")
    except InvalidArgumentError as exc:  # "'yesterday' is no date; give ... an ISO 8601 text such as ..."
        raise argparse.ArgumentTypeError(exc.message.strip()) from None


def _detector(ws: Workspace, name: str) -> DataDriftDetector:
    from ..monitoring.detector import DataDriftDetector

    try:
        return DataDriftDetector.get_by_name(ws, name)
    except NotFoundError:
        raise NotFoundError(f"no drift detector is named {name!r}; see `mlws drift list`") from None


def _mlws(args: argparse.Namespace) -> str:
    """How to call ``mlws`` again on this workspace (``--workspace`` kept when it was given)."""
    return "mlws" + (f" --workspace {shlex.quote(args.workspace)}" if args.workspace else "")


def _table(headers: tuple[str, ...], rows: list[list[Any]], empty: str | None = None) -> str:
    return text_table([h.upper() for h in headers], rows, empty=empty)


# -- reads ---------------------------------------------------------------------------------------------------
def cmd_drift_list(args: argparse.Namespace) -> int:
    from ..monitoring import tables
    from ..monitoring.views import monitors_view

    views = monitors_view(workspace_of(args))
    if args.json:
        print_json(views)
        return 0
    print(_table(tables.MONITOR_HEADERS, tables.monitor_rows(views), empty="(no drift detectors)"))
    return 0


def cmd_drift_show(args: argparse.Namespace) -> int:
    from ..monitoring import tables
    from ..monitoring.views import monitor_view

    try:
        view = monitor_view(workspace_of(args), args.name)
    except NotFoundError:
        raise NotFoundError(f"no drift detector is named {args.name!r}; see `mlws drift list`") from None
    if args.json:
        print_json(view)
        return 0
    for field, value in tables.detail_rows(view):
        print(f"{field + ':':11}{value}")
    print()
    print(_table(tables.INTERVAL_HEADERS, tables.interval_rows(view["intervals"]), empty="(no interval checked yet)"))
    return 0


# -- checks --------------------------------------------------------------------------------------------------
def _watch(ws: Workspace, run_id: str, show: bool) -> dict[str, Any]:
    """Print (if ``show``) each interval's line as it ends, until the check ends; the last view."""
    from ..core.runs.waiting import RECONCILE_EVERY_S
    from ..monitoring import tables
    from ..monitoring.views import drift_run_view

    printed: set[str] = set()
    delay = 0.05
    next_check = time.monotonic() + RECONCILE_EVERY_S
    while True:
        view = drift_run_view(ws, run_id)
        for interval in view["intervals"]:
            if show and interval["status"] in _TERMINAL and interval["run_id"] not in printed:
                printed.add(interval["run_id"])
                print(tables.interval_line(interval), flush=True)
        if view["status"] in _TERMINAL:
            return view
        if time.monotonic() >= next_check:
            # Waiting on a check is watching it: one whose job died is ended with the reason.
            ws.reconcile_jobs([run_id])
            next_check = time.monotonic() + RECONCILE_EVERY_S
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _submitted(args: argparse.Namespace, ws: Workspace, run_id: str, what: str) -> int:
    """After a check was submitted: its id (or, with --wait, its intervals and a summary)."""
    from ..monitoring import tables

    if not args.wait:
        if args.json:
            print_json({"run_id": run_id})
        else:
            print(f"Submitted {what}: run {run_id}")
            print(f"Follow it with: {_mlws(args)} drift show {args.name}")
        return 0
    if not args.json:
        print(f"Submitted {what}: run {run_id}", flush=True)
    try:
        view = _watch(ws, run_id, show=not args.json)  # --json prints the final view alone
    except KeyboardInterrupt:
        print(f"\nStopped watching; the check goes on. See it with: {_mlws(args)} drift show {args.name}")
        return 130
    if args.json:
        print_json(view)
    else:
        print(tables.summary_line(view))
    return 0 if view["status"] == "Completed" else 1


def cmd_drift_backfill(args: argparse.Namespace) -> int:
    from ..monitoring.tables import date_text

    if args.end <= args.start:
        start, end = date_text(args.start), date_text(args.end)
        args.usage(f"END ({end}) must be after START ({start}): intervals starting in [START, END) are checked")
    ws = workspace_of(args)
    run = _detector(ws, args.name).backfill(args.start, args.end, compute_target=args.compute)
    span = f"[{date_text(args.start)}, {date_text(args.end)})"
    return _submitted(args, ws, run.id, f"backfill of {args.name} (intervals starting in {span})")


def cmd_drift_run(args: argparse.Namespace) -> int:
    from ..monitoring.tables import date_text

    ws = workspace_of(args)
    run = _detector(ws, args.name).run(args.date, compute_target=args.compute)
    return _submitted(args, ws, run.id, f"check of {args.name} (the interval containing {date_text(args.date)})")


# -- the parser -----------------------------------------------------------------------------------------------
def add_parsers(sub: Any) -> None:
    """The ``drift`` command group, on the ``mlws`` parser's subcommands."""
    group = sub.add_parser("drift", help="data-drift detectors (DataDriftDetector)").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = group.add_parser("list", help="every detector with its last interval and alert state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_drift_list)

    p = group.add_parser("show", help="a detector and its checked intervals")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_drift_show)

    dates = "ISO 8601, e.g. 2026-11-02 or 2026-11-02T06:00:00Z (no zone: UTC)"
    p = group.add_parser(
        "backfill",
        help="check every interval that starts in [START, END)",
        description=f"Check every interval of detector NAME that starts in [START, END). Dates: {dates}.",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("start", metavar="START", type=_date, help="the first interval starts at or after this")
    p.add_argument("end", metavar="END", type=_date, help="the last interval starts before this")
    p.add_argument("--compute", "-c", help="the compute target of the check (default: the detector's)")
    p.add_argument("--wait", action="store_true", help="print each interval as it is checked, then a summary")
    p.add_argument("--json", action="store_true", help="print the run id (with --wait: the check's results)")
    p.set_defaults(func=cmd_drift_backfill, usage=p.error)

    p = group.add_parser(
        "run",
        help="check the interval that contains DATE",
        description=f"Check the interval of detector NAME that contains DATE. Dates: {dates}.",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("date", metavar="DATE", type=_date, help="a date in the interval to check")
    p.add_argument("--compute", "-c", help="the compute target of the check (default: the detector's)")
    p.add_argument("--wait", action="store_true", help="print the interval once checked, then a summary")
    p.add_argument("--json", action="store_true", help="print the run id (with --wait: the check's results)")
    p.set_defaults(func=cmd_drift_run, usage=p.error)
