"""``mlws runs list | show | logs | cancel | snapshot``."""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import NotFoundError
from ..terminal import text_table
from .common import fmt_metric, print_json, workspace_of

__all__ = ["cmd_runs_cancel", "cmd_runs_list", "cmd_runs_logs", "cmd_runs_show", "cmd_runs_snapshot"]


def cmd_runs_list(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    filters = [args.filter] if args.filter else []
    if args.status:
        from ..core.status import RunStatus

        filters.append(f"attributes.status = '{RunStatus.parse(args.status).value}'")
    text = " and ".join(f"({f})" for f in filters) or None
    queries = ws.services.queries
    experiment_ids = None
    if args.experiment:
        try:
            experiment_ids = [queries.experiment(args.experiment).id]
        except NotFoundError:
            raise NotFoundError(f"experiment {args.experiment!r} not found; see `mlws experiments list`") from None
    page = queries.run_summaries(experiment_ids, filter=text, max_results=args.max)
    items = [s.as_dict() for s in page.items]
    if args.json:
        print_json(items)
        return 0
    keys: list[str] = []
    for item in items:
        keys.extend(k for k in item["metrics"] if k not in keys)
    keys = keys[:4]
    rows = [
        (
            i["id"],
            i["experiment"],
            i["status"],
            i["display_name"],
            i["start_time"],
            *(fmt_metric(i["metrics"].get(k)) for k in keys),
        )
        for i in items
    ]
    print(text_table(["RUN", "EXPERIMENT", "STATUS", "NAME", "STARTED", *keys], rows, empty=None))
    return 0


def cmd_runs_show(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    run = ws.get_run(args.run)
    details = run.get_details()
    metrics = run.get_metrics()
    files = run.get_file_names()
    if args.json:
        print_json({**details, "metrics": metrics, "files": files})
        return 0
    for key in ("runId", "experiment", "displayName", "status", "startTimeUtc", "endTimeUtc", "parentRunId"):
        if details.get(key) is not None:
            print(f"{key + ':':16}{details[key]}")
    for section in ("params", "tags", "properties"):
        if details[section]:
            print(f"{section}:")
            for k, v in details[section].items():
                print(f"  {k} = {v}")
    if metrics:
        print("metrics:")
        for name, value in metrics.items():
            if isinstance(value, list):
                shown = f"{len(value)} values, last {fmt_metric(value[-1]) if value else ''}"
            elif isinstance(value, dict):
                shown = f"table with columns {', '.join(value)}"
            else:
                shown = value if isinstance(value, str) else fmt_metric(value)
            print(f"  {name}: {shown}")
    if files:
        print("files:")
        for name in files:
            print(f"  {name}")
    if details.get("inputDatasets"):
        print("input datasets:")
        for item in details["inputDatasets"]:
            ds = item["dataset"]
            which = f"{ds['name']}:{ds['version']}" if ds.get("name") else "unregistered"
            print(f"  {item['name']} = {which} ({item['mode']}, digest {ds['digest']})")
    if "error" in details:
        print(f"error:          {details['error'].get('message')}")
    return 0


def cmd_runs_logs(args: argparse.Namespace) -> int:
    from ..core.runs.waiting import RECONCILE_EVERY_S
    from ..core.status import TERMINAL_STATUSES

    run = workspace_of(args).get_run(args.run)
    offset = 0
    delay = 0.05
    next_check = time.monotonic() + RECONCILE_EVERY_S
    try:
        while True:
            if args.follow and time.monotonic() >= next_check:
                # Following a job is waiting on it: one whose supervisor died must still end here.
                run.workspace.reconcile_jobs([run.id])
                next_check = time.monotonic() + RECONCILE_EVERY_S
            data, offset = run.read_log(offset, name=args.name)
            if data:
                sys.stdout.write(data.decode("utf-8", errors="replace"))
                sys.stdout.flush()
                delay = 0.05
                continue
            if not args.follow or run.status in TERMINAL_STATUSES:
                data, offset = run.read_log(offset, name=args.name)  # what came in before the end
                sys.stdout.write(data.decode("utf-8", errors="replace"))
                return 0
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
    except KeyboardInterrupt:
        return 0


def cmd_runs_cancel(args: argparse.Namespace) -> int:
    run = workspace_of(args).get_run(args.run)
    run.cancel()
    print(f"{run.id}: {run.get_status()}")
    return 0


def cmd_runs_snapshot(args: argparse.Namespace) -> int:
    run = workspace_of(args).get_run(args.run)
    print(run.download_snapshot(args.output))
    return 0
